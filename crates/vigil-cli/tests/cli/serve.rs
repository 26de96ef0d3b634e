//! `vigil serve` on a real socket: first start, login, an authenticated query, shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

#[test]
fn serve_answers_on_a_socket_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("VIGIL_ADMIN_PASSWORD", "a long enough password")
        .env_remove("VIGIL_STORE")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.strip_prefix("vigil serving on ")
                .map(|rest| rest.split_whitespace().next().unwrap().to_string())
        })
        .expect("the server says where it listens");
    let agent = agent();

    let health = agent.get(format!("{address}/healthz")).call().unwrap();
    assert_eq!(health.status(), 200);
    let anonymous = agent
        .get(format!("{address}/api/v1/incidents"))
        .call()
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let token = login(&agent, &address);
    let mut incidents = agent
        .get(format!("{address}/api/v1/incidents"))
        .header("authorization", token)
        .call()
        .unwrap();
    assert_eq!(incidents.status(), 200);
    let page: serde_json::Value =
        serde_json::from_str(&incidents.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(page["total"], 0);

    // The store and the token key are in the data directory; the key is private.
    assert!(data.path().join("vigil.db").is_file());
    let key = data.path().join("server.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
    assert!(
        lines.map_while(Result::ok).any(|l| l == "vigil stopped"),
        "the server says it stopped"
    );
}

/// A `vigil serve` over `data` with live ingestion; its address. Its stderr is drained
/// into the returned receiver, a line at a time.
fn start_server(
    data: &std::path::Path,
) -> (
    std::process::Child,
    String,
    std::sync::mpsc::Receiver<String>,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--year",
            "2024",
            "--data-dir",
        ])
        .arg(data)
        .env("VIGIL_ADMIN_PASSWORD", "a long enough password")
        .env("VIGIL_DATA_DIR", data)
        .env_remove("VIGIL_STORE")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let address = rx
        .iter()
        .find_map(|line| {
            line.strip_prefix("vigil serving on ")
                .map(|rest| rest.split_whitespace().next().unwrap().to_string())
        })
        .expect("the server says where it listens");
    (child, address, rx)
}

fn json_of(response: &mut ureq::http::Response<ureq::Body>) -> serde_json::Value {
    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
}

fn login(agent: &ureq::Agent, address: &str) -> String {
    let mut login = agent
        .post(format!("{address}/api/v1/auth/login"))
        .header("content-type", "application/json")
        .send(r#"{"username": "admin", "password": "a long enough password"}"#)
        .unwrap();
    assert_eq!(login.status(), 200);
    format!(
        "Bearer {}",
        json_of(&mut login)["access_token"].as_str().unwrap()
    )
}

/// Waits until the server has hunted everything it stored; its ingest status.
fn caught_up(agent: &ureq::Agent, address: &str, token: &str) -> serde_json::Value {
    for _ in 0..1200 {
        let mut status = agent
            .get(format!("{address}/api/v1/ingest/status"))
            .header("authorization", token)
            .call()
            .unwrap();
        let status = json_of(&mut status);
        if status["lag"] == 0 && status["replayed"] == true {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the server did not catch up in two minutes");
}

/// The fault test: `kill -9` while a shipper sends, restart, and nothing acknowledged is
/// lost, nothing is duplicated, and the incidents are those of a hunt of what was stored.
#[test]
fn kill_9_during_ingestion_loses_nothing_acknowledged_and_duplicates_nothing() {
    let Some(log) = vigil_test_support::corpus_path("logs/linux-auth-sshd/loghub_OpenSSH_2k.log")
    else {
        return;
    };
    let lines: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let data = tempfile::tempdir().unwrap();
    let agent = agent();
    let (mut child, address, _log) = start_server(data.path());
    let token = login(&agent, &address);
    let mut key = agent
        .post(format!("{address}/api/v1/api-keys"))
        .header("authorization", &token)
        .header("content-type", "application/json")
        .send(r#"{"name": "shipper", "role": "analyst"}"#)
        .unwrap();
    let key = format!("Splunk {}", json_of(&mut key)["key"].as_str().unwrap());

    // The shipper sends 25 lines a request until the server is gone; the server is
    // killed after 1,000 acknowledged events.
    let acknowledged = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let shipper = {
        let (agent, address, lines, acknowledged) = (
            agent.clone(),
            address.clone(),
            lines.clone(),
            acknowledged.clone(),
        );
        std::thread::spawn(move || {
            for chunk in lines.chunks(25) {
                let body: String = chunk
                    .iter()
                    .map(|l| serde_json::json!({"event": l}).to_string())
                    .collect();
                match agent
                    .post(format!("{address}/services/collector/event"))
                    .header("authorization", &key)
                    .send(body)
                {
                    Ok(r) if r.status() == 200 => {
                        acknowledged.fetch_add(chunk.len(), std::sync::atomic::Ordering::SeqCst);
                    }
                    _ => return,
                }
            }
        })
    };
    while acknowledged.load(std::sync::atomic::Ordering::SeqCst) < 1000 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let killed = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = child.wait();
    shipper.join().unwrap();
    let acknowledged = acknowledged.load(std::sync::atomic::Ordering::SeqCst);
    assert!(acknowledged < lines.len(), "the kill came before the end");

    let (mut child, address, _log) = start_server(data.path());
    let token = login(&agent, &address);
    let status = caught_up(&agent, &address, &token);
    let stored = status["stored"].as_u64().unwrap() as usize;
    // Every acknowledged event is there; at most the request in flight was stored but
    // not acknowledged.
    assert!(
        (acknowledged..=acknowledged + 25).contains(&stored),
        "{acknowledged} acknowledged, {stored} stored"
    );

    // The incidents are those of a hunt of the stored lines, each once.
    let hunted = tempfile::tempdir().unwrap();
    let file = hunted.path().join("openssh.log");
    std::fs::write(&file, lines[..stored].join("\n") + "\n").unwrap();
    let out = hunted.path().join("out");
    let hunt = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["--quiet", "hunt", "--year", "2024", "--out"])
        .arg(&out)
        .arg(&file)
        .env("VIGIL_DATA_DIR", data.path())
        .status()
        .unwrap();
    assert!(hunt.success());
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("incidents.json")).unwrap())
            .unwrap();
    let mut page = agent
        .get(format!("{address}/api/v1/incidents?limit=1000"))
        .header("authorization", &token)
        .call()
        .unwrap();
    let page = json_of(&mut page);
    let served: Vec<&serde_json::Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["incident"])
        .collect();
    let shape = |i: &serde_json::Value| {
        format!(
            "{} | {} | {} | {} | {}",
            i["title"],
            i["score"],
            i["first_seen"],
            i["last_seen"],
            i["detections"].as_array().unwrap().len()
        )
    };
    let mut want: Vec<String> = expected.as_array().unwrap().iter().map(shape).collect();
    let mut got: Vec<String> = served.iter().map(|i| shape(i)).collect();
    want.sort();
    got.sort();
    assert!(!want.is_empty());
    eprintln!(
        "{acknowledged} events acknowledged before kill -9, {stored} stored; {} incidents after the restart",
        got.len()
    );
    assert_eq!(got, want);
    let mut detections: Vec<&str> = served
        .iter()
        .flat_map(|i| i["detections"].as_array().unwrap())
        .map(|d| d.as_str().unwrap())
        .collect();
    let all = detections.len();
    detections.sort_unstable();
    detections.dedup();
    assert_eq!(detections.len(), all, "a detection in two incidents");
    let mut listed = agent
        .get(format!("{address}/api/v1/detections?limit=1"))
        .header("authorization", &token)
        .call()
        .unwrap();
    let expected_detections = std::fs::read_to_string(out.join("detections.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(json_of(&mut listed)["total"], expected_detections);

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());
}
