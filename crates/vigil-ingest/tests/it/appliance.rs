//! CEF, LEEF and key=value appliance logs: the corpus samples (Elastic's CEF and FortiGate
//! fixtures) and our own CEF and LEEF samples written from the vendors' guides. Counts come
//! from the files' lines, never from the reader.

use std::path::Path;

use vigil_event::{Event, Value};
use vigil_test_support::{corpus_path, examples, snapshot_settings};

use crate::{Read, non_blank_lines, options_for_2024, read_paths};

fn lines_of(path: &Path) -> u64 {
    non_blank_lines(&std::fs::read_to_string(path).unwrap())
}

/// Reads `path`, checking the format was detected and every line is a record.
fn read(path: &Path, format: &str) -> Read {
    let read = read_paths(&[path], options_for_2024());
    let summary = &read.summaries[0];
    assert_eq!(summary.format, Some(format), "{}", path.display());
    assert_eq!(summary.records, lines_of(path), "{}", path.display());
    read
}

fn on_line(read: &Read, line: u64) -> &Event {
    read.events
        .iter()
        .find(|e| e.origin.location.line == Some(line))
        .unwrap()
}

#[test]
fn elastic_cef_sample_reads_every_line_with_its_extension() {
    let Some(path) = corpus_path("logs/cef/elastic_test-cef.log") else {
        return;
    };
    let read = read(&path, "cef");
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let first = on_line(&read, 1);
    assert_eq!(first.get_str("deviceVendor"), Some("Elastic"));
    assert_eq!(first.get_str("name"), Some("Web request"));
    assert_eq!(
        first.get_str("request"),
        Some("https://www.example.com/cart")
    );
    assert_eq!(first.get("spt"), Some(&Value::Int(33876)));
    assert_eq!(first.get("dpt"), Some(&Value::Int(443)));
    let second = on_line(&read, 2);
    assert_eq!(
        (second.get_str("suser"), second.get_str("duser")),
        (Some("bob"), Some("alice"))
    );
    // Trailing blanks are not part of the last value.
    let padded = on_line(&read, 4);
    assert_eq!(padded.get_str("src"), Some("192.168.3.4"));
    assert_eq!(
        padded.get_str("message"),
        Some("This event is padded with whitespace")
    );
}

#[test]
fn fortigate_sample_reads_every_line_and_reports_the_broken_quote() {
    let Some(path) = corpus_path("logs/fortinet-kv/elastic_fortinet-7-4_subset.log") else {
        return;
    };
    let read = read(&path, "kv");
    // The sample's README: line 11 has a quoted msg that never ends.
    assert_eq!(read.events.len() as u64, lines_of(&path) - 1);
    assert_eq!(read.errors.len(), 1);
    let error = read.errors[0].to_string();
    assert!(
        error.contains("line 11,") && error.ends_with("the quoted value of msg never ends"),
        "{error}"
    );
    assert!(read.events.iter().all(|e| e.variant == Some("fortinet")));
    let second = on_line(&read, 2);
    assert_eq!(second.get_str("srcip"), Some("172.16.200.254"));
    assert_eq!(second.get("dstport"), Some(&Value::Int(443)));
    assert_eq!(
        second.get_str("logid"),
        Some("0001000014"),
        "leading zeros stay text"
    );
    assert_eq!(
        second.timestamp.unwrap().to_string(),
        "2019-05-10T18:50:48.379911176Z"
    );
    snapshot_settings().bind(|| insta::assert_json_snapshot!("kv_fortigate_line_2", second));
}

#[test]
fn our_cef_sample_covers_headers_escapes_labels_and_times() {
    let path = examples().join("samples/cef/devices.cef.log");
    let read = read(&path, "cef");
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let drop = on_line(&read, 1);
    assert_eq!(drop.host.as_deref(), Some("fw-edge-01"));
    assert_eq!(drop.timestamp.unwrap().to_string(), "2024-03-12T10:15:02Z");
    assert_eq!(drop.get_str("Rule Name"), Some("Block RDP from Internet"));
    assert_eq!(drop.get("dpt"), Some(&Value::Int(3389)));
    let av = on_line(&read, 3);
    assert_eq!(
        av.get_str("filePath"),
        Some(r"C:\Users\alice\Downloads\eicar.com")
    );
    assert_eq!(
        av.get_str("msg"),
        Some("Realtime scan found a test file\nQuarantined")
    );
    assert_eq!(av.timestamp.unwrap().to_string(), "2024-03-12T10:16:40Z");
    let escaped = on_line(&read, 4);
    assert_eq!(escaped.get_str("name"), Some("detected a | in message"));
    assert_eq!(escaped.get_str("act"), Some("blocked a ="));
    let waf = on_line(&read, 6);
    assert_eq!(waf.host.as_deref(), Some("waf01"));
    assert_eq!(
        waf.get_str("requestClientApplication"),
        Some("sqlmap/1.7.2#stable (https://sqlmap.org)")
    );
    assert_eq!(
        waf.timestamp.unwrap().to_string(),
        "2024-03-12T10:22:31.412Z"
    );
    snapshot_settings().bind(|| insta::assert_json_snapshot!("cef_checkpoint_drop", drop));
}

#[test]
fn our_leef_sample_covers_both_versions_and_delimiters() {
    let path = examples().join("samples/leef/devices.leef.log");
    let read = read(&path, "leef");
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let variants: Vec<_> = read.events.iter().map(|e| e.variant.unwrap()).collect();
    assert_eq!(variants, ["leef1", "leef2", "leef2", "leef1", "leef2"]);
    let tabs = on_line(&read, 1);
    assert_eq!(tabs.get_str("usrName"), Some("joe.black"));
    assert_eq!(tabs.get("dstPort"), Some(&Value::Int(21)));
    let hex = on_line(&read, 3);
    assert_eq!(hex.get_str("action"), Some("deny"));
    assert_eq!(hex.get_str("usrName"), Some(""));
    assert_eq!(hex.timestamp.unwrap().to_string(), "2024-03-12T10:21:00Z");
    let epoch = on_line(&read, 4);
    assert_eq!(epoch.timestamp.unwrap().to_string(), "2024-03-12T10:22:00Z");
    // `devTimeFormat` names the layout, in Java's letters, with an offset.
    let declared = on_line(&read, 5);
    assert_eq!(
        declared.timestamp.unwrap().to_string(),
        "2024-03-12T09:23:45.12Z"
    );
    snapshot_settings()
        .bind(|| insta::assert_json_snapshot!("leef2_syslog_header", on_line(&read, 2)));
}

#[test]
fn malformed_appliance_lines_are_errors_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.cef");
    std::fs::write(
        &path,
        "CEF:0|a|b|1|2|ok|3|src=1.2.3.4\nCEF:0|cut|short\n\u{1}\u{2}garbage CEF:0|a|b|1|2|x|3|a=b\n",
    )
    .unwrap();
    let read = read_paths(&[&path], options_for_2024());
    assert_eq!(read.summaries[0].format, Some("cef"));
    assert_eq!((read.events.len(), read.errors.len()), (1, 2));
    assert!(
        read.errors[0].to_string().contains("line 2,"),
        "{}",
        read.errors[0]
    );
    assert!(
        read.errors[1].to_string().contains("line 3,"),
        "{}",
        read.errors[1]
    );
}
