use serde_json::json;
use vigil_agent::ask::plan;
use vigil_agent::query::{self, Data, Target};

use crate::support::{attack, corpus_run, data_of, scripted};

fn null_query() -> serde_json::Value {
    json!({"target": "detections", "last": null, "from": null, "to": null, "sources": [], "filters": [],
           "techniques": [], "tactics": [], "rules": [], "min_level": null, "group_by": null, "limit": null})
}

#[test]
fn without_a_model_the_built_in_parser_answers_the_issue_question_over_the_corpus() {
    let Some(run) = corpus_run() else { return };
    let plan = plan(
        "show me SSH brute force attempts from the last 3 days",
        None,
        &attack(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(plan.by, "built-in parser");
    let answer = query::run(
        &plan.query,
        Data {
            detections: &run.detections,
            incidents: &run.incidents,
            events: None,
        },
        None,
    );
    // The 14 SSH brute-force detections of LabSZ, and nothing from the Windows logs.
    assert_eq!(answer.total, 14);
    assert!(
        answer
            .rows
            .iter()
            .all(|r| r["rule"].as_str().unwrap().contains("SSH") && r["host"] == "LabSZ")
    );
    assert!(
        answer.notes[0].contains("counted back from the newest match"),
        "{:?}",
        answer.notes
    );
}

#[test]
fn a_models_query_is_used_when_it_checks_out() {
    let Some(run) = corpus_run() else { return };
    let (chain, seen) = scripted(|_| {
        let mut q = null_query();
        q["target"] = json!("incidents");
        q["techniques"] = json!(["T1003"]);
        Ok(q.to_string())
    });
    let plan = plan(
        "which incidents dumped credentials?",
        Some(&chain),
        &attack(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(plan.by, "model script-1 (scripted)");
    assert_eq!(plan.query.target, Target::Incidents);
    let answer = query::run(
        &plan.query,
        Data {
            detections: &run.detections,
            incidents: &run.incidents,
            events: None,
        },
        None,
    );
    assert!(answer.total >= 2, "{answer:?}");
    assert!(
        answer
            .rows
            .iter()
            .all(|r| r["title"].as_str().unwrap().contains("LSASS")),
        "{answer:?}"
    );
    // The question reached the model as quoted data.
    assert_eq!(
        data_of(&seen.lock().unwrap()[0])["question"],
        "which incidents dumped credentials?"
    );
}

#[test]
fn a_model_query_that_does_not_check_out_hands_over_to_the_built_in_parser() {
    let (chain, _) = scripted(|_| {
        let mut q = null_query();
        q["techniques"] = json!(["T9999"]);
        Ok(q.to_string())
    });
    let first = plan(
        "ssh brute force in the last day",
        Some(&chain),
        &attack(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(first.by, "built-in parser");
    assert_eq!(
        first.notes,
        ["the model's query was not used: `T9999` is not an ATT&CK technique"]
    );
    assert_eq!(first.query.techniques, ["T1110"]);

    let (chain, _) = scripted(|_| Err(vigil_llm::ProviderError::Timeout("30 s".into())));
    let planned = plan("ssh brute force", Some(&chain), &attack(), &mut |_| {}).unwrap();
    assert_eq!(planned.by, "built-in parser");
    assert!(
        planned.notes[0].starts_with("no model answered"),
        "{:?}",
        planned.notes
    );

    let error = vigil_agent::ask::plan("tell me a joke", None, &attack(), &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("found no topic"), "{error}");
}
