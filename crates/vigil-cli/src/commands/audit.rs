//! `vigil audit verify`: checks the audit log's hash chain in the store.

use anyhow::Context;

use crate::Outcome;
use crate::args::{AuditVerifyArgs, UsageError};

/// The store a command uses: `--store`, else `$VIGIL_STORE`, else `vigil.db` in the data
/// directory.
pub(crate) fn store_target(
    explicit: Option<&str>,
    data_dir: Option<&std::path::Path>,
) -> anyhow::Result<String> {
    if let Some(target) = explicit {
        return Ok(target.to_string());
    }
    if let Some(target) = std::env::var("VIGIL_STORE").ok().filter(|t| !t.is_empty()) {
        return Ok(target);
    }
    let dir = super::rules::data_dir(data_dir)
        .context("no data directory: set VIGIL_DATA_DIR, or pass --store or --data-dir")?;
    Ok(dir.join("vigil.db").display().to_string())
}

pub(crate) fn verify(args: AuditVerifyArgs) -> anyhow::Result<Outcome> {
    let target = store_target(args.store.as_deref(), args.data_dir.as_deref())?;
    let is_url = target.starts_with("postgres://") || target.starts_with("postgresql://");
    if !is_url && !std::path::Path::new(&target).is_file() {
        // Opening would create an empty store and call it intact.
        return Err(UsageError(format!(
            "no store at {target}: pass --store PATH|URL (the server's --data-dir holds vigil.db)"
        ))
        .into());
    }
    let mut store = vigil_store::Store::open(&target)?;
    let verdict = store.verify_audit().with_context(|| {
        format!(
            "reading the audit log of {}",
            vigil_store::redacted(&target)
        )
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&verdict)?);
    }
    match &verdict.broken {
        None => {
            if !args.json {
                println!(
                    "audit log intact: {} record(s), head {}",
                    verdict.records, verdict.head
                );
            }
            Ok(Outcome::Clean)
        }
        Some((seq, why)) => {
            eprintln!(
                "error: audit log broken at record {seq}: {why} ({} record(s) checked in {})",
                verdict.records,
                vigil_store::redacted(&target)
            );
            Ok(Outcome::Partial)
        }
    }
}
