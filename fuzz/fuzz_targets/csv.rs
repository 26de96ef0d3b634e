//! The CSV reader never panics, and without quotes (so no record spans lines) every line
//! after the header that holds more than spaces and the delimiter is one record.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let summaries = common::read(data, Some("csv"));
    let records: u64 = summaries.iter().map(|s| s.records).sum();
    if summaries.iter().all(|s| s.failure.is_none() && s.format == Some("csv"))
        && !data.contains(&b'"')
    {
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let mut lines = data
            .split(|&b| b == b'\n')
            .skip_while(|line| line.iter().all(u8::is_ascii_whitespace));
        let _header = lines.next();
        let rows: Vec<&[u8]> = lines.collect();
        // The reader picks the delimiter from the header; the count must fit one of them.
        let fits = [b',', b'\t', b';', b'|'].iter().any(|&d| {
            let expected = rows
                .iter()
                .filter(|row| row.iter().any(|&b| !b.is_ascii_whitespace() && b != d))
                .count() as u64;
            records == expected
        });
        assert!(fits, "{records} records");
    }
});
