//! Questions, narratives and investigations: without a model (the built-in parser and
//! investigation plan, narratives refused) over a stored corpus hunt, and with a model
//! served by the in-repo mock in OpenAI's wire format.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use vigil_store::Store;
use vigil_test_support::mock_llm::{MockServer, Recorded, Reply, openai_stream};

use crate::{Server, call, login, server, server_with};

/// Hunts the SSH corpus sample with the built-in rules and stores what `vigil hunt --out`
/// would write (detections and incidents); the incidents' ids, highest score first.
/// `None` when the corpus is absent.
fn store_ssh_hunt(server: &Server) -> Option<Vec<String>> {
    let ssh = vigil_test_support::corpus_path("logs/linux-auth-sshd")?;
    let engine = vigil_engine::Engine::builtin(vigil_engine::Settings::default()).unwrap();
    let ingest = vigil_ingest::Ingest::new(vigil_ingest::ReadOptions::default());
    let mut hunted = engine.hunt(
        &ingest,
        vigil_ingest::Plan::new(std::slice::from_ref(&ssh)),
        |_| {},
    );
    let folded = engine.fold(std::mem::take(&mut hunted.detections)).unwrap();
    let detections: Vec<(Value, Option<Value>)> = folded
        .detections
        .iter()
        .map(|d| (serde_json::to_value(d).unwrap(), None))
        .collect();
    let incidents: Vec<Value> = folded
        .incidents
        .iter()
        .map(|i| serde_json::to_value(i).unwrap())
        .collect();
    let mut store = Store::open(server.db.to_str().unwrap()).unwrap();
    // The raw lines too, as syslog shipments store them (one JSON string a line).
    let text = std::fs::read_to_string(ssh.join("loghub_OpenSSH_2k.log")).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| Value::String(l.to_owned())).collect();
    store.append_events("syslog", &lines).unwrap();
    store
        .put_detections(Some("run-corpus"), &detections)
        .unwrap();
    store.upsert_incidents(&incidents).unwrap();
    Some(
        incidents
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect(),
    )
}

/// A request with `accept`; the status, the content type and the whole body as text.
async fn call_text(
    app: &Router,
    path: &str,
    token: &str,
    accept: &str,
    body: Value,
) -> (StatusCode, String, String) {
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("accept", accept)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

/// The events of an SSE body: (name, data), data lines joined with newlines.
fn events_of(text: &str) -> Vec<(String, String)> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .filter_map(|block| {
            let mut name = None;
            let mut data: Vec<&str> = Vec::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push(d);
                } else if line == "data:" {
                    data.push("");
                }
            }
            Some((name?, data.join("\n")))
        })
        .collect()
}

#[tokio::test]
async fn ask_reads_the_stored_hunt_with_the_built_in_parser() {
    let server = server();
    if store_ssh_hunt(&server).is_none() {
        return;
    }
    let app = &server.app;
    let viewer = login(app, "vic").await;
    let (status, answer) = call(
        app,
        Method::POST,
        "/api/v1/ask",
        Some(&viewer),
        Some(json!({"question": "show me SSH brute force attempts from the last 3 days"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["plan"]["by"], "built-in parser");
    assert_eq!(answer["plan"]["query"]["techniques"], json!(["T1110"]));
    // The same 14 brute-force detections `vigil ask` finds in this sample.
    assert_eq!(answer["answer"]["total"], 14, "{answer}");
    let rows = answer["answer"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 14);
    assert!(
        rows.iter()
            .all(|r| r["techniques"].to_string().contains("T1110")),
        "{rows:?}"
    );
    // A window that ends before the sample's time finds nothing.
    let (status, answer) = call(
        app,
        Method::POST,
        "/api/v1/ask",
        Some(&viewer),
        Some(json!({"question": "SSH brute force from the last 3 days", "now": "2001-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["answer"]["total"], 0, "{answer}");
    // Incidents of the technique.
    let (_, answer) = call(
        app,
        Method::POST,
        "/api/v1/ask",
        Some(&viewer),
        Some(json!({"question": "incidents with T1110"})),
    )
    .await;
    assert_eq!(answer["plan"]["query"]["target"], "incidents", "{answer}");
    assert!(answer["answer"]["total"].as_u64().unwrap() >= 1, "{answer}");
    // Raw stored events, read back through the readers: failed logins by source address.
    let (_, answer) = call(
        app,
        Method::POST,
        "/api/v1/ask",
        Some(&viewer),
        Some(json!({"question": "top 3 source ips with failed logins"})),
    )
    .await;
    assert_eq!(answer["plan"]["query"]["target"], "events", "{answer}");
    let rows = answer["answer"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{answer}");
    assert!(rows[0]["count"].as_u64().unwrap() >= rows[2]["count"].as_u64().unwrap());
    assert!(
        answer["answer"]["total"].as_u64().unwrap() > 100,
        "{answer}"
    );
    // A question nothing can read: 422 with the parser's reason; a bad time: 400.
    let (status, answer) = call(
        app,
        Method::POST,
        "/api/v1/ask",
        Some(&viewer),
        Some(json!({"question": "tell me a joke"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("found no topic"),
        "{answer}"
    );
    let (status, _) = call(
        app,
        Method::POST,
        "/api/v1/ask",
        Some(&viewer),
        Some(json!({"question": "SSH brute force", "now": "yesterday"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Asked questions are audited by the query that ran, not by their words.
    let mut store = Store::open(server.db.to_str().unwrap()).unwrap();
    let records = store.audit_records(0, 1_000).unwrap();
    let asks: Vec<_> = records.iter().filter(|r| r.action == "ask").collect();
    assert_eq!(asks.len(), 4, "{asks:?}");
    assert_eq!(asks[0].actor, "vic");
    assert!(asks[0].detail.contains("T1110"), "{}", asks[0].detail);
    assert!(!asks[0].detail.contains("show me"), "{}", asks[0].detail);
}

#[tokio::test]
async fn ask_streams_the_plan_then_the_answer() {
    let server = server();
    let app = &server.app;
    let viewer = login(app, "vic").await;
    let (status, content_type, text) = call_text(
        app,
        "/api/v1/ask",
        &viewer,
        "text/event-stream",
        json!({"question": "incidents on host web01"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let events = events_of(&text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["plan", "answer"], "{text}");
    let plan: Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(plan["by"], "built-in parser");
    let answer: Value = serde_json::from_str(&events[1].1).unwrap();
    assert!(answer["total"].is_u64(), "{answer}");
    // Nothing streamed yet when the question cannot be read: a plain 422.
    let (status, content_type, text) = call_text(
        app,
        "/api/v1/ask",
        &viewer,
        "text/event-stream",
        json!({"question": "tell me a joke"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
}

#[tokio::test]
async fn investigations_without_a_model_follow_the_built_in_plan_and_are_kept() {
    let server = server();
    let Some(incidents) = store_ssh_hunt(&server) else {
        return;
    };
    let app = &server.app;
    let analyst = login(app, "ana").await;
    let path = format!("/api/v1/incidents/{}/investigations", incidents[0]);
    let (status, first) = call(
        app,
        Method::POST,
        &path,
        Some(&analyst),
        Some(json!({"max_steps": 6})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert!(first["id"].as_str().unwrap().starts_with("inv-"), "{first}");
    assert_eq!(first["incident"], incidents[0].as_str());
    assert_eq!(first["created_by"], "ana");
    let investigation = &first["investigation"];
    assert_eq!(investigation["by"], "built-in plan");
    assert_eq!(investigation["budget"]["max_steps"], 6);
    let steps = investigation["steps"].as_array().unwrap();
    // The built-in plan's tools are cheap: it may take three times the steps a model gets.
    assert!(!steps.is_empty() && steps.len() <= 6, "{steps:?}");
    assert_eq!(steps[0]["tool"], "get_detections");
    assert!(
        steps[0]["result"]["total"].as_u64().unwrap() > 0,
        "{}",
        steps[0]
    );
    assert!(
        !investigation["narrative"].as_str().unwrap().is_empty(),
        "{investigation}"
    );
    let (status, second) = call(app, Method::POST, &path, Some(&analyst), Some(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    // Stored, newest first, for viewers too.
    let viewer = login(app, "vic").await;
    let (status, listed) = call(app, Method::GET, &path, Some(&viewer), None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            second["id"].as_str().unwrap(),
            first["id"].as_str().unwrap()
        ]
    );
    assert_eq!(listed["items"][1], first);
    // Bounds, unknown incidents.
    for body in [json!({"max_steps": 0}), json!({"max_steps": 21})] {
        let (status, answer) = call(app, Method::POST, &path, Some(&analyst), Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    }
    let unknown = "/api/v1/incidents/inc-nope/investigations";
    let (status, _) = call(app, Method::POST, unknown, Some(&analyst), Some(json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(app, Method::GET, unknown, Some(&viewer), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mut store = Store::open(server.db.to_str().unwrap()).unwrap();
    let audited = store
        .audit_records(0, 1_000)
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "investigate")
        .count();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn narratives_need_a_model() {
    let server = server();
    let app = &server.app;
    let analyst = login(app, "ana").await;
    let (status, answer) = call(
        app,
        Method::POST,
        "/api/v1/incidents/inc-000000000001/narrative",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"]["code"], "conflict");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("no LLM is configured on this server"),
        "{answer}"
    );
    let (status, _) = call(
        app,
        Method::POST,
        "/api/v1/incidents/inc-nope/narrative",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The quoted data of a recorded chat request's last message.
fn data_of(request: &Recorded) -> Value {
    let body = request.json();
    let text = body["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let open = text.find(vigil_agent::prompt::DATA_OPEN).unwrap();
    let close = text.rfind(vigil_agent::prompt::DATA_CLOSE).unwrap();
    serde_json::from_str(&text[open + vigil_agent::prompt::DATA_OPEN.len()..close]).unwrap()
}

/// A model that writes a hunting query for incidents of T1110, and narratives from the
/// facts it is given.
fn model(request: &Recorded) -> Reply {
    let body = request.json();
    let answer = match body["response_format"]["json_schema"]["name"].as_str() {
        Some("hunting_query") => json!({
            "target": "incidents", "last": null, "from": null, "to": null, "sources": [],
            "filters": [], "techniques": ["T1110"], "tactics": [], "rules": [],
            "min_level": null, "group_by": null, "limit": null,
        }),
        Some("incident_narrative") => {
            let data = data_of(request);
            let host = data["hosts"][0].as_str().unwrap_or("the host");
            json!({
                "executive_summary": format!(
                    "A {} incident was found: {}. Contain the affected systems first.",
                    data["severity"].as_str().unwrap_or(""),
                    data["title"].as_str().unwrap_or("")
                ),
                "analyst_narrative": format!("The activity centres on {host}. Review who logged in there."),
            })
        }
        other => panic!("unexpected request for {other:?}"),
    };
    openai_stream(&answer.to_string(), "stop")
}

#[tokio::test]
async fn with_a_model_asks_use_its_query_and_narratives_are_written() {
    let mock = MockServer::with(model);
    let config = vigil_llm::Config::parse(
        &format!(
            "[[provider]]\nname = \"mock\"\nkind = \"openai\"\nmodel = \"mock-1\"\nurl = \"{}/v1\"\nretries = 0\n",
            mock.url()
        ),
        "test",
    )
    .unwrap();
    let chain = vigil_llm::Chain::from_config(&config, "test").unwrap();
    let server = server_with(Some(chain));
    let app = &server.app;
    let viewer = login(app, "vic").await;
    let (status, answer) = call(
        app,
        Method::POST,
        "/api/v1/ask",
        Some(&viewer),
        Some(json!({"question": "which incidents were brute forced?"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["plan"]["by"], "model mock-1 (mock)", "{answer}");
    assert_eq!(answer["plan"]["query"]["target"], "incidents");
    assert_eq!(answer["plan"]["query"]["techniques"], json!(["T1110"]));
    // Streamed: the model's tokens, then the plan and the answer.
    let (status, _, text) = call_text(
        app,
        "/api/v1/ask",
        &viewer,
        "text/event-stream",
        json!({"question": "which incidents were brute forced?"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let events = events_of(&text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"start"), "{text}");
    assert_eq!(&names[names.len() - 2..], ["plan", "answer"], "{text}");
    let written: String = events
        .iter()
        .filter(|(n, _)| n == "token")
        .map(|(_, d)| d.as_str())
        .collect();
    let query: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(query["techniques"], json!(["T1110"]), "{written}");
    let plan: Value = serde_json::from_str(&events[names.len() - 2].1).unwrap();
    assert!(plan["by"].as_str().unwrap().starts_with("model"), "{plan}");

    let analyst = login(app, "ana").await;
    let (status, outcome) = call(
        app,
        Method::POST,
        "/api/v1/incidents/inc-000000000001/narrative",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(outcome["outcome"], "accepted", "{outcome}");
    assert_eq!(outcome["incident"], "inc-000000000001");
    assert_eq!(outcome["model"], "mock-1");
    assert!(
        outcome["executive_summary"]
            .as_str()
            .unwrap()
            .contains("SSH brute force on web01"),
        "{outcome}"
    );
    assert!(
        outcome["analyst_narrative"]
            .as_str()
            .unwrap()
            .contains("web01"),
        "{outcome}"
    );
    // The narrative is audited by its outcome, never by its text.
    let mut store = Store::open(server.db.to_str().unwrap()).unwrap();
    let records = store.audit_records(0, 1_000).unwrap();
    let narrative = records.iter().find(|r| r.action == "narrative").unwrap();
    assert!(
        narrative.detail.contains("accepted"),
        "{}",
        narrative.detail
    );
    assert!(!narrative.detail.contains("web01"), "{}", narrative.detail);
}
