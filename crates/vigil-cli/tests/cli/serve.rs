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
    let mut login = agent
        .post(format!("{address}/api/v1/auth/login"))
        .header("content-type", "application/json")
        .send(r#"{"username": "admin", "password": "a long enough password"}"#)
        .unwrap();
    assert_eq!(login.status(), 200);
    let tokens: serde_json::Value =
        serde_json::from_str(&login.body_mut().read_to_string().unwrap()).unwrap();
    let mut incidents = agent
        .get(format!("{address}/api/v1/incidents"))
        .header(
            "authorization",
            format!("Bearer {}", tokens["access_token"].as_str().unwrap()),
        )
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
