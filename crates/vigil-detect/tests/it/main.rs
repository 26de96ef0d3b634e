//! Integration tests of hunts over the bundled examples.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

mod builtin_pack;
