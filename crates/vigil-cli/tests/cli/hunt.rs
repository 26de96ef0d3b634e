//! `vigil hunt` and `vigil rules`.

use std::io::Write;
use std::path::Path;
use std::process::Output;

use serde_json::Value;
use vigil_test_support::corpus_path;

use crate::{path_arg, stderr, stdout, vigil, vigil_with_data_dir};

const GOOD: &str = r#"title: Whoami Run
id: 0b6f3a52-6a5e-4c55-9d7e-2f4c1c4a0001
status: test
level: medium
logsource: {product: windows, category: process_creation}
detection:
    selection: {Image|endswith: '\whoami.exe'}
    condition: selection
"#;

const BAD: &str = r#"title: Broken
id: 0b6f3a52-6a5e-4c55-9d7e-2f4c1c4a0002
status: test
level: medium
logsource: {product: windows, category: process_creation}
detection:
    selection: {Image|nosuchmodifier: 'x'}
    condition: selection
"#;

#[test]
fn hunt_writes_detections_and_a_summary_for_the_evtx_corpus() {
    let (Some(evtx), Some(rules)) = (corpus_path("evtx"), corpus_path("sigma/rules")) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let run = vigil(&[
        "hunt",
        path_arg(&evtx),
        "--rules",
        path_arg(&rules),
        "--no-builtin",
        "--out",
        path_arg(out.path()),
        "--json",
        "-q",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let printed: Value = serde_json::from_str(stdout(&run).trim()).unwrap();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(printed, written);
    for (key, value) in [
        ("records", 5386),
        ("events", 5386),
        ("parse_errors", 0),
        ("files", 195),
        ("files_failed", 0),
        ("rules_loaded", 3141),
        ("rules_failed", 0),
    ] {
        assert_eq!(written[key], value, "{key}");
    }
    assert!(written["elapsed_ms"].is_u64());
    let text = std::fs::read_to_string(out.path().join("detections.jsonl")).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, written["detections"].as_u64().unwrap());
    assert!(lines.len() > 500, "{} detections", lines.len());
    for d in &lines {
        for key in [
            "rule_id",
            "rule_title",
            "level",
            "status",
            "tags",
            "timestamp",
            "host",
            "source",
            "fields",
        ] {
            assert!(d.get(key).is_some(), "{key} missing in {d}");
        }
        assert!(d["source"]["path"].as_str().unwrap().ends_with(".evtx"));
        assert!(d["source"]["record"].as_u64().unwrap() > 0);
        assert!(d["fields"]["EventID"].is_number());
    }
    // DCSync from the corpus: the SigmaHQ rule for it must fire on that file.
    assert!(lines.iter().any(|d| {
        d["source"]["path"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("dcsync")
            && d["rule_title"].as_str().unwrap().contains("DCSync")
    }));

    // --min-level keeps exactly the detections at or above the level.
    let high = tempfile::tempdir().unwrap();
    let run = vigil(&[
        "hunt",
        path_arg(&evtx),
        "--rules",
        path_arg(&rules),
        "--no-builtin",
        "--min-level",
        "high",
        "--out",
        path_arg(high.path()),
        "--json",
        "-q",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let summary: Value = serde_json::from_str(stdout(&run).trim()).unwrap();
    let expected = written["by_level"]["high"].as_u64().unwrap_or(0)
        + written["by_level"]["critical"].as_u64().unwrap_or(0);
    assert_eq!(summary["detections"], expected);
    let text = std::fs::read_to_string(high.path().join("detections.jsonl")).unwrap();
    assert!(text.lines().all(|l| {
        let d: Value = serde_json::from_str(l).unwrap();
        matches!(d["level"].as_str(), Some("high" | "critical"))
    }));
}

#[test]
fn rules_lint_reports_each_failure_with_path_id_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yml"), GOOD).unwrap();
    std::fs::write(dir.path().join("bad.yml"), BAD).unwrap();
    std::fs::write(dir.path().join("two.yml"), format!("{GOOD}---\n{BAD}")).unwrap();
    let run = vigil(&["rules", "lint", path_arg(dir.path()), "--json"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let report: Value = serde_json::from_str(stdout(&run).trim()).unwrap();
    assert_eq!(report["loaded"], 2);
    let failed = report["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{report}");
    for f in failed {
        assert!(f["path"].as_str().unwrap().ends_with(".yml"));
        assert_eq!(f["id"], "0b6f3a52-6a5e-4c55-9d7e-2f4c1c4a0002");
        assert!(
            f["reason"].as_str().unwrap().contains("nosuchmodifier"),
            "{f}"
        );
    }

    let run = vigil(&["rules", "lint", path_arg(&dir.path().join("good.yml"))]);
    assert!(run.status.success());
    assert!(stdout(&run).contains("1 rule(s) loaded, 0 failed"));
}

/// `vigil rules update --from <zip> --data-dir <data_dir>`.
fn rules_update(zip: &Path, data_dir: &Path) -> Output {
    vigil(&[
        "rules",
        "update",
        "--from",
        path_arg(zip),
        "--data-dir",
        path_arg(data_dir),
    ])
}

/// Asserts that `GOOD` is installed in the rule set under `data_dir`.
fn assert_installed(data_dir: &Path) {
    assert!(
        data_dir
            .join("rules/sigma/rules/windows/whoami.yml")
            .is_file()
    );
}

fn assert_stderr_contains(run: &Output, needle: &str) {
    assert!(stderr(run).contains(needle), "{}", stderr(run));
}

#[test]
fn rules_update_installs_a_release_zip_that_hunt_then_uses() {
    let data = tempfile::tempdir().unwrap();
    let zip_path = data.path().join("release.zip");
    {
        let file = std::fs::File::create(&zip_path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("rules/windows/whoami.yml", options).unwrap();
        zip.write_all(GOOD.as_bytes()).unwrap();
        zip.start_file("README.md", options).unwrap();
        zip.write_all(b"not a rule").unwrap();
        zip.finish().unwrap();
    }
    let run = rules_update(&zip_path, data.path());
    assert!(run.status.success(), "{}", stderr(&run));
    assert_stderr_contains(&run, "installed 1 rule(s)");
    assert_installed(data.path());

    // A hunt without --rules uses the installed set.
    let run = vigil_with_data_dir(
        &[
            "hunt",
            "examples/case-001",
            "--no-builtin",
            "--json",
            "-q",
            "--year",
            "2024",
        ],
        data.path(),
    );
    let summary: Value = serde_json::from_str(stdout(&run).trim()).unwrap();
    assert_eq!(summary["rules_loaded"], 1, "{}", stderr(&run));

    // Not a zip: an error, and the installed set stays.
    let junk = data.path().join("junk.zip");
    std::fs::write(&junk, b"junk").unwrap();
    let run = rules_update(&junk, data.path());
    assert_eq!(run.status.code(), Some(1));
    assert_stderr_contains(&run, "not a zip archive");
    assert_installed(data.path());
}

#[test]
fn hunt_without_any_rules_is_a_usage_error() {
    let empty = tempfile::tempdir().unwrap();
    let run = vigil_with_data_dir(&["hunt", "examples/case-001", "--no-builtin"], empty.path());
    assert_eq!(run.status.code(), Some(2));
    assert_stderr_contains(&run, "no rules to hunt with");
}

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
