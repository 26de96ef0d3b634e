//! Integration tests of the readers on real samples from the shared corpus.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

mod appliance;
mod archives;
mod asa;
mod auditd;
mod csv;
mod evtx;
mod json;
mod json_siem;
mod panos;
mod syslog;
mod web;
mod winxml;
mod zeek;

use std::ops::ControlFlow;
use std::path::Path;

use vigil_event::Event;
use vigil_ingest::{Ingest, InputSummary, Plan, ReadOptions, RecordError, RecordResult};

/// What reading some paths gave: every event and error, and the summaries.
pub(crate) struct Read {
    pub(crate) events: Vec<Event>,
    pub(crate) errors: Vec<RecordError>,
    pub(crate) summaries: Vec<InputSummary>,
}

pub(crate) fn read_paths(paths: &[&Path], options: ReadOptions) -> Read {
    let results = std::sync::Mutex::new(Vec::new());
    let plan = Plan::new(&paths.iter().map(|p| p.to_path_buf()).collect::<Vec<_>>());
    let summaries = Ingest::new(options).run(plan, |_| {
        let results = &results;
        move |record: RecordResult| {
            results.lock().unwrap().push(record);
            ControlFlow::Continue(())
        }
    });
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    for r in results.into_inner().unwrap() {
        match r {
            Ok(e) => events.push(e),
            Err(e) => errors.push(e),
        }
    }
    Read {
        events,
        errors,
        summaries,
    }
}

/// Lines that hold more than whitespace: one record each in the line formats.
pub(crate) fn non_blank_lines(text: &str) -> u64 {
    text.lines().filter(|l| !l.trim().is_empty()).count() as u64
}

/// Whether `event`'s field `name` is the text `value`.
pub(crate) fn is(event: &Event, name: &str, value: &str) -> bool {
    event.get_str(name) == Some(value)
}

/// Reads one line-format file (syslog years as 2024), checking that it was detected as
/// `format` and that every non-blank line became an event; returns its text and the read.
pub(crate) fn read_clean_lines(path: &Path, format: &str) -> (String, Read) {
    let text = std::fs::read_to_string(path).unwrap();
    let read = read_paths(&[path], options_for_2024());
    let summary = &read.summaries[0];
    assert_eq!(
        (summary.format, summary.records, summary.errors),
        (Some(format), non_blank_lines(&text), 0),
        "{}: {:?}",
        path.display(),
        read.errors.first().map(ToString::to_string)
    );
    (text, read)
}

pub(crate) fn options_for_2024() -> ReadOptions {
    ReadOptions {
        year: Some(2024),
        ..ReadOptions::default()
    }
}
