//! Format detection and archives (gzip, zip, tar) never panic, whatever the bytes.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::read(data, None);
});
