//! The taxonomy over the real samples of the shared corpus: every event of a sample lands
//! in the Sigma log source rules for it are written against, with the ECS names set.
#![allow(clippy::unwrap_used)] // Tests fail loudly; that is their job.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Mutex;

use vigil_event::{Event, Value};
use vigil_ingest::{Ingest, Plan, ReadOptions, RecordResult};
use vigil_normalize::Taxonomy;
use vigil_test_support::corpus_path;

/// The events of `path` (a file or folder) with the built-in taxonomy applied, and how
/// many records were errors.
fn placed(path: &Path) -> (Vec<Event>, u64) {
    let taxonomy = Taxonomy::builtin().unwrap();
    let events = Mutex::new(Vec::new());
    let options = ReadOptions {
        year: Some(2024),
        ..ReadOptions::default()
    };
    let summaries = Ingest::new(options).run(Plan::new(&[path.to_path_buf()]), |_| {
        let (events, taxonomy) = (&events, &taxonomy);
        move |record: RecordResult| {
            if let Ok(mut event) = record {
                taxonomy.apply(&mut event);
                events.lock().unwrap().push(event);
            }
            ControlFlow::Continue(())
        }
    });
    let errors = summaries.iter().map(|s| s.errors).sum();
    (events.into_inner().unwrap(), errors)
}

fn source(event: &Event) -> String {
    let s = &event.logsource;
    [&s.product, &s.category, &s.service]
        .into_iter()
        .map(|p| p.as_deref().unwrap_or("-"))
        .collect::<Vec<_>>()
        .join("/")
}

fn lines_containing(path: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn every_data_file_names_real_readers() {
    let taxonomy = Taxonomy::builtin().unwrap();
    for format in taxonomy.formats() {
        assert!(
            vigil_ingest::reader_named(format).is_ok(),
            "a data file names `{format}`, which is no reader"
        );
    }
}

#[test]
fn sshd_lines_are_linux_sshd() {
    let Some(path) = corpus_path("logs/linux-auth-sshd/loghub_OpenSSH_2k.log") else {
        return;
    };
    let (events, errors) = placed(&path);
    assert_eq!(errors, 0);
    let sshd: Vec<_> = events
        .iter()
        .filter(|e| source(e) == "linux/-/sshd")
        .collect();
    assert_eq!(sshd.len(), lines_containing(&path, " sshd["));
    assert!(sshd.iter().all(|e| e.get_str("host.name") == Some("LabSZ")));
}

#[test]
fn fortigate_traffic_is_firewall_with_sigma_and_ecs_names() {
    let Some(path) = corpus_path("logs/fortinet-kv/elastic_fortinet-7-4_subset.log") else {
        return;
    };
    let (events, _) = placed(&path);
    let traffic: Vec<_> = events
        .iter()
        .filter(|e| e.get_str("type") == Some("traffic"))
        .collect();
    assert_eq!(traffic.len(), lines_containing(&path, "type=\"traffic\""));
    for e in &traffic {
        assert_eq!(source(e), "fortigate/firewall/-", "{}", e.origin);
        assert_eq!(e.get("dst_port"), e.get("dstport"));
        assert!(
            matches!(e.get("destination.port"), Some(Value::Int(_))),
            "{}",
            e.origin
        );
        assert_eq!(e.get("source.ip"), e.get("srcip"));
    }
    // The sample's second line: a local-in HTTPS session the server reset.
    let second = events
        .iter()
        .find(|e| e.origin.location.line == Some(2))
        .unwrap();
    assert_eq!(second.get("destination.port"), Some(&Value::Int(443)));
    assert_eq!(second.get_str("event.outcome"), Some("success"));
    assert_eq!(second.get_str("blocked"), Some("false"));
    let events_kind: Vec<_> = events
        .iter()
        .filter(|e| e.get_str("type") == Some("event"))
        .collect();
    assert!(!events_kind.is_empty());
    assert!(events_kind.iter().all(|e| source(e) == "fortigate/-/event"));
}
