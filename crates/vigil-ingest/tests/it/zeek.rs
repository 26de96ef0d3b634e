//! Zeek TSV logs from the corpus: the LSASS campaign's logs and the WRCCDC 2018 ones, the
//! latter checked value by value against Zeek's own JSON logs of the same connections.

use std::path::PathBuf;

use vigil_event::{Event, Value};
use vigil_test_support::{corpus_path, snapshot_settings};

use crate::read_paths;

const SAMPLES: [(&str, u64); 8] = [
    ("lsass_campaign02_conn.log", 119),
    ("lsass_campaign02_dns.log", 147),
    ("lsass_campaign02_files.log", 2),
    ("lsass_campaign02_http.log", 3),
    ("lsass_campaign02_weird.log", 6),
    ("wrccdc2018_dns.log", 392),
    ("wrccdc2018_notice.log", 207),
    ("wrccdc2018_ssh.log", 22),
];

fn sample(name: &str) -> Option<PathBuf> {
    corpus_path(&format!("logs/zeek-tsv/{name}"))
}

/// The records of a Zeek TSV file, counted as its lines that are neither blank nor `#`.
fn data_lines(path: &PathBuf) -> u64 {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count() as u64
}

fn read(name: &str) -> Option<Vec<Event>> {
    let path = sample(name)?;
    let read = read_paths(&[&path], Default::default());
    let summary = &read.summaries[0];
    assert_eq!(
        (summary.format, summary.records, summary.errors),
        (Some("zeek"), data_lines(&path), 0),
        "{name}"
    );
    Some(read.events)
}

#[test]
fn every_sample_is_detected_and_read_completely() {
    for (name, expected) in SAMPLES {
        let Some(path) = sample(name) else {
            return;
        };
        assert_eq!(data_lines(&path), expected, "{name}");
        let events = read(name).unwrap();
        let log = name.rsplit('_').next().unwrap().trim_end_matches(".log");
        for e in &events {
            assert_eq!(e.variant, Some("zeek"));
            assert_eq!(e.get_str("_path"), Some(log), "{name}");
            assert!(e.timestamp.is_some(), "{name}: {}", e.origin);
            assert!(e.get_str("id.orig_h").is_some() && e.get("id.resp_p").is_some());
        }
    }
}

#[test]
fn conn_values_take_their_types() {
    let Some(events) = read("lsass_campaign02_conn.log") else {
        return;
    };
    let first = &events[0];
    assert_eq!(
        first.timestamp.unwrap().to_string(),
        "2023-08-16T00:33:48.495991Z"
    );
    assert_eq!(first.get_str("uid"), Some("CcDO6P1tntZGxYTFn6"));
    assert_eq!(first.get_str("id.orig_h"), Some("192.168.1.43"));
    assert_eq!(first.get("id.orig_p"), Some(&Value::Int(49873)));
    assert_eq!(first.get_str("id.resp_h"), Some("192.168.1.1"));
    assert_eq!(first.get("id.resp_p"), Some(&Value::Int(53)));
    assert_eq!(first.get_str("proto"), Some("udp"));
    assert_eq!(first.get_str("service"), Some("dns"));
    assert!(first.get("duration").is_none() && first.get("orig_bytes").is_none());
    assert_eq!(first.get_str("conn_state"), Some("SHR"));
    assert_eq!(first.get("local_orig"), Some(&Value::Bool(true)));
    assert_eq!(first.get_str("history"), Some("^d"));
    assert_eq!(first.get("resp_ip_bytes"), Some(&Value::Int(110)));
    assert!(first.get("tunnel_parents").is_none());
    let long = events
        .iter()
        .find(|e| e.get_str("uid") == Some("Cvcp0q2a5QDEfZZd3f"))
        .unwrap();
    assert_eq!(long.get("duration"), Some(&Value::Float(315.253738)));
    assert_eq!(long.get("orig_bytes"), Some(&Value::Int(0)));
    snapshot_settings().bind(|| insta::assert_json_snapshot!("zeek_conn_first", first));
}

#[test]
fn http_files_and_weird_keep_sets_and_unset_values_apart() {
    let Some(http) = read("lsass_campaign02_http.log") else {
        return;
    };
    let not_found = &http[1];
    assert_eq!(not_found.get("status_code"), Some(&Value::Int(404)));
    assert_eq!(not_found.get_str("status_msg"), Some("File not found"));
    assert_eq!(not_found.get("tags"), Some(&Value::List(vec![])));
    assert_eq!(
        not_found.get("resp_fuids"),
        Some(&Value::List(vec![Value::from("FXfLUa3c5GaeXiSp3h")]))
    );
    assert!(not_found.get("method").is_none() && not_found.get("resp_filenames").is_none());
    assert_eq!(not_found.get_str("version"), Some("1.0"));

    let files = read("lsass_campaign02_files.log").unwrap();
    assert_eq!(files[1].get("analyzers"), Some(&Value::List(vec![])));
    assert_eq!(files[1].get("seen_bytes"), Some(&Value::Int(335)));
    assert_eq!(files[1].get("duration"), Some(&Value::Float(0.0)));
    assert_eq!(files[1].get("is_orig"), Some(&Value::Bool(false)));

    let weird = read("lsass_campaign02_weird.log").unwrap();
    assert!(weird[0].get("uid").is_none());
    assert_eq!(weird[0].get_str("name"), Some("bad_IP_checksum"));
    assert_eq!(weird[0].get("id.orig_p"), Some(&Value::Int(0)));
    assert_eq!(weird[0].get("notice"), Some(&Value::Bool(false)));
    snapshot_settings().bind(|| insta::assert_json_snapshot!("zeek_http_404", not_found));
}

/// Zeek wrote the WRCCDC logs both as TSV and as JSON; every TSV record must carry the
/// values of its JSON twin (times aside: JSON writes them as ISO text, and TSV rounds
/// intervals to microseconds).
#[test]
fn wrccdc_records_equal_their_json_twins() {
    for log in ["dns", "notice", "ssh"] {
        let Some(events) = read(&format!("wrccdc2018_{log}.log")) else {
            return;
        };
        let json_path = corpus_path(&format!("logs/zeek-json/wrccdc2018_{log}.ndjson")).unwrap();
        let twins: Vec<serde_json::Map<String, serde_json::Value>> =
            std::fs::read_to_string(json_path)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
        assert!(twins.len() >= events.len());
        for (event, twin) in events.iter().zip(&twins) {
            let ts: vigil_event::Timestamp = twin["ts"].as_str().unwrap().parse().unwrap();
            assert_eq!(event.timestamp, Some(ts), "{log} {}", event.origin);
            for (key, want) in twin {
                if key == "ts" || key == "_write_ts" {
                    continue;
                }
                let got = event
                    .get(key)
                    .map(|v| serde_json::to_value(v).unwrap())
                    .unwrap_or_else(|| panic!("{log} {}: no {key}", event.origin));
                assert!(
                    same(&got, want),
                    "{log} {}: {key}: {got} != {want}",
                    event.origin
                );
            }
            let extra: Vec<_> = event
                .fields()
                .iter()
                .map(|(n, _)| n)
                .filter(|n| *n != "ts" && !twin.contains_key(*n))
                .collect();
            assert!(extra.is_empty(), "{log} {}: {extra:?}", event.origin);
        }
    }
    let notice = read("wrccdc2018_notice.log").unwrap();
    // `\\` in the TSV is one backslash, as the JSON twin has it.
    assert!(
        notice[0]
            .get_str("sub")
            .unwrap()
            .starts_with(r"unstructuredName=1315656901\,564d7761726520496e632e,CN=")
    );
    snapshot_settings().bind(|| insta::assert_json_snapshot!("zeek_notice_escaped", &notice[0]));
}

fn same(got: &serde_json::Value, want: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (got, want) {
        (J::Number(a), J::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            (a - b).abs() <= 1e-6 * b.abs().max(1.0)
        }
        (J::Array(a), J::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        _ => got == want,
    }
}
