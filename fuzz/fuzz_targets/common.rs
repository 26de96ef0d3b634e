//! What every target checks: reading never panics, every event serializes, and the records
//! an input is said to hold match a count taken independently of the reader.

use std::ops::ControlFlow;

use vigil_ingest::{Ingest, Input, InputSummary, ReadOptions};

/// Options that keep hostile inputs from using much memory.
fn options() -> ReadOptions {
    ReadOptions {
        threads: 1,
        year: Some(2024),
        max_record_len: 1 << 20,
        max_in_memory: 16 << 20,
        ..ReadOptions::default()
    }
}

/// The built-in taxonomy, applied to every event as `vigil parse` does.
static TAXONOMY: std::sync::LazyLock<vigil_normalize::Taxonomy> =
    std::sync::LazyLock::new(|| vigil_normalize::Taxonomy::builtin().expect("the built-in taxonomy loads"));

/// Reads `data` with the reader called `format` (or detected, with archives opened).
pub fn read(data: &[u8], format: Option<&str>) -> Vec<InputSummary> {
    let mut ingest = Ingest::new(options());
    if let Some(format) = format {
        ingest = ingest.force_format(format).expect("a known reader");
    }
    let summaries = ingest.read_input(Input::from_slice("fuzz", data), |_| {
        |record: vigil_ingest::RecordResult| {
            if let Ok(mut event) = record {
                TAXONOMY.apply(&mut event);
                // Serializing is what `vigil parse` does with every event.
                serde_json::to_vec(&event).expect("events always serialize");
            }
            ControlFlow::Continue(())
        }
    });
    for summary in &summaries {
        assert_eq!(summary.records, summary.events + summary.errors);
    }
    summaries
}

/// Lines that hold more than whitespace: each is one record of a line-based format.
#[allow(dead_code)] // Each target includes this file; the binary formats do not count lines.
pub fn non_blank_lines(data: &[u8]) -> u64 {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    data.split(|&b| b == b'\n')
        .filter(|line| !String::from_utf8_lossy(line).trim().is_empty())
        .count() as u64
}
