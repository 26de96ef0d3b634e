//! What a hunt outputs: one [`Detection`] per match, and a [`Summary`].

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value as Json;
use serde_json::value::RawValue;
use vigil_event::Event;
use vigil_sigma::RuleInfo;

/// Rule levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `informational`.
    Informational,
    /// `low`.
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
}

impl Level {
    /// The level's name as rules write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    /// A rule's level; a rule without one counts as `informational`.
    pub fn of(rule: &RuleInfo) -> Level {
        rule.level
            .and_then(|l| l.parse().ok())
            .unwrap_or(Level::Informational)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "informational" | "info" => Ok(Level::Informational),
            "low" => Ok(Level::Low),
            "medium" => Ok(Level::Medium),
            "high" => Ok(Level::High),
            "critical" => Ok(Level::Critical),
            other => Err(format!(
                "unknown level `{other}` (expected informational, low, medium, high or critical)"
            )),
        }
    }
}

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
            && self.correlation == other.correlation
            && self.fields.get() == other.fields.get()
    }
}

/// An event's fields as a JSON object.
struct FieldsJson<'a>(&'a vigil_event::Fields);

impl Serialize for FieldsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter())
    }
}

impl Detection {
    /// A detection of `rule` on `event`.
    pub(crate) fn new(rule: &RuleInfo, event: &Event, selections: Vec<String>) -> Self {
        let fields = serde_json::to_string(&FieldsJson(event.fields()))
            .ok()
            .and_then(|text| RawValue::from_string(text).ok())
            .unwrap_or_else(|| RawValue::NULL.to_owned());
        Detection {
            rule_id: rule.key().to_string(),
            rule_title: rule.title.clone(),
            level: Level::of(rule),
            status: rule.status,
            tags: rule.tags.clone(),
            timestamp: event.timestamp,
            host: event.host.as_ref().map(|h| h.to_string()),
            source: DetectionSource {
                path: event.origin.path.to_string(),
                record: record_of(event),
            },
            selections,
            correlation: None,
            fields,
        }
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
    /// Wall-clock time of the hunt, in milliseconds.
    pub elapsed_ms: u64,
}
