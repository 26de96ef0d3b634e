//! Incident narratives written by a model from the incident's own facts, and checked.

use serde::Serialize;
use serde_json::{Value, json};
use vigil_llm::{Chain, ChainError, Message, Request, StreamEvent};

use crate::grounding::{Facts, Unknown};
use crate::prompt::{DATA_RULE, clip, quote};

/// Timeline entries the model sees (the earliest ones).
const TIMELINE_ENTRIES: usize = 15;
/// The longest evidence value the model sees.
const EVIDENCE_CHARS: usize = 160;

/// A narrative that passed the check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Narrative {
    /// The incident's id.
    pub incident: String,
    /// For executives: what happened, how bad, what is being done.
    pub executive_summary: String,
    /// For analysts: the sequence of events with their evidence.
    pub analyst_narrative: String,
    /// The provider that wrote it (its configured name).
    pub provider: String,
    /// Its kind (`openai`, `local`...).
    pub kind: String,
    /// The model that wrote it.
    pub model: String,
    /// Written by a small local model: a draft.
    pub low_confidence: bool,
    /// Sentences removed because they named something the incident does not hold.
    pub dropped: Vec<Unknown>,
    /// Milliseconds to the first token of the kept answer.
    pub first_token_ms: Option<u64>,
    /// Milliseconds the whole call took.
    pub total_ms: Option<u64>,
}

/// What came of asking for one incident's narrative.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Written and checked; the report uses it.
    Accepted(Narrative),
    /// Written, but too much of it named unknown entities; the report keeps the
    /// deterministic summary.
    Rejected {
        /// The incident's id.
        incident: String,
        /// The provider that wrote it.
        provider: String,
        /// Its model.
        model: String,
        /// Why it was rejected.
        reason: String,
        /// The sentences that named unknown entities.
        dropped: Vec<Unknown>,
        /// Milliseconds to the first token.
        first_token_ms: Option<u64>,
        /// Milliseconds the whole call took.
        total_ms: Option<u64>,
    },
    /// No provider answered; the report keeps the deterministic summary.
    Failed {
        /// The incident's id.
        incident: String,
        /// Why each provider failed.
        #[serde(serialize_with = "as_text")]
        error: ChainError,
    },
}

fn as_text<S: serde::Serializer>(error: &ChainError, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(error)
}

impl Outcome {
    /// The accepted narrative, if any.
    pub fn accepted(&self) -> Option<&Narrative> {
        match self {
            Self::Accepted(narrative) => Some(narrative),
            _ => None,
        }
    }
}

/// The answer's JSON Schema.
pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "executive_summary": {"type": "string", "maxLength": 1200},
            "analyst_narrative": {"type": "string", "maxLength": 4000}
        },
        "required": ["executive_summary", "analyst_narrative"],
        "additionalProperties": false
    })
}

const INSTRUCTIONS: &str = "You write incident narratives for a security operations team. \
Use only the facts in the incident data. Never name a host, user, IP address, domain, hash, file \
or ATT&CK technique that is not in the data, and never guess one. The severity and the risk score \
were computed by vigil: report them as given, never change or argue with them. \
executive_summary: two to four plain sentences for executives, without jargon: what happened, \
where, how serious, what to do first. analyst_narrative: three to eight sentences for analysts: \
the sequence of events in time order with the evidence that shows each step.";

/// The facts of an incident the model sees: the enriched incident of a report model
/// (`vigil_report::build`), trimmed to what a narrative needs.
pub fn facts_of(incident: &Value) -> Value {
    let timeline: Vec<Value> = incident["timeline"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .take(TIMELINE_ENTRIES)
                .map(|e| {
                    let evidence: serde_json::Map<String, Value> = e["evidence"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|item| {
                            let field = item["field"].as_str()?;
                            let value = item["value"].as_str()?;
                            Some((field.to_owned(), Value::String(clip(value, EVIDENCE_CHARS))))
                        })
                        .collect();
                    json!({
                        "time": e["timestamp"],
                        "rule": e["rule"],
                        "level": e["level"],
                        "host": e["host"],
                        "techniques": e["techniques"],
                        "evidence": evidence,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let techniques: Vec<Value> = incident["techniques"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| json!({"id": t["id"], "name": t["name"]}))
        .collect();
    let factors: Vec<Value> = incident["factors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["weight"].as_f64().is_some_and(|w| w != 0.0))
        .map(|f| f["detail"].clone())
        .collect();
    json!({
        "id": incident["id"],
        "title": incident["title"],
        "severity": incident["severity"],
        "risk_score": incident["score"],
        "confidence": incident["confidence"],
        "first_seen": incident["first_seen"],
        "last_seen": incident["last_seen"],
        "hosts": incident["entities"]["hosts"],
        "users": incident["entities"]["users"],
        "ip_addresses": incident["entities"]["ips"],
        "techniques": techniques,
        "tactics": incident["tactics"],
        "attack_progression": incident["stage"]["progression"],
        "score_factors": factors,
        "detections": incident["detections"].as_array().map_or(0, Vec::len),
        "timeline": timeline,
        "indicators": incident["indicators"],
    })
}

/// What a narrative of `incident` may name: its facts; and what it must not: the hosts,
/// users and addresses of `others`.
pub fn grounding(incident: &Value, others: &[Value]) -> Facts {
    let mut facts = Facts::new();
    facts.add_json(&facts_of(incident));
    facts.add_json(&incident["entities"]);
    facts.add_json(&incident["indicators"]);
    for technique in incident["techniques"].as_array().into_iter().flatten() {
        facts.add_json(&technique["id"]);
        facts.add_json(&technique["name"]);
    }
    let id = incident["id"].as_str();
    for other in others.iter().filter(|o| o["id"].as_str() != id) {
        for list in ["hosts", "users", "ips"] {
            for value in other["entities"][list].as_array().into_iter().flatten() {
                if let Some(value) = value.as_str() {
                    facts.add_foreign(value);
                }
            }
        }
    }
    facts
}

/// The request for `incident`'s narrative.
pub fn request(incident: &Value) -> Request {
    Request::new(vec![
        Message::system(format!("{INSTRUCTIONS}\n\n{DATA_RULE}")),
        Message::user(format!("Incident data:\n{}", quote(&facts_of(incident)))),
    ])
    .with_schema("incident_narrative", schema())
    .with_max_tokens(900)
}

/// Asks the chain for `incident`'s narrative and checks it: sentences naming an entity the
/// incident does not hold (or another incident's) are dropped; the narrative is rejected
/// when its executive summary loses every sentence or more than a third of all sentences go.
pub fn write(
    chain: &Chain,
    incident: &Value,
    others: &[Value],
    on: &mut dyn FnMut(StreamEvent<'_>),
) -> Outcome {
    let id = incident["id"].as_str().unwrap_or("").to_owned();
    let (answer, completion) = match chain.complete_json(&request(incident), on) {
        Ok(answer) => answer,
        Err(error) => {
            return Outcome::Failed {
                incident: id,
                error,
            };
        }
    };
    let facts = grounding(incident, others);
    let summary = facts.check(answer["executive_summary"].as_str().unwrap_or(""));
    let narrative = facts.check(answer["analyst_narrative"].as_str().unwrap_or(""));
    let sentences = summary.sentences + narrative.sentences;
    let mut dropped = summary.dropped.clone();
    dropped.extend(narrative.dropped.iter().cloned());
    let reason = if summary.text.is_empty() {
        Some("the executive summary has no sentence left after the check".to_owned())
    } else if dropped.len() * 3 > sentences {
        Some(format!(
            "{} of {sentences} sentences named entities the incident does not hold",
            dropped.len()
        ))
    } else {
        None
    };
    let millis = |d: Option<std::time::Duration>| {
        d.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    };
    if let Some(reason) = reason {
        tracing::warn!(incident = %id, provider = %completion.provider, %reason, "Narrative rejected.");
        return Outcome::Rejected {
            incident: id,
            provider: completion.provider,
            model: completion.model,
            reason,
            dropped,
            first_token_ms: millis(completion.first_token),
            total_ms: millis(completion.total),
        };
    }
    Outcome::Accepted(Narrative {
        incident: id,
        executive_summary: summary.text,
        analyst_narrative: narrative.text,
        provider: completion.provider,
        kind: completion.kind,
        model: completion.model,
        low_confidence: completion.low_confidence,
        dropped,
        first_token_ms: millis(completion.first_token),
        total_ms: millis(completion.total),
    })
}

/// Narratives for every incident of a report model (`vigil_report::build`), in order.
pub fn write_all(
    chain: &Chain,
    model: &Value,
    on: &mut dyn FnMut(&str, StreamEvent<'_>),
) -> Vec<Outcome> {
    let incidents: Vec<Value> = model["incidents"].as_array().cloned().unwrap_or_default();
    incidents
        .iter()
        .map(|incident| {
            let id = incident["id"].as_str().unwrap_or("");
            write(chain, incident, &incidents, &mut |event| on(id, event))
        })
        .collect()
}

/// Puts accepted narratives into a report model: the incident's `executive_summary`
/// becomes the model's, the deterministic one moves to `facts_summary`, and `narrative`
/// says who wrote it. Templates show the analyst narrative and the author.
pub fn apply(model: &mut Value, outcomes: &[Outcome]) {
    let Some(incidents) = model["incidents"].as_array_mut() else {
        return;
    };
    for narrative in outcomes.iter().filter_map(Outcome::accepted) {
        let Some(incident) = incidents
            .iter_mut()
            .find(|i| i["id"] == narrative.incident.as_str())
        else {
            continue;
        };
        incident["facts_summary"] = incident["executive_summary"].take();
        incident["executive_summary"] = Value::String(narrative.executive_summary.clone());
        incident["narrative"] = json!({
            "analyst_narrative": narrative.analyst_narrative,
            "provider": narrative.provider,
            "model": narrative.model,
            "low_confidence": narrative.low_confidence,
            "dropped_sentences": narrative.dropped.len(),
        });
    }
}
