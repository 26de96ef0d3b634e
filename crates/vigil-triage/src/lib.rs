//! Triage: incidents ranked by a risk score, with the reasons.
//!
//! [`Suppressions`] first removes noise from the detections: identical detections (same
//! id) are kept once, and suppression rules written as data (rule id and field
//! conditions, reason, owner, expiry) remove what an analyst has judged benign; its
//! [`SuppressionReport`] says how many detections each rule removed. After correlation,
//! [`triage`] scores each [`Incident`] from 0 to 100 with a confidence, places it in a
//! [`Severity`] band and lists the [`Factor`]s behind both, then ranks the incidents.
//! Scoring reads [`DatasetStats`] of the whole data set (how rare each rule and key field
//! value is) and the [`TriageConfig`] (critical assets and identities, weights, bands).
//! It is deterministic: the reference time for recency is the newest detection unless
//! configured.
//!
//! ```
//! use vigil_triage::{Suppressions, TriageConfig, triage};
//!
//! let suppressions = Suppressions::from_toml(
//!     r#"
//!     [[suppress]]
//!     rule = "noisy-rule"
//!     reason = "fires on every login script"
//!     owner = "soc"
//!     "#,
//!     "suppress.toml",
//! )?;
//! let config = TriageConfig::from_toml(
//!     r#"
//!     [[asset]]
//!     host = "dc*"
//!     criticality = "critical"
//!     "#,
//!     "triage.toml",
//! )?;
//! let detections = Vec::new(); // from a hunt
//! let (detections, _suppressed, report) = suppressions.partition(detections);
//! assert_eq!(report.kept, 0);
//! let attack = vigil_attack::Attack::embedded().expect("embedded ATT&CK");
//! let incidents = vigil_correlate::Correlator::new(&attack, Default::default())
//!     .expect("built-in correlation data")
//!     .correlate(&detections);
//! let ranked = triage(incidents, &detections, &config);
//! assert!(ranked.is_empty());
//! # Ok::<(), vigil_triage::Error>(())
//! ```
#![warn(missing_docs)]

mod config;
mod error;
mod pattern;
mod score;
mod stats;
mod suppress;

#[cfg(test)]
mod fixtures;

use jiff::Timestamp;
use serde::Serialize;
use vigil_correlate::{Incident, IncidentEntities, IncidentTechnique, Stage};
use vigil_detect::Detection;

pub use config::{AssetRule, Bands, Criticality, IdentityRule, TriageConfig, Weights};
pub use error::{Error, Result};
pub use score::{
    CONFIDENCE_CORROBORATION_SHARE, CONFIDENCE_MAPPING_SHARE, CONFIDENCE_STATUS_SHARE, Factor,
    INTEL_RULE_PREFIXES, INTEL_TAGS, Severity, Triage, factor, is_intel, score,
};
pub use stats::{DatasetStats, KEY_FIELDS, MIN_HOSTS_FOR_SPREAD, Prevalence};
pub use suppress::{HOST_KEY, RuleReport, SuppressRule, SuppressionReport, Suppressions, Values};

/// The keys of an incident in `incidents.json`, in the order they are written: the
/// documented contract.
pub const INCIDENT_FIELDS: [&str; 13] = [
    "id",
    "title",
    "score",
    "severity",
    "confidence",
    "first_seen",
    "last_seen",
    "entities",
    "techniques",
    "tactics",
    "stage",
    "detections",
    "factors",
];

/// An incident with its score, as a line of `incidents.json`. It repeats the fields of
/// [`Incident`] rather than flattening it so that the keys come in the documented order
/// ([`INCIDENT_FIELDS`]), score first after the title.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriagedIncident {
    /// The incident's id (`inc-` and 12 hex digits).
    pub id: String,
    /// What it is about.
    pub title: String,
    /// 0 to 100.
    pub score: u8,
    /// The score's band.
    pub severity: Severity,
    /// 0 to 1.
    pub confidence: f32,
    /// Its first detection's time.
    pub first_seen: Option<Timestamp>,
    /// Its last detection's time.
    pub last_seen: Option<Timestamp>,
    /// Hosts, users, IPs (and cloud identities when there are any).
    pub entities: IncidentEntities,
    /// Techniques, most confident first.
    pub techniques: Vec<IncidentTechnique>,
    /// Tactics in kill-chain order.
    pub tactics: Vec<String>,
    /// The stage reached and the progression recognised.
    pub stage: Stage,
    /// Its detections' ids, in time order.
    pub detections: Vec<String>,
    /// Why it scored what it scored: score factors, then `confidence.*` factors.
    pub factors: Vec<Factor>,
    /// The shared entities that joined its detections (not written to `incidents.json`).
    #[serde(skip)]
    pub links: Vec<String>,
    /// Its detections as positions in the slice given to [`triage`].
    #[serde(skip)]
    pub members: Vec<usize>,
}

impl TriagedIncident {
    fn new(incident: Incident, triage: Triage) -> TriagedIncident {
        TriagedIncident {
            id: incident.id,
            title: incident.title,
            score: triage.score,
            severity: triage.severity,
            confidence: triage.confidence,
            first_seen: incident.first_seen,
            last_seen: incident.last_seen,
            entities: incident.entities,
            techniques: incident.techniques,
            tactics: incident.tactics,
            stage: incident.stage,
            detections: incident.detections,
            factors: triage.factors,
            links: incident.links,
            members: incident.members,
        }
    }
}

/// Scores `incidents` (correlated from `detections`) and ranks them: highest score
/// first, then earliest first seen, then id. The same input gives the same output.
pub fn triage(
    incidents: Vec<Incident>,
    detections: &[Detection],
    config: &TriageConfig,
) -> Vec<TriagedIncident> {
    let stats = DatasetStats::new(detections);
    let mut ranked: Vec<TriagedIncident> = incidents
        .into_iter()
        .map(|incident| {
            let triage = score(&incident, detections, &stats, config);
            TriagedIncident::new(incident, triage)
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| {
                score::first_seen_key(a.first_seen).cmp(&score::first_seen_key(b.first_seen))
            })
            .then_with(|| a.id.cmp(&b.id))
    });
    ranked
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use vigil_detect::Level;

    use super::*;
    use crate::fixtures::{detection, with_techniques};

    fn hunt() -> Vec<Detection> {
        vec![
            detection(
                "noise",
                Level::Low,
                "ws01",
                "2024-05-01T08:00:00Z",
                json!({"User": "bob"}),
            ),
            with_techniques(
                detection(
                    "lsass",
                    Level::High,
                    "ws02",
                    "2024-05-01T09:00:00Z",
                    json!({"User": "CORP\\alice"}),
                ),
                &[("T1003.001", "credential-access", 1.0)],
            ),
            with_techniques(
                detection(
                    "psexec",
                    Level::High,
                    "dc01",
                    "2024-05-01T09:10:00Z",
                    json!({"TargetUserName": "alice"}),
                ),
                &[("T1021.002", "lateral-movement", 1.0)],
            ),
        ]
    }

    fn correlate(detections: &[Detection]) -> Vec<Incident> {
        let attack = vigil_attack::Attack::embedded().unwrap();
        vigil_correlate::Correlator::new(&attack, Default::default())
            .unwrap()
            .correlate(detections)
    }

    #[test]
    fn incidents_are_ranked_by_score_and_serialize_the_incidents_json_shape() {
        let detections = hunt();
        let ranked = triage(
            correlate(&detections),
            &detections,
            &TriageConfig::default(),
        );
        assert_eq!(ranked.len(), 2);
        assert!(ranked[0].score > ranked[1].score);
        assert_eq!(ranked[0].entities.users, ["alice"]);
        assert_eq!(
            ranked[0].stage.progression.as_deref(),
            Some("credential theft then lateral movement")
        );
        let value = serde_json::to_value(&ranked[0]).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, INCIDENT_FIELDS);
        let factor = &value["factors"][0];
        assert_eq!(
            factor.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["name", "weight", "detail"]
        );
        assert!(value["entities"].get("cloud").is_none());
    }

    #[test]
    fn triage_does_not_depend_on_input_order() {
        let detections = hunt();
        let mut reversed = detections.clone();
        reversed.reverse();
        let config = TriageConfig::default();
        let a = triage(correlate(&detections), &detections, &config);
        let b = triage(correlate(&reversed), &reversed, &config);
        // Members are positions in each input. The title is left out: correlation picks
        // the lead among equal-level rules by input position (reported to its owners).
        let strip = |v: Vec<TriagedIncident>| {
            v.into_iter()
                .map(|mut t| {
                    t.members.clear();
                    t.title.clear();
                    t
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(a), strip(b));
    }

    #[test]
    fn ties_rank_by_first_seen_then_id() {
        let detections = vec![
            detection("a", Level::Medium, "h2", "2024-05-01T10:00:00Z", json!({})),
            detection("a", Level::Medium, "h1", "2024-05-01T09:00:00Z", json!({})),
        ];
        let ranked = triage(
            correlate(&detections),
            &detections,
            &TriageConfig::default(),
        );
        assert_eq!(ranked.len(), 2);
        assert_eq!(ranked[0].score, ranked[1].score);
        assert!(ranked[0].first_seen < ranked[1].first_seen);
    }
}

#[cfg(test)]
mod documented_examples {
    #[test]
    fn the_example_files_in_docs_parse() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/");
        let text = std::fs::read_to_string(format!("{root}suppressions.example.toml"))
            .expect("docs/suppressions.example.toml");
        let suppressions = crate::Suppressions::from_toml(&text, "suppressions.example.toml")
            .expect("the suppression example parses");
        assert_eq!(suppressions.rules().count(), 2);
        let text = std::fs::read_to_string(format!("{root}triage.example.toml"))
            .expect("docs/triage.example.toml");
        crate::TriageConfig::from_toml(&text, "triage.example.toml")
            .expect("the triage example parses");
    }
}
