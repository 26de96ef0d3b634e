//! The apache_error reader never panics, and every non-blank line is one record: an event or an
//! error.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let summaries = common::read(data, Some("apache_error"));
    let records: u64 = summaries.iter().map(|s| s.records).sum();
    if summaries.iter().all(|s| s.failure.is_none()) && summaries.iter().all(|s| s.format == Some("apache_error")) {
        assert_eq!(records, common::non_blank_lines(data));
    }
});
