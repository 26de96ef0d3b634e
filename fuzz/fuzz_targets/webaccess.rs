//! The webaccess reader never panics, and every non-blank line is one record (an event or
//! an error) but W3C `#` directives, which are not records.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let summaries = common::read(data, Some("webaccess"));
    let records: u64 = summaries.iter().map(|s| s.records).sum();
    if summaries.iter().all(|s| s.failure.is_none()) && summaries.iter().all(|s| s.format == Some("webaccess")) {
        let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let directives = body
            .split(|&b| b == b'\n')
            .filter(|line| line.starts_with(b"#"))
            .count() as u64;
        assert_eq!(records, common::non_blank_lines(data) - directives);
    }
});
