//! `vigil serve`: the team server on an address, over the store in the data directory.

use std::path::Path;

use anyhow::Context;

use crate::Outcome;
use crate::args::{GlobalArgs, ServeArgs};

/// The token key in `dir/server.key` (created with a new random secret, readable by the
/// owner only, on the first start).
fn token_secret(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = dir.join("server.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.trim().as_bytes().to_vec()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = vigil_server::new_secret();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            std::io::Write::write_all(&mut file, secret.as_bytes())?;
            Ok(secret.into_bytes())
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

pub(crate) fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<Outcome> {
    let dir = super::rules::data_dir(args.data_dir.as_deref())
        .context("no data directory: set VIGIL_DATA_DIR or pass --data-dir")?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let target = super::audit::store_target(args.store.as_deref(), Some(&dir))?;
    let mut store = vigil_store::Store::open(&target)?;
    let password = std::env::var("VIGIL_ADMIN_PASSWORD").ok();
    if let Some(generated) = vigil_server::ensure_admin(&mut store, password.as_deref())? {
        eprintln!(
            "first start: created user \"admin\" with password {generated} (shown this once; set VIGIL_ADMIN_PASSWORD before the first start to choose it)"
        );
    }
    let limit = vigil_server::RateLimit {
        per_second: args.rate_limit,
        burst: (args.rate_limit * 4.0).max(1.0),
    };
    let state = vigil_server::AppState::with_rate_limit(store, &token_secret(&dir)?, limit)?;
    let chain = super::llm::chain(&args.llm)?;
    let models = chain.as_ref().map_or_else(
        || "no LLM".to_owned(),
        |chain| {
            let names: Vec<String> = chain
                .providers()
                .into_iter()
                .map(|(name, _, model)| format!("{model} via {name}"))
                .collect();
            format!("LLM {}", names.join(", "))
        },
    );
    state.set_llm(chain);
    let read = vigil_ingest::ReadOptions {
        year: args.year,
        timezone: super::parse::time_zone(&args.timezone)?,
        ..vigil_ingest::ReadOptions::default()
    };
    let setup = super::hunt::setup(&args.engine)?;
    let rules = state.set_engine(
        vigil_server::EngineSetup {
            rules: setup.sources,
            placeholders: setup.placeholders,
            settings: setup.settings,
        },
        setup.attack,
    )?;
    super::hunt::warn_rules(global, &rules, 20);
    if rules.loaded == 0 {
        return Err(super::hunt::no_rules());
    }
    let worker = state.start_live(vigil_server::LiveOptions {
        read,
        max_lag: args.max_lag,
        ..vigil_server::LiveOptions::default()
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.bind)
            .await
            .with_context(|| format!("cannot listen on {}", args.bind))?;
        // Every listener stops on the same signal; the HTTP server's end starts it.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let on_stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let mut listeners = tokio::task::JoinSet::new();
        if let Some(addr) = &args.syslog_udp {
            let socket = tokio::net::UdpSocket::bind(addr)
                .await
                .with_context(|| format!("cannot listen for syslog on udp {addr}"))?;
            eprintln!("vigil receiving syslog on udp {}", socket.local_addr()?);
            listeners.spawn(vigil_server::syslog::serve_udp(
                socket,
                state.clone(),
                on_stop(stopped.clone()),
            ));
        }
        if let Some(addr) = &args.syslog_tcp {
            let tcp = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen for syslog on tcp {addr}"))?;
            eprintln!("vigil receiving syslog on tcp {}", tcp.local_addr()?);
            listeners.spawn(vigil_server::syslog::serve_tcp(
                tcp,
                state.clone(),
                on_stop(stopped.clone()),
            ));
        }
        eprintln!(
            "vigil serving on http://{} (store {}, {} rules, {models})",
            listener.local_addr()?,
            vigil_store::redacted(&target),
            rules.loaded
        );
        vigil_server::serve(listener, state, shutdown()).await?;
        let _ = stop.send(true);
        while let Some(done) = listeners.join_next().await {
            if let Ok(Err(e)) = done {
                eprintln!("warning: syslog listener: {e}");
            }
        }
        anyhow::Ok(())
    })?;
    // Everything accepted is stored; the worker hunts what is left, then stops.
    worker.stop();
    eprintln!("vigil stopped");
    Ok(Outcome::Clean)
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await;
}
