//! `vigil report`: a hunt's incidents (or one of them) in any registered format.

use std::io::Write;

use anyhow::Context;

use crate::Outcome;
use crate::args::{ReportArgs, UsageError};

pub(crate) fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    let renderer = vigil_report::renderer(&args.format).map_err(|e| UsageError(e.to_string()))?;
    let templates = vigil_report::Templates::new(args.template_dir.as_deref())
        .map_err(|e| UsageError(e.to_string()))?;
    let mut run = vigil_report::Run::load(&args.from)?;
    if let Some(id) = &args.incident {
        run = run.incident(id).ok_or_else(|| {
            UsageError(format!(
                "no incident {id:?} in {} (or the prefix is not unique); ids are in incidents.json",
                args.from.join("incidents.json").display()
            ))
        })?;
    }
    let attack = super::attack::load(&args.attack)?;
    let mut model = vigil_report::build(&run, &attack);
    if let Some(chain) = super::llm::chain(&args.llm)? {
        narrate(&chain, &mut model, args.narratives.as_deref())?;
    }
    let mut text = Vec::new();
    renderer.render(&model, &templates, &mut text)?;
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(&text)?;
            out.flush()?;
        }
    }
    Ok(Outcome::Clean)
}

/// Narratives for the report's incidents: accepted ones replace the deterministic summary;
/// each outcome is said on stderr (and written to `save` as JSON).
pub(crate) fn narrate(
    chain: &vigil_llm::Chain,
    model: &mut serde_json::Value,
    save: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let outcomes = vigil_agent::narrative::write_all(chain, model, &mut |_, _| {});
    for outcome in &outcomes {
        match outcome {
            vigil_agent::narrative::Outcome::Accepted(n) => crate::output::say!(
                "narrative: {} written by {} ({}){}{}",
                n.incident,
                n.model,
                n.provider,
                if n.dropped.is_empty() {
                    String::new()
                } else {
                    format!(", {} sentence(s) dropped by the check", n.dropped.len())
                },
                if n.low_confidence {
                    ", low confidence"
                } else {
                    ""
                }
            ),
            vigil_agent::narrative::Outcome::Rejected {
                incident, reason, ..
            } => {
                crate::output::say!(
                    "narrative: {incident} rejected ({reason}); the facts summary stays"
                )
            }
            vigil_agent::narrative::Outcome::Failed { incident, error } => {
                crate::output::say!(
                    "narrative: {incident} not written ({error}); the facts summary stays"
                )
            }
        }
    }
    vigil_agent::narrative::apply(model, &outcomes);
    if let Some(path) = save {
        std::fs::write(path, serde_json::to_vec_pretty(&outcomes)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
