//! [`DatasetStats`]: how common each rule and each key field value is across the whole
//! data set, computed once and read by every incident's rarity factors.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde_json::{Map, Value};
use vigil_detect::Detection;

/// Key fields whose rare values make a detection stand out, by what they hold: the
/// sources' own names beside the ECS names the taxonomy gives.
pub const KEY_FIELDS: &[(&str, &[&str])] = &[
    (
        "process image",
        &["Image", "process.executable", "NewProcessName"],
    ),
    ("command line", &["CommandLine", "process.command_line"]),
    (
        "parent image",
        &[
            "ParentImage",
            "process.parent.executable",
            "ParentProcessName",
        ],
    ),
    (
        "destination",
        &[
            "DestinationIp",
            "DestinationHostname",
            "destination.ip",
            "destination.domain",
            "dst_ip",
            "QueryName",
            "dns.question.name",
            "url.full",
        ],
    ),
    ("file", &["TargetFilename", "file.path"]),
    ("service", &["ServiceName", "service.name"]),
];

/// Below this many hosts in the data set, spread is measured in detections, not hosts:
/// on one or two hosts every rule fires "on every host".
pub const MIN_HOSTS_FOR_SPREAD: usize = 3;

#[derive(Debug, Default)]
struct Spread {
    detections: usize,
    hosts: HashSet<String>,
}

/// How often something occurs in the data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prevalence {
    /// Occurrences, in the unit below.
    pub count: usize,
    /// Out of this many.
    pub total: usize,
    /// Whether the unit is hosts (else detections).
    pub hosts: bool,
}

impl Prevalence {
    /// `1 - count / total`: 0 for something everywhere, near 1 for something seen once
    /// among many.
    pub fn rarity(&self) -> f32 {
        if self.total == 0 {
            return 0.0;
        }
        1.0 - self.count as f32 / self.total as f32
    }

    /// `1 of 40 hosts`, `3 of 500 detections`.
    pub fn describe(&self, of_what: &str) -> String {
        let unit = if self.hosts { "hosts" } else { "detections" };
        format!("{} of {} {unit}{of_what}", self.count, self.total)
    }
}

/// Data-set statistics: per rule and per key field value, how many detections and hosts.
/// Identical detections (same id) count once.
#[derive(Debug, Default)]
pub struct DatasetStats {
    detections: usize,
    hosts: HashSet<String>,
    rules: HashMap<String, Spread>,
    fields: HashMap<&'static str, Spread>,
    values: HashMap<(&'static str, String), Spread>,
    /// Each detection's key field values, by detection id: parsed once here and read
    /// again when incidents are scored.
    key_values: HashMap<String, KeyValues>,
    newest: Option<Timestamp>,
}

/// The key field values of one detection, by group.
pub(crate) type KeyValues = Vec<(&'static str, Vec<String>)>;

impl DatasetStats {
    /// Counts over `detections`.
    pub fn new(detections: &[Detection]) -> DatasetStats {
        let mut stats = DatasetStats::default();
        let mut seen: HashSet<&str> = HashSet::with_capacity(detections.len());
        for detection in detections {
            if !seen.insert(&detection.id) {
                continue;
            }
            stats.detections += 1;
            stats.newest = stats.newest.max(detection.timestamp);
            let host = host_key(detection);
            if let Some(host) = &host {
                stats.hosts.insert(host.clone());
            }
            let count = |spread: &mut Spread| {
                spread.detections += 1;
                if let Some(host) = &host {
                    spread.hosts.insert(host.clone());
                }
            };
            count(stats.rules.entry(detection.rule_id.clone()).or_default());
            let fields: Map<String, Value> =
                serde_json::from_str(detection.fields.get()).unwrap_or_default();
            let values = key_values(&fields);
            for (group, values) in &values {
                count(stats.fields.entry(group).or_default());
                for value in values {
                    count(stats.values.entry((group, value.clone())).or_default());
                }
            }
            if !values.is_empty() {
                stats.key_values.insert(detection.id.clone(), values);
            }
        }
        stats
    }

    /// The key field values of the detection with this id (empty when it has none or was
    /// not counted).
    pub(crate) fn key_values_of(&self, id: &str) -> &[(&'static str, Vec<String>)] {
        self.key_values.get(id).map_or(&[], Vec::as_slice)
    }

    /// Distinct detections counted.
    pub fn detections(&self) -> usize {
        self.detections
    }

    /// Distinct hosts seen.
    pub fn hosts(&self) -> usize {
        self.hosts.len()
    }

    /// The newest detection time.
    pub fn newest(&self) -> Option<Timestamp> {
        self.newest
    }

    fn prevalence(&self, of: Option<&Spread>, among: Option<&Spread>) -> Prevalence {
        let by_hosts = self.hosts.len() >= MIN_HOSTS_FOR_SPREAD;
        let size = |s: &Spread| {
            if by_hosts {
                s.hosts.len()
            } else {
                s.detections
            }
        };
        let total = match among {
            Some(among) => size(among),
            None if by_hosts => self.hosts.len(),
            None => self.detections,
        };
        Prevalence {
            count: of.map_or(0, size),
            total,
            hosts: by_hosts,
        }
    }

    /// How common a rule is: hosts it fires on out of all hosts, or (on fewer than
    /// [`MIN_HOSTS_FOR_SPREAD`] hosts) its detections out of all.
    pub fn rule(&self, rule_id: &str) -> Prevalence {
        self.prevalence(self.rules.get(rule_id), None)
    }

    /// How common a key field value (lowercase) is among the detections (or hosts) that
    /// carry the field group at all.
    pub fn value(&self, group: &'static str, value: &str) -> Prevalence {
        self.prevalence(
            self.values.get(&(group, value.to_string())),
            self.fields.get(group),
        )
    }
}

/// The host a detection counts for: its host, lowercase, without domain.
pub(crate) fn host_key(detection: &Detection) -> Option<String> {
    let host = detection.host.as_deref()?.trim();
    let short = host.split('.').next().unwrap_or(host);
    (!short.is_empty()).then(|| short.to_lowercase())
}

/// The key field values of an event's fields, lowercase, by group.
pub(crate) fn key_values(fields: &Map<String, Value>) -> KeyValues {
    let mut out = Vec::new();
    for (group, names) in KEY_FIELDS {
        let mut values: Vec<String> = names
            .iter()
            .filter_map(|name| match fields.get(*name) {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.to_lowercase()),
                _ => None,
            })
            .collect();
        values.sort();
        values.dedup();
        if !values.is_empty() {
            out.push((*group, values));
        }
    }
    out
}
