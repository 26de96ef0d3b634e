//! [`Attack`]: the knowledge base, with O(1) lookups by id, tactic name and Sigma tag.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::{Entity, Tactic, Technique, TechniqueText};

/// Which ATT&CK release a knowledge base holds, and where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// The ATT&CK version (`18.1`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// How the version was found (`x-mitre-collection`, or inferred from the newest
    /// modification date).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version_source: String,
    /// `enterprise-attack`.
    pub domain: String,
    /// The newest modification time of any object (RFC 3339).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub modified: String,
    /// The bundle the data was read from (its file name).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// One object found by id.
#[derive(Debug, Clone, Copy)]
pub enum Object<'a> {
    /// A tactic (`TA0006`).
    Tactic(&'a Tactic),
    /// A technique or sub-technique (`T1003.001`).
    Technique(&'a Technique),
    /// A group, software, campaign, mitigation or data source.
    Entity(&'a Entity),
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Tactic(usize),
    Technique(usize),
    Entity(usize),
}

/// The ATT&CK knowledge base of one domain and release.
///
/// Built from a STIX bundle ([`Attack::from_bundle`]), from a compact table
/// ([`Attack::from_table`]), or from the table embedded in the binary ([`Attack::embedded`]).
#[derive(Debug, Clone)]
pub struct Attack {
    pub(crate) meta: Meta,
    pub(crate) tactics: Vec<Tactic>,
    pub(crate) techniques: Vec<Technique>,
    pub(crate) entities: Vec<Entity>,
    pub(crate) texts: Vec<TechniqueText>,
    pub(crate) loaded_from: String,
    ids: HashMap<String, Slot>,
    tactic_names: HashMap<String, usize>,
    text_of: HashMap<String, usize>,
}

impl Attack {
    /// Assembles a knowledge base and its indexes. Tactics must be in kill-chain order.
    pub(crate) fn assemble(
        meta: Meta,
        tactics: Vec<Tactic>,
        mut techniques: Vec<Technique>,
        mut entities: Vec<Entity>,
        mut texts: Vec<TechniqueText>,
    ) -> Attack {
        techniques.sort_by_key(|x| id_order(&x.id));
        entities.sort_by_key(|x| id_order(&x.id));
        texts.sort_by_key(|x| id_order(&x.id));
        let mut ids = HashMap::new();
        let mut tactic_names = HashMap::new();
        for (i, tactic) in tactics.iter().enumerate() {
            ids.insert(tactic.id.to_ascii_uppercase(), Slot::Tactic(i));
            for name in [&tactic.shortname, &tactic.name, &tactic.id] {
                tactic_names.insert(tactic_key(name), i);
            }
        }
        // Entities first, techniques last: a current technique wins an id that an old
        // object of another type also carries.
        for (i, entity) in entities.iter().enumerate() {
            ids.insert(entity.id.to_ascii_uppercase(), Slot::Entity(i));
        }
        for (i, technique) in techniques.iter().enumerate() {
            ids.insert(technique.id.to_ascii_uppercase(), Slot::Technique(i));
        }
        let meta_source = meta.source.clone();
        let text_of = texts
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.to_ascii_uppercase(), i))
            .collect();
        Attack {
            meta,
            tactics,
            techniques,
            entities,
            texts,
            loaded_from: meta_source,
            ids,
            tactic_names,
            text_of,
        }
    }

    /// The release and source.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Where this knowledge base was loaded from: `embedded`, a table file, or a bundle.
    pub fn loaded_from(&self) -> &str {
        &self.loaded_from
    }

    /// The ATT&CK version (`18.1`), when known.
    pub fn version(&self) -> Option<&str> {
        self.meta.version.as_deref()
    }

    /// Tactics in kill-chain order (reconnaissance first, impact last).
    pub fn tactics(&self) -> &[Tactic] {
        &self.tactics
    }

    /// Every technique and sub-technique, revoked and deprecated ones included, in id order.
    pub fn techniques(&self) -> &[Technique] {
        &self.techniques
    }

    /// Current techniques and sub-techniques only.
    pub fn active_techniques(&self) -> impl Iterator<Item = &Technique> {
        self.techniques.iter().filter(|t| t.status.is_active())
    }

    /// Groups, software, campaigns, mitigations and data sources, in id order.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// Any object by its ATT&CK id (`T1003.001`, `TA0006`, `G0016`, `S0002`, `M1043`),
    /// case-insensitively.
    pub fn get(&self, id: &str) -> Option<Object<'_>> {
        let slot = self.ids.get(id.trim().to_ascii_uppercase().as_str())?;
        Some(match *slot {
            Slot::Tactic(i) => Object::Tactic(&self.tactics[i]),
            Slot::Technique(i) => Object::Technique(&self.techniques[i]),
            Slot::Entity(i) => Object::Entity(&self.entities[i]),
        })
    }

    /// The object a Sigma tag names (`attack.t1059.001`, `attack.credential_access`,
    /// `attack.g0016`), case-insensitively; `None` for other tags and unknown names.
    /// Revocations are not followed (see [`Attack::resolve`], [`Attack::map_tags`]).
    pub fn tag(&self, tag: &str) -> Option<Object<'_>> {
        let name = attack_tag_name(tag)?;
        self.tactic(name)
            .map(Object::Tactic)
            .or_else(|| self.get(name))
    }

    /// A technique by id, revoked or not.
    pub fn technique(&self, id: &str) -> Option<&Technique> {
        match self.get(id)? {
            Object::Technique(t) => Some(t),
            _ => None,
        }
    }

    /// A technique by id, following revocations to the current replacement. Returns the
    /// technique reached and whether any revocation was followed.
    pub fn resolve(&self, id: &str) -> Option<(&Technique, bool)> {
        let mut technique = self.technique(id)?;
        let mut followed = false;
        // A revocation chain is short; the bound only guards against a cycle in bad data.
        for _ in 0..8 {
            match &technique.status {
                crate::Status::Revoked(Some(by)) => match self.technique(by) {
                    Some(next) => {
                        technique = next;
                        followed = true;
                    }
                    None => break,
                },
                _ => break,
            }
        }
        Some((technique, followed))
    }

    /// A tactic by short name (`credential-access` or `credential_access`), name
    /// (`Credential Access`) or id (`TA0006`), case-insensitively.
    pub fn tactic(&self, name: &str) -> Option<&Tactic> {
        self.tactic_names
            .get(&tactic_key(name))
            .map(|&i| &self.tactics[i])
    }

    /// The position of a tactic in the kill chain (0 = reconnaissance).
    pub fn tactic_order(&self, name: &str) -> Option<usize> {
        self.tactic_names.get(&tactic_key(name)).copied()
    }

    /// A group, software, campaign, mitigation or data source by id.
    pub fn entity(&self, id: &str) -> Option<&Entity> {
        match self.get(id)? {
            Object::Entity(e) => Some(e),
            _ => None,
        }
    }

    /// The sub-techniques of a technique, in id order.
    pub fn subtechniques<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Technique> + 'a {
        self.techniques
            .iter()
            .filter(move |t| t.parent_id().is_some_and(|p| p.eq_ignore_ascii_case(id)))
    }

    /// The techniques of a tactic, current ones only, in id order.
    pub fn techniques_of<'a>(
        &'a self,
        tactic: &'a Tactic,
    ) -> impl Iterator<Item = &'a Technique> + 'a {
        self.active_techniques()
            .filter(move |t| t.tactics.contains(&tactic.shortname))
    }

    /// The prose free-text mapping searches, for a technique.
    pub fn text(&self, id: &str) -> Option<&TechniqueText> {
        self.text_of
            .get(id.to_ascii_uppercase().as_str())
            .map(|&i| &self.texts[i])
    }

    /// The prose of every technique that has some.
    pub fn texts(&self) -> &[TechniqueText] {
        &self.texts
    }
}

/// What follows `attack.` in a Sigma tag (case-insensitive), trimmed.
pub(crate) fn attack_tag_name(tag: &str) -> Option<&str> {
    let tag = tag.trim();
    tag.get(..7)
        .filter(|p| p.eq_ignore_ascii_case("attack."))
        .and_then(|_| tag.get(7..))
}

/// `credential_access`, `Credential Access` and `credential-access` are one key.
fn tactic_key(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c {
            '_' | ' ' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Ids in natural order: `T1003` < `T1003.001` < `T1003.002` < `T1005`.
fn id_order(id: &str) -> (String, u32, u32) {
    let letters: String = id.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let rest = &id[letters.len()..];
    let (main, sub) = rest.split_once('.').unwrap_or((rest, ""));
    (
        letters,
        main.parse().unwrap_or(u32::MAX),
        sub.parse().unwrap_or(0),
    )
}
