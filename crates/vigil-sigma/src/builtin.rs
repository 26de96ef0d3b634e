//! The rule pack that ships inside vigil, so a machine that never downloaded a rule set
//! still finds the common attacks. The rules are ours, in `rules/`, one file per subject.

use crate::rules::RuleSource;

/// The built-in rule files: (name, YAML).
pub const RULES: &[(&str, &str)] = &[];

/// The built-in rules as sources for [`crate::RuleSet::load`], named `builtin:<file>`.
pub fn sources() -> Vec<RuleSource> {
    RULES
        .iter()
        .map(|(name, yaml)| RuleSource::Text {
            name: format!("builtin:{name}"),
            yaml: (*yaml).to_string(),
        })
        .collect()
}
