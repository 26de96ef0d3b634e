//! `vigil attack`: mapping, showing, coverage and layers, and ATT&CK on hunt detections.

use serde_json::Value;

use crate::{hunt_examples_into, path_arg, stderr, stdout, vigil, vigil_with_data_dir};

#[test]
fn attack_map_ranks_techniques_with_confidence_and_evidence() {
    let empty = tempfile::tempdir().unwrap();
    let run = vigil_with_data_dir(
        &[
            "attack", "map", "--json", "procdump", "dumping", "lsass", "process", "memory",
        ],
        empty.path(),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let hits: Value = serde_json::from_str(&stdout(&run)).unwrap();
    let first = &hits[0];
    assert_eq!(first["id"], "T1003.001");
    assert_eq!(first["name"], "LSASS Memory");
    assert_eq!(first["tactics"], serde_json::json!(["credential-access"]));
    let confidence = first["confidence"].as_f64().unwrap();
    assert!((0.35..=1.0).contains(&confidence), "{confidence}");
    assert!(
        first["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().contains("\"lsass\" in name")),
        "{first}"
    );
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["id", "name", "tactics", "confidence", "evidence"]);
}

#[test]
fn attack_show_prints_a_technique_and_remaps_revoked_ids() {
    let empty = tempfile::tempdir().unwrap();
    let run = vigil_with_data_dir(&["attack", "show", "T1003.001"], empty.path());
    assert!(run.status.success(), "{}", stderr(&run));
    insta::assert_snapshot!(stdout(&run));

    let run = vigil_with_data_dir(&["attack", "show", "t1086"], empty.path());
    assert!(
        stdout(&run).contains("status:        revoked, replaced by T1059.001"),
        "{}",
        stdout(&run)
    );

    let run = vigil_with_data_dir(&["attack", "show", "T9999"], empty.path());
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("T9999 is not an id of ATT&CK 18.1"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn hunt_detections_carry_attack_and_make_a_navigator_layer() {
    let empty = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = hunt_examples_into(out.path(), &["-q"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let detections = std::fs::read_to_string(out.path().join("detections.jsonl")).unwrap();
    for line in detections.lines() {
        let detection: Value = serde_json::from_str(line).unwrap();
        let techniques = detection["techniques"].as_array().unwrap();
        let tactics = detection["tactics"].as_array().unwrap();
        assert!(!techniques.is_empty() && !tactics.is_empty(), "{line}");
        for hit in techniques.iter().chain(tactics) {
            let confidence = hit["confidence"].as_f64().unwrap();
            assert!(confidence > 0.0 && confidence <= 1.0, "{hit}");
            assert!(!hit["evidence"].as_array().unwrap().is_empty());
        }
    }

    let layer_path = out.path().join("layer.json");
    let run = vigil_with_data_dir(
        &[
            "attack",
            "layer",
            "--detections",
            path_arg(&out.path().join("detections.jsonl")),
            "-o",
            path_arg(&layer_path),
        ],
        empty.path(),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stdout(&run).contains("Credential Access"),
        "{}",
        stdout(&run)
    );
    let layer: Value =
        serde_json::from_str(&std::fs::read_to_string(&layer_path).unwrap()).unwrap();
    assert_eq!(layer["versions"]["layer"], "4.5");
    assert_eq!(layer["versions"]["attack"], "18");
    assert_eq!(layer["domain"], "enterprise-attack");
    let ids: Vec<&str> = layer["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["techniqueID"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"T1110.001"), "{ids:?}");

    // A line that is not a detection is reported and the rest is counted.
    let broken = out.path().join("broken.jsonl");
    std::fs::write(&broken, format!("{{not json\n{detections}")).unwrap();
    let run = vigil_with_data_dir(
        &[
            "attack",
            "layer",
            "--detections",
            path_arg(&broken),
            "-o",
            path_arg(&layer_path),
        ],
        empty.path(),
    );
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("broken.jsonl line 1: not a detection"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn attack_coverage_of_the_builtin_pack() {
    let empty = tempfile::tempdir().unwrap();
    let out = empty.path().join("coverage.json");
    let run = vigil_with_data_dir(&["attack", "coverage", "-o", path_arg(&out)], empty.path());
    assert!(run.status.success(), "{}", stderr(&run));
    let summary = stdout(&run);
    assert!(
        summary.starts_with("ATT&CK coverage (enterprise-attack 18.1)"),
        "{summary}"
    );
    assert!(summary.contains("Techniques "), "{summary}");
    let layer: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(layer["name"], "vigil rule coverage");
    assert!(layer["techniques"].as_array().unwrap().len() > 10);

    let run = vigil_with_data_dir(
        &["attack", "coverage", "--json", "-o", path_arg(&out)],
        empty.path(),
    );
    let rows: Value = serde_json::from_str(&stdout(&run)).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 14);
}

#[test]
fn attack_update_installs_a_bundle_that_then_takes_precedence() {
    let Some(bundle) = vigil_test_support::corpus_path("attack/enterprise-attack.json") else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let run = vigil(&[
        "attack",
        "update",
        "--from",
        path_arg(&bundle),
        "--data-dir",
        path_arg(data.path()),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("installed ATT&CK 18.1 (14 tactics, 691 current techniques"),
        "{}",
        stderr(&run)
    );
    // The installed table has MITRE's prose; the built-in one only index terms.
    let run = vigil_with_data_dir(&["attack", "show", "T1003.001"], data.path());
    assert!(
        stdout(&run).contains("Adversaries may attempt to access credential material"),
        "{}",
        stdout(&run)
    );

    // Not a bundle: an error naming the file, and the installed table stays.
    let junk = data.path().join("junk.json");
    std::fs::write(&junk, b"{\"type\":\"nope\"}").unwrap();
    let run = vigil(&[
        "attack",
        "update",
        "--from",
        path_arg(&junk),
        "--data-dir",
        path_arg(data.path()),
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("junk.json: not an ATT&CK STIX bundle"),
        "{}",
        stderr(&run)
    );
    assert!(data.path().join("attack/enterprise-attack.jsonl").is_file());
}
