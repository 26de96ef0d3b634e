//! Integration tests of hunts: the built-in pack over the bundled examples, and SigmaHQ's
//! regression tests over their EVTX files.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

mod attack;
mod builtin_pack;
mod regression;
