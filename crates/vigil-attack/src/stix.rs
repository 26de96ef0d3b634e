//! Reading an ATT&CK STIX 2.x bundle (`{"type":"bundle","objects":[...]}`).
//!
//! Objects are looked up by their STIX id and named by the `external_id` of their
//! `mitre-attack` external reference. An object that does not parse is skipped and counted,
//! never fatal; a file that is not a bundle at all is an error.

use std::collections::{BTreeSet, HashMap};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::kb::{Attack, Meta};
use crate::model::{Entity, EntityKind, Status, Tactic, Technique, TechniqueText};

const SOURCE_NAME: &str = "mitre-attack";

#[derive(Deserialize)]
struct Bundle<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(borrow)]
    objects: Vec<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Object {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    name: String,
    description: String,
    modified: String,
    external_references: Vec<ExternalReference>,
    kill_chain_phases: Vec<KillChainPhase>,
    x_mitre_platforms: Vec<String>,
    revoked: bool,
    x_mitre_deprecated: bool,
    x_mitre_shortname: String,
    tactic_refs: Vec<String>,
    relationship_type: String,
    source_ref: String,
    target_ref: String,
    aliases: Vec<String>,
    x_mitre_aliases: Vec<String>,
    x_mitre_analytic_refs: Vec<String>,
    x_mitre_log_source_references: Vec<LogSourceReference>,
    x_mitre_version: String,
    x_mitre_detection: String,
    x_mitre_domains: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExternalReference {
    source_name: String,
    external_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KillChainPhase {
    kill_chain_name: String,
    phase_name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LogSourceReference {
    x_mitre_data_component_ref: String,
}

impl Object {
    fn attack_id(&self) -> Option<&str> {
        self.external_references
            .iter()
            .find(|r| r.source_name == SOURCE_NAME && !r.external_id.is_empty())
            .map(|r| r.external_id.as_str())
    }

    fn status(&self) -> Status {
        if self.revoked {
            Status::Revoked(None)
        } else if self.x_mitre_deprecated {
            Status::Deprecated
        } else {
            Status::Active
        }
    }
}

/// A release and the day it was published, from `data/releases.toml`.
#[derive(Deserialize)]
struct Release {
    version: String,
    date: String,
}

#[derive(Deserialize)]
struct Releases {
    release: Vec<Release>,
}

const RELEASES: &str = include_str!("../data/releases.toml");

/// The release published on or after `modified` (RFC 3339; compared as text, which orders
/// ISO dates correctly).
fn infer_version(modified: &str) -> Option<String> {
    let releases: Releases = toml::from_str(RELEASES).ok()?;
    let day = modified.get(..10)?;
    releases
        .release
        .into_iter()
        .find(|r| r.date.as_str() >= day)
        .map(|r| r.version)
}

impl Attack {
    /// Reads a STIX bundle. `source_name` names it in errors and in [`Meta::source`].
    ///
    /// Objects that do not parse are skipped with a warning; revoked and deprecated
    /// objects are kept with their [`Status`] so old ids still resolve.
    pub fn from_bundle(json: &str, source_name: &str) -> Result<Attack> {
        let bundle_error = |reason: String| Error::Bundle {
            source_name: source_name.to_string(),
            reason,
        };
        let bundle: Bundle<'_> =
            serde_json::from_str(json).map_err(|e| bundle_error(e.to_string()))?;
        if bundle.kind != "bundle" {
            return Err(bundle_error(format!(
                "its type is {:?}, not \"bundle\"",
                bundle.kind
            )));
        }
        let mut objects = Vec::with_capacity(bundle.objects.len());
        let mut skipped = 0usize;
        for raw in bundle.objects {
            match serde_json::from_str::<Object>(raw.get()) {
                Ok(object) => objects.push(object),
                Err(error) => {
                    skipped += 1;
                    tracing::warn!(source = source_name, %error, "Skipped an unreadable STIX object.");
                }
            }
        }
        let attack = build(&objects, source_name);
        if attack.techniques.is_empty() {
            return Err(bundle_error(
                "it holds no ATT&CK techniques (attack-pattern objects with a mitre-attack id)"
                    .into(),
            ));
        }
        if skipped > 0 {
            tracing::warn!(
                source = source_name,
                skipped,
                "Some STIX objects were skipped."
            );
        }
        Ok(attack)
    }
}

fn build(objects: &[Object], source_name: &str) -> Attack {
    let by_stix: HashMap<&str, &Object> = objects.iter().map(|o| (o.id.as_str(), o)).collect();
    let attack_id = |stix: &str| by_stix.get(stix).and_then(|o| o.attack_id());

    let tactics = tactics(objects, &by_stix);
    let order: HashMap<&str, usize> = tactics
        .iter()
        .enumerate()
        .map(|(i, t)| (t.shortname.as_str(), i))
        .collect();

    let mut techniques: Vec<Technique> = Vec::new();
    let mut texts: HashMap<String, TechniqueText> = HashMap::new();
    let mut technique_at: HashMap<&str, usize> = HashMap::new();
    for object in objects.iter().filter(|o| o.kind == "attack-pattern") {
        let Some(id) = object.attack_id() else {
            continue;
        };
        let mut phases: Vec<&str> = object
            .kill_chain_phases
            .iter()
            .filter(|p| p.kill_chain_name == SOURCE_NAME)
            .map(|p| p.phase_name.as_str())
            .collect();
        phases.sort_by_key(|p| order.get(p).copied().unwrap_or(usize::MAX));
        phases.dedup();
        technique_at.insert(object.id.as_str(), techniques.len());
        techniques.push(Technique {
            id: id.to_string(),
            name: object.name.clone(),
            tactics: phases.into_iter().map(str::to_string).collect(),
            platforms: object.x_mitre_platforms.clone(),
            data_components: Vec::new(),
            mitigations: Vec::new(),
            status: object.status(),
        });
        if object.status().is_active() {
            texts.insert(
                id.to_string(),
                TechniqueText {
                    id: id.to_string(),
                    description: clean_text(&object.description),
                    detection: clean_text(&object.x_mitre_detection),
                    procedures: String::new(),
                    ..TechniqueText::default()
                },
            );
        }
    }

    let mut entities: Vec<Entity> = Vec::new();
    let mut entity_at: HashMap<&str, usize> = HashMap::new();
    for object in objects {
        let kind = match object.kind.as_str() {
            "intrusion-set" => EntityKind::Group,
            "malware" => EntityKind::Malware,
            "tool" => EntityKind::Tool,
            "campaign" => EntityKind::Campaign,
            "course-of-action" => EntityKind::Mitigation,
            "x-mitre-data-source" => EntityKind::DataSource,
            _ => continue,
        };
        let Some(id) = object.attack_id() else {
            continue;
        };
        // Before 2019 some mitigations carried their technique's id (`T1003`); those
        // objects are deprecated and would shadow the technique.
        if kind == EntityKind::Mitigation && !id.starts_with('M') {
            continue;
        }
        let aliases = object
            .aliases
            .iter()
            .chain(&object.x_mitre_aliases)
            .filter(|a| **a != object.name)
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        entity_at.insert(object.id.as_str(), entities.len());
        entities.push(Entity {
            id: id.to_string(),
            name: object.name.clone(),
            kind,
            aliases,
            techniques: Vec::new(),
            status: object.status(),
        });
    }

    let mut components: HashMap<usize, BTreeSet<String>> = HashMap::new();
    let mut mitigations: HashMap<usize, BTreeSet<String>> = HashMap::new();
    let mut used: HashMap<usize, BTreeSet<String>> = HashMap::new();
    let mut procedures: HashMap<usize, Vec<String>> = HashMap::new();
    let mut detections: HashMap<usize, Vec<String>> = HashMap::new();
    for relation in objects.iter().filter(|o| o.kind == "relationship") {
        if relation.revoked || relation.x_mitre_deprecated {
            continue;
        }
        let source = relation.source_ref.as_str();
        let target = relation.target_ref.as_str();
        match relation.relationship_type.as_str() {
            "revoked-by" => {
                let replacement = attack_id(target).map(str::to_string);
                if let Some(&i) = technique_at.get(source) {
                    techniques[i].status = Status::Revoked(replacement);
                } else if let Some(&i) = entity_at.get(source) {
                    entities[i].status = Status::Revoked(replacement);
                }
            }
            "mitigates" => {
                if let (Some(&t), Some(&e)) = (technique_at.get(target), entity_at.get(source)) {
                    mitigations
                        .entry(t)
                        .or_default()
                        .insert(entities[e].id.clone());
                    used.entry(e).or_default().insert(techniques[t].id.clone());
                }
            }
            "uses" => {
                let Some(&t) = technique_at.get(target) else {
                    continue;
                };
                if let Some(&e) = entity_at.get(source) {
                    used.entry(e).or_default().insert(techniques[t].id.clone());
                }
                let text = clean_text(&relation.description);
                if !text.is_empty() {
                    procedures.entry(t).or_default().push(text);
                }
            }
            "detects" => {
                let Some(&t) = technique_at.get(target) else {
                    continue;
                };
                let Some(strategy) = by_stix.get(source) else {
                    continue;
                };
                let notes = detections.entry(t).or_default();
                for analytic in strategy
                    .x_mitre_analytic_refs
                    .iter()
                    .filter_map(|a| by_stix.get(a.as_str()))
                {
                    let text = clean_text(&analytic.description);
                    if !text.is_empty() {
                        notes.push(text);
                    }
                    for reference in &analytic.x_mitre_log_source_references {
                        if let Some(component) =
                            by_stix.get(reference.x_mitre_data_component_ref.as_str())
                        {
                            components
                                .entry(t)
                                .or_default()
                                .insert(component.name.clone());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for (t, set) in components {
        techniques[t].data_components = set.into_iter().collect();
    }
    for (t, set) in mitigations {
        techniques[t].mitigations = sorted_ids(set);
    }
    for (e, set) in used {
        entities[e].techniques = sorted_ids(set);
    }
    for (i, technique) in techniques.iter().enumerate() {
        let Some(text) = texts.get_mut(&technique.id) else {
            continue;
        };
        if let Some(notes) = detections.remove(&i) {
            let notes = dedup_keep_order(notes);
            if text.detection.is_empty() {
                text.detection = notes.join(" ");
            } else if !notes.is_empty() {
                text.detection = format!("{} {}", text.detection, notes.join(" "));
            }
        }
        if let Some(examples) = procedures.remove(&i) {
            let examples = dedup_keep_order(examples);
            text.procedure_examples = u32::try_from(examples.len()).unwrap_or(u32::MAX);
            text.procedures = examples.join(" ");
        }
    }

    let modified = objects
        .iter()
        .map(|o| o.modified.as_str())
        .max()
        .unwrap_or_default()
        .to_string();
    let collection = objects
        .iter()
        .find(|o| o.kind == "x-mitre-collection" && !o.x_mitre_version.is_empty());
    let (version, version_source) = match collection {
        Some(c) => (
            Some(c.x_mitre_version.clone()),
            "x-mitre-collection".to_string(),
        ),
        None => match infer_version(&modified) {
            Some(v) => (
                Some(v),
                format!("inferred: first release on or after the newest change ({modified})"),
            ),
            None => (None, String::new()),
        },
    };
    let domain = objects
        .iter()
        .find(|o| o.kind == "x-mitre-matrix")
        .and_then(|m| m.attack_id())
        .unwrap_or("enterprise-attack")
        .to_string();
    let meta = Meta {
        version,
        version_source,
        domain,
        modified,
        source: source_name.to_string(),
    };
    Attack::assemble(
        meta,
        tactics,
        techniques,
        entities,
        texts.into_values().collect(),
    )
}

/// Tactics in the matrix's order; without a matrix, in id order.
fn tactics(objects: &[Object], by_stix: &HashMap<&str, &Object>) -> Vec<Tactic> {
    let tactic = |o: &Object| {
        Some(Tactic {
            id: o.attack_id()?.to_string(),
            name: o.name.clone(),
            shortname: o.x_mitre_shortname.clone(),
        })
    };
    let matrix = objects
        .iter()
        .find(|o| o.kind == "x-mitre-matrix" && !o.tactic_refs.is_empty());
    if let Some(matrix) = matrix {
        let ordered: Vec<Tactic> = matrix
            .tactic_refs
            .iter()
            .filter_map(|r| by_stix.get(r.as_str()))
            .filter(|o| o.kind == "x-mitre-tactic")
            .filter_map(|o| tactic(o))
            .collect();
        if !ordered.is_empty() {
            return ordered;
        }
    }
    let mut all: Vec<Tactic> = objects
        .iter()
        .filter(|o| o.kind == "x-mitre-tactic" && !o.revoked && !o.x_mitre_deprecated)
        .filter_map(tactic)
        .collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

fn sorted_ids(set: BTreeSet<String>) -> Vec<String> {
    let mut ids: Vec<String> = set.into_iter().collect();
    ids.sort_by_key(|id| {
        let digits: String = id.chars().filter(|c| c.is_ascii_digit()).collect();
        (id.chars().next(), digits.parse::<u64>().unwrap_or(u64::MAX))
    });
    ids
}

fn dedup_keep_order(items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .filter(|i| seen.insert(i.clone()))
        .collect()
}

/// Removes what is markup, not prose: `(Citation: ...)`, link targets of `[text](url)`,
/// `<code>` tags; collapses white space.
pub(crate) fn clean_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("(Citation:") {
            rest = after.split_once(')').map_or("", |(_, tail)| tail);
            continue;
        }
        if let Some(after) = rest.strip_prefix("](")
            && let Some((_, tail)) = after.split_once(')')
        {
            rest = tail;
            continue;
        }
        if let Some(after) = rest
            .strip_prefix("<code>")
            .or_else(|| rest.strip_prefix("</code>"))
        {
            rest = after;
            continue;
        }
        let Some(c) = rest.chars().next() else {
            break;
        };
        rest = &rest[c.len_utf8()..];
        if c == '[' {
            continue;
        }
        if c.is_whitespace() {
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_drops_citations_links_and_code_tags() {
        let text = "Adversaries use [Mimikatz](https://attack.mitre.org/software/S0002) \
                    (Citation: Foo 2020) to run <code>sekurlsa::logonpasswords</code>.\n\nMore.";
        assert_eq!(
            clean_text(text),
            "Adversaries use Mimikatz to run sekurlsa::logonpasswords. More."
        );
    }

    #[test]
    fn version_is_inferred_from_the_newest_change() {
        assert_eq!(
            infer_version("2025-11-12T22:03:39.105Z").as_deref(),
            Some("18.1")
        );
        assert_eq!(
            infer_version("2025-10-01T00:00:00Z").as_deref(),
            Some("18.0")
        );
        assert_eq!(infer_version("2031-01-01T00:00:00Z"), None);
    }

    #[test]
    fn a_file_that_is_not_a_bundle_is_an_error_naming_it() {
        let err = Attack::from_bundle(r#"{"type":"indicator","objects":[]}"#, "x.json")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("x.json: not an ATT&CK STIX bundle: its type is \"indicator\", not \"bundle\"")
        );
        assert!(Attack::from_bundle("[1,2", "y.json").is_err());
    }

    #[test]
    fn bad_objects_are_skipped_not_fatal() {
        let json = r#"{"type":"bundle","objects":[
            {"type":"attack-pattern","id":"attack-pattern--1","name":"Thing",
             "external_references":[{"source_name":"mitre-attack","external_id":"T9999"}]},
            {"type":"attack-pattern","id":7},
            {"type":"malware","name":["not","a","string"]}
        ]}"#;
        let attack = Attack::from_bundle(json, "small.json").expect("loads");
        assert_eq!(attack.techniques().len(), 1);
        assert_eq!(
            attack.technique("t9999").map(|t| t.name.as_str()),
            Some("Thing")
        );
    }
}
