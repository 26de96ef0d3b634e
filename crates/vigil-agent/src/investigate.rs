//! Guided investigation: a bounded loop in which a model calls read-only tools, then writes
//! a result whose every claim must cite evidence in the data.
//!
//! The loop is bounded by steps and tokens ([`Budget`]). The model picks a tool by name; a
//! name outside [`TOOLS`] is refused and recorded, never run. Every step, tool call and
//! result goes into the transcript ([`Investigation::steps`]). The result (narrative,
//! indicators, recommended actions) is checked: sentences naming entities neither the
//! incident nor a tool result holds are dropped, and an indicator or action without a
//! citation of a real detection or incident is dropped. Without a model, a fixed plan
//! runs the same tools and writes the result from the facts.

use serde::Serialize;
use serde_json::{Value, json};
use vigil_llm::{Chain, Completion, Message, Request, StreamEvent};

use crate::grounding::Facts;
use crate::narrative::{facts_of, grounding};
use crate::prompt::{DATA_RULE, clip, quote};
use crate::tools::{TOOLS, Workspace, tool};
use crate::{Error, Result};

/// Bounds of one investigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// Tool steps at most.
    pub max_steps: u32,
    /// Prompt and answer tokens at most, over all calls.
    pub max_tokens: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            max_steps: 12,
            max_tokens: 40_000,
        }
    }
}

/// One step of the transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// 1-based.
    pub n: u32,
    /// The model's reason for the step (the plan's, without a model).
    pub thought: String,
    /// The tool called.
    pub tool: String,
    /// Its argument.
    pub argument: String,
    /// `ok`, `error` (the tool failed) or `refused` (not a read-only tool of the set).
    pub status: &'static str,
    /// The tool's result, or why it failed or was refused.
    pub result: Value,
}

/// An indicator or an action, with the detections or incidents that support it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cited {
    /// The indicator value or the action.
    pub text: String,
    /// Ids of detections or incidents in the data.
    pub evidence: Vec<String>,
}

/// A finished investigation: its transcript and its checked result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Investigation {
    /// The incident investigated.
    pub incident: String,
    /// When it ran (RFC 3339).
    pub started_at: String,
    /// `model <model> (<provider>)`, or `built-in plan`.
    pub by: String,
    /// Whether a small local model led it.
    pub low_confidence: bool,
    /// The bounds it ran under.
    pub budget: Budget,
    /// Why the loop ended.
    pub stopped: String,
    /// Tokens used over all calls (when providers say).
    pub tokens: u64,
    /// Every step, in order.
    pub steps: Vec<Step>,
    /// What happened, in words.
    pub narrative: String,
    /// Indicators, each citing evidence.
    pub indicators: Vec<Cited>,
    /// Recommended actions, each citing evidence.
    pub actions: Vec<Cited>,
    /// Claims removed by the check, each with why.
    pub dropped: Vec<String>,
}

fn step_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "thought": {"type": "string", "maxLength": 400},
            "action": {"type": "string", "maxLength": 40},
            "argument": {"type": "string", "maxLength": 200}
        },
        "required": ["thought", "action", "argument"],
        "additionalProperties": false
    })
}

fn result_schema() -> Value {
    let cited = |key: &str, max: u64| {
        json!({
            "type": "array",
            "maxItems": max,
            "items": {
                "type": "object",
                "properties": {
                    key: {"type": "string", "maxLength": 300},
                    "evidence": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 5}
                },
                "required": [key, "evidence"],
                "additionalProperties": false
            }
        })
    };
    json!({
        "type": "object",
        "properties": {
            "narrative": {"type": "string", "maxLength": 3000},
            "indicators": cited("value", 10),
            "actions": cited("action", 8)
        },
        "required": ["narrative", "indicators", "actions"],
        "additionalProperties": false
    })
}

fn instructions(budget: Budget) -> String {
    let tools: Vec<String> = TOOLS
        .iter()
        .map(|t| format!("- {}: {} (argument: {})", t.name, t.about, t.argument))
        .collect();
    format!(
        "You investigate a security incident for an analyst. Form hypotheses about what happened and \
test them with the read-only tools below, one call per answer. Answer with a JSON object: \
`thought` (your hypothesis and why this call tests it), `action` (a tool name, or `finish` when \
you know enough) and `argument` (the tool's argument; empty for finish). You have at most {} \
tool calls. The tools only read; nothing you do changes the data, and no other action exists.\n\
Tools:\n{}\n\n{DATA_RULE}",
        budget.max_steps,
        tools.join("\n")
    )
}

const RESULT_INSTRUCTIONS: &str = "Write the result of the investigation now as a JSON object: \
`narrative` (what happened, in time order, naming only hosts, users, addresses, files and \
techniques that appear in the incident data or the tool results), `indicators` (values an \
analyst should block or hunt for) and `actions` (recommended next steps). Every indicator and \
action cites in `evidence` the ids of the detections (d-...) or incidents (inc-...) that support it.";

/// Investigates incident `id` of the workspace. With a non-empty `chain` the model leads
/// within `budget`; without one (or when no provider answers at the start) the built-in
/// plan runs. `on_step` hears of each step as it finishes.
pub fn investigate(
    workspace: &Workspace<'_>,
    id: &str,
    chain: Option<&Chain>,
    budget: Budget,
    on_step: &mut dyn FnMut(&Step),
    on_token: &mut dyn FnMut(StreamEvent<'_>),
) -> Result<Investigation> {
    let raw = workspace
        .incident(id)
        .ok_or_else(|| Error::NoIncident(id.to_owned()))?;
    let id = raw["id"].as_str().unwrap_or(id).to_owned();
    let narrowed = workspace
        .run
        .incident(&id)
        .ok_or_else(|| Error::NoIncident(id.clone()))?;
    let model = vigil_report::build(&narrowed, workspace.attack);
    let incident = model["incidents"][0].clone();
    let mut facts = grounding(&incident, &workspace.run.incidents);
    let started_at = jiff::Timestamp::now().to_string();
    let mut investigation = Investigation {
        incident: id.clone(),
        started_at,
        by: "built-in plan".to_owned(),
        low_confidence: false,
        budget,
        stopped: String::new(),
        tokens: 0,
        steps: Vec::new(),
        narrative: String::new(),
        indicators: Vec::new(),
        actions: Vec::new(),
        dropped: Vec::new(),
    };
    if let Some(chain) = chain.filter(|c| !c.is_empty())
        && led_by_model(
            chain,
            workspace,
            &incident,
            &mut facts,
            &mut investigation,
            on_step,
            on_token,
        )
    {
        return Ok(investigation);
    }
    built_in(
        workspace,
        &incident,
        &mut facts,
        &mut investigation,
        on_step,
    );
    Ok(investigation)
}

/// The model-led loop. Returns false when no model answered at all (the built-in plan
/// then runs, keeping the notes).
fn led_by_model(
    chain: &Chain,
    workspace: &Workspace<'_>,
    incident: &Value,
    facts: &mut Facts,
    investigation: &mut Investigation,
    on_step: &mut dyn FnMut(&Step),
    on_token: &mut dyn FnMut(StreamEvent<'_>),
) -> bool {
    let budget = investigation.budget;
    let mut messages = vec![
        Message::system(instructions(budget)),
        Message::user(format!(
            "The incident to investigate (id {}):\n{}",
            investigation.incident,
            quote(&facts_of(incident))
        )),
    ];
    let mut answered = false;
    let mut stopped = format!("step budget of {} tool calls used", budget.max_steps);
    for n in 1..=budget.max_steps {
        if investigation.tokens >= budget.max_tokens {
            stopped = format!("token budget of {} used", budget.max_tokens);
            break;
        }
        let request = Request::new(messages.clone())
            .with_schema("investigation_step", step_schema())
            .with_max_tokens(300);
        let (answer, completion) = match chain.complete_json(&request, on_token) {
            Ok(answer) => answer,
            Err(error) => {
                investigation
                    .dropped
                    .push(format!("step {n}: no model answered: {error}"));
                stopped = "no model answered".to_owned();
                break;
            }
        };
        answered = true;
        note_model(investigation, &completion);
        investigation.tokens += tokens(&completion, &request);
        let action = answer["action"].as_str().unwrap_or("").trim().to_owned();
        let argument = answer["argument"].as_str().unwrap_or("").trim().to_owned();
        let thought = answer["thought"].as_str().unwrap_or("").to_owned();
        if action == "finish" {
            stopped = "the model finished".to_owned();
            break;
        }
        let step = match tool(&action) {
            Some(tool) => match tool.call(workspace, &argument) {
                Ok(result) => {
                    facts.add_json(&result);
                    Step {
                        n,
                        thought,
                        tool: action.clone(),
                        argument,
                        status: "ok",
                        result,
                    }
                }
                Err(why) => Step {
                    n,
                    thought,
                    tool: action.clone(),
                    argument,
                    status: "error",
                    result: Value::String(why),
                },
            },
            None => {
                tracing::warn!(incident = %investigation.incident, tool = %action, "Refused a tool outside the read-only set.");
                let known: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
                Step {
                    n,
                    thought,
                    tool: action.clone(),
                    argument,
                    status: "refused",
                    result: Value::String(format!(
                        "`{action}` is not one of the read-only tools ({}); nothing was done",
                        known.join(", ")
                    )),
                }
            }
        };
        on_step(&step);
        messages.push(Message::assistant(completion.text.clone()));
        let shown = clip(
            &serde_json::to_string(&step.result).unwrap_or_default(),
            6000,
        );
        messages.push(Message::user(format!(
            "Result of {}({:?}), status {}:\n{}",
            step.tool,
            step.argument,
            step.status,
            quote(&Value::String(shown))
        )));
        investigation.steps.push(step);
    }
    if !answered {
        investigation.stopped = "no model answered; the built-in plan ran".to_owned();
        return false;
    }
    investigation.stopped = stopped;
    messages.push(Message::user(RESULT_INSTRUCTIONS));
    let request = Request::new(messages)
        .with_schema("investigation_result", result_schema())
        .with_max_tokens(1200);
    match chain.complete_json(&request, on_token) {
        Ok((answer, completion)) => {
            note_model(investigation, &completion);
            investigation.tokens += tokens(&completion, &request);
            check_result(workspace, facts, investigation, &answer);
            true
        }
        Err(error) => {
            investigation.dropped.push(format!(
                "the result: no model answered ({error}); written from the facts instead"
            ));
            let fallback = deterministic_result(workspace, incident);
            check_result(workspace, facts, investigation, &fallback);
            true
        }
    }
}

fn note_model(investigation: &mut Investigation, completion: &Completion) {
    investigation.by = format!("model {} ({})", completion.model, completion.provider);
    investigation.low_confidence |= completion.low_confidence;
}

fn tokens(completion: &Completion, request: &Request) -> u64 {
    let estimate = || {
        request
            .messages
            .iter()
            .map(|m| m.content.len() as u64 / 4)
            .sum::<u64>()
            + completion.text.len() as u64 / 4
    };
    match (completion.input_tokens, completion.output_tokens) {
        (None, None) => estimate(),
        (a, b) => a.unwrap_or(0) + b.unwrap_or(0),
    }
}

/// Keeps what the facts support: narrative sentences with known entities only, indicators
/// that are known and cite real evidence, actions that cite real evidence.
fn check_result(
    workspace: &Workspace<'_>,
    facts: &Facts,
    investigation: &mut Investigation,
    answer: &Value,
) {
    let checked = facts.check(answer["narrative"].as_str().unwrap_or(""));
    for unknown in &checked.dropped {
        investigation.dropped.push(format!(
            "narrative sentence \"{}\": names {} not in the data",
            unknown.sentence,
            unknown.entities.join(", ")
        ));
    }
    investigation.narrative = checked.text;
    for (key, list, out) in [
        ("value", "indicators", &mut investigation.indicators),
        ("action", "actions", &mut investigation.actions),
    ] {
        for item in answer[list].as_array().into_iter().flatten() {
            let text = item[key].as_str().unwrap_or("").trim().to_owned();
            let evidence: Vec<String> = strings(&item["evidence"]).map(str::to_owned).collect();
            let bad: Vec<&String> = evidence
                .iter()
                .filter(|e| !workspace.has_evidence(e))
                .collect();
            let why = if text.is_empty() {
                Some("empty".to_owned())
            } else if evidence.is_empty() {
                Some("cites no evidence".to_owned())
            } else if !bad.is_empty() {
                Some(format!(
                    "cites {} that the data does not hold",
                    bad.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            } else if key == "value" && !facts.knows(&text) {
                Some("is not in the data".to_owned())
            } else {
                let unknown = facts.unknown_in(&text);
                (!unknown.is_empty())
                    .then(|| format!("names {} not in the data", unknown.join(", ")))
            };
            match why {
                Some(why) => investigation.dropped.push(format!(
                    "{} \"{}\": {why}",
                    &list[..list.len() - 1],
                    clip(&text, 120)
                )),
                None => out.push(Cited { text, evidence }),
            }
        }
    }
}

/// The built-in plan: the incident's detections, a pivot on each entity, each technique
/// and each indicator looked up; then a result written from the facts.
fn built_in(
    workspace: &Workspace<'_>,
    incident: &Value,
    facts: &mut Facts,
    investigation: &mut Investigation,
    on_step: &mut dyn FnMut(&Step),
) {
    let id = investigation.incident.clone();
    let mut plan: Vec<(&str, String, String)> = vec![(
        "get_detections",
        id.clone(),
        "Read the incident's detections.".to_owned(),
    )];
    for list in ["hosts", "users", "ips"] {
        for value in strings(&incident["entities"][list]).take(3) {
            plan.push((
                "pivot",
                value.to_owned(),
                format!("Does {value} appear in other incidents?"),
            ));
        }
    }
    for technique in incident["techniques"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["id"].as_str())
        .take(4)
    {
        plan.push((
            "attack_lookup",
            technique.to_owned(),
            format!("What does {technique} mean and what mitigates it?"),
        ));
    }
    for list in ["ips", "domains", "hashes", "files"] {
        for value in strings(&incident["indicators"][list]).take(3) {
            plan.push((
                "indicator_lookup",
                value.to_owned(),
                format!("Where else is {value} seen?"),
            ));
        }
    }
    for (n, (name, argument, thought)) in plan
        .into_iter()
        .take(investigation.budget.max_steps.max(1) as usize)
        .enumerate()
    {
        let Some(tool) = tool(name) else { continue };
        let (status, result) = match tool.call(workspace, &argument) {
            Ok(result) => ("ok", result),
            Err(why) => ("error", Value::String(why)),
        };
        facts.add_json(&result);
        let step = Step {
            n: n as u32 + 1,
            thought,
            tool: name.to_owned(),
            argument,
            status,
            result,
        };
        on_step(&step);
        investigation.steps.push(step);
    }
    if investigation.stopped.is_empty() {
        investigation.stopped = "the built-in plan ran every step".to_owned();
    }
    let result = deterministic_result(workspace, incident);
    check_result(workspace, facts, investigation, &result);
}

/// A result written from the facts alone: the report's summary and what pivots found;
/// indicators with the detections that show them; the report's recommendations with the
/// detections of the technique or tactic each answers.
fn deterministic_result(workspace: &Workspace<'_>, incident: &Value) -> Value {
    let id = incident["id"].as_str().unwrap_or("");
    let detections: Vec<&Value> = strings(&incident["detections"])
        .filter_map(|d| workspace.run.detection(d))
        .collect();
    let mut narrative = incident["executive_summary"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    for list in ["hosts", "users", "ips"] {
        for value in strings(&incident["entities"][list]).take(3) {
            let others: Vec<&str> = workspace
                .run
                .incidents
                .iter()
                .filter(|i| i["id"].as_str() != Some(id))
                .filter(|i| {
                    i["entities"][list]
                        .as_array()
                        .is_some_and(|vs| vs.iter().any(|v| v.as_str() == Some(value)))
                })
                .filter_map(|i| i["id"].as_str())
                .collect();
            if !others.is_empty() {
                narrative.push_str(&format!(
                    " {value} also appears in {} other incident(s): {}.",
                    others.len(),
                    others.join(", ")
                ));
            }
        }
    }
    let mut indicators = Vec::new();
    for list in ["ips", "domains", "hashes", "files"] {
        for value in strings(&incident["indicators"][list]).take(5) {
            let lower = value.to_lowercase();
            let evidence: Vec<&str> = detections
                .iter()
                .filter(|d| {
                    d["fields"].as_object().is_some_and(|f| {
                        f.values().any(|v| {
                            v.as_str()
                                .is_some_and(|s| s.to_lowercase().contains(&lower))
                        })
                    })
                })
                .filter_map(|d| d["id"].as_str())
                .take(5)
                .collect();
            let evidence = if evidence.is_empty() {
                vec![id]
            } else {
                evidence
            };
            indicators.push(json!({"value": value, "evidence": evidence}));
        }
    }
    let mut actions = Vec::new();
    for recommendation in incident["recommendations"]
        .as_array()
        .into_iter()
        .flatten()
        .take(4)
    {
        let key = recommendation["key"].as_str().unwrap_or("").to_uppercase();
        let evidence: Vec<&str> = detections
            .iter()
            .filter(|d| {
                d["techniques"].as_array().is_some_and(|ts| {
                    ts.iter().any(|t| {
                        t["id"]
                            .as_str()
                            .is_some_and(|t| t.to_uppercase().starts_with(&key))
                    })
                }) || d["tactics"].as_array().is_some_and(|ts| {
                    ts.iter().any(|t| {
                        t["shortname"]
                            .as_str()
                            .is_some_and(|t| t.eq_ignore_ascii_case(&key))
                    })
                })
            })
            .filter_map(|d| d["id"].as_str())
            .take(5)
            .collect();
        let evidence = if evidence.is_empty() {
            vec![id]
        } else {
            evidence
        };
        for step in strings(&recommendation["steps"]).take(2) {
            actions.push(json!({"action": step, "evidence": evidence}));
        }
    }
    json!({"narrative": narrative, "indicators": indicators, "actions": actions})
}

/// The strings of a JSON array (none when it is not one).
fn strings(value: &Value) -> impl Iterator<Item = &str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}
