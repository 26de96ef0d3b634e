//! A provider's streamed answer is untrusted: server-sent events and JSON lines are read
//! without panicking, and give the same events however the stream is cut into reads.
#![no_main]

use std::io::BufReader;

use vigil_llm::sse::{next_event, next_line};

fn events(data: &[u8], capacity: usize) -> Vec<(String, String)> {
    let mut reader = BufReader::with_capacity(capacity, data);
    let mut out = Vec::new();
    while let Ok(Some(event)) = next_event(&mut reader) {
        out.push((event.name, event.data));
    }
    out
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let capacity = data.first().map_or(1, |b| usize::from(*b % 13) + 1);
    assert_eq!(events(data, 8192), events(data, capacity));
    let mut reader = BufReader::with_capacity(capacity, data);
    while let Ok(Some(line)) = next_line(&mut reader) {
        assert!(!line.contains('\n'));
    }
});
