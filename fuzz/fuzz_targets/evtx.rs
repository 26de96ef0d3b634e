//! The EVTX reader never panics, and accounts for every record, whatever the bytes.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::read(data, Some("evtx"));
});
