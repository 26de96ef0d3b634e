//! `vigil hunt` ends with incidents: incidents.json, the summary's count, the ranked table,
//! suppression and its report.

use serde_json::Value;

use crate::{hunt_examples_into, path_arg, stderr, stdout};

fn hunt_examples(extra: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let out = tempfile::tempdir().unwrap();
    let run = hunt_examples_into(out.path(), extra);
    (out, run)
}

fn read(dir: &tempfile::TempDir, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.path().join(name)).unwrap()).unwrap()
}

fn detection_titles(dir: &tempfile::TempDir) -> std::collections::HashMap<String, String> {
    std::fs::read_to_string(dir.path().join("detections.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let d: Value = serde_json::from_str(l).unwrap();
            (
                d["id"].as_str().unwrap().to_string(),
                d["rule_title"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn hunt_writes_ranked_explained_incidents() {
    let (out, run) = hunt_examples(&[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let incidents = read(&out, "incidents.json");
    let incidents = incidents.as_array().unwrap();
    let summary = read(&out, "summary.json");
    assert_eq!(
        summary["incidents"].as_u64().unwrap() as usize,
        incidents.len()
    );
    assert!(
        incidents.len() >= 5 && incidents.len() < summary["detections"].as_u64().unwrap() as usize
    );

    let first = &incidents[0];
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, vigil_triage::INCIDENT_FIELDS);
    // Ranked by score; every factor named, weighed and explained.
    let scores: Vec<u64> = incidents
        .iter()
        .map(|i| i["score"].as_u64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    for incident in incidents {
        assert!(incident["score"].as_u64().unwrap() <= 100);
        for factor in incident["factors"].as_array().unwrap() {
            assert!(factor["name"].is_string() && factor["weight"].is_number());
            assert!(!factor["detail"].as_str().unwrap().is_empty());
        }
    }

    // The SSH chain of case-001 (brute force from 203.0.113.45, the login it won, what
    // followed on web01) is one incident, with its stages in order.
    let titles = detection_titles(&out);
    let ssh = incidents
        .iter()
        .find(|i| {
            i["entities"]["ips"]
                .as_array()
                .unwrap()
                .iter()
                .any(|ip| ip == "203.0.113.45")
                && i["entities"]["hosts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|h| h == "web01")
        })
        .unwrap();
    let rules: Vec<&str> = ssh["detections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| titles[id.as_str().unwrap()].as_str())
        .collect();
    assert!(
        rules.contains(&"SSH Brute Force From One Address"),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"SSH Login After Brute Force From The Same Address"),
        "{rules:?}"
    );
    assert_eq!(ssh["stage"]["progression"], "brute force then valid login");
    assert_eq!(ssh["severity"], "critical");
    // Incidents never share a detection.
    let mut seen = std::collections::HashSet::new();
    for incident in incidents {
        for id in incident["detections"].as_array().unwrap() {
            assert!(seen.insert(id.as_str().unwrap().to_string()), "{id} twice");
        }
    }
    // The terminal ranks them.
    let table = stdout(&run);
    assert!(table.contains("rank score  severity"), "{table}");
    assert!(table.contains("brute force then valid login"), "{table}");
}

#[test]
fn suppressions_remove_detections_and_say_how_many() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("suppress.toml");
    std::fs::write(
        &rules,
        r#"
[[suppress]]
rule = "b70d2dde-3661-4a17-ad29-f559d83e03c4"
reason = "scanner noise from the internet"
owner = "soc@example.com"
expires = 2999-01-01

[[suppress]]
rule = "b70d2dde-3661-4a17-ad29-f559d83e03c4"
reason = "an old exception"
owner = "soc@example.com"
expires = 2001-01-01
"#,
    )
    .unwrap();
    let (out, run) = hunt_examples(&["--suppressions", path_arg(&rules)]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run)
            .contains("suppression 1 (scanner noise from the internet): removed 7 detection(s)"),
        "{}",
        stderr(&run)
    );
    assert!(
        stderr(&run).contains("expired, not applied"),
        "{}",
        stderr(&run)
    );
    let report = read(&out, "suppression.json");
    assert_eq!(report["suppressed"], 7);
    assert_eq!(report["rules"][0]["removed"], 7);
    assert_eq!(report["rules"][1]["expired"], true);
    let suppressed = std::fs::read_to_string(out.path().join("suppressed.jsonl")).unwrap();
    assert_eq!(suppressed.lines().count(), 7);
    assert!(
        !detection_titles(&out)
            .values()
            .any(|t| t == "Web Request From An Attack Tool")
    );
    assert_eq!(read(&out, "summary.json")["suppressed"], 7);

    // A bad file is a usage error naming file and line, before any hunting.
    std::fs::write(&rules, "[[suppress]]\nreason = \"no rule, no where\"\n").unwrap();
    let (_, run) = hunt_examples(&["--suppressions", path_arg(&rules)]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("suppress.toml:1"), "{}", stderr(&run));
}

#[test]
fn a_bad_window_is_a_usage_error() {
    let (_, run) = hunt_examples(&["--window", "soon"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("--window \"soon\""),
        "{}",
        stderr(&run)
    );
}
