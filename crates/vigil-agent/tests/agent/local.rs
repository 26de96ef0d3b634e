//! The faithfulness check with a real model: SmolLM2-135M-Instruct, in-process, writes the
//! narratives of the corpus incidents; every accepted narrative names only what its incident
//! holds (checked independently of the agent's own check).

use std::path::PathBuf;

use vigil_agent::narrative::{self, Outcome};
use vigil_llm::{Chain, Config};

use crate::support::{attack, corpus_run, unknown_entities};

fn model() -> Option<PathBuf> {
    let path = std::env::var_os("VIGIL_LLM_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            vigil_test_support::workspace_root()
                .join(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        });
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing: run scripts/models",
        path.display()
    );
    eprintln!("note: {} is missing; run scripts/models", path.display());
    None
}

#[test]
fn accepted_narratives_of_the_local_model_name_no_unknown_entity() {
    let (Some(path), Some(run)) = (model(), corpus_run()) else {
        return;
    };
    let chain = Chain::from_config(&Config::local(&path), "test").unwrap();
    let model = vigil_report::build(&run, &attack());
    let outcomes = narrative::write_all(&chain, &model, &mut |_, _| {});
    assert_eq!(outcomes.len(), 9);
    let (mut accepted, mut rejected, mut failed) = (0, 0, 0);
    for (outcome, incident) in outcomes.iter().zip(model["incidents"].as_array().unwrap()) {
        match outcome {
            Outcome::Accepted(n) => {
                accepted += 1;
                assert!(
                    n.low_confidence,
                    "a small local model's narrative is low-confidence"
                );
                assert_eq!(n.kind, "local");
                let text = format!("{} {}", n.executive_summary, n.analyst_narrative);
                assert_eq!(
                    unknown_entities(&text, incident),
                    Vec::<String>::new(),
                    "{text}"
                );
            }
            Outcome::Rejected { .. } => rejected += 1,
            Outcome::Failed { error, .. } => {
                // The grammar makes every answer parse; only running out of tokens fails.
                assert!(
                    error
                        .attempts
                        .iter()
                        .all(|a| a.error == vigil_llm::ProviderError::Truncated),
                    "{error}"
                );
                failed += 1;
            }
        }
    }
    eprintln!("local model: {accepted} accepted, {rejected} rejected, {failed} cut off of 9");
}
