use std::io::{BufRead, BufReader};
use std::process::Stdio;

use serde_json::Value;
use vigil_test_support::{corpus_path, snapshot_settings};

use crate::{path_arg, stderr, stdout, vigil};

#[test]
fn stats_json_over_the_examples_accounts_for_every_record() {
    let out = vigil(&["parse", "--stats", "--json", "--year", "2024", "examples"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let files = report["files"].as_array().unwrap();
    for file in files {
        let n = |k: &str| file[k].as_u64().unwrap();
        assert_eq!(n("records"), n("events") + n("errors"), "{file}");
    }
    let total = &report["total"];
    assert_eq!(total["records"], total["events"]);
    assert_eq!(total["errors"], 0);
    snapshot_settings().bind(|| insta::assert_json_snapshot!("parse_stats_examples", report));
}

#[test]
fn stats_table_over_the_examples() {
    let out = vigil(&["parse", "--stats", "--year", "2024", "examples"]);
    assert_eq!(out.status.code(), Some(0));
    snapshot_settings()
        .bind(|| insta::assert_snapshot!("parse_stats_examples_table", stdout(&out)));
}

#[test]
fn events_are_json_lines_in_input_order() {
    let out = vigil(&[
        "parse",
        "-j",
        "1",
        "--year",
        "2024",
        "examples/case-001/linux/auth.log",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let events: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 28);
    let lines: Vec<_> = events
        .iter()
        .map(|e| e["origin"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, (1..=28).collect::<Vec<_>>());
    assert_eq!(events[11]["fields"]["event.action"], "ssh_login");
    assert_eq!(events[11]["timestamp"], "2024-03-12T10:02:41Z");
    assert!(
        stderr(&out).contains("1 input(s): 28 records, 28 events, 0 errors"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_records_are_reported_by_file_and_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.jsonl");
    std::fs::write(&path, "{\"a\":1}\n{\"b\":\n{\"c\":3}\n[1,2]\n").unwrap();
    let errors = dir.path().join("errors.jsonl");
    let out = vigil(&[
        "parse",
        "--stats",
        "--json",
        "--errors",
        path_arg(&errors),
        path_arg(&path),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "warning: {}: record 2, line 2, offset 0x00000008: invalid JSON",
            path.display()
        )),
        "{err}"
    );
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["total"]["records"], 4);
    assert_eq!(report["total"]["events"], 2);
    assert_eq!(report["total"]["errors"], 2);
    let lines: Vec<Value> = std::fs::read_to_string(&errors)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["line"], 4);
    assert_eq!(lines[1]["error"], "expected a JSON object, found an array");
}

#[test]
fn only_the_first_errors_are_printed_but_all_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("noise.log");
    std::fs::write(&path, "not syslog\n".repeat(50)).unwrap();
    let out = vigil(&[
        "parse",
        "--format",
        "syslog",
        "--show-errors",
        "3",
        "--stats",
        "--json",
        path_arg(&path),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.matches("warning: ").count(), 4, "{err}");
    assert!(err.contains("47 more record error(s) not shown"), "{err}");
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["total"]["errors"], 50);
}

#[test]
fn unreadable_inputs_are_reported_and_the_rest_is_read() {
    let out = vigil(&[
        "parse",
        "--stats",
        "--json",
        "does/not/exist.evtx",
        "examples/case-001/linux/auth.log",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error: does/not/exist.evtx: No such file or directory"),
        "{}",
        stderr(&out)
    );
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["total"]["events"], 28);
    assert_eq!(report["total"]["failed_files"], 1);
    let failed = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["format"].is_null())
        .unwrap();
    assert_eq!(failed["path"], "does/not/exist.evtx");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(vigil(&["parse"]).status.code(), Some(2));
    assert_eq!(
        vigil(&["parse", "--json", "examples"]).status.code(),
        Some(2)
    );
    let out = vigil(&["parse", "--format", "nope", "examples"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "no reader named 'nope' (known: evtx, winxml, json, cef, leef, asa, panos, webaccess, apache_error, auditd, zeek, csv, kv, syslog)"
        ),
        "{}",
        stderr(&out)
    );
    let out = vigil(&["parse", "--timezone", "Mars/Base", "examples"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn evtx_corpus_parses_without_errors_on_one_and_two_threads() {
    let Some(evtx) = corpus_path("evtx") else {
        return;
    };
    let mut totals = Vec::new();
    for threads in ["1", "2"] {
        let out = vigil(&["parse", "--stats", "--json", "-j", threads, path_arg(&evtx)]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let evtx_files = report["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["format"] == "evtx")
            .count();
        assert!(evtx_files >= 190);
        assert_eq!(report["total"]["errors"], 0);
        assert_eq!(report["total"]["records"], report["total"]["events"]);
        totals.push(report["total"].clone());
    }
    assert_eq!(totals[0], totals[1]);
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    let Some(ssh) = corpus_path("logs/linux-auth-sshd/loghub_OpenSSH_2k.log") else {
        return;
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args([
            "parse",
            "-q",
            path_arg(&ssh),
            path_arg(&ssh),
            path_arg(&ssh),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'));
    let out = child.wait_with_output().unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_dash_reads_standard_input() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["parse", "--stats", "--json", "--year", "2024", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log =
        std::fs::read(vigil_test_support::examples().join("case-001/linux/auth.log")).unwrap();
    child.stdin.take().unwrap().write_all(&log).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["files"][0]["path"], "-");
    assert_eq!(report["files"][0]["format"], "syslog");
    assert_eq!(report["total"]["events"], 28);
}

#[test]
fn the_output_file_is_never_read_as_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        vigil_test_support::examples().join("case-001/linux/auth.log"),
        dir.path().join("auth.log"),
    )
    .unwrap();
    let out = dir.path().join("events.jsonl");
    for _ in 0..2 {
        let run = vigil(&[
            "parse",
            "--year",
            "2024",
            "-o",
            path_arg(&out),
            path_arg(dir.path()),
        ]);
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
        assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 28);
    }
}

#[test]
fn events_carry_taxonomy_names_and_log_source_unless_asked_not_to() {
    let auth = "examples/case-001/linux/auth.log";
    let events = |extra: &[&str]| -> Vec<Value> {
        let mut args = vec!["parse", "--year", "2024", auth];
        args.extend_from_slice(extra);
        let out = vigil(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let with = events(&[]);
    let sshd: Vec<_> = with
        .iter()
        .filter(|e| e["fields"]["process.name"] == "sshd")
        .collect();
    assert!(!sshd.is_empty());
    for e in &sshd {
        assert_eq!(
            e["logsource"],
            serde_json::json!({"product": "linux", "service": "sshd"}),
            "{e}"
        );
        assert_eq!(e["fields"]["host.name"], "web01", "{e}");
    }
    let sudo = with
        .iter()
        .find(|e| e["fields"]["process.name"] == "sudo")
        .unwrap();
    assert_eq!(sudo["logsource"]["service"], "sudo");

    let without = events(&["--no-taxonomy"]);
    assert_eq!(without.len(), with.len());
    assert!(
        without
            .iter()
            .all(|e| e.get("logsource").is_none() && e["fields"].get("host.name").is_none())
    );
}

#[test]
fn stats_name_the_variants_each_file_holds() {
    let out = vigil(&[
        "parse",
        "--stats",
        "--json",
        "examples/samples/cloudtrail",
        "examples/samples/leef",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let file = |suffix: &str| {
        report["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(suffix))
            .unwrap()
            .clone()
    };
    assert_eq!(
        file("_sample.json")["variants"],
        serde_json::json!({"cloudtrail": 4})
    );
    assert_eq!(
        file("devices.leef.log")["variants"],
        serde_json::json!({"leef1": 2, "leef2": 3})
    );
    assert!(file("README.md").get("variants").is_none());
    let table = stdout(&vigil(&[
        "parse",
        "--stats",
        "examples/samples/cloudtrail",
        "examples/samples/leef",
    ]));
    assert!(table.contains("json (cloudtrail)"), "{table}");
    assert!(table.contains("leef (2 variants)"), "{table}");
}
