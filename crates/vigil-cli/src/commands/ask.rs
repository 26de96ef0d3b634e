//! `vigil ask`: a question in plain words, answered by the engine.

use std::sync::Mutex;

use anyhow::Context;
use serde_json::{Value, json};
use vigil_agent::query::{self, Data, Target};
use vigil_ingest::{InputInfo, Plan, RecordResult};

use crate::Outcome;
use crate::args::{AskArgs, GlobalArgs, UsageError};
use crate::output::say;

/// The most raw events held for a query over events.
const MOST_EVENTS: usize = 2_000_000;

pub(crate) fn run(global: &GlobalArgs, args: AskArgs) -> anyhow::Result<Outcome> {
    let chain = super::llm::chain(&args.llm)?;
    let now = args
        .now
        .as_deref()
        .map(|t| {
            t.parse::<jiff::Timestamp>()
                .map_err(|e| UsageError(format!("--now {t:?}: {e}")))
        })
        .transpose()?;
    let attack = super::attack::load(&args.engine.attack)?;
    let show = !global.quiet && !args.json;
    let mut on = super::llm::progress(show);
    let plan = vigil_agent::ask::plan(&args.question, chain.as_ref(), &attack, &mut on)
        .map_err(|e| UsageError(e.to_string()))?;
    if show && chain.is_some() {
        eprintln!();
    }
    if args.plan_only {
        println!("{}", serde_json::to_string_pretty(&plan)?);
        return Ok(Outcome::Clean);
    }
    let mut outcome = Outcome::Clean;
    let (detections, incidents, events) = match &args.from {
        Some(dir) => {
            let run = vigil_report::Run::load(dir)?;
            (run.detections, run.incidents, None)
        }
        None => {
            // A question about raw events reads them; only the others need a hunt.
            if plan.query.target == Target::Events {
                let (events, read) = read_events(global, &args)?;
                outcome = read;
                (Vec::new(), Vec::new(), Some(events))
            } else {
                let (detections, incidents, hunted) = hunt(global, &args)?;
                outcome = hunted;
                (detections, incidents, None)
            }
        }
    };
    let answer = query::run(
        &plan.query,
        Data {
            detections: &detections,
            incidents: &incidents,
            events: events.as_deref(),
        },
        now,
    );
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"plan": plan, "answer": answer}))?
        );
        return Ok(outcome);
    }
    print_plan(&plan);
    print_answer(&answer);
    Ok(outcome)
}

/// Hunts the given paths: detections and incidents as `vigil hunt --out` writes them.
fn hunt(global: &GlobalArgs, args: &AskArgs) -> anyhow::Result<(Vec<Value>, Vec<Value>, Outcome)> {
    let ingest = args.read.ingest(global)?;
    let (engine, _) = super::hunt::engine(global, &args.engine, args.read.show_errors)?;
    let shown = std::sync::atomic::AtomicUsize::new(0);
    let mut hunted = engine.hunt(&ingest, Plan::new(&args.paths), |error| {
        if !global.quiet
            && shown.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < args.read.show_errors
        {
            say!("warning: {error}");
        }
    });
    let folded = engine.fold(std::mem::take(&mut hunted.detections))?;
    let detections = folded
        .detections
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()?;
    let incidents = folded
        .incidents
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((detections, incidents, super::account_inputs(&hunted.inputs)))
}

/// Reads the given paths' events, normalized as `vigil parse` prints them; bad records are
/// warned about (as `vigil hunt` does) and make the outcome partial.
fn read_events(global: &GlobalArgs, args: &AskArgs) -> anyhow::Result<(Vec<Value>, Outcome)> {
    let ingest = args.read.ingest(global)?;
    let taxonomy = vigil_normalize::Taxonomy::builtin().context("the built-in field taxonomy")?;
    let events = Mutex::new(Vec::new());
    let full = std::sync::atomic::AtomicBool::new(false);
    let shown = std::sync::atomic::AtomicUsize::new(0);
    let handler = |_: InputInfo<'_>| {
        let (events, taxonomy, full, shown) = (&events, &taxonomy, &full, &shown);
        move |record: RecordResult| {
            if let Err(error) = &record
                && !global.quiet
                && shown.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < args.read.show_errors
            {
                say!("warning: {error}");
            }
            if let Ok(mut event) = record {
                taxonomy.apply(&mut event);
                if let (Ok(value), Ok(mut events)) = (serde_json::to_value(&event), events.lock()) {
                    if events.len() < MOST_EVENTS {
                        events.push(value);
                    } else {
                        full.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
            std::ops::ControlFlow::Continue(())
        }
    };
    let inputs = ingest.run(Plan::new(&args.paths), handler);
    if full.into_inner() && !global.quiet {
        say!("warning: only the first {MOST_EVENTS} events were searched");
    }
    let events = events
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok((events, super::account_inputs(&inputs)))
}

fn print_plan(plan: &vigil_agent::ask::Plan) {
    let confidence = if plan.low_confidence {
        " (small local model: check the query)"
    } else {
        ""
    };
    println!("Query by {}{confidence}:", plan.by);
    let query = serde_json::to_value(&plan.query).unwrap_or_default();
    if let Some(map) = query.as_object() {
        for (key, value) in map {
            let empty = value.is_null() || value.as_array().is_some_and(Vec::is_empty);
            if !empty {
                println!("  {key}: {}", compact(value));
            }
        }
    }
    for phrase in &plan.understood {
        println!("  understood {phrase}");
    }
    if !plan.ignored.is_empty() {
        println!("  ignored: {}", plan.ignored.join(" "));
    }
    for note in &plan.notes {
        println!("  note: {note}");
    }
}

fn print_answer(answer: &query::Answer) {
    if let Some([from, to]) = &answer.window {
        println!("Window: {from} .. {to}");
    }
    for note in &answer.notes {
        println!("Note: {note}");
    }
    let shown = answer.rows.len();
    println!(
        "{} match(es){}",
        answer.total,
        if answer.query.group_by.is_some() {
            String::new()
        } else if shown < answer.total {
            format!(", first {shown} shown")
        } else {
            String::new()
        }
    );
    for row in &answer.rows {
        let line: Vec<String> = row
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| format!("{k}={}", compact(v)))
                    .collect()
            })
            .unwrap_or_default();
        println!("  {}", line.join("  "));
    }
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(compact).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}
