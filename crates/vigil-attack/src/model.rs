//! The ATT&CK objects vigil keeps: tactics, techniques and the named things around them.

use serde::{Deserialize, Serialize};

/// A tactic: the adversary's goal (`TA0006` Credential Access, short name `credential-access`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tactic {
    /// `TA0006`.
    pub id: String,
    /// `Credential Access`.
    pub name: String,
    /// `credential-access`: the name Sigma tags and kill-chain phases use.
    pub shortname: String,
}

/// Whether an object is current.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "by")]
pub enum Status {
    /// Current.
    #[default]
    Active,
    /// Replaced: the id of its replacement, when the bundle names one.
    Revoked(Option<String>),
    /// No longer maintained; deprecated objects have no replacement.
    Deprecated,
}

impl Status {
    /// Current, neither revoked nor deprecated.
    pub fn is_active(&self) -> bool {
        matches!(self, Status::Active)
    }
}

/// A technique or sub-technique (`T1003`, `T1003.001`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Technique {
    /// `T1003.001`.
    pub id: String,
    /// `LSASS Memory`.
    pub name: String,
    /// The tactics it serves, by short name, in kill-chain order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tactics: Vec<String>,
    /// `Windows`, `Linux`, `IaaS`, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// The data components its detection strategies read (`Process Creation`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_components: Vec<String>,
    /// The mitigations that apply (`M1043`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mitigations: Vec<String>,
    /// Current, revoked (with replacement) or deprecated.
    #[serde(default, skip_serializing_if = "Status::is_active")]
    pub status: Status,
}

impl Technique {
    /// Whether this is a sub-technique (`T1003.001`).
    pub fn is_subtechnique(&self) -> bool {
        self.id.contains('.')
    }

    /// The parent's id of a sub-technique (`T1003` for `T1003.001`).
    pub fn parent_id(&self) -> Option<&str> {
        self.id.split_once('.').map(|(parent, _)| parent)
    }

    /// The technique's id without its sub-technique part (`T1003` for both).
    pub fn base_id(&self) -> &str {
        self.parent_id().unwrap_or(&self.id)
    }

    /// The technique's page on attack.mitre.org.
    pub fn url(&self) -> String {
        format!(
            "https://attack.mitre.org/techniques/{}/",
            self.id.replace('.', "/")
        )
    }
}

/// What kind of named thing an [`Entity`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntityKind {
    /// A threat group (`G0016` APT29), STIX `intrusion-set`.
    Group,
    /// Malware (`S0154` Cobalt Strike).
    Malware,
    /// A tool (`S0002` Mimikatz).
    Tool,
    /// A campaign (`C0024` SolarWinds Compromise).
    Campaign,
    /// A mitigation (`M1043` Credential Access Protection), STIX `course-of-action`.
    Mitigation,
    /// A data source (`DS0005` WMI); deprecated in ATT&CK 18, kept so old tags resolve.
    DataSource,
}

impl EntityKind {
    /// `group`, `malware`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Group => "group",
            EntityKind::Malware => "malware",
            EntityKind::Tool => "tool",
            EntityKind::Campaign => "campaign",
            EntityKind::Mitigation => "mitigation",
            EntityKind::DataSource => "data-source",
        }
    }

    /// Whether this is software (malware or a tool).
    pub fn is_software(self) -> bool {
        matches!(self, EntityKind::Malware | EntityKind::Tool)
    }
}

/// A group, piece of software, campaign, mitigation or data source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// `G0016`, `S0002`, `C0024`, `M1043`, `DS0005`.
    pub id: String,
    /// `APT29`.
    pub name: String,
    /// What it is.
    #[serde(rename = "type")]
    pub kind: EntityKind,
    /// Other names (`Cozy Bear`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The techniques it uses (groups, software, campaigns) or mitigates (mitigations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<String>,
    /// Current, revoked or deprecated.
    #[serde(default, skip_serializing_if = "Status::is_active")]
    pub status: Status,
}

/// The prose of a technique that free-text mapping searches.
///
/// Read from a bundle, the fields hold prose. The table built into vigil holds only the
/// words free-text mapping indexes, stemmed and sorted (`terms` is true): the statistics
/// the mapper needs, not MITRE's prose, which `vigil attack update` installs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TechniqueText {
    /// The technique's id.
    pub id: String,
    /// Whether the fields hold index terms (stems, sorted) rather than prose.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub terms: bool,
    /// How many procedure examples the technique has.
    #[serde(default)]
    pub procedure_examples: u32,
    /// Its description, citations and link targets removed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The analytics of its detection strategies (and any older detection notes).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detection: String,
    /// The procedure examples: how groups, software and campaigns used it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub procedures: String,
}
