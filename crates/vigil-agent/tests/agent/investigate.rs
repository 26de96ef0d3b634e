use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use vigil_agent::investigate::{Budget, investigate};
use vigil_agent::tools::{TOOLS, Workspace};

use crate::support::{attack, corpus_run, scripted};

fn ssh_incident(run: &vigil_report::Run) -> String {
    run.incidents
        .iter()
        .find(|i| i["title"].as_str().unwrap().starts_with("SSH Brute Force"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_model_led_investigation_calls_read_only_tools_and_keeps_only_cited_claims() {
    let Some(run) = corpus_run() else { return };
    let attack = attack();
    let workspace = Workspace::new(&run, &attack);
    let id = ssh_incident(&run);
    let first_detection = run
        .incidents
        .iter()
        .find(|i| i["id"] == id.as_str())
        .unwrap()["detections"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let calls = Arc::new(AtomicUsize::new(0));
    let (id2, d2, n) = (id.clone(), first_detection.clone(), calls.clone());
    let (chain, seen) = scripted(move |request| {
        let step = n.fetch_add(1, Ordering::SeqCst);
        let schema = &request.schema.as_ref().unwrap().name;
        if schema == "investigation_result" {
            return Ok(json!({
                "narrative": "Many addresses guessed passwords on LabSZ. The attacker also reached WIN-ZZ9 from 203.0.113.50.",
                "indicators": [
                    {"value": "103.99.0.122", "evidence": [d2]},
                    {"value": "203.0.113.50", "evidence": [d2]},
                    {"value": "183.62.140.253", "evidence": ["d-0000000000000000"]}
                ],
                "actions": [
                    {"action": "Block 103.99.0.122 at the perimeter.", "evidence": [d2]},
                    {"action": "Reimage the host.", "evidence": []}
                ]
            }).to_string());
        }
        let (action, argument) = match step {
            0 => ("get_detections", id2.as_str()),
            1 => ("delete_incident", id2.as_str()),
            2 => ("pivot", "103.99.0.122"),
            3 => ("attack_lookup", "T1110.001"),
            _ => ("finish", ""),
        };
        Ok(
            json!({"thought": format!("step {step}"), "action": action, "argument": argument})
                .to_string(),
        )
    });
    let mut heard = Vec::new();
    let result = investigate(
        &workspace,
        &id,
        Some(&chain),
        Budget::default(),
        &mut |s| heard.push(s.tool.clone()),
        &mut |_| {},
    )
    .unwrap();
    let statuses: Vec<(&str, &str)> = result
        .steps
        .iter()
        .map(|s| (s.tool.as_str(), s.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("get_detections", "ok"),
            ("delete_incident", "refused"),
            ("pivot", "ok"),
            ("attack_lookup", "ok")
        ]
    );
    assert_eq!(
        heard,
        [
            "get_detections",
            "delete_incident",
            "pivot",
            "attack_lookup"
        ]
    );
    assert_eq!(result.stopped, "the model finished");
    assert_eq!(result.by, "model script-1 (scripted)");
    assert!(result.steps[0].result["total"].as_u64().unwrap() >= 10);
    assert_eq!(result.steps[3].result["name"], "Password Guessing");
    // Only the cited, known claims are kept.
    assert_eq!(
        result.narrative,
        "Many addresses guessed passwords on LabSZ."
    );
    let indicators: Vec<&str> = result.indicators.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(indicators, ["103.99.0.122"]);
    let actions: Vec<&str> = result.actions.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(actions, ["Block 103.99.0.122 at the perimeter."]);
    assert_eq!(result.dropped.len(), 4, "{:?}", result.dropped);
    assert!(
        result
            .dropped
            .iter()
            .any(|d| d.contains("d-0000000000000000"))
    );
    // The refused call was told to the model as refused, and tool results went back quoted.
    let seen = seen.lock().unwrap();
    let told = &seen[2].messages.last().unwrap().content;
    assert!(
        told.contains("status refused") && told.contains("<<<DATA"),
        "{told}"
    );
    // The prompt offered exactly the read-only tools.
    for tool in TOOLS {
        assert!(seen[0].messages[0].content.contains(tool.name));
    }
}

#[test]
fn budgets_bound_the_loop_and_no_model_means_the_built_in_plan() {
    let Some(run) = corpus_run() else { return };
    let attack = attack();
    let workspace = Workspace::new(&run, &attack);
    let id = ssh_incident(&run);
    let (chain, _) = scripted(|request| {
        if request.schema.as_ref().unwrap().name == "investigation_result" {
            return Ok(json!({"narrative": "Passwords were guessed on LabSZ.", "indicators": [], "actions": []}).to_string());
        }
        Ok(json!({"thought": "again", "action": "search_events", "argument": "root"}).to_string())
    });
    let budget = Budget {
        max_steps: 3,
        max_tokens: 100_000,
    };
    let result = investigate(
        &workspace,
        &id,
        Some(&chain),
        budget,
        &mut |_| {},
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(result.steps.len(), 3);
    assert_eq!(result.stopped, "step budget of 3 tool calls used");
    let budget = Budget {
        max_steps: 10,
        max_tokens: 300,
    };
    let result = investigate(
        &workspace,
        &id,
        Some(&chain),
        budget,
        &mut |_| {},
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(
        result.steps.len(),
        2,
        "150 tokens a call: the third call would pass 300"
    );
    assert_eq!(result.stopped, "token budget of 300 used");

    let result = investigate(
        &workspace,
        &id,
        None,
        Budget::default(),
        &mut |_| {},
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(result.by, "built-in plan");
    assert_eq!(result.steps[0].tool, "get_detections");
    assert!(
        result.steps.iter().all(|s| s.status == "ok"),
        "{:?}",
        result.steps
    );
    assert!(
        result.narrative.starts_with("A medium-severity incident"),
        "{}",
        result.narrative
    );
    assert!(
        !result.indicators.is_empty() && result.indicators.iter().all(|i| !i.evidence.is_empty())
    );
    assert!(!result.actions.is_empty());
    assert!(result.dropped.is_empty(), "{:?}", result.dropped);
    // A dead chain also falls back to the plan, and says so.
    let (dead, _) = scripted(|_| Err(vigil_llm::ProviderError::Connect("refused".into())));
    let result = investigate(
        &workspace,
        &id,
        Some(&dead),
        Budget::default(),
        &mut |_| {},
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(result.by, "built-in plan");
    assert_eq!(result.stopped, "no model answered; the built-in plan ran");
}
