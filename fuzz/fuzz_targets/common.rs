//! What every target checks: reading never panics, and every record is accounted for.

use std::ops::ControlFlow;

use vigil_ingest::{Ingest, Input, ReadOptions};

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

/// Reads `data` with the reader called `format` (or detected, with archives opened) and
/// checks the accounting of every input.
pub fn read(data: &[u8], format: Option<&str>) {
    let mut ingest = Ingest::new(options());
    if let Some(format) = format {
        ingest = ingest.force_format(format).expect("a known reader");
    }
    let summaries = ingest.read_input(Input::from_slice("fuzz", data), |_| {
        |record: vigil_ingest::RecordResult| {
            if let Ok(event) = &record {
                // Serializing is what `vigil parse` does with every event.
                serde_json::to_vec(event).expect("events always serialize");
            }
            ControlFlow::Continue(())
        }
    });
    for summary in &summaries {
        assert_eq!(summary.records, summary.events + summary.errors);
    }
}
