//! The read-only tools an investigation may call. Each takes one text argument and reads
//! a hunt's output and the ATT&CK knowledge base; none can change anything, by
//! construction: they get shared references only.

use std::collections::HashMap;

use serde_json::{Value, json};
use vigil_attack::Attack;
use vigil_report::{EVIDENCE_FIELDS, Run};

use crate::prompt::clip;

/// The most items a tool returns.
const MOST: usize = 15;
/// The longest value a tool returns.
const VALUE_CHARS: usize = 200;

/// What the tools read.
pub struct Workspace<'a> {
    /// The hunt's output.
    pub run: &'a Run,
    /// ATT&CK.
    pub attack: &'a Attack,
    incident_of: HashMap<&'a str, &'a str>,
}

impl<'a> Workspace<'a> {
    /// Tools over a hunt's output.
    pub fn new(run: &'a Run, attack: &'a Attack) -> Self {
        let mut incident_of = HashMap::new();
        for incident in &run.incidents {
            let Some(id) = incident["id"].as_str() else {
                continue;
            };
            for detection in incident["detections"].as_array().into_iter().flatten() {
                if let Some(d) = detection.as_str() {
                    incident_of.insert(d, id);
                }
            }
        }
        Self {
            run,
            attack,
            incident_of,
        }
    }

    /// Whether an id names a detection or an incident of the data (for citations).
    pub fn has_evidence(&self, id: &str) -> bool {
        self.run.detection(id).is_some() || self.incident(id).is_some()
    }

    /// An incident by id.
    pub fn incident(&self, id: &str) -> Option<&'a Value> {
        self.run
            .incidents
            .iter()
            .find(|i| i["id"].as_str() == Some(id))
    }
}

/// One tool.
pub struct Tool {
    /// Its name, as the model calls it.
    pub name: &'static str,
    /// What it does, as the model reads it.
    pub about: &'static str,
    /// What its one argument holds.
    pub argument: &'static str,
    run: fn(&Workspace<'_>, &str) -> Result<Value, String>,
}

impl Tool {
    /// Runs the tool.
    pub fn call(&self, workspace: &Workspace<'_>, argument: &str) -> Result<Value, String> {
        (self.run)(workspace, argument.trim())
    }
}

/// Every tool; an investigation can call these and nothing else.
pub const TOOLS: &[Tool] = &[
    Tool {
        name: "get_detections",
        about: "the detections of an incident: time, rule, level, host, techniques, key evidence",
        argument: "an incident id",
        run: get_detections,
    },
    Tool {
        name: "search_events",
        about: "events that rules matched, anywhere in the data, with a field value containing the text",
        argument: "text to look for (a name, an address, part of a command line)",
        run: search_events,
    },
    Tool {
        name: "pivot",
        about: "every incident and detection that involves a host, user or IP address",
        argument: "a host, user or IP address",
        run: pivot,
    },
    Tool {
        name: "attack_lookup",
        about: "an ATT&CK technique: name, tactics, mitigations, and how often the data shows it",
        argument: "a technique id such as T1003.001",
        run: attack_lookup,
    },
    Tool {
        name: "indicator_lookup",
        about: "what an indicator is (address kind, hash kind, domain, file) and where the data shows it",
        argument: "an IP address, hash, domain or file name",
        run: indicator_lookup,
    },
];

/// The tool of that name.
pub fn tool(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|t| t.name == name)
}

fn brief(workspace: &Workspace<'_>, detection: &Value) -> Value {
    let evidence: serde_json::Map<String, Value> = EVIDENCE_FIELDS
        .iter()
        .filter_map(|f| {
            let v = &detection["fields"][*f];
            let text = match v {
                Value::String(s) if !s.is_empty() => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some(((*f).to_owned(), Value::String(clip(&text, VALUE_CHARS))))
        })
        .collect();
    let id = detection["id"].as_str().unwrap_or("");
    json!({
        "id": id,
        "incident": workspace.incident_of.get(id),
        "time": detection["timestamp"],
        "rule": detection["rule_title"],
        "level": detection["level"],
        "host": detection["host"],
        "techniques": detection["techniques"].as_array().map(|ts| ts.iter().filter_map(|t| t["id"].as_str()).collect::<Vec<_>>()),
        "evidence": evidence,
    })
}

fn get_detections(workspace: &Workspace<'_>, id: &str) -> Result<Value, String> {
    let incident = workspace
        .incident(id)
        .ok_or_else(|| format!("no incident {id}"))?;
    let ids: Vec<&str> = incident["detections"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let detections: Vec<Value> = ids
        .iter()
        .filter_map(|d| workspace.run.detection(d))
        .take(MOST)
        .map(|d| brief(workspace, d))
        .collect();
    Ok(
        json!({"incident": id, "total": ids.len(), "shown": detections.len(), "detections": detections}),
    )
}

fn search_events(workspace: &Workspace<'_>, text: &str) -> Result<Value, String> {
    if text.chars().count() < 2 {
        return Err("give at least two characters to search for".to_owned());
    }
    let needle = text.to_lowercase();
    let mut total = 0;
    let mut hits = Vec::new();
    for detection in &workspace.run.detections {
        let Some(fields) = detection["fields"].as_object() else {
            continue;
        };
        let found = fields.iter().find_map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            s.to_lowercase().contains(&needle).then(|| (k.clone(), s))
        });
        if let Some((field, value)) = found {
            total += 1;
            if hits.len() < MOST {
                let mut hit = brief(workspace, detection);
                hit["matched"] = json!({"field": field, "value": clip(&value, VALUE_CHARS)});
                hits.push(hit);
            }
        }
    }
    Ok(json!({"text": text, "total": total, "shown": hits.len(), "events": hits}))
}

fn pivot(workspace: &Workspace<'_>, entity: &str) -> Result<Value, String> {
    if entity.is_empty() {
        return Err("give a host, user or IP address".to_owned());
    }
    let lower = entity.to_lowercase();
    let same = |v: &Value| {
        v.as_str().is_some_and(|s| {
            s.to_lowercase() == lower || s.to_lowercase().split('.').next() == Some(lower.as_str())
        })
    };
    let incidents: Vec<Value> = workspace
        .run
        .incidents
        .iter()
        .filter(|i| ["hosts", "users", "ips"].iter().any(|l| i["entities"][*l].as_array().is_some_and(|vs| vs.iter().any(same))))
        .map(|i| json!({"id": i["id"], "title": i["title"], "severity": i["severity"], "score": i["score"], "first_seen": i["first_seen"], "last_seen": i["last_seen"]}))
        .collect();
    let detections: Vec<&Value> = workspace
        .run
        .detections
        .iter()
        .filter(|d| {
            same(&d["host"])
                || d["fields"]
                    .as_object()
                    .is_some_and(|f| f.values().any(same))
        })
        .collect();
    Ok(json!({
        "entity": entity,
        "incidents": incidents,
        "detections_total": detections.len(),
        "detections": detections.iter().take(MOST).map(|d| brief(workspace, d)).collect::<Vec<_>>(),
    }))
}

fn attack_lookup(workspace: &Workspace<'_>, id: &str) -> Result<Value, String> {
    let technique = workspace
        .attack
        .technique(id)
        .ok_or_else(|| format!("{id} is not an ATT&CK technique"))?;
    let mitigations: Vec<Value> = technique
        .mitigations
        .iter()
        .map(|m| json!({"id": m, "name": workspace.attack.entity(m).map(|e| e.name.as_str())}))
        .collect();
    let upper = technique.id.to_uppercase();
    let seen = workspace
        .run
        .detections
        .iter()
        .filter(|d| {
            d["techniques"].as_array().is_some_and(|ts| {
                ts.iter().any(|t| {
                    t["id"].as_str().is_some_and(|t| {
                        t.eq_ignore_ascii_case(&upper)
                            || t.to_uppercase().starts_with(&format!("{upper}."))
                    })
                })
            })
        })
        .count();
    Ok(json!({
        "id": technique.id,
        "name": technique.name,
        "tactics": technique.tactics,
        "parent": technique.parent_id(),
        "mitigations": mitigations,
        "detections_in_data": seen,
    }))
}

fn indicator_lookup(workspace: &Workspace<'_>, value: &str) -> Result<Value, String> {
    if value.is_empty() {
        return Err("give an indicator".to_owned());
    }
    let kind = match value.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) if ip.is_private() => "private IPv4 address".to_owned(),
        Ok(std::net::IpAddr::V4(ip)) if ip.is_loopback() => "loopback address".to_owned(),
        Ok(std::net::IpAddr::V4(_)) => "public IPv4 address".to_owned(),
        Ok(std::net::IpAddr::V6(_)) => "IPv6 address".to_owned(),
        Err(_) if value.chars().all(|c| c.is_ascii_hexdigit()) => match value.len() {
            32 => "MD5 hash".to_owned(),
            40 => "SHA-1 hash".to_owned(),
            64 => "SHA-256 hash".to_owned(),
            _ => "hexadecimal value".to_owned(),
        },
        Err(_) if value.contains('\\') || value.contains('/') => "file path".to_owned(),
        Err(_) if value.contains('.') => "domain or file name".to_owned(),
        Err(_) => "name".to_owned(),
    };
    let lower = value.to_lowercase();
    let mut times: Vec<&str> = Vec::new();
    let mut incidents: Vec<&str> = Vec::new();
    let mut count = 0;
    for detection in &workspace.run.detections {
        let hit = detection["fields"].as_object().is_some_and(|f| {
            f.values().any(|v| {
                v.as_str()
                    .is_some_and(|s| s.to_lowercase().contains(&lower))
            })
        });
        if hit {
            count += 1;
            if let Some(t) = detection["timestamp"].as_str() {
                times.push(t);
            }
            if let Some(i) = detection["id"]
                .as_str()
                .and_then(|id| workspace.incident_of.get(id))
                && !incidents.contains(i)
            {
                incidents.push(i);
            }
        }
    }
    times.sort_unstable();
    Ok(json!({
        "value": value,
        "kind": kind,
        "detections": count,
        "incidents": incidents,
        "first_seen": times.first(),
        "last_seen": times.last(),
        "intelligence": "no threat-intelligence feed is configured: reputation unknown",
    }))
}
