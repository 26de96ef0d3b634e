//! ATT&CK on detections: each rule's techniques and tactics, mapped once per rule.

use std::collections::HashMap;
use std::sync::Arc;

use vigil_attack::{Attack, Mapping, TechniqueHit};
use vigil_sigma::{RuleInfo, RuleSet};

use crate::Detection;

/// The techniques and tactics of a detection's rule, with confidence and evidence (and
/// the rule's ATT&CK tags that named nothing known, with the reason).
pub type AttackMapping = Mapping;

/// Free-text mapping, for rules whose tags name no technique the loaded ATT&CK release
/// knows: given a rule's text in weighted parts (title, description), the techniques it
/// describes (as [`vigil_attack::TextMapper::map_parts`]).
pub type TextMapping<'a> = dyn Fn(&[(&str, f32)]) -> Vec<TechniqueHit> + Sync + 'a;

/// Maps rules to ATT&CK and annotates detections with the result.
///
/// A rule's tags decide first ([`Attack::map_tags`]); a rule with no technique tag that
/// resolves is mapped from its title and description by `text`, when given, so its
/// detections still carry techniques, with the text mapper's lower confidence and
/// evidence saying so.
pub struct RuleTechniques<'a> {
    attack: &'a Attack,
    text: Option<&'a TextMapping<'a>>,
    by_rule: HashMap<String, Arc<AttackMapping>>,
}

impl<'a> RuleTechniques<'a> {
    /// A mapper over `attack`, with optional free-text mapping.
    pub fn new(attack: &'a Attack, text: Option<&'a TextMapping<'a>>) -> Self {
        RuleTechniques {
            attack,
            text,
            by_rule: HashMap::new(),
        }
    }

    /// The mapping of one rule (computed once, then shared).
    pub fn of(&mut self, rule: &RuleInfo) -> Arc<AttackMapping> {
        if let Some(found) = self.by_rule.get(rule.key()) {
            return Arc::clone(found);
        }
        let mapped = Arc::new(self.map(rule));
        self.by_rule
            .insert(rule.key().to_string(), Arc::clone(&mapped));
        mapped
    }

    fn map(&self, rule: &RuleInfo) -> AttackMapping {
        let mut mapping = self.attack.map_tags(&rule.tags);
        if mapping.techniques.is_empty()
            && let Some(text) = self.text
        {
            let [title, description, _] = vigil_attack::RULE_PART_WEIGHTS;
            let mut hits = text(&[
                (rule.title.as_str(), title),
                (rule.description.as_deref().unwrap_or(""), description),
            ]);
            for hit in &mut hits {
                hit.evidence
                    .insert(0, "mapped from the rule's title and description".into());
            }
            let from_text = self.attack.mapping_from_hits(hits);
            mapping.techniques = from_text.techniques;
            // Tactic tags stay; text adds the tactics of its techniques only when the
            // rule named none.
            if mapping.tactics.is_empty() {
                mapping.tactics = from_text.tactics;
            }
        }
        mapping
    }

    /// Sets the techniques and tactics of each detection from its rule in `rules`.
    /// Detections whose rule is not in `rules` are left as they are.
    pub fn annotate(&mut self, detections: &mut [Detection], rules: &RuleSet) {
        let by_key: HashMap<&str, &RuleInfo> = rules.rules().map(|r| (r.key(), r)).collect();
        for detection in detections {
            if let Some(rule) = by_key.get(detection.rule_id.as_str()) {
                detection.attack = self.of(rule);
            }
        }
    }
}
