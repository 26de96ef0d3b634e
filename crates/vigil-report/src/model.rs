//! The report model: a run's incidents with what a reader needs beside the raw facts: a
//! plain-words summary, a timeline with key evidence, indicators, a tactic-by-technique
//! heat map, recommendations and the ATT&CK mitigations that apply. Built once; every
//! renderer reads the same model.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use vigil_attack::Attack;

use crate::run::Run;

const RECOMMENDATIONS: &str = include_str!("../data/recommendations.toml");

/// Fields shown as a detection's key evidence, in this order, when present.
pub const EVIDENCE_FIELDS: &[&str] = &[
    "CommandLine",
    "process.command_line",
    "Image",
    "ParentImage",
    "TargetFilename",
    "TargetObject",
    "user.name",
    "source.ip",
    "destination.ip",
    "destination.port",
    "url.original",
    "QueryName",
    "eventName",
    "message",
];

/// At most this many evidence fields per timeline entry.
const EVIDENCE_PER_DETECTION: usize = 5;

#[derive(Debug, Deserialize)]
struct Steps {
    #[serde(default)]
    title: Option<String>,
    steps: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RecommendationData {
    technique: BTreeMap<String, Steps>,
    tactic: BTreeMap<String, Steps>,
}

fn recommendation_data() -> RecommendationData {
    toml::from_str(RECOMMENDATIONS).unwrap_or(RecommendationData {
        technique: BTreeMap::new(),
        tactic: BTreeMap::new(),
    })
}

/// One recommendation: where it comes from and its steps.
#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    /// The technique or tactic it answers (`T1110`, `credential-access`).
    pub key: String,
    /// What it is about.
    pub title: String,
    /// Concrete steps.
    pub steps: Vec<String>,
}

/// Builds the model of a run: `{"generated_from", "summary", "overview", "incidents"}`,
/// each incident its own fields plus `executive_summary`, `timeline`, `indicators`,
/// `heatmap`, `recommendations` and `mitigations`.
pub fn build(run: &Run, attack: &Attack) -> Value {
    let data = recommendation_data();
    // `Run::load` refuses incidents that are not objects; a run built by hand may hold
    // them, and they have nothing to report.
    let incidents: Vec<Value> = run
        .incidents
        .iter()
        .filter(|incident| incident.is_object())
        .map(|incident| enrich(incident, run, attack, &data))
        .collect();
    let mut by_severity: BTreeMap<String, usize> = BTreeMap::new();
    for incident in &run.incidents {
        if let Some(s) = incident["severity"].as_str() {
            *by_severity.entry(s.to_string()).or_default() += 1;
        }
    }
    let severities: Vec<Value> = ["critical", "high", "medium", "low"]
        .iter()
        .map(|s| json!({"severity": s, "incidents": by_severity.get(*s).copied().unwrap_or(0)}))
        .collect();
    json!({
        "summary": run.summary,
        "overview": {
            "incidents": incidents.len(),
            "detections": run.detections.len(),
            "by_severity": severities,
            "attack_version": attack.version(),
        },
        "incidents": incidents,
    })
}

/// An incident with every field the templates read, of the right kind: an incident
/// written by another tool (or an older vigil) may lack some, and a report of it must
/// still render.
fn with_defaults(incident: &Value) -> Value {
    let mut out = incident.clone();
    let defaults = [
        ("title", json!("(untitled incident)")),
        ("severity", json!("unknown")),
        ("score", json!(0)),
        ("confidence", json!(0.0)),
        ("stage", json!({})),
        ("entities", json!({})),
        ("techniques", json!([])),
        ("tactics", json!([])),
        ("factors", json!([])),
        ("detections", json!([])),
    ];
    for (field, default) in defaults {
        if out.get(field).is_none_or(|v| !same_kind(v, &default)) {
            out[field] = default;
        }
    }
    for list in ["hosts", "users", "ips"] {
        if !out["entities"][list].is_array() {
            out["entities"][list] = json!([]);
        }
    }
    if let Some(techniques) = out["techniques"].as_array_mut() {
        for technique in techniques.iter_mut().filter(|t| t.is_object()) {
            if !technique["confidence"].is_number() {
                technique["confidence"] = json!(0.0);
            }
        }
    }
    out
}

/// Whether two values are of one JSON kind (any two numbers are).
fn same_kind(a: &Value, b: &Value) -> bool {
    matches!(
        (a, b),
        (Value::Null, Value::Null)
            | (Value::Bool(_), Value::Bool(_))
            | (Value::Number(_), Value::Number(_))
            | (Value::String(_), Value::String(_))
            | (Value::Array(_), Value::Array(_))
            | (Value::Object(_), Value::Object(_))
    )
}

fn enrich(incident: &Value, run: &Run, attack: &Attack, data: &RecommendationData) -> Value {
    let incident = &with_defaults(incident);
    let mut out = incident.clone();
    let detections: Vec<&Value> = incident["detections"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|id| run.detection(id.as_str()?))
                .collect()
        })
        .unwrap_or_default();
    out["executive_summary"] = executive_summary(incident, detections.len()).into();
    out["timeline"] = detections.iter().map(|d| timeline_entry(d)).collect();
    out["indicators"] = indicators(incident, &detections);
    out["heatmap"] = heatmap(&detections, attack);
    let (recommendations, mitigations) = recommend(incident, attack, data);
    out["recommendations"] = serde_json::to_value(recommendations).unwrap_or_default();
    out["mitigations"] = mitigations;
    out
}

fn list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn join_few(items: &[String], most: usize) -> String {
    match items.len() {
        0 => String::new(),
        n if n <= most => match n {
            1 => items[0].clone(),
            _ => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
        },
        n => format!("{} and {} more", items[..most].join(", "), n - most),
    }
}

/// The incident in plain words, from its own facts only (deterministic).
pub fn executive_summary(incident: &Value, detections: usize) -> String {
    let severity = incident["severity"].as_str().unwrap_or("unrated");
    let score = incident["score"].as_u64().unwrap_or(0);
    let hosts = list(&incident["entities"]["hosts"]);
    let users = list(&incident["entities"]["users"]);
    let ips = list(&incident["entities"]["ips"]);
    let techniques: Vec<String> = incident["techniques"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|t| Some(format!("{} ({})", t["name"].as_str()?, t["id"].as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    let tactics: Vec<String> = list(&incident["tactics"])
        .iter()
        .map(|t| t.replace('-', " "))
        .collect();
    let mut text = format!(
        "A {severity}-severity incident (risk {score}/100): {}.",
        incident["title"].as_str().unwrap_or("untitled")
    );
    let mut scope = Vec::new();
    if !hosts.is_empty() {
        scope.push(format!("host {}", join_few(&hosts, 3)));
    }
    if !users.is_empty() {
        scope.push(format!("account {}", join_few(&users, 3)));
    }
    if !ips.is_empty() {
        scope.push(format!("address {}", join_few(&ips, 3)));
    }
    if !scope.is_empty() {
        text.push_str(&format!(" It involves {}.", scope.join("; ")));
    }
    match (
        incident["first_seen"].as_str(),
        incident["last_seen"].as_str(),
    ) {
        (Some(first), Some(last)) if first != last => {
            text.push_str(&format!(" Activity ran from {first} to {last}."))
        }
        (Some(first), _) => text.push_str(&format!(" Activity was seen at {first}.")),
        _ => {}
    }
    text.push_str(&format!(
        " {detections} detection(s) point to {} ATT&CK technique(s){}.",
        techniques.len(),
        if techniques.is_empty() {
            String::new()
        } else {
            format!(", chiefly {}", join_few(&techniques, 2))
        }
    ));
    if !tactics.is_empty() {
        text.push_str(&format!(
            " The attacker's goals seen: {}.",
            join_few(&tactics, 4)
        ));
    }
    if let Some(progression) = incident["stage"]["progression"].as_str() {
        text.push_str(&format!(
            " The sequence of events shows a multi-stage attack ({progression})."
        ));
    }
    text
}

fn timeline_entry(detection: &Value) -> Value {
    let fields = &detection["fields"];
    // The same value under its source and ECS names is shown once.
    let mut shown = BTreeSet::new();
    let evidence: Vec<Value> = EVIDENCE_FIELDS
        .iter()
        .filter_map(|name| {
            let value = &fields[*name];
            let text = match value {
                Value::Null => return None,
                Value::String(s) if s.is_empty() => return None,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            shown
                .insert(text.clone())
                .then(|| json!({"field": name, "value": text}))
        })
        .take(EVIDENCE_PER_DETECTION)
        .collect();
    let techniques: Vec<String> = detection["techniques"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|t| t["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "id": detection["id"],
        "timestamp": detection["timestamp"],
        "rule": detection["rule_title"],
        "level": detection["level"],
        "host": detection["host"],
        "techniques": techniques,
        "evidence": evidence,
        "source": detection["source"],
    })
}

/// IPs, domains, hashes and files found in the incident and its evidence.
fn indicators(incident: &Value, detections: &[&Value]) -> Value {
    let mut ips: BTreeSet<String> = list(&incident["entities"]["ips"]).into_iter().collect();
    let mut domains = BTreeSet::new();
    let mut hashes = BTreeSet::new();
    let mut files = BTreeSet::new();
    for detection in detections {
        let Some(fields) = detection["fields"].as_object() else {
            continue;
        };
        for (key, value) in fields {
            let Some(text) = value.as_str() else { continue };
            match key.as_str() {
                "destination.ip" | "source.ip" | "DestinationIp" | "SourceIp" | "IpAddress"
                    if text.parse::<std::net::IpAddr>().is_ok() =>
                {
                    ips.insert(text.to_string());
                }
                "QueryName"
                | "destination.domain"
                | "url.domain"
                | "dns.question.name"
                | "DestinationHostname" => {
                    domains.insert(text.to_lowercase());
                }
                "Hashes" | "Hash" => {
                    for part in text.split(',') {
                        if let Some((kind, value)) = part.split_once('=') {
                            hashes.insert(format!(
                                "{}:{}",
                                kind.trim().to_lowercase(),
                                value.trim().to_lowercase()
                            ));
                        }
                    }
                }
                k if k.starts_with("file.hash.") || k.starts_with("process.hash.") => {
                    let kind = k.rsplit('.').next().unwrap_or("hash");
                    hashes.insert(format!("{kind}:{}", text.to_lowercase()));
                }
                "TargetFilename" | "file.path" | "ImageLoaded" => {
                    files.insert(text.to_string());
                }
                _ => {}
            }
        }
    }
    json!({
        "ips": ips,
        "domains": domains,
        "hashes": hashes,
        "files": files,
    })
}

/// Tactics (kill-chain order) by technique with the count of detections: a small heat map.
fn heatmap(detections: &[&Value], attack: &Attack) -> Value {
    let mut cells: BTreeMap<(usize, String), BTreeMap<String, usize>> = BTreeMap::new();
    for detection in detections {
        for technique in detection["techniques"].as_array().into_iter().flatten() {
            let Some(id) = technique["id"].as_str() else {
                continue;
            };
            for tactic in technique["tactics"].as_array().into_iter().flatten() {
                let Some(tactic) = tactic.as_str() else {
                    continue;
                };
                let order = attack.tactic_order(tactic).unwrap_or(usize::MAX);
                *cells
                    .entry((order, tactic.to_string()))
                    .or_default()
                    .entry(id.to_string())
                    .or_default() += 1;
            }
        }
    }
    cells
        .into_iter()
        .map(|((_, tactic), techniques)| {
            let name = attack
                .tactic(&tactic)
                .map(|t| t.name.clone())
                .unwrap_or_else(|| tactic.clone());
            json!({
                "tactic": tactic,
                "name": name,
                "techniques": techniques
                    .into_iter()
                    .map(|(id, count)| json!({"id": id, "detections": count}))
                    .collect::<Vec<_>>(),
            })
        })
        .collect()
}

fn recommend(
    incident: &Value,
    attack: &Attack,
    data: &RecommendationData,
) -> (Vec<Recommendation>, Value) {
    let mut out: Vec<Recommendation> = Vec::new();
    let mut mitigations: BTreeMap<String, String> = BTreeMap::new();
    for technique in incident["techniques"].as_array().into_iter().flatten() {
        let Some(id) = technique["id"].as_str() else {
            continue;
        };
        let base = id.split('.').next().unwrap_or(id);
        if let Some(t) = attack.technique(id) {
            for m in &t.mitigations {
                if let Some(entity) = attack.entity(m) {
                    mitigations.insert(m.clone(), entity.name.clone());
                }
            }
        }
        for key in [id, base] {
            if let Some(steps) = data.technique.get(key)
                && !out.iter().any(|r| r.key == key)
            {
                out.push(Recommendation {
                    key: key.to_string(),
                    title: steps.title.clone().unwrap_or_else(|| key.to_string()),
                    steps: steps.steps.clone(),
                });
                break;
            }
        }
    }
    for tactic in list(&incident["tactics"]) {
        if let Some(steps) = data.tactic.get(&tactic) {
            let name = attack
                .tactic(&tactic)
                .map(|t| t.name.clone())
                .unwrap_or_else(|| tactic.clone());
            out.push(Recommendation {
                key: tactic.clone(),
                title: steps.title.clone().unwrap_or(name),
                steps: steps.steps.clone(),
            });
        }
    }
    let mitigations: Vec<Value> = mitigations
        .into_iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    (out, Value::Array(mitigations))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incidents_that_are_not_objects_are_left_out() {
        // Found by the `report` fuzz target: `[666…]` as incidents.json panicked.
        let run = Run::new(
            Value::Null,
            vec![json!(666), json!({"id": "inc-1"})],
            Vec::new(),
        );
        let attack = Attack::embedded().expect("the embedded table");
        let model = build(&run, &attack);
        assert_eq!(model["overview"]["incidents"], 1);
        assert_eq!(model["incidents"][0]["id"], "inc-1");
    }

    #[test]
    fn the_recommendation_data_parses() {
        let parsed: RecommendationData = toml::from_str(RECOMMENDATIONS).expect("parses");
        assert!(parsed.technique.contains_key("T1110"));
        assert_eq!(parsed.tactic.len(), 14);
    }

    #[test]
    fn the_summary_says_what_where_when_and_how_far() {
        let incident = json!({
            "title": "SSH Login After Brute Force on web01", "score": 95, "severity": "critical",
            "first_seen": "2024-03-12T09:58:17Z", "last_seen": "2024-03-12T10:06:30Z",
            "entities": {"hosts": ["web01"], "users": ["deploy"], "ips": ["203.0.113.45"]},
            "techniques": [{"id": "T1110.001", "name": "Password Guessing"}],
            "tactics": ["initial-access", "credential-access"],
            "stage": {"progression": "brute force then valid login"}
        });
        assert_eq!(
            executive_summary(&incident, 6),
            "A critical-severity incident (risk 95/100): SSH Login After Brute Force on web01. \
             It involves host web01; account deploy; address 203.0.113.45. Activity ran from \
             2024-03-12T09:58:17Z to 2024-03-12T10:06:30Z. 6 detection(s) point to 1 ATT&CK \
             technique(s), chiefly Password Guessing (T1110.001). The attacker's goals seen: \
             initial access and credential access. The sequence of events shows a multi-stage \
             attack (brute force then valid login)."
        );
    }
}
