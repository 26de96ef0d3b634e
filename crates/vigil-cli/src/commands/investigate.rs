//! `vigil investigate`: a bounded, read-only investigation of one incident.

use anyhow::Context;
use vigil_agent::investigate::{Budget, Investigation, Step, investigate};
use vigil_agent::tools::Workspace;

use crate::Outcome;
use crate::args::{GlobalArgs, InvestigateArgs, UsageError};

pub(crate) fn run(global: &GlobalArgs, args: InvestigateArgs) -> anyhow::Result<Outcome> {
    let chain = super::llm::chain(&args.llm)?;
    let run = vigil_report::Run::load(&args.from)?;
    let attack = super::attack::load(&args.attack)?;
    let id = run
        .incident(&args.incident)
        .and_then(|r| {
            r.incidents
                .first()
                .and_then(|i| i["id"].as_str())
                .map(str::to_owned)
        })
        .ok_or_else(|| {
            UsageError(format!(
                "no incident {:?} in {} (or the prefix is not unique); ids are in incidents.json",
                args.incident,
                args.from.join("incidents.json").display()
            ))
        })?;
    let workspace = Workspace::new(&run, &attack);
    let budget = Budget {
        max_steps: args.max_steps,
        max_tokens: args.max_tokens,
    };
    let show = !global.quiet && !args.json;
    let mut on_step = |step: &Step| {
        if show {
            print_step(step);
        }
    };
    let mut on_token = super::llm::progress(show && global.verbose > 0);
    let investigation = investigate(
        &workspace,
        &id,
        chain.as_ref(),
        budget,
        &mut on_step,
        &mut on_token,
    )
    .map_err(|e| UsageError(e.to_string()))?;
    let path = match &args.transcript {
        Some(path) => path.clone(),
        None => {
            let stamp = investigation.started_at.replace([':', '-'], "");
            let stamp = stamp
                .split('.')
                .next()
                .unwrap_or(&stamp)
                .trim_end_matches('Z')
                .to_owned();
            args.from
                .join("investigations")
                .join(format!("{id}-{stamp}Z.json"))
        }
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&investigation)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&investigation)?);
    } else {
        print_result(&investigation);
        if !global.quiet {
            println!("\nTranscript: {}", path.display());
        }
    }
    Ok(Outcome::Clean)
}

fn print_step(step: &Step) {
    println!(
        "step {}: {}({:?}) → {}",
        step.n, step.tool, step.argument, step.status
    );
    if !step.thought.is_empty() {
        println!("  why: {}", step.thought);
    }
}

fn print_result(investigation: &Investigation) {
    let confidence = if investigation.low_confidence {
        " — small local model: a draft, check it"
    } else {
        ""
    };
    println!(
        "\nInvestigation of {} by {}{confidence}",
        investigation.incident, investigation.by
    );
    println!(
        "Stopped: {} ({} step(s), {} token(s))",
        investigation.stopped,
        investigation.steps.len(),
        investigation.tokens
    );
    println!("\n{}", investigation.narrative);
    if !investigation.indicators.is_empty() {
        println!("\nIndicators:");
        for item in &investigation.indicators {
            println!(
                "  - {}  [evidence: {}]",
                item.text,
                item.evidence.join(", ")
            );
        }
    }
    if !investigation.actions.is_empty() {
        println!("\nRecommended actions:");
        for item in &investigation.actions {
            println!(
                "  - {}  [evidence: {}]",
                item.text,
                item.evidence.join(", ")
            );
        }
    }
    if !investigation.dropped.is_empty() {
        println!("\nRemoved by the check:");
        for why in &investigation.dropped {
            println!("  - {why}");
        }
    }
}
