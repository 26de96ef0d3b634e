//! The API without a socket (`app(state).oneshot`): every endpoint for every role (the
//! whole permission matrix), logins, tokens, API keys, case work and the audit trail;
//! questions, narratives and investigations in `agent`.
#![allow(clippy::unwrap_used)] // Test code fails loudly; that is its job.

mod agent;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use vigil_server::{AppState, app, ensure_admin, hash_password};
use vigil_store::Store;

const SECRET: &[u8] = b"a test secret of at least 32 bytes!";
const PASSWORD: &str = "a long enough password";

/// A Sigma rule to upload.
const RULE: &str = "title: Test rule uploaded through the API
id: 0e5a3c7e-1d2b-4c4f-9a51-3f6f0b8d9c11
status: test
logsource:
    product: linux
    service: sshd
detection:
    selection:
        - 'Invalid user'
    condition: selection
level: low
";

/// A suppression entry to add.
const SUPPRESSION: &str = "[[suppress]]
rule = \"0e5a3c7e-1d2b-4c4f-9a51-3f6f0b8d9c11\"
reason = \"lab noise\"
owner = \"soc\"
";

struct Server {
    app: Router,
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    _worker: vigil_server::LiveWorker,
}

fn server() -> Server {
    server_with(None)
}

/// A server whose questions, narratives and investigations ask `llm`.
fn server_with(llm: Option<vigil_llm::Chain>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vigil.db");
    let mut store = Store::open(db.to_str().unwrap()).unwrap();
    assert_eq!(ensure_admin(&mut store, Some(PASSWORD)).unwrap(), None);
    for (name, role) in [("ana", "analyst"), ("vic", "viewer")] {
        store
            .create_user(name, role, &hash_password(PASSWORD).unwrap())
            .unwrap();
    }
    store
        .upsert_incidents(&[
            json!({"id": "inc-000000000001", "title": "SSH brute force on web01", "score": 95,
                   "severity": "critical", "first_seen": "2024-03-12T09:00:00Z",
                   "last_seen": "2024-03-12T10:00:00Z",
                   "entities": {"hosts": ["web01"], "users": [], "ips": []}, "detections": []}),
            json!({"id": "inc-000000000002", "title": "Port scan", "score": 40,
                   "severity": "medium", "first_seen": "2024-03-13T09:00:00Z",
                   "last_seen": "2024-03-13T10:00:00Z",
                   "entities": {"hosts": ["fw"], "users": [], "ips": []}, "detections": []}),
        ])
        .unwrap();
    let state = AppState::new(store, SECRET).unwrap();
    state
        .set_engine(
            vigil_server::EngineSetup::builtin(),
            vigil_attack::Attack::embedded().unwrap(),
        )
        .unwrap();
    state.set_llm(llm);
    let worker = state
        .start_live(vigil_server::LiveOptions::default())
        .unwrap();
    Server {
        app: app(state),
        _dir: dir,
        db,
        _worker: worker,
    }
}

async fn call(
    app: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = match body {
        // A string is sent as it is (NDJSON, YAML, TOML, a log file).
        Some(Value::String(text)) => request
            .header("content-type", "text/plain")
            .body(Body::from(text)),
        Some(body) => request
            .header("content-type", "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

/// Whether a concrete path fits an OpenAPI path template (`{name}`: one segment).
fn regex_of(template: &str) -> impl Fn(&str) -> bool + '_ {
    move |path: &str| {
        let want: Vec<&str> = template.split('/').collect();
        let got: Vec<&str> = path.split('/').collect();
        want.len() == got.len()
            && want
                .iter()
                .zip(&got)
                .all(|(w, g)| (w.starts_with('{') && !g.is_empty()) || w == g)
    }
}

async fn login(app: &Router, user: &str) -> String {
    let (status, body) = call(
        app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"username": user, "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn every_endpoint_for_every_role() {
    let server = server();
    let app = &server.app;
    let tokens = [
        ("viewer", login(app, "vic").await),
        ("analyst", login(app, "ana").await),
        ("admin", login(app, "admin").await),
    ];
    let rank = |role: &str| {
        ["viewer", "analyst", "admin"]
            .iter()
            .position(|r| *r == role)
    };
    // (method, path, body, the least role, the status it then gets)
    let matrix: Vec<(Method, &str, Option<Value>, &str, StatusCode)> = vec![
        (
            Method::GET,
            "/api/v1/incidents",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/incidents/inc-000000000001",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/incidents/inc-nope",
            None,
            "viewer",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::PATCH,
            "/api/v1/incidents/inc-000000000002",
            Some(json!({"note": "looked"})),
            "analyst",
            StatusCode::OK,
        ),
        (Method::GET, "/api/v1/users", None, "admin", StatusCode::OK),
        (
            Method::POST,
            "/api/v1/users",
            Some(json!({"name": "new-user", "role": "viewer", "password": PASSWORD})),
            "admin",
            StatusCode::CREATED,
        ),
        (
            Method::GET,
            "/api/v1/api-keys",
            None,
            "admin",
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/api-keys",
            Some(json!({"name": "shipper", "role": "analyst"})),
            "admin",
            StatusCode::CREATED,
        ),
        (
            Method::DELETE,
            "/api/v1/api-keys/vk_none",
            None,
            "admin",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/api/v1/audit/verify",
            None,
            "admin",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/detections",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/detections/d-nope",
            None,
            "viewer",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/api/v1/ingest/status",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (Method::GET, "/metrics", None, "viewer", StatusCode::OK),
        (
            Method::GET,
            "/api/v1/openapi.json",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/ingest/bulk",
            Some(Value::String(
                "{\"create\":{}}\n{\"message\":\"x\"}\n".into(),
            )),
            "analyst",
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/logs/_bulk",
            Some(Value::String(
                "{\"create\":{}}\n{\"message\":\"x\"}\n".into(),
            )),
            "analyst",
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/services/collector",
            Some(json!({"event": {"message": "x"}})),
            "analyst",
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/ingest/hec",
            Some(json!({"event": "x"})),
            "analyst",
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/_bulk",
            Some(Value::String(
                "{\"index\":{\"_index\":\"t\"}}\n{\"message\":\"hello\"}\n".into(),
            )),
            "analyst",
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/services/collector/event",
            Some(
                json!({"event": "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186"}),
            ),
            "analyst",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/incidents/inc-000000000001/report?format=md",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/report?format=json",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/coverage",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/coverage/detections",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (Method::GET, "/api/v1/rules", None, "viewer", StatusCode::OK),
        (
            Method::POST,
            "/api/v1/rules/lint",
            Some(Value::String(RULE.into())),
            "analyst",
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/rules",
            Some(Value::String(RULE.into())),
            "analyst",
            StatusCode::CREATED,
        ),
        (
            Method::PATCH,
            "/api/v1/rules/0e5a3c7e-1d2b-4c4f-9a51-3f6f0b8d9c11",
            Some(json!({"enabled": false})),
            "analyst",
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            "/api/v1/rules/not-a-rule",
            None,
            "analyst",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/api/v1/suppressions",
            None,
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/suppressions",
            Some(Value::String(SUPPRESSION.into())),
            "analyst",
            StatusCode::CREATED,
        ),
        (
            Method::DELETE,
            "/api/v1/suppressions/sup-nope",
            None,
            "analyst",
            StatusCode::NOT_FOUND,
        ),
        (Method::GET, "/api/v1/hunts", None, "viewer", StatusCode::OK),
        (
            Method::POST,
            "/api/v1/hunts",
            Some(json!({})),
            "analyst",
            StatusCode::ACCEPTED,
        ),
        (
            Method::POST,
            "/api/v1/hunts/upload?name=auth.log",
            Some(Value::String(
                "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\n"
                    .into(),
            )),
            "analyst",
            StatusCode::ACCEPTED,
        ),
        (
            Method::GET,
            "/api/v1/hunts/run-nope",
            None,
            "viewer",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/api/v1/ask",
            Some(json!({"question": "SSH brute force from the last 3 days"})),
            "viewer",
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/incidents/inc-000000000001/narrative",
            None,
            "analyst",
            // No LLM is configured.
            StatusCode::CONFLICT,
        ),
        (
            Method::POST,
            "/api/v1/incidents/inc-000000000001/investigations",
            Some(json!({"max_steps": 3})),
            "analyst",
            StatusCode::CREATED,
        ),
        (
            Method::GET,
            "/api/v1/incidents/inc-000000000001/investigations",
            None,
            "viewer",
            StatusCode::OK,
        ),
    ];
    // The matrix covers every operation of the OpenAPI document but the probes, the
    // logins and the streams (below).
    let (_, document) = call(
        app,
        Method::GET,
        "/api/v1/openapi.json",
        Some(&tokens[0].1),
        None,
    )
    .await;
    let covered = |method: &str, template: &str| {
        let pattern = regex_of(template);
        matrix.iter().any(|(m, path, ..)| {
            m.as_str().eq_ignore_ascii_case(method)
                && pattern(path.split('?').next().unwrap_or(path))
        })
    };
    for (template, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let elsewhere = [
                "/healthz",
                "/readyz",
                "/api/v1/auth/login",
                "/api/v1/auth/refresh",
            ]
            .contains(&template.as_str())
                || template.starts_with("/api/v1/stream/");
            assert!(
                elsewhere || covered(method, template),
                "{method} {template} is not in the permission matrix"
            );
        }
    }
    for (method, path, body, least, allowed) in &matrix {
        // No token: 401, whatever the endpoint.
        let (status, answer) = call(app, method.clone(), path, None, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}: {answer}"
        );
        assert_eq!(answer["error"]["code"], "unauthorized");
        for (role, token) in &tokens {
            let mut body = body.clone();
            // Each creation gets a fresh name so every allowed role can create one.
            if let Some(b) = body.as_mut().filter(|b| b.get("password").is_some()) {
                b["name"] = format!("user-{role}").into();
            }
            let (status, answer) = call(app, method.clone(), path, Some(token), body).await;
            let expected = if rank(role) >= rank(least) {
                *allowed
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status, expected, "{role} {method} {path}: {answer}");
        }
    }
    // The streams never end, so only their status is read: 401 without a token; with one,
    // SSE answers 200 and the WebSocket refuses a request that is not an upgrade (400;
    // only a real socket can upgrade, which the end-to-end tests do).
    for (path, allowed) in [
        ("/api/v1/stream/incidents", StatusCode::OK),
        ("/api/v1/stream/hunts", StatusCode::OK),
        ("/api/v1/stream/detections", StatusCode::BAD_REQUEST),
    ] {
        let status_of = |token: Option<&String>| {
            let mut request = Request::builder().uri(path);
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            let app = app.clone();
            async move {
                app.oneshot(request.body(Body::empty()).unwrap())
                    .await
                    .unwrap()
                    .status()
            }
        };
        assert_eq!(status_of(None).await, StatusCode::UNAUTHORIZED, "{path}");
        for (role, token) in &tokens {
            assert_eq!(status_of(Some(token)).await, allowed, "{role} {path}");
        }
    }
    // Health and readiness need no login.
    let (status, body) = call(app, Method::GET, "/healthz", None, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, body) = call(app, Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({"status": "ready", "schema_version": 2})
        )
    );
}

#[tokio::test]
async fn metrics_count_answers_and_logins() {
    let server = server();
    let app = &server.app;
    let token = login(app, "vic").await;
    let _ = call(
        app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"username": "vic", "password": "not the password"})),
    )
    .await;
    let _ = call(app, Method::GET, "/api/v1/incidents", None, None).await;
    let response = app
        .clone()
        .oneshot(
            Request::builder()
                .uri("/metrics")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    for line in [
        "vigil_logins_total{result=\"ok\"} 1",
        "vigil_logins_total{result=\"failed\"} 1",
        "vigil_http_responses_total{class=\"2xx\"} 1",
        "vigil_http_responses_total{class=\"4xx\"} 2",
        "vigil_incidents 2",
        "vigil_events_stored 0",
        // Three answers timed before this one: all within the last bucket, none above.
        "vigil_http_request_duration_seconds_bucket{le=\"+Inf\"} 3",
        "vigil_http_request_duration_seconds_count 3",
        "vigil_queue_depth 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing in:\n{text}"
        );
    }
}

#[tokio::test]
async fn security_headers_and_bad_bodies() {
    let server = server();
    for path in ["/healthz", "/api/v1/incidents"] {
        let response = server
            .app
            .clone()
            .oneshot(Request::builder().uri(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let headers = response.headers();
        for (name, value) in [
            ("cache-control", "no-store"),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            (
                "content-security-policy",
                "default-src 'none'; frame-ancestors 'none'",
            ),
        ] {
            assert_eq!(
                headers.get(name).map(|v| v.to_str().unwrap()),
                Some(value),
                "{path} {name}"
            );
        }
    }
    // Malformed and oversized bodies: 4xx, never 5xx.
    let token = login(&server.app, "ana").await;
    for body in [
        "{not json",
        &format!("{{\"note\": \"{}\"}}", "x".repeat(3 << 20)),
    ] {
        let response = server
            .app
            .clone()
            .oneshot(
                Request::builder()
                    .method(Method::PATCH)
                    .uri("/api/v1/incidents/inc-000000000001")
                    .header("authorization", format!("Bearer {token}"))
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
}

#[tokio::test]
async fn logins_tokens_and_keys() {
    let server = server();
    let app = &server.app;
    // Wrong password, unknown user: the same answer.
    for (user, password) in [("admin", "wrong password!!"), ("nobody", PASSWORD)] {
        let (status, body) = call(
            app,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": user, "password": password})),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["message"], "wrong user name or password");
    }
    let (_, tokens) = call(
        app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"username": "ana", "password": PASSWORD})),
    )
    .await;
    assert_eq!(
        (tokens["token_type"].clone(), tokens["role"].clone()),
        (json!("Bearer"), json!("analyst"))
    );
    // A refresh token is not an access token, and trades for a new access token.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _) = call(app, Method::GET, "/api/v1/incidents", Some(refresh), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, renewed) = call(
        app,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": refresh})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let access = renewed["access_token"].as_str().unwrap();
    let (status, _) = call(app, Method::GET, "/api/v1/incidents", Some(access), None).await;
    assert_eq!(status, StatusCode::OK);
    // A forged token is refused.
    let (status, _) = call(app, Method::GET, "/api/v1/incidents", Some("a.b.c"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // API keys: shown once, work with their role, stop working when revoked.
    let admin = login(app, "admin").await;
    let (status, key) = call(
        app,
        Method::POST,
        "/api/v1/api-keys",
        Some(&admin),
        Some(json!({"name": "shipper", "role": "viewer"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = key["key"].as_str().unwrap();
    let (status, listed) = call(app, Method::GET, "/api/v1/api-keys", Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !listed
            .to_string()
            .contains(secret.split_once('.').unwrap().1),
        "secret listed"
    );
    let (status, _) = call(app, Method::GET, "/api/v1/incidents", Some(secret), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        app,
        Method::PATCH,
        "/api/v1/incidents/inc-000000000001",
        Some(secret),
        Some(json!({"note": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer key cannot change");
    let wrong = format!("{}.{}", key["id"].as_str().unwrap(), "0".repeat(48));
    let (status, _) = call(app, Method::GET, "/api/v1/incidents", Some(&wrong), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let path = format!("/api/v1/api-keys/{}", key["id"].as_str().unwrap());
    let (status, _) = call(app, Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(app, Method::GET, "/api/v1/incidents", Some(secret), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn case_work_filters_and_the_audit_trail() {
    let server = server();
    let app = &server.app;
    let analyst = login(app, "ana").await;
    let (status, updated) = call(
        app,
        Method::PATCH,
        "/api/v1/incidents/inc-000000000001",
        Some(&analyst),
        Some(json!({"status": "investigating", "assignee": "ana", "note": "isolating web01"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["status"], "investigating");
    assert_eq!(updated["assignee"], "ana");
    assert_eq!(updated["notes"][0]["author"], "ana");
    // `null` clears the assignee; absent keeps it.
    let (_, cleared) = call(
        app,
        Method::PATCH,
        "/api/v1/incidents/inc-000000000001",
        Some(&analyst),
        Some(json!({"assignee": null})),
    )
    .await;
    assert_eq!(cleared["assignee"], Value::Null);
    assert_eq!(cleared["status"], "investigating");
    // Bad input: 400 with the reason.
    for (body, reason) in [
        (json!({"status": "done"}), "unknown status"),
        (json!({"colour": "red"}), "unknown field"),
    ] {
        let (status, answer) = call(
            app,
            Method::PATCH,
            "/api/v1/incidents/inc-000000000001",
            Some(&analyst),
            Some(body),
        )
        .await;
        assert!(status.is_client_error(), "{status} {answer}");
        assert!(
            answer.to_string().contains(reason) || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{answer}"
        );
    }
    let (status, page) = call(
        app,
        Method::GET,
        "/api/v1/incidents?status=investigating&min_score=90",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["incident"]["id"], "inc-000000000001");
    let (status, answer) = call(
        app,
        Method::GET,
        "/api/v1/incidents?sort=colour",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown sort")
    );

    // Every login, change and query is in the chained audit log, and no secret is.
    let admin = login(app, "admin").await;
    let (_, verdict) = call(app, Method::GET, "/api/v1/audit/verify", Some(&admin), None).await;
    assert_eq!(verdict["broken"], Value::Null);
    let mut store = Store::open(server.db.to_str().unwrap()).unwrap();
    let records = store.audit_records(0, 100).unwrap();
    let actions: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r.actor.as_str(), r.action.as_str()))
        .collect();
    for expected in [
        ("system", "user.create"),
        ("ana", "login"),
        ("ana", "incident.update"),
        ("ana", "query"),
        ("admin", "login"),
    ] {
        assert!(
            actions.contains(&expected),
            "{expected:?} not audited: {actions:?}"
        );
    }
    let all = serde_json::to_string(&records).unwrap();
    assert!(!all.contains(PASSWORD) && !all.contains("isolating web01"));
}

#[test]
fn the_first_start_makes_an_admin_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("vigil.db").to_str().unwrap()).unwrap();
    let generated = ensure_admin(&mut store, None).unwrap().unwrap();
    assert_eq!(generated.len(), 24);
    assert_eq!(
        ensure_admin(&mut store, None).unwrap(),
        None,
        "only on the first start"
    );
    let admin = store.user("admin").unwrap().unwrap();
    assert_eq!(admin.role, "admin");
    assert!(admin.password_hash.starts_with("$argon2id$"));
    let other = tempfile::tempdir().unwrap();
    let mut store = Store::open(other.path().join("vigil.db").to_str().unwrap()).unwrap();
    assert!(ensure_admin(&mut store, Some("short")).is_err());
}

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint() {
    let server = server();
    let (status, _) = call(&server.app, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let token = login(&server.app, "vic").await;
    let (status, document) = call(
        &server.app,
        Method::GET,
        "/api/v1/openapi.json",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v1/incidents",
        "/api/v1/incidents/{id}/report",
        "/api/v1/detections",
        "/_bulk",
        "/services/collector/event",
        "/api/v1/rules/{id}",
        "/api/v1/hunts/upload",
        "/api/v1/stream/incidents",
        "/api/v1/audit/verify",
        "/api/v1/ask",
        "/api/v1/incidents/{id}/narrative",
        "/api/v1/incidents/{id}/investigations",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    let investigate = &paths["/api/v1/incidents/{id}/investigations"]["post"];
    assert!(investigate["responses"]["201"].is_object(), "{investigate}");
    let schema = investigate["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap();
    let budget = &document["components"]["schemas"][schema.rsplit('/').next().unwrap()];
    let steps = &budget["properties"]["max_steps"];
    assert_eq!(
        (&steps["minimum"], &steps["maximum"]),
        (&json!(1), &json!(20)),
        "{budget}"
    );
    let login = &paths["/api/v1/auth/login"]["post"];
    let schema = login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap();
    let name = schema.rsplit('/').next().unwrap();
    let login_schema = &document["components"]["schemas"][name];
    assert_eq!(login_schema["required"], json!(["username", "password"]));
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_and_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("vigil.db").to_str().unwrap()).unwrap();
    let state = AppState::with_rate_limit(
        store,
        SECRET,
        vigil_server::RateLimit {
            per_second: 0.001,
            burst: 3.0,
        },
    )
    .unwrap();
    let app = app(state);
    let from =
        |ip: [u8; 4]| {
            let mut request = Request::builder()
                .uri("/api/v1/incidents")
                .body(Body::empty())
                .unwrap();
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from((ip, 40_000)),
            ));
            request
        };
    for _ in 0..3 {
        let answer = app.clone().oneshot(from([192, 0, 2, 1])).await.unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    let refused = app.clone().oneshot(from([192, 0, 2, 1])).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let other = app.clone().oneshot(from([192, 0, 2, 2])).await.unwrap();
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    // Health probes are never limited.
    let (status, _) = call(&app, Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
}
