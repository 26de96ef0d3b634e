//! The JSON reader never panics, and never finds more records than the input has objects
//! and lines to hold them.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let summaries = common::read(data, Some("json"));
    let records: u64 = summaries.iter().map(|s| s.records).sum();
    let braces = data.iter().filter(|&&b| b == b'{').count() as u64;
    // Lines with anything but JSON's own whitespace (a form feed is text to JSON).
    let lines = data
        .split(|&b| b == b'\n')
        .filter(|line| line.iter().any(|b| !b" \t\r".contains(b)))
        .count() as u64;
    assert!(records <= braces + lines, "{records} records");
});
