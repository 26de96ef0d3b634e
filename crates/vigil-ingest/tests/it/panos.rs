//! PAN-OS syslog CSV: the Elastic corpus samples (TRAFFIC, THREAT) and our SYSTEM example.

use std::ops::ControlFlow;

use vigil_event::Value;
use vigil_ingest::{Ingest, Input, RecordResult};
use vigil_test_support::{corpus_path, examples, snapshot_settings};

use crate::{is, options_for_2024, read_clean_lines};

#[test]
fn corpus_traffic_sample() {
    let Some(path) = corpus_path("logs/panos-csv/elastic_panos_traffic_subset.log") else {
        return;
    };
    let (text, read) = read_clean_lines(&path, "panos");
    assert_eq!(read.events.len(), 6);
    let events = &read.events;
    assert!(events.iter().all(|e| e.variant == Some("traffic")
        && e.host.as_deref() == Some("PA-220")
        && is(e, "serial_number", "012801096514")
        && is(e, "host.hostname", "PA-220")));
    // The subtypes, in file order, as the lines say them.
    let subtypes: Vec<_> = events
        .iter()
        .map(|e| e.get_str("threat_content_type").unwrap())
        .collect();
    let written: Vec<_> = text.lines().map(|l| l.split(',').nth(4).unwrap()).collect();
    assert_eq!(subtypes, written);
    assert_eq!(subtypes, ["end", "end", "end", "start", "drop", "deny"]);

    let first = &events[0];
    assert_eq!(first.timestamp.unwrap().to_string(), "2018-11-30T16:09:07Z");
    assert!(
        is(first, "source_address", "192.168.15.207")
            && is(first, "destination_address", "175.16.199.1")
    );
    assert!(is(first, "application", "apple-maps") && is(first, "action", "allow"));
    assert_eq!(first.get("source_port"), Some(&Value::Int(55113)));
    assert_eq!(first.get("nat_source_port"), Some(&Value::Int(16418)));
    assert_eq!(first.get("bytes"), Some(&Value::Int(7734)));
    assert_eq!(first.get("elapsed_time"), Some(&Value::Int(586)));
    assert!(
        is(first, "session_end_reason", "tcp-fin")
            && is(first, "start_time", "2018/11/30 15:59:04")
    );
    let ping = &events[1];
    assert!(is(ping, "protocol", "icmp") && is(ping, "application", "ping"));
    assert_eq!(ping.get("destination_port"), Some(&Value::Int(0)));
    let dns = &events[2];
    assert!(is(dns, "protocol", "udp") && is(dns, "session_end_reason", "aged-out"));

    snapshot_settings().bind(|| insta::assert_json_snapshot!("panos_traffic_end", first));
}

#[test]
fn corpus_threat_sample() {
    let Some(path) = corpus_path("logs/panos-csv/elastic_panos_threat_subset.log") else {
        return;
    };
    let (_, read) = read_clean_lines(&path, "panos");
    assert_eq!(read.events.len(), 3);
    let events = &read.events;
    assert!(events.iter().all(|e| e.variant == Some("threat")
        && is(e, "threat_content_type", "url")
        && is(e, "action", "block-url")
        && is(e, "threat_id", "(9999)")
        && is(e, "category", "business-and-economy")
        && is(e, "direction", "client-to-server")));
    // The quoted URL column loses its quotes, nothing else.
    let urls: Vec<_> = events
        .iter()
        .map(|e| e.get_str("url_filename").unwrap())
        .collect();
    assert_eq!(
        urls,
        [
            "consent.cmp.oath.com/",
            "consent.cmp.oath.com/",
            "b.scorecardresearch.com/"
        ]
    );
    let e = &events[2];
    assert_eq!(e.timestamp.unwrap().to_string(), "2018-11-30T16:44:38Z");
    assert_eq!(e.get("session_id"), Some(&Value::Int(28196)));
    assert_eq!(e.get("sequence_number"), Some(&Value::Int(7746)));
    assert_eq!(e.get("payload_protocol_id"), Some(&Value::Int(4294967295)));
    assert!(is(e, "content_version", "AppThreat-0-0") && is(e, "threat_category", "unknown"));

    snapshot_settings().bind(|| insta::assert_json_snapshot!("panos_threat_url", e));
}

#[test]
fn example_system_sample() {
    let path = examples().join("samples/panos/system.log");
    let (_, read) = read_clean_lines(&path, "panos");
    let events = &read.events;
    assert_eq!(events.len(), 9);
    assert!(events.iter().all(|e| e.variant == Some("system")));
    let ids: Vec<_> = events
        .iter()
        .map(|e| e.get_str("event_id").unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "auth-fail",
            "auth-success",
            "general",
            "general",
            "globalprotectgateway-auth-fail",
            "globalprotectgateway-auth-succ",
            "ike-nego-p1-fail",
            "state-change",
            "connect-server-monitor-failure"
        ]
    );
    let failed = &events[0];
    assert!(is(failed, "object", "admin") && is(failed, "severity", "medium"));
    assert!(is(
        failed,
        "description",
        "failed authentication for user 'admin'. Reason: Invalid username/password. From: 203.0.113.66."
    ));
    // The high-resolution timestamp carries the offset.
    assert_eq!(
        failed.timestamp.unwrap().to_string(),
        "2024-03-04T08:10:11.204Z"
    );
    assert_eq!(failed.get("sequence_number"), Some(&Value::Int(2190770)));
    // Quoted descriptions keep their commas and `""` quotes.
    assert!(is(
        &events[3],
        "description",
        "Commit job 412 succeeded, requested by admin, \"Open RDP for vendor\"."
    ));
    assert!(
        events[5]
            .get_str("description")
            .unwrap()
            .contains("User name: corp\\j.miller, Auth type: profile")
    );
    // RFC 5424 header, and the shorter older column list without a header.
    let ha = &events[7];
    assert!(is(ha, "severity", "critical") && ha.host.as_deref() == Some("PA-3220-02"));
    assert_eq!(ha.get("log.syslog.priority"), Some(&Value::Int(9)));
    let old = &events[8];
    assert!(
        old.get("log.syslog.priority").is_none() && old.get("high_resolution_timestamp").is_none()
    );
    assert_eq!(old.timestamp.unwrap().to_string(), "2024-03-04T11:05:33Z");
    assert_eq!(old.host.as_deref(), Some("PA-3220-01"));

    snapshot_settings()
        .bind(|| insta::assert_json_snapshot!("panos_system_globalprotect", &events[5]));
}

#[test]
fn malformed_system_lines_are_errors_with_line_numbers() {
    // The first line of our SYSTEM example with its description's quote left open, the
    // second as it is, and a line that is not PAN-OS.
    let text = std::fs::read_to_string(examples().join("samples/panos/system.log")).unwrap();
    let mut lines = text.lines();
    let broken = lines
        .next()
        .unwrap()
        .replace(",failed authentication", ",\"failed authentication");
    let input = format!(
        "{broken}\n{}\nthis line is not PAN-OS at all\n",
        lines.next().unwrap()
    );
    let results = std::sync::Mutex::new(Vec::new());
    let summaries = Ingest::new(options_for_2024())
        .force_format("panos")
        .unwrap()
        .read_input(Input::from_slice("system.log", input.as_bytes()), |_| {
            let results = &results;
            move |r: RecordResult| {
                results.lock().unwrap().push(r);
                ControlFlow::Continue(())
            }
        });
    let results = results.into_inner().unwrap();
    assert_eq!((summaries[0].records, summaries[0].errors), (3, 2));
    let error = |i: usize| results[i].as_ref().unwrap_err().to_string();
    assert_eq!(
        error(0),
        "system.log: record 1, line 1, offset 0x00000000: not a valid panos record: the quoted value of column 15 (description) never ends"
    );
    assert!(results[1].is_ok());
    assert!(
        error(2).starts_with("system.log: record 3, line 3,") && error(2).contains("no PAN-OS CSV"),
        "{}",
        error(2)
    );
}
