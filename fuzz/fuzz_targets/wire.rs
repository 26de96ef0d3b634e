//! The collector's wire formats never panic: Elasticsearch bulk NDJSON and Splunk HEC are
//! read or refused with a reason; the syslog TCP framer keeps at most its limit of a
//! message and gives the same messages however the stream is cut into reads.
#![no_main]

use vigil_ingest::wire::{SyslogFramer, read_bulk, read_hec};

const LIMIT: usize = 64;

fn frames(chunks: impl Iterator<Item = Vec<u8>>) -> Vec<Vec<u8>> {
    let mut framer = SyslogFramer::new(LIMIT);
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend(framer.push(&chunk));
    }
    out.extend(framer.finish());
    out
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(items) = read_bulk(data, "fuzz") {
        assert!(items.len() <= data.len());
    }
    if let Err(e) = read_hec(data) {
        assert!(matches!(e.code, 5 | 6 | 12 | 13));
    }
    let whole = frames(std::iter::once(data.to_vec()));
    assert!(whole.iter().all(|m| m.len() <= LIMIT));
    let split = data.first().map_or(1, |b| usize::from(*b % 7) + 1);
    let pieces = frames(data.chunks(split).map(<[u8]>::to_vec));
    assert_eq!(whole, pieces);
});
