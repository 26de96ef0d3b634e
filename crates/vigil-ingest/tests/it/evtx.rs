//! EVTX on the EVTX-ATTACK-SAMPLES corpus: every file, damaged copies, both thread paths.

use std::collections::BTreeSet;

use vigil_event::Value;
use vigil_ingest::ReadOptions;
use vigil_test_support::{corpus_path, files_with_extension, require_corpus, snapshot_settings};

use crate::read_paths;

/// The record numbers of the record headers, which the chunk headers count in (the
/// `EventRecordID` field of the event can differ in saved logs).
fn record_ids(read: &crate::Read) -> BTreeSet<i64> {
    read.events
        .iter()
        .filter_map(|e| e.origin.location.record)
        .map(|r| r as i64)
        .collect()
}

#[test]
fn every_corpus_file_reads_completely_with_one_and_two_threads() {
    let corpus = require_corpus!();
    let files = files_with_extension(&corpus.join("evtx"), "evtx");
    assert!(
        files.len() >= 190,
        "expected the EVTX-ATTACK-SAMPLES subset, found {} files",
        files.len()
    );
    for threads in [1, 2] {
        let mut total = 0;
        for file in &files {
            let read = read_paths(
                &[file],
                ReadOptions {
                    threads,
                    ..ReadOptions::default()
                },
            );
            let summary = &read.summaries[0];
            assert_eq!(summary.format, Some("evtx"), "{}", file.display());
            assert_eq!(summary.records, summary.events + summary.errors);
            assert!(
                summary.is_clean(),
                "{}: {} errors, first: {:?}, failure: {:?}",
                file.display(),
                summary.errors,
                read.errors.first().map(ToString::to_string),
                summary.failure
            );
            assert!(summary.events > 0, "{}", file.display());
            // Every event has the fields Sigma rules for Windows address.
            for event in &read.events {
                assert!(
                    event.get("EventID").and_then(Value::as_i64).is_some(),
                    "{}",
                    event.origin
                );
                assert!(event.get_str("Channel").is_some(), "{}", event.origin);
                assert!(
                    event.timestamp.is_some() && event.host.is_some(),
                    "{}",
                    event.origin
                );
            }
            total += summary.events;
        }
        assert!(total > 5000, "only {total} events");
    }
}

#[test]
fn threads_do_not_change_the_events_or_their_order() {
    let Some(file) = corpus_path("evtx/Lateral Movement/LM_5145_Remote_FileCopy.evtx") else {
        return;
    };
    let one = read_paths(
        &[&file],
        ReadOptions {
            threads: 1,
            ..ReadOptions::default()
        },
    );
    let two = read_paths(
        &[&file],
        ReadOptions {
            threads: 2,
            ..ReadOptions::default()
        },
    );
    assert_eq!(one.events.len(), 869);
    assert_eq!(one.events, two.events);
}

/// LM_5145_Remote_FileCopy.evtx holds records 1..=869 in chunks 0..=9; chunk 3 holds
/// records 288..=369.
const CHUNK_3: std::ops::RangeInclusive<i64> = 288..=369;

fn damaged_copy(flip: impl Fn(&mut [u8])) -> Option<(tempfile::TempDir, std::path::PathBuf)> {
    let file = corpus_path("evtx/Lateral Movement/LM_5145_Remote_FileCopy.evtx")?;
    let mut bytes = std::fs::read(file).unwrap();
    flip(&mut bytes);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.evtx");
    std::fs::write(&path, bytes).unwrap();
    Some((dir, path))
}

fn chunk_start(n: usize) -> usize {
    4096 + n * 65536
}

fn assert_chunk_3_lost_and_the_rest_intact(read: &crate::Read) {
    let summary = &read.summaries[0];
    assert_eq!(summary.records, 869, "every record is accounted for");
    assert_eq!(summary.errors, CHUNK_3.count() as u64);
    assert_eq!(summary.events, 869 - CHUNK_3.count() as u64);
    let expected: BTreeSet<i64> = (1..=869).filter(|id| !CHUNK_3.contains(id)).collect();
    let got = record_ids(read);
    assert!(
        got == expected,
        "missing {:?}, unexpected {:?}",
        expected.difference(&got).take(5).collect::<Vec<_>>(),
        got.difference(&expected).take(5).collect::<Vec<_>>()
    );
    let error = read.errors[0].to_string();
    assert!(
        error.contains("damaged.evtx: chunk 3, offset 0x00031000"),
        "{error}"
    );
    // Events say which chunk they came from.
    assert!(
        read.events
            .iter()
            .all(|e| e.origin.location.chunk.is_some())
    );
}

#[test]
fn a_chunk_with_a_zeroed_header_but_records_is_counted() {
    let Some((_dir, path)) = damaged_copy(|b| {
        for byte in &mut b[chunk_start(3)..chunk_start(3) + 512] {
            *byte = 0;
        }
    }) else {
        return;
    };
    let read = read_paths(&[&path], ReadOptions::default());
    assert_chunk_3_lost_and_the_rest_intact(&read);
}

#[test]
fn two_damaged_chunks_in_a_row_cost_both_and_only_them() {
    let Some((_dir, path)) = damaged_copy(|b| {
        for chunk in [3, 4] {
            for byte in &mut b[chunk_start(chunk)..chunk_start(chunk) + 64] {
                *byte = 0xee;
            }
        }
    }) else {
        return;
    };
    let read = read_paths(&[&path], ReadOptions::default());
    let summary = &read.summaries[0];
    assert_eq!(summary.records, 869);
    // Chunks 3 and 4 hold records 288..=451.
    assert_eq!(summary.errors, 451 - 288 + 1);
    let expected: BTreeSet<i64> = (1..=869).filter(|id| !(288..=451).contains(id)).collect();
    assert_eq!(record_ids(&read), expected);
}

#[test]
fn flipped_bytes_in_a_chunk_cost_that_chunk_only() {
    let Some((_dir, path)) = damaged_copy(|b| {
        for byte in &mut b[chunk_start(3) + 2000..chunk_start(3) + 2064] {
            *byte ^= 0x5a;
        }
    }) else {
        return;
    };
    for threads in [1, 2] {
        let read = read_paths(
            &[&path],
            ReadOptions {
                threads,
                ..ReadOptions::default()
            },
        );
        assert_chunk_3_lost_and_the_rest_intact(&read);
        assert_eq!(read.errors.len(), 1);
        assert!(
            read.errors[0].to_string().contains("is damaged"),
            "{}",
            read.errors[0]
        );
    }
}

#[test]
fn a_destroyed_chunk_header_is_counted_from_its_neighbours() {
    let Some((_dir, path)) = damaged_copy(|b| {
        for byte in &mut b[chunk_start(3)..chunk_start(3) + 128] {
            *byte = 0xff;
        }
    }) else {
        return;
    };
    let read = read_paths(&[&path], ReadOptions::default());
    assert_chunk_3_lost_and_the_rest_intact(&read);
}

#[test]
fn a_truncated_file_reports_what_it_lost() {
    let Some((_dir, path)) = damaged_copy(|_| {}) else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..chunk_start(9) + 30_000]).unwrap();
    let read = read_paths(&[&path], ReadOptions::default());
    let summary = &read.summaries[0];
    assert_eq!(summary.records, summary.events + summary.errors);
    assert_eq!(summary.events, 787, "chunks 0..=8 are whole");
    assert_eq!(
        summary.errors, 82,
        "the cut chunk's records (788..=869) are reported"
    );
}

#[test]
fn a_file_that_is_not_evtx_past_its_magic_is_an_input_failure() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fake.evtx");
    std::fs::write(&path, b"ElfFile\0 but nothing else").unwrap();
    let read = read_paths(&[&path], ReadOptions::default());
    let failure = read.summaries[0].failure.as_ref().expect("a failure");
    assert!(
        failure
            .to_string()
            .contains("fake.evtx: not a valid evtx input"),
        "{failure}"
    );
}

#[test]
fn snapshot_of_a_normalized_sysmon_event() {
    let Some(file) =
        corpus_path("evtx/Credential Access/CA_Mimikatz_Memssp_Default_Logs_Sysmon_11.evtx")
    else {
        return;
    };
    let read = read_paths(&[&file], ReadOptions::default());
    snapshot_settings().bind(|| insta::assert_json_snapshot!("evtx_sysmon_event", read.events[0]));
}

#[test]
fn snapshot_of_a_normalized_security_event() {
    let Some(file) = corpus_path("evtx/Credential Access/CA_DCSync_4662.evtx") else {
        return;
    };
    let read = read_paths(&[&file], ReadOptions::default());
    snapshot_settings()
        .bind(|| insta::assert_json_snapshot!("evtx_security_event", read.events[0]));
}
