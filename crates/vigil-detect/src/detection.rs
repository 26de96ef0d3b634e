//! What a hunt outputs: one [`Detection`] per match, and a [`Summary`].

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value as Json;
use serde_json::value::RawValue;
use vigil_event::Event;
use vigil_sigma::{Level, RuleInfo};

use crate::attack::AttackMapping;

/// Where the matched event was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectionSource {
    /// The input's path (`archive.zip!member` inside archives).
    pub path: String,
    /// The record number within the input (1-based), or the line for line formats.
    pub record: u64,
}

/// One rule match, as a line of `detections.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    /// A stable id from what was detected (rule, time, event fields, correlation), not from
    /// where it was read: the same match in another file or run has the same id, and
    /// identical detections share one.
    pub id: String,
    /// The rule's id (its title when it has none).
    pub rule_id: String,
    /// The rule's title.
    pub rule_title: String,
    /// The rule's level.
    pub level: Level,
    /// The rule's status.
    pub status: Option<&'static str>,
    /// The rule's tags.
    pub tags: Vec<String>,
    /// The rule's ATT&CK techniques and tactics (`techniques`, `tactics`), with confidence
    /// and evidence; empty until [`crate::RuleTechniques::annotate`] sets them.
    #[serde(flatten)]
    pub attack: Arc<AttackMapping>,
    /// When the event happened (for a correlation: its last event).
    pub timestamp: Option<Timestamp>,
    /// The host the event is about.
    pub host: Option<String>,
    /// Where the event was read.
    pub source: DetectionSource,
    /// The named selections that matched (empty for correlations).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub selections: Vec<String>,
    /// For a correlation rule: its type, group, aggregate value and window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation: Option<Json>,
    /// The matched event's fields (for a correlation: the event that completed it), kept
    /// as their JSON text: a hunt holds its detections until the end to sort them, and
    /// text is several times smaller than a parsed map.
    pub fields: Box<RawValue>,
}

impl PartialEq for Detection {
    fn eq(&self, other: &Self) -> bool {
        self.sort_key() == other.sort_key()
            && self.rule_title == other.rule_title
            && self.selections == other.selections
            && self.attack == other.attack
            && self.correlation == other.correlation
            && self.fields.get() == other.fields.get()
    }
}

impl Detection {
    /// A detection of `rule` on `event`.
    pub(crate) fn new(rule: &RuleInfo, event: &Event, selections: Vec<String>) -> Self {
        let fields = serde_json::to_string(event.fields())
            .ok()
            .and_then(|text| RawValue::from_string(text).ok())
            .unwrap_or_else(|| RawValue::NULL.to_owned());
        let mut detection = Detection {
            id: String::new(),
            rule_id: rule.key().to_string(),
            rule_title: rule.title.clone(),
            level: rule.reported_level(),
            status: rule.status,
            tags: rule.tags.clone(),
            attack: Arc::default(),
            timestamp: event.timestamp,
            host: event.host.as_ref().map(|h| h.to_string()),
            source: DetectionSource {
                path: event.origin.path.to_string(),
                record: record_of(event),
            },
            selections,
            correlation: None,
            fields,
        };
        detection.id = detection.content_id();
        detection
    }

    /// The id of what was detected: [`fingerprint`] over the rule, the time, the event's
    /// fields and (for a correlation) the correlation, as `d-` and 16 hex digits.
    pub fn content_id(&self) -> String {
        let time = self
            .timestamp
            .map(|t| t.as_nanosecond().to_string())
            .unwrap_or_default();
        let correlation = self.correlation.as_ref().map(|c| c.to_string());
        let hash = fingerprint(
            [
                self.rule_id.as_bytes(),
                time.as_bytes(),
                self.fields.get().as_bytes(),
            ]
            .into_iter()
            .chain(correlation.as_deref().map(str::as_bytes)),
        );
        format!("d-{hash:016x}")
    }

    /// The order detections are written in: time, then input, then record, then rule.
    pub(crate) fn sort_key(&self) -> (Option<Timestamp>, &str, u64, &str) {
        (
            self.timestamp,
            &self.source.path,
            self.source.record,
            &self.rule_id,
        )
    }
}

/// A stable 64-bit fingerprint of byte strings: FNV-1a over each part followed by a
/// separator byte, so `["ab", "c"]` and `["a", "bc"]` differ. Stable across runs and
/// platforms (unlike `std`'s hasher), for ids written to files.
pub fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().chain([&0xffu8]) {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// The record number of an event: its record, else its line.
fn record_of(event: &Event) -> u64 {
    let location = &event.origin.location;
    location.record.or(location.line).unwrap_or(0)
}

/// The counts of a hunt, as `summary.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Records found in the inputs (`events + parse_errors`).
    pub records: u64,
    /// Records read as events.
    pub events: u64,
    /// Records that could not be read.
    pub parse_errors: u64,
    /// Inputs read.
    pub files: u64,
    /// Inputs that failed as a whole (unreadable, unknown format when named).
    pub files_failed: u64,
    /// Files found in directories or archives that are in no format vigil reads.
    pub files_skipped: u64,
    /// Rules loaded.
    pub rules_loaded: usize,
    /// Rules that failed to load.
    pub rules_failed: usize,
    /// Detections written (after `--min-level`).
    pub detections: u64,
    /// Of those, correlation matches.
    pub correlations: u64,
    /// Detections per level.
    pub by_level: std::collections::BTreeMap<Level, u64>,
    /// Incidents the detections were folded into (set by the caller that correlates).
    pub incidents: u64,
    /// Detections suppression rules removed, and identical ones removed as duplicates (set
    /// by the caller that triages).
    pub suppressed: u64,
    /// Wall-clock time of the hunt, in milliseconds.
    pub elapsed_ms: u64,
}
