//! Integration tests of the ATT&CK knowledge base on the real Enterprise bundle and the
//! SigmaHQ rules of the shared corpus; one harness so they link once.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

mod bundle;
mod layer;
#[path = "../../examples/eval_text_mapping/sigma_eval.rs"]
#[allow(dead_code, reason = "the example reads fields the test does not")]
mod sigma_eval;
mod tags;
mod text_mapping;
