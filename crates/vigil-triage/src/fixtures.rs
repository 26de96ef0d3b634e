//! Detections and incidents for this crate's tests, built with struct literals.

use std::sync::Arc;

use serde_json::value::RawValue;
use vigil_attack::{Mapping, TacticHit, TechniqueHit};
use vigil_correlate::{Incident, IncidentEntities, IncidentTechnique, Stage};
use vigil_detect::{Detection, DetectionSource, Level};

/// A detection of `rule` at `level` on `host` at `time` (RFC 3339) with `fields` (and
/// `Computer`, the host, as events carry it); its id is its content id.
pub(crate) fn detection(
    rule: &str,
    level: Level,
    host: &str,
    time: &str,
    mut fields: serde_json::Value,
) -> Detection {
    if let Some(map) = fields.as_object_mut() {
        map.entry("Computer").or_insert_with(|| host.into());
    }
    let mut d = Detection {
        id: String::new(),
        rule_id: rule.to_string(),
        rule_title: format!("Rule {rule}"),
        level,
        status: Some("test"),
        tags: Vec::new(),
        attack: Arc::default(),
        timestamp: Some(time.parse().expect("test times are RFC 3339")),
        host: Some(host.to_string()),
        source: DetectionSource {
            path: "test.evtx".into(),
            record: 1,
        },
        selections: Vec::new(),
        correlation: None,
        fields: RawValue::from_string(fields.to_string()).expect("JSON text"),
    };
    d.id = d.content_id();
    d
}

/// Gives `d` techniques `(id, tactic, confidence)`, each tactic with confidence 1.
pub(crate) fn with_techniques(mut d: Detection, techniques: &[(&str, &str, f32)]) -> Detection {
    let mut mapping = Mapping::default();
    for (id, tactic, confidence) in techniques {
        mapping.techniques.push(TechniqueHit {
            id: id.to_string(),
            name: format!("Technique {id}"),
            tactics: vec![tactic.to_string()],
            confidence: *confidence,
            evidence: vec![format!("tag attack.{}", id.to_lowercase())],
        });
        if !mapping.tactics.iter().any(|t| t.shortname == *tactic) {
            mapping.tactics.push(TacticHit {
                id: String::new(),
                name: tactic.to_string(),
                shortname: tactic.to_string(),
                confidence: 1.0,
                evidence: Vec::new(),
            });
        }
    }
    d.attack = Arc::new(mapping);
    d
}

/// An incident of the detections at `members`, with entities, techniques and stage
/// taken from them as correlation would (tactics in the order given, not kill-chain
/// order; tests give them in order).
pub(crate) fn incident(detections: &[Detection], members: &[usize]) -> Incident {
    let mut entities = IncidentEntities::default();
    let mut techniques: Vec<IncidentTechnique> = Vec::new();
    let mut tactics: Vec<String> = Vec::new();
    let mut sequence: Vec<String> = Vec::new();
    for &i in members {
        let d = &detections[i];
        if let Some(host) = &d.host
            && !entities.hosts.contains(host)
        {
            entities.hosts.push(host.clone());
        }
        let fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(d.fields.get()).unwrap_or_default();
        if let Some(user) = fields.get("User").and_then(|u| u.as_str()) {
            let user = vigil_correlate::user_name(user);
            if !entities.users.contains(&user) {
                entities.users.push(user);
            }
        }
        for hit in &d.attack.techniques {
            match techniques.iter_mut().find(|t| t.id == hit.id) {
                Some(t) => {
                    t.detections += 1;
                    t.confidence = t.confidence.max(hit.confidence);
                }
                None => techniques.push(IncidentTechnique {
                    id: hit.id.clone(),
                    name: hit.name.clone(),
                    confidence: hit.confidence,
                    detections: 1,
                }),
            }
        }
        for t in &d.attack.tactics {
            if !tactics.contains(&t.shortname) {
                tactics.push(t.shortname.clone());
            }
        }
        if let Some(first) = d.attack.tactics.first()
            && sequence.last() != Some(&first.shortname)
        {
            sequence.push(first.shortname.clone());
        }
    }
    entities.hosts.sort();
    entities.users.sort();
    let mut ids: Vec<String> = Vec::new();
    for &i in members {
        if !ids.contains(&detections[i].id) {
            ids.push(detections[i].id.clone());
        }
    }
    Incident {
        id: "inc-000000000001".into(),
        title: "test incident".into(),
        first_seen: members
            .iter()
            .filter_map(|&i| detections[i].timestamp)
            .min(),
        last_seen: members
            .iter()
            .filter_map(|&i| detections[i].timestamp)
            .max(),
        entities,
        techniques,
        stage: Stage {
            reached: tactics.last().cloned(),
            sequence,
            progression: None,
            progression_tactics: Vec::new(),
        },
        tactics,
        detections: ids,
        links: Vec::new(),
        members: members.to_vec(),
    }
}
