//! Mapping results: techniques and tactics with a confidence and the evidence behind it,
//! and mapping from Sigma tags.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::kb::{Attack, Object};

/// A technique a mapping found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TechniqueHit {
    /// `T1003.001`.
    pub id: String,
    /// `LSASS Memory`; empty when the loaded release does not know the id.
    pub name: String,
    /// Its tactics by short name, in kill-chain order.
    pub tactics: Vec<String>,
    /// How sure the mapping is, in [0, 1].
    pub confidence: f32,
    /// What produced it (`tag attack.t1003.001`, `text: "lsass" in description`).
    pub evidence: Vec<String>,
}

/// A tactic a mapping found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TacticHit {
    /// `TA0006`.
    pub id: String,
    /// `Credential Access`.
    pub name: String,
    /// `credential-access`.
    pub shortname: String,
    /// How sure the mapping is, in [0, 1].
    pub confidence: f32,
    /// What produced it.
    pub evidence: Vec<String>,
}

/// A group, software or other named object a tag names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityHit {
    /// `G0016`.
    pub id: String,
    /// `APT29`.
    pub name: String,
    /// `group`, `malware`, `tool`, ...
    #[serde(rename = "type")]
    pub kind: String,
}

/// A tag that names no object of the loaded release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unresolved {
    /// The tag as written.
    pub tag: String,
    /// Why it did not resolve.
    pub reason: String,
}

/// What a set of tags (or a text) maps to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    /// Techniques, most confident first.
    pub techniques: Vec<TechniqueHit>,
    /// Tactics in kill-chain order.
    pub tactics: Vec<TacticHit>,
    /// Groups, software, campaigns and data sources named by tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<EntityHit>,
    /// ATT&CK tags that named nothing the loaded release knows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<Unresolved>,
}

impl Mapping {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.techniques.is_empty() && self.tactics.is_empty()
    }
}

/// Confidence of a technique named by its current id in a tag.
pub const TAG_CONFIDENCE: f32 = 1.0;
/// Confidence of a technique reached by following a revocation: MITRE names the
/// replacement, but the rule's author meant the older, sometimes broader, technique.
pub const REVOKED_CONFIDENCE: f32 = 0.9;
/// Confidence of a deprecated technique: it has no replacement and is kept as tagged.
pub const DEPRECATED_CONFIDENCE: f32 = 0.6;
/// Confidence of a tactic reached through [`TACTIC_SUCCESSORS`](crate) data.
pub const SUCCESSOR_CONFIDENCE: f32 = 0.9;

#[derive(Deserialize)]
struct Successor {
    tactic: String,
    note: String,
}

const TACTIC_SUCCESSORS: &str = include_str!("../data/tactic-successors.toml");

/// The successor table, parsed once (it is compiled in; a malformed table is caught by
/// this crate's tests and leaves the table empty rather than failing a hunt).
fn successors() -> &'static HashMap<String, Successor> {
    static TABLE: std::sync::OnceLock<HashMap<String, Successor>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| toml::from_str(TACTIC_SUCCESSORS).unwrap_or_default())
}

impl Attack {
    /// Maps Sigma tags (`attack.t1059.001`, `attack.execution`, `attack.g0016`,
    /// `attack.s0002`). Tags not starting with `attack.` are ignored; ATT&CK tags that name
    /// nothing known are listed in [`Mapping::unresolved`] with the reason.
    ///
    /// Techniques named by current ids get confidence 1; revoked ids are replaced by their
    /// successor (0.9), deprecated ones kept (0.6). Tactics come from tactic tags (1.0);
    /// a technique whose tactic no tag names adds its own tactics, each with confidence
    /// 1/n for a technique of n tactics, since the rule did not say which one it meant.
    pub fn map_tags<S: AsRef<str>>(&self, tags: &[S]) -> Mapping {
        let mut mapping = Mapping::default();
        let mut tactic_tags: Vec<(usize, f32, String)> = Vec::new();
        let successors = successors();
        for tag in tags {
            let tag = tag.as_ref().trim();
            let Some(name) = crate::kb::attack_tag_name(tag) else {
                continue;
            };
            if let Some(order) = self.tactic_order(name) {
                tactic_tags.push((order, TAG_CONFIDENCE, format!("tag {tag}")));
                continue;
            }
            if let Some(next) = successors.get(&name.to_ascii_lowercase().replace('_', "-"))
                && let Some(order) = self.tactic_order(&next.tactic)
            {
                tactic_tags.push((
                    order,
                    SUCCESSOR_CONFIDENCE,
                    format!("tag {tag}: {}", next.note),
                ));
                continue;
            }
            match self.get(name) {
                Some(Object::Technique(_)) => self.add_technique_tag(&mut mapping, tag, name),
                Some(Object::Entity(entity)) => {
                    let hit = EntityHit {
                        id: entity.id.clone(),
                        name: entity.name.clone(),
                        kind: entity.kind.as_str().to_string(),
                    };
                    if !mapping.objects.contains(&hit) {
                        mapping.objects.push(hit);
                    }
                }
                Some(Object::Tactic(tactic)) => {
                    let order = self.tactic_order(&tactic.shortname).unwrap_or(0);
                    tactic_tags.push((order, TAG_CONFIDENCE, format!("tag {tag}")));
                }
                None => mapping.unresolved.push(Unresolved {
                    tag: tag.to_string(),
                    reason: self.unresolved_reason(name),
                }),
            }
        }
        self.add_tactics(&mut mapping, tactic_tags);
        mapping
            .techniques
            .sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        mapping
    }

    /// A mapping of techniques found some other way (free text), with the tactics they
    /// imply: each tactic of a technique of n tactics gets the technique's confidence / n.
    pub fn mapping_from_hits(&self, techniques: Vec<TechniqueHit>) -> Mapping {
        let mut mapping = Mapping {
            techniques,
            ..Mapping::default()
        };
        self.add_tactics(&mut mapping, Vec::new());
        mapping
    }

    fn add_technique_tag(&self, mapping: &mut Mapping, tag: &str, id: &str) {
        let Some((technique, followed)) = self.resolve(id) else {
            return;
        };
        let (confidence, evidence) = match (&technique.status, followed) {
            (crate::Status::Active, false) => (TAG_CONFIDENCE, format!("tag {tag}")),
            (_, true) => (
                REVOKED_CONFIDENCE,
                format!(
                    "tag {tag}: {} was revoked, replaced by {}",
                    id.to_ascii_uppercase(),
                    technique.id
                ),
            ),
            (crate::Status::Deprecated, false) => (
                DEPRECATED_CONFIDENCE,
                format!("tag {tag}: deprecated in ATT&CK, no replacement"),
            ),
            (crate::Status::Revoked(_), false) => (
                DEPRECATED_CONFIDENCE,
                format!("tag {tag}: revoked without a named replacement"),
            ),
        };
        if let Some(hit) = mapping.techniques.iter_mut().find(|h| h.id == technique.id) {
            hit.confidence = hit.confidence.max(confidence);
            hit.evidence.push(evidence);
            return;
        }
        mapping.techniques.push(TechniqueHit {
            id: technique.id.clone(),
            name: technique.name.clone(),
            tactics: technique.tactics.clone(),
            confidence,
            evidence: vec![evidence],
        });
    }

    /// Tactics from tags first; then those of techniques whose tactics no tag named.
    fn add_tactics(&self, mapping: &mut Mapping, tagged: Vec<(usize, f32, String)>) {
        let mut found: HashMap<usize, (f32, Vec<String>)> = HashMap::new();
        for (order, confidence, evidence) in tagged {
            let entry = found.entry(order).or_insert((0.0, Vec::new()));
            entry.0 = entry.0.max(confidence);
            entry.1.push(evidence);
        }
        let tagged_orders: Vec<usize> = found.keys().copied().collect();
        for hit in &mapping.techniques {
            let orders: Vec<usize> = hit
                .tactics
                .iter()
                .filter_map(|t| self.tactic_order(t))
                .collect();
            if orders.iter().any(|o| tagged_orders.contains(o)) {
                continue;
            }
            let share = hit.confidence / orders.len().max(1) as f32;
            for order in orders {
                let entry = found.entry(order).or_insert((0.0, Vec::new()));
                entry.0 = entry.0.max(share);
                entry.1.push(format!("tactic of {}", hit.id));
            }
        }
        let mut orders: Vec<usize> = found.keys().copied().collect();
        orders.sort_unstable();
        for order in orders {
            let Some(tactic) = self.tactics.get(order) else {
                continue;
            };
            let (confidence, evidence) = found.remove(&order).unwrap_or_default();
            mapping.tactics.push(TacticHit {
                id: tactic.id.clone(),
                name: tactic.name.clone(),
                shortname: tactic.shortname.clone(),
                confidence,
                evidence,
            });
        }
    }

    fn unresolved_reason(&self, name: &str) -> String {
        let version = self
            .version()
            .map(|v| format!("ATT&CK {v}"))
            .unwrap_or_else(|| "the loaded ATT&CK release".to_string());
        let upper = name.to_ascii_uppercase();
        let looks_like_id = upper
            .strip_prefix(['T', 'G', 'S', 'M', 'C'])
            .or_else(|| upper.strip_prefix("TA"))
            .or_else(|| upper.strip_prefix("DS"))
            .is_some_and(|rest| {
                !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
            });
        let newest = self
            .techniques
            .iter()
            .filter_map(|t| t.base_id().strip_prefix('T')?.parse::<u32>().ok())
            .max();
        let number = upper
            .strip_prefix('T')
            .and_then(|rest| rest.split('.').next()?.parse::<u32>().ok());
        if let (Some(number), Some(newest)) = (number, newest)
            && number > newest
        {
            return format!(
                "{upper} is newer than {version}, whose highest technique is T{newest}: it comes from a later release (install one with `vigil attack update`)"
            );
        }
        if looks_like_id {
            format!(
                "{upper} is not in {version}; it may come from a newer release (install one with `vigil attack update`)"
            )
        } else {
            format!("{name:?} is neither an id nor a tactic of {version}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_successor_table_parses() {
        assert_eq!(
            toml::from_str::<HashMap<String, Successor>>(TACTIC_SUCCESSORS)
                .map(|t| t.len())
                .ok(),
            Some(2)
        );
    }
}
