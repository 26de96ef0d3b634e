//! The rule pack that ships inside vigil, so a machine that never downloaded a rule set
//! still finds the common attacks. The rules are ours, in `rules/`, one file per subject.

use crate::rules::RuleSource;

/// The built-in rule files: (name, YAML), one file per subject, correlation rules beside the
/// rules they count.
pub const RULES: &[(&str, &str)] = &[
    ("accounts.yml", include_str!("../rules/accounts.yml")),
    ("cloud.yml", include_str!("../rules/cloud.yml")),
    ("credentials.yml", include_str!("../rules/credentials.yml")),
    (
        "download_execute.yml",
        include_str!("../rules/download_execute.yml"),
    ),
    (
        "log_tampering.yml",
        include_str!("../rules/log_tampering.yml"),
    ),
    ("network.yml", include_str!("../rules/network.yml")),
    ("powershell.yml", include_str!("../rules/powershell.yml")),
    ("ssh.yml", include_str!("../rules/ssh.yml")),
    ("web.yml", include_str!("../rules/web.yml")),
];

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
