//! The winxml reader never panics, and an input without an `<Event` tag has no records.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let summaries = common::read(data, Some("winxml"));
    let records: u64 = summaries.iter().map(|s| s.records).sum();
    let utf16 = data.starts_with(b"\xff\xfe") || data.starts_with(b"\xfe\xff") || data.get(1) == Some(&0) || data.first() == Some(&0);
    if !utf16 && !data.windows(6).any(|w| w == b"<Event") {
        assert_eq!(records, 0);
    }
});
