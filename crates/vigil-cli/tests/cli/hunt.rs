use serde_json::Value;

use crate::{path_arg, stderr, stdout, vigil};

/// `vigil hunt` with only the built-in pack (an empty `--rules` folder keeps rules
/// installed on the machine out) finds the attacks in the examples, correlations included.
/// Which records each rule reports is tested in vigil-detect (`builtin_pack.rs`).
#[test]
fn hunt_with_the_builtin_pack_finds_the_attacks_in_the_examples() {
    let rules = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = vigil(&[
        "hunt",
        "--no-progress",
        "--year",
        "2024",
        "--rules",
        path_arg(rules.path()),
        "--out",
        path_arg(out.path()),
        "--json",
        "examples",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let summary: Value = serde_json::from_str(stdout(&run).trim()).unwrap();
    assert_eq!(summary["rules_failed"], 0, "{summary}");
    assert_eq!(summary["rules_loaded"], 32, "{summary}");
    assert_eq!(summary["parse_errors"], 0, "{summary}");
    assert_eq!(summary["detections"], 41, "{summary}");
    assert_eq!(summary["correlations"], 4, "{summary}");

    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(written["detections"], summary["detections"]);
    let detections: Vec<Value> = std::fs::read_to_string(out.path().join("detections.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(detections.len(), 41);
    let correlation = detections
        .iter()
        .find(|d| d["rule_title"] == "SSH Login After Brute Force From The Same Address")
        .expect("the SSH login after brute force is found");
    assert_eq!(correlation["correlation"]["type"], "temporal_ordered");
    assert_eq!(
        correlation["correlation"]["group"]["source.ip"],
        "203.0.113.45"
    );
}

/// Without the built-in pack and without rules there is nothing to hunt with.
#[test]
fn hunt_without_any_rules_is_a_usage_error() {
    let rules = tempfile::tempdir().unwrap();
    let run = vigil(&[
        "hunt",
        "--no-builtin",
        "--rules",
        path_arg(rules.path()),
        "examples",
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
}
