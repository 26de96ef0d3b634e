//! One module per subcommand.

pub(crate) mod ask;
pub(crate) mod attack;
pub(crate) mod audit;
pub(crate) mod formats;
pub(crate) mod hunt;
pub(crate) mod investigate;
pub(crate) mod llm;
pub(crate) mod parse;
pub(crate) mod report;
pub(crate) mod rules;
pub(crate) mod serve;

/// Reports the inputs that failed as a whole (a skipped file is not a failure) and tells
/// whether every input was read cleanly.
pub(crate) fn account_inputs(inputs: &[vigil_ingest::InputSummary]) -> crate::Outcome {
    let mut outcome = crate::Outcome::Clean;
    for input in inputs {
        if let Some(failure) = &input.failure
            && !input.skipped
        {
            outcome = crate::Outcome::Partial;
            crate::output::say!("error: {}", failure.detail());
        }
        if input.errors > 0 {
            outcome = crate::Outcome::Partial;
        }
    }
    outcome
}
