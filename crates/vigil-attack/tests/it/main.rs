//! Integration tests of vigil-attack, one harness so they link once.

#[path = "../../examples/eval_text_mapping/sigma_eval.rs"]
#[allow(dead_code, reason = "the example reads fields the test does not")]
mod sigma_eval;
mod text_mapping;
