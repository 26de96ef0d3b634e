//! A structured hunting query, and running it over a hunt's detections, incidents or events.
//!
//! A question in plain words becomes a [`Query`] (by the built-in parser or by a model);
//! [`Query::check`] refuses what is not meaningful (unknown techniques, bad times), and
//! [`run`] answers it deterministically over the data: the model never sees or picks
//! the results.

use std::collections::BTreeMap;

use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use vigil_attack::Attack;

/// What a query lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Rule matches (the default).
    #[default]
    Detections,
    /// Incidents with at least one detection that matches.
    Incidents,
    /// Raw events (when the events are at hand: files given to `vigil ask`).
    Events,
}

/// How a filter compares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// The same value (case-insensitive).
    #[default]
    Equals,
    /// A different value, or none.
    NotEquals,
    /// The value contains the text (case-insensitive).
    Contains,
    /// The value starts with the text (case-insensitive).
    StartsWith,
}

/// One field condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// A field: `host`, `user`, `source.ip`, `process`, `rule`, `level`, or any event field.
    pub field: String,
    /// How to compare.
    #[serde(default)]
    pub op: Op,
    /// The value to compare with.
    pub value: String,
}

/// A hunting query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Query {
    /// What to list.
    pub target: Target,
    /// A window back from now: `30m`, `12h`, `3d`, `2w`.
    pub last: Option<String>,
    /// The earliest time (RFC 3339 or `YYYY-MM-DD`).
    pub from: Option<String>,
    /// The latest time (RFC 3339 or `YYYY-MM-DD`, that whole day).
    pub to: Option<String>,
    /// Log sources: words found in the input's path, format, channel, service or process
    /// (`ssh`, `sysmon`, `security`, `cloudtrail`).
    pub sources: Vec<String>,
    /// Field conditions, all of which must hold.
    pub filters: Vec<Filter>,
    /// ATT&CK techniques (`T1110` also matches its sub-techniques).
    pub techniques: Vec<String>,
    /// ATT&CK tactics by short name (`credential-access`).
    pub tactics: Vec<String>,
    /// Words of rule titles.
    pub rules: Vec<String>,
    /// The lowest rule level (or incident severity) to list.
    pub min_level: Option<String>,
    /// Count matches by this field instead of listing them.
    pub group_by: Option<String>,
    /// The most rows (or groups) to show.
    pub limit: Option<u32>,
}

/// Levels from lowest to highest.
const LEVELS: &[&str] = &["informational", "low", "medium", "high", "critical"];

/// Friendly field names and where they are found, in order.
const ALIASES: &[(&str, &[&str])] = &[
    (
        "user",
        &[
            "user.name",
            "TargetUserName",
            "SubjectUserName",
            "User",
            "userIdentity.userName",
            "user",
        ],
    ),
    (
        "source.ip",
        &[
            "source.ip",
            "IpAddress",
            "SourceIp",
            "src_ip",
            "sourceIPAddress",
            "client.ip",
        ],
    ),
    (
        "destination.ip",
        &["destination.ip", "DestinationIp", "dest_ip"],
    ),
    (
        "process",
        &[
            "process.executable",
            "Image",
            "process.name",
            "NewProcessName",
        ],
    ),
    ("command_line", &["process.command_line", "CommandLine"]),
    (
        "parent_process",
        &["process.parent.executable", "ParentImage"],
    ),
    ("file", &["file.path", "TargetFilename"]),
    (
        "domain",
        &[
            "destination.domain",
            "dns.question.name",
            "QueryName",
            "url.domain",
        ],
    ),
    ("event_id", &["event.code", "EventID"]),
    ("outcome", &["event.outcome"]),
    ("action", &["event.action"]),
];

/// The query's JSON Schema, as a model must answer it (every property present; `null` or
/// empty when unused).
pub fn schema() -> Value {
    let strings = |max: u64| json!({"type": "array", "items": {"type": "string", "maxLength": 80}, "maxItems": max});
    let nullable = |max: u64| json!({"type": ["string", "null"], "maxLength": max});
    json!({
        "type": "object",
        "properties": {
            "target": {"enum": ["detections", "incidents", "events"]},
            "last": nullable(8),
            "from": nullable(40),
            "to": nullable(40),
            "sources": strings(5),
            "filters": {
                "type": "array",
                "maxItems": 8,
                "items": {
                    "type": "object",
                    "properties": {
                        "field": {"type": "string", "maxLength": 80},
                        "op": {"enum": ["equals", "not_equals", "contains", "starts_with"]},
                        "value": {"type": "string", "maxLength": 200}
                    },
                    "required": ["field", "op", "value"],
                    "additionalProperties": false
                }
            },
            "techniques": strings(10),
            "tactics": strings(5),
            "rules": strings(5),
            "min_level": {"enum": [null, "informational", "low", "medium", "high", "critical"]},
            "group_by": nullable(80),
            "limit": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000}
        },
        "required": ["target", "last", "from", "to", "sources", "filters", "techniques", "tactics", "rules", "min_level", "group_by", "limit"],
        "additionalProperties": false
    })
}

impl Query {
    /// Everything that makes the query meaningless, each in words: a window that is not a
    /// duration, a time that is not a time, a technique or tactic ATT&CK does not have.
    pub fn check(&self, attack: &Attack) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(last) = &self.last
            && parse_window(last).is_none()
        {
            problems.push(format!(
                "`last` must be like 30m, 12h, 3d or 2w, not `{last}`"
            ));
        }
        for (name, value) in [("from", &self.from), ("to", &self.to)] {
            if let Some(value) = value
                && parse_time(value, name == "to").is_none()
            {
                problems.push(format!("`{name}` is not a time: `{value}`"));
            }
        }
        for technique in &self.techniques {
            if attack.technique(technique).is_none() {
                problems.push(format!("`{technique}` is not an ATT&CK technique"));
            }
        }
        for tactic in &self.tactics {
            if attack.tactic(tactic).is_none() {
                problems.push(format!("`{tactic}` is not an ATT&CK tactic"));
            }
        }
        if let Some(level) = &self.min_level
            && !LEVELS.contains(&level.as_str())
        {
            problems.push(format!(
                "`min_level` must be one of {}, not `{level}`",
                LEVELS.join(", ")
            ));
        }
        if self.filters.iter().any(|f| f.field.trim().is_empty()) {
            problems.push("a filter has no field".to_owned());
        }
        if self.target == Target::Events
            && (!self.techniques.is_empty() || !self.tactics.is_empty() || !self.rules.is_empty())
        {
            problems.push("techniques, tactics and rules apply to detections and incidents, not to raw events".to_owned());
        }
        problems
    }

    /// Whether the query asks anything at all.
    pub fn is_empty(&self) -> bool {
        self.last.is_none()
            && self.from.is_none()
            && self.to.is_none()
            && self.sources.is_empty()
            && self.filters.is_empty()
            && self.techniques.is_empty()
            && self.tactics.is_empty()
            && self.rules.is_empty()
            && self.min_level.is_none()
            && self.group_by.is_none()
            && self.target == Target::Detections
    }
}

/// What a query is run over.
#[derive(Debug, Clone, Copy, Default)]
pub struct Data<'a> {
    /// Detections as `vigil hunt` writes them.
    pub detections: &'a [Value],
    /// Incidents as `vigil hunt` writes them.
    pub incidents: &'a [Value],
    /// Events as `vigil parse` writes them, when at hand.
    pub events: Option<&'a [Value]>,
}

/// A query's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// The query that ran.
    pub query: Query,
    /// The time window it covered, when it had one: `[from, to]`.
    pub window: Option<[String; 2]>,
    /// How many rows matched.
    pub total: usize,
    /// The rows (the first `limit`), or the groups (`{"value", "count"}`, largest first).
    pub rows: Vec<Value>,
    /// Notes on how the query was read and run.
    pub notes: Vec<String>,
}

/// The default number of rows shown.
const DEFAULT_LIMIT: u32 = 50;

/// Runs `query` over `data`. Relative windows (`last`) end at `now`, or when it is `None`
/// at the newest row that matches the rest of the query (logs of the past answer "the
/// last 3 days" of their own time); a note says which.
pub fn run(query: &Query, data: Data<'_>, now: Option<Timestamp>) -> Answer {
    let mut notes = Vec::new();
    let rows: Vec<&Value> = match query.target {
        Target::Events => match data.events {
            Some(events) => events.iter().collect(),
            None => {
                notes.push(
                    "raw events are not at hand here; give log files to search events".to_owned(),
                );
                Vec::new()
            }
        },
        _ => data.detections.iter().collect(),
    };
    // Old logs answer "the last 3 days" for their own time: relative windows end at the
    // newest row that matches everything else.
    let candidates: Vec<&Value> = rows
        .into_iter()
        .filter(|row| matches(query, row, None))
        .collect();
    let window = window(query, &candidates, now, &mut notes);
    let matching: Vec<&Value> = candidates
        .into_iter()
        .filter(|row| in_window(row, window))
        .collect();
    let matching: Vec<Value> = match query.target {
        Target::Incidents => {
            let ids: std::collections::HashSet<&str> =
                matching.iter().filter_map(|d| d["id"].as_str()).collect();
            data.incidents
                .iter()
                .filter(|i| {
                    i["detections"].as_array().is_some_and(|ds| {
                        ds.iter()
                            .any(|d| d.as_str().is_some_and(|d| ids.contains(d)))
                    })
                })
                .filter(|i| level_ok(query, i["severity"].as_str()))
                .cloned()
                .collect()
        }
        _ => matching.into_iter().cloned().collect(),
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, 1000) as usize;
    let total = matching.len();
    let rows = match &query.group_by {
        Some(field) => {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for row in &matching {
                let value = get(row, field).unwrap_or_else(|| "(none)".to_owned());
                *counts.entry(value).or_default() += 1;
            }
            let mut groups: Vec<(String, usize)> = counts.into_iter().collect();
            groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            groups
                .into_iter()
                .take(limit)
                .map(|(value, count)| json!({"value": value, "count": count}))
                .collect()
        }
        None => matching
            .into_iter()
            .take(limit)
            .map(|row| summarize(query.target, &row))
            .collect(),
    };
    Answer {
        query: query.clone(),
        window: window.map(|(from, to)| [from.to_string(), to.to_string()]),
        total,
        rows,
        notes,
    }
}

/// A row as shown: the fields an analyst reads first.
fn summarize(target: Target, row: &Value) -> Value {
    match target {
        Target::Incidents => json!({
            "id": row["id"], "title": row["title"], "severity": row["severity"], "score": row["score"],
            "first_seen": row["first_seen"], "last_seen": row["last_seen"], "hosts": row["entities"]["hosts"],
        }),
        Target::Detections => json!({
            "id": row["id"], "timestamp": row["timestamp"], "rule": row["rule_title"], "level": row["level"],
            "host": row["host"], "user": get(row, "user"), "source.ip": get(row, "source.ip"),
            "techniques": row["techniques"].as_array().map(|ts| ts.iter().filter_map(|t| t["id"].as_str()).collect::<Vec<_>>()),
        }),
        Target::Events => json!({
            "timestamp": row["timestamp"], "host": row["host"], "format": row["format"],
            "message": get(row, "message"), "user": get(row, "user"), "source.ip": get(row, "source.ip"),
            "origin": row["origin"],
        }),
    }
}

type Window = Option<(Timestamp, Timestamp)>;

fn window(
    query: &Query,
    rows: &[&Value],
    now: Option<Timestamp>,
    notes: &mut Vec<String>,
) -> Window {
    let from = query.from.as_deref().and_then(|t| parse_time(t, false));
    let to = query.to.as_deref().and_then(|t| parse_time(t, true));
    let relative = query.last.as_deref().and_then(parse_window);
    if from.is_none() && to.is_none() && relative.is_none() {
        return None;
    }
    let end = match (to, relative, now) {
        (Some(to), _, _) => to,
        (None, _, Some(now)) => now,
        (None, Some(_), None) => {
            let newest = rows.iter().filter_map(|r| timestamp(r)).max();
            match newest {
                Some(newest) => {
                    notes.push(format!(
                        "\"last {}\" is counted back from the newest match in the data ({newest})",
                        query.last.as_deref().unwrap_or("")
                    ));
                    newest
                }
                None => Timestamp::now(),
            }
        }
        (None, None, None) => Timestamp::MAX,
    };
    let start = match (from, relative) {
        (Some(from), _) => from,
        (None, Some(span)) => end.checked_sub(span).unwrap_or(Timestamp::MIN),
        (None, None) => Timestamp::MIN,
    };
    Some((start, end))
}

fn in_window(row: &Value, window: Window) -> bool {
    match window {
        Some((start, end)) => timestamp(row).is_some_and(|t| t >= start && t <= end),
        None => true,
    }
}

fn matches(query: &Query, row: &Value, window: Window) -> bool {
    if !in_window(row, window) {
        return false;
    }
    if !query.sources.is_empty() {
        let provenance = provenance(row);
        if !query
            .sources
            .iter()
            .any(|s| provenance.contains(&s.to_lowercase()))
        {
            return false;
        }
    }
    if !query.techniques.is_empty() {
        let ids: Vec<String> = row["techniques"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["id"].as_str())
            .map(str::to_uppercase)
            .collect();
        let hit = query.techniques.iter().any(|want| {
            let want = want.to_uppercase();
            ids.iter()
                .any(|id| *id == want || id.starts_with(&format!("{want}.")))
        });
        if !hit {
            return false;
        }
    }
    if !query.tactics.is_empty() {
        let tactics: Vec<&str> = row["tactics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["shortname"].as_str().or(t.as_str()))
            .collect();
        if !query
            .tactics
            .iter()
            .any(|want| tactics.iter().any(|t| t.eq_ignore_ascii_case(want)))
        {
            return false;
        }
    }
    if !query.rules.is_empty() {
        let title = row["rule_title"].as_str().unwrap_or("").to_lowercase();
        if !query
            .rules
            .iter()
            .all(|word| title.contains(&word.to_lowercase()))
        {
            return false;
        }
    }
    if query.target != Target::Incidents && !level_ok(query, row["level"].as_str()) {
        return false;
    }
    query.filters.iter().all(|filter| {
        let value = get(row, &filter.field).map(|v| v.to_lowercase());
        let want = filter.value.to_lowercase();
        match (filter.op, value) {
            (Op::Equals, Some(v)) => v == want,
            (Op::NotEquals, Some(v)) => v != want,
            (Op::NotEquals, None) => true,
            (Op::Contains, Some(v)) => v.contains(&want),
            (Op::StartsWith, Some(v)) => v.starts_with(&want),
            (_, None) => false,
        }
    })
}

fn level_ok(query: &Query, level: Option<&str>) -> bool {
    let Some(min) = query
        .min_level
        .as_deref()
        .and_then(|m| LEVELS.iter().position(|l| *l == m))
    else {
        return true;
    };
    level
        .and_then(|l| LEVELS.iter().position(|x| *x == l))
        .is_some_and(|l| l >= min)
}

/// Where a row came from, lowercased: path, format, channel, service, process and rule.
fn provenance(row: &Value) -> String {
    let mut parts = Vec::new();
    for pointer in [
        "/source/path",
        "/origin/path",
        "/format",
        "/logsource/product",
        "/logsource/service",
        "/rule_title",
    ] {
        if let Some(s) = row.pointer(pointer).and_then(Value::as_str) {
            parts.push(s.to_lowercase());
        }
    }
    for field in [
        "Channel",
        "Provider_Name",
        "event.dataset",
        "event.module",
        "process.name",
        "eventSource",
    ] {
        if let Some(s) = row["fields"][field].as_str() {
            parts.push(s.to_lowercase());
        }
    }
    parts.join("\n")
}

/// A row's value of `field` as text: top-level names (`host`, `rule`, `level`,
/// `timestamp`, `format`), friendly aliases (`user`, `source.ip`...), then event fields.
pub fn get(row: &Value, field: &str) -> Option<String> {
    let top = match field {
        "host" => Some(&row["host"]),
        "rule" | "rule_title" => Some(&row["rule_title"]),
        "level" => Some(&row["level"]),
        "timestamp" | "time" => Some(&row["timestamp"]),
        "format" => Some(&row["format"]),
        _ => None,
    };
    if let Some(value) = top.and_then(text) {
        return Some(value);
    }
    if field == "host" {
        return ["host.name", "Computer", "host.hostname"]
            .iter()
            .find_map(|f| text(&row["fields"][*f]));
    }
    if let Some((_, names)) = ALIASES.iter().find(|(alias, _)| *alias == field) {
        return names.iter().find_map(|name| text(&row["fields"][*name]));
    }
    text(&row["fields"][field])
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn timestamp(row: &Value) -> Option<Timestamp> {
    row["timestamp"]
        .as_str()
        .or(row["last_seen"].as_str())?
        .parse()
        .ok()
}

/// `30m`, `12h`, `3d`, `2w` as a span.
pub fn parse_window(text: &str) -> Option<Span> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: i64 = text[..text.len() - unit.len_utf8()].trim().parse().ok()?;
    if !(1..=100_000).contains(&number) {
        return None;
    }
    match unit {
        'm' => Some(Span::new().minutes(number)),
        'h' => Some(Span::new().hours(number)),
        'd' => Some(Span::new().hours(number * 24)),
        'w' => Some(Span::new().hours(number * 24 * 7)),
        _ => None,
    }
}

/// An RFC 3339 time, or a `YYYY-MM-DD` date (its start, or its end when `end_of_day`).
pub fn parse_time(text: &str, end_of_day: bool) -> Option<Timestamp> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t);
    }
    let date: jiff::civil::Date = text.trim().parse().ok()?;
    let start = date.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    if end_of_day {
        start
            .checked_add(Span::new().hours(24))
            .ok()?
            .checked_sub(Span::new().nanoseconds(1))
            .ok()
    } else {
        Some(start)
    }
}
