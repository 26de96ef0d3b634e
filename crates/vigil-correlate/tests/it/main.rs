//! Integration tests of correlation: the examples and the shared corpus hunted and folded
//! into incidents, synthetic attack chains among benign noise, and properties (input order
//! and input files do not change incidents).
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

mod corpus;
mod properties;
mod support;
mod synthetic;
