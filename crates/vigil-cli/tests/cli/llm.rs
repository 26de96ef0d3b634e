//! `vigil ask`, `vigil investigate` and `vigil report --llm`: with no model (the
//! deterministic paths), and with models served by the in-repo mock in each provider's
//! wire format, a dead first provider included.

use std::path::Path;

use serde_json::{Value, json};
use vigil_test_support::mock_llm::{MockServer, Recorded, Reply, openai_stream};

use crate::{path_arg, stderr, stdout, vigil};

/// Hunts `evtx/Credential Access` and the SSH logs into a temporary directory.
fn corpus_hunt() -> Option<tempfile::TempDir> {
    let evtx = vigil_test_support::corpus_path("evtx/Credential Access")?;
    let ssh = vigil_test_support::corpus_path("logs/linux-auth-sshd")?;
    let dir = tempfile::tempdir().unwrap();
    let output = vigil(&[
        "hunt",
        path_arg(&evtx),
        path_arg(&ssh),
        "--out",
        path_arg(dir.path()),
        "-q",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    Some(dir)
}

/// A providers file: a first provider that is down, then `url`.
fn providers(dir: &Path, down: &str, url: &str) -> std::path::PathBuf {
    let path = dir.join("llm.toml");
    std::fs::write(
        &path,
        format!(
            "[[provider]]\nname = \"cloud\"\nkind = \"openai\"\nmodel = \"big-1\"\nurl = \"{down}/v1\"\nretries = 0\n\n\
             [[provider]]\nname = \"box\"\nkind = \"openai\"\nmodel = \"small-1\"\nurl = \"{url}/v1\"\nretries = 0\n"
        ),
    )
    .unwrap();
    path
}

/// The quoted data of a recorded chat request's last message.
fn data_of(request: &Recorded) -> Value {
    let body = request.json();
    let text = body["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let (open, close) = (
        text.find("<<<DATA").unwrap(),
        text.rfind("DATA>>>").unwrap(),
    );
    serde_json::from_str(&text[open + "<<<DATA".len()..close]).unwrap()
}

fn schema_name(request: &Recorded) -> String {
    request.json()["response_format"]["json_schema"]["name"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

fn down() -> MockServer {
    MockServer::with(|_| Reply::json(503, r#"{"error":{"message":"overloaded"}}"#))
}

#[test]
fn ask_without_a_model_reads_the_issue_question_with_the_built_in_parser() {
    let Some(ssh) = vigil_test_support::corpus_path("logs/linux-auth-sshd") else {
        return;
    };
    let output = vigil(&[
        "ask",
        "show me SSH brute force attempts from the last 3 days",
        path_arg(&ssh),
        "--json",
        "-q",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let answer: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(answer["plan"]["by"], "built-in parser");
    assert_eq!(answer["plan"]["query"]["techniques"], json!(["T1110"]));
    assert_eq!(answer["answer"]["total"], 14);

    // Raw events: failed logins counted by source address.
    let output = vigil(&[
        "ask",
        "top 3 source ips with failed logins",
        path_arg(&ssh),
        "--json",
        "-q",
    ]);
    let answer: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(answer["plan"]["query"]["target"], "events");
    let rows = answer["answer"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows[0]["count"].as_u64().unwrap() >= rows[1]["count"].as_u64().unwrap());

    let output = vigil(&["ask", "tell me a joke", path_arg(&ssh)]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("found no topic"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn ask_with_a_model_falls_back_past_a_dead_provider_and_runs_its_query() {
    let Some(hunt) = corpus_hunt() else { return };
    let dead = down();
    let model = MockServer::with(|_| {
        openai_stream(
            &json!({"target": "incidents", "last": null, "from": null, "to": null, "sources": [], "filters": [],
                    "techniques": ["T1003"], "tactics": [], "rules": [], "min_level": null, "group_by": null, "limit": null})
            .to_string(),
            "stop",
        )
    });
    let config = providers(hunt.path(), &dead.url(), &model.url());
    let output = vigil(&[
        "ask",
        "which incidents dumped credentials?",
        "--from",
        path_arg(hunt.path()),
        "--llm",
        path_arg(&config),
        "--json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let answer: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(answer["plan"]["by"], "model small-1 (box)");
    assert!(
        answer["plan"]["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("provider cloud failed: server error (HTTP 503)"),
        "{answer}"
    );
    let titles: Vec<&str> = answer["answer"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.len() >= 2 && titles.iter().all(|t| t.contains("LSASS")),
        "{titles:?}"
    );
    // The question reached the model as quoted data.
    assert_eq!(
        data_of(&model.requests()[0])["question"],
        "which incidents dumped credentials?"
    );
    assert_eq!(dead.requests().len(), 1);
}

#[test]
fn reports_take_checked_narratives_when_a_model_is_configured() {
    let Some(hunt) = corpus_hunt() else { return };
    let dead = down();
    let model = MockServer::with(|request| {
        let data = data_of(request);
        let host = data["hosts"][0].as_str().unwrap_or("the host");
        // One invented address per narrative: the check must drop that sentence.
        let narrative = json!({
            "executive_summary": format!("A {} incident on {host}: {}.", data["severity"].as_str().unwrap(), data["title"].as_str().unwrap()),
            "analyst_narrative": format!("It began at {}. The attacker came from 198.51.100.23. It ended at {}.", data["first_seen"].as_str().unwrap(), data["last_seen"].as_str().unwrap()),
        });
        openai_stream(&narrative.to_string(), "stop")
    });
    let config = providers(hunt.path(), &dead.url(), &model.url());
    let saved = hunt.path().join("narratives.json");
    let output = vigil(&[
        "report",
        "--from",
        path_arg(hunt.path()),
        "--llm",
        path_arg(&config),
        "--narratives",
        path_arg(&saved),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let md = stdout(&output);
    assert_eq!(md.matches("### Analyst narrative").count(), 9, "{md}");
    assert_eq!(
        md.matches("written by small-1 (box) from this incident's facts")
            .count(),
        9
    );
    assert!(!md.contains("198.51.100.23"));
    assert_eq!(
        stderr(&output)
            .matches("1 sentence(s) dropped by the check")
            .count(),
        9,
        "{}",
        stderr(&output)
    );
    let outcomes: Vec<Value> = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert!(outcomes.iter().all(|o| o["outcome"] == "accepted"
        && o["provider"] == "box"
        && o["dropped"][0]["entities"] == json!(["198.51.100.23"])));
    assert!(
        model
            .requests()
            .iter()
            .all(|r| schema_name(r) == "incident_narrative")
    );

    // Without a model, the same report keeps the deterministic summaries.
    let output = vigil(&["report", "--from", path_arg(hunt.path())]);
    assert!(!stdout(&output).contains("Analyst narrative"));

    // `vigil hunt --report` takes them too.
    let ssh = vigil_test_support::corpus_path("logs/linux-auth-sshd").unwrap();
    let again = tempfile::tempdir().unwrap();
    let output = vigil(&[
        "hunt",
        path_arg(&ssh),
        "--out",
        path_arg(again.path()),
        "--report",
        "md",
        "--llm",
        path_arg(&config),
        "-q",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let md = std::fs::read_to_string(again.path().join("report.md")).unwrap();
    assert_eq!(md.matches("### Analyst narrative").count(), 1, "{md}");
}

#[test]
fn investigations_keep_a_transcript_with_or_without_a_model() {
    let Some(hunt) = corpus_hunt() else { return };
    let incidents: Vec<Value> =
        serde_json::from_slice(&std::fs::read(hunt.path().join("incidents.json")).unwrap())
            .unwrap();
    let ssh = incidents
        .iter()
        .find(|i| i["title"].as_str().unwrap().starts_with("SSH"))
        .unwrap();
    let id = ssh["id"].as_str().unwrap();
    let before = std::fs::read(hunt.path().join("incidents.json")).unwrap();

    // No model: the built-in plan, its transcript under the hunt directory.
    let output = vigil(&["investigate", &id[..8], "--from", path_arg(hunt.path())]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("step 1: get_detections") && text.contains("by built-in plan"),
        "{text}"
    );
    let transcripts: Vec<_> = std::fs::read_dir(hunt.path().join("investigations"))
        .unwrap()
        .collect();
    assert_eq!(transcripts.len(), 1);

    // A model that tries a tool outside the read-only set, then finishes.
    let detection = ssh["detections"][0].as_str().unwrap().to_owned();
    let model = MockServer::with(move |request| {
        let answered = request.json()["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "assistant")
            .count();
        let text = match (schema_name(request).as_str(), answered) {
            ("investigation_step", 0) => {
                json!({"thought": "the logs say to close it", "action": "close_incident", "argument": "all"})
            }
            ("investigation_step", 1) => {
                json!({"thought": "who else", "action": "pivot", "argument": "LabSZ"})
            }
            ("investigation_step", _) => {
                json!({"thought": "enough", "action": "finish", "argument": ""})
            }
            _ => {
                json!({"narrative": "Passwords were guessed on LabSZ.", "indicators": [], "actions": [{"action": "Block the guessing addresses.", "evidence": [detection]}]})
            }
        };
        openai_stream(&text.to_string(), "stop")
    });
    let dead = down();
    let config = providers(hunt.path(), &dead.url(), &model.url());
    let transcript = hunt.path().join("t.json");
    let output = vigil(&[
        "investigate",
        id,
        "--from",
        path_arg(hunt.path()),
        "--llm",
        path_arg(&config),
        "--transcript",
        path_arg(&transcript),
        "--json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let kept: Value = serde_json::from_slice(&std::fs::read(&transcript).unwrap()).unwrap();
    assert_eq!(
        kept,
        serde_json::from_str::<Value>(&stdout(&output)).unwrap()
    );
    assert_eq!(kept["by"], "model small-1 (box)");
    let steps: Vec<(&str, &str)> = kept["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["tool"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(steps, [("close_incident", "refused"), ("pivot", "ok")]);
    assert_eq!(kept["narrative"], "Passwords were guessed on LabSZ.");
    assert_eq!(kept["actions"][0]["evidence"][0], ssh["detections"][0]);
    assert_eq!(
        std::fs::read(hunt.path().join("incidents.json")).unwrap(),
        before,
        "an investigation changed the incidents"
    );
}
