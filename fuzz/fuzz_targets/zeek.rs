//! The Zeek TSV reader never panics, and every line that is neither blank nor a `#` header
//! line is one record: an event or an error.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let summaries = common::read(data, Some("zeek"));
    let records: u64 = summaries.iter().map(|s| s.records).sum();
    if summaries.iter().all(|s| s.failure.is_none() && s.format == Some("zeek")) {
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let expected = data
            .split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .filter(|line| !line.is_empty() && !line.starts_with(b"#"))
            .count() as u64;
        assert_eq!(records, expected);
    }
});
