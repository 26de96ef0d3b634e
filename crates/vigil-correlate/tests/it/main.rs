//! Integration tests of correlation: properties (input order and input files do not
//! change incidents).
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

mod properties;
mod support;
