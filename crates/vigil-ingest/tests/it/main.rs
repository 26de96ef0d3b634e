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

pub(crate) fn options_for_2024() -> ReadOptions {
    ReadOptions {
        year: Some(2024),
        ..ReadOptions::default()
    }
}
