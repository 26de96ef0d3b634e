//! Integration tests of the Sigma crate: the built-in rule pack.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

mod builtin;
