//! [`Incident`]: related detections, their entities, techniques and stage.

use jiff::Timestamp;
use serde::Serialize;

/// The entities of an incident, by kind, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IncidentEntities {
    /// Host names.
    pub hosts: Vec<String>,
    /// Account names (normalized: lowercase, no domain).
    pub users: Vec<String>,
    /// IP addresses.
    pub ips: Vec<String>,
    /// Cloud identities (ARNs, accounts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cloud: Vec<String>,
}

/// A technique seen in an incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentTechnique {
    /// `T1110.001`.
    pub id: String,
    /// `Password Guessing`.
    pub name: String,
    /// The highest confidence any of its detections gave it.
    pub confidence: f32,
    /// How many detections name it.
    pub detections: usize,
}

/// How far along the kill chain an incident got.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// The furthest tactic in kill-chain order (`exfiltration`), if any is known.
    pub reached: Option<String>,
    /// Each detection's main tactic in time order, repeats dropped.
    pub sequence: Vec<String>,
    /// The multi-stage progression the sequence shows
    /// (`credential theft then lateral movement`), from `data/progressions.toml`.
    pub progression: Option<String>,
    /// The tactics of that progression.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub progression_tactics: Vec<String>,
}

/// Related detections folded into one incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// A stable id from the ids of its detections (`inc-` and 12 hex digits).
    pub id: String,
    /// What it is about: its highest-level rule, and how many other rules fired.
    pub title: String,
    /// Its first detection's time.
    pub first_seen: Option<Timestamp>,
    /// Its last detection's time.
    pub last_seen: Option<Timestamp>,
    /// Hosts, users, IPs and cloud identities.
    pub entities: IncidentEntities,
    /// Techniques, most confident first.
    pub techniques: Vec<IncidentTechnique>,
    /// Tactics in kill-chain order.
    pub tactics: Vec<String>,
    /// The stage reached and the progression recognised.
    pub stage: Stage,
    /// The ids of its detections, in time order (identical detections once).
    pub detections: Vec<String>,
    /// Why its detections belong together: the shared entities that joined them
    /// (`user alice`, `ip 203.0.113.45`).
    pub links: Vec<String>,
    /// Its detections as positions in the slice given to [`crate::Correlator::correlate`], in time
    /// order (every copy of an identical detection).
    #[serde(skip)]
    pub members: Vec<usize>,
}
