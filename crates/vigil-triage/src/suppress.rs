//! Noise control: suppression rules as data, and deduplication of identical detections.
//!
//! A suppression file holds `[[suppress]]` tables:
//!
//! ```toml
//! [[suppress]]
//! rule = "5af54681-df95-4c26-854f-2565e13cfab0"   # optional: only this rule's detections
//! where = { "Image" = "*\\backup-agent.exe", "host" = ["bk01", "bk02"] }
//! reason = "nightly backup agent reads LSASS"
//! owner = "soc-team@example.com"
//! expires = 2027-01-31                              # optional; a TOML date or a string
//! ```
//!
//! `where` keys are fields of the detection's event (flat dotted names, as in
//! `detections.jsonl`), or `host` for the detection's host; values are text, numbers or
//! booleans, or lists of them (any one may match), compared ignoring case, with `*`
//! standing for any run of characters. Every key must match. A rule needs `rule` or
//! `where` (a rule with neither would hide everything). A rule whose `expires` date has
//! passed applies no more and is reported as expired.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use jiff::civil::Date;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use toml::Spanned;
use vigil_detect::Detection;

use crate::error::{Error, Result, line_column};
use crate::pattern::Pattern;

/// The key of `where` that names the detection's host rather than an event field.
pub const HOST_KEY: &str = "host";

/// One `[[suppress]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressRule {
    /// Only detections of this rule id (compared ignoring case). Optional when `where`
    /// is given.
    #[serde(default)]
    pub rule: Option<String>,
    /// Field conditions, all of which must hold: field name to one value or a list of
    /// values, `*` standing for any run of characters.
    #[serde(default, rename = "where")]
    pub conditions: BTreeMap<String, Values>,
    /// Why these detections are noise here.
    pub reason: String,
    /// Who decided, and answers for it.
    pub owner: String,
    /// The last day the rule applies (UTC); absent, it never expires.
    #[serde(default, deserialize_with = "date")]
    pub expires: Option<Date>,
}

/// The values a `where` key accepts: text, numbers and booleans, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values(pub Vec<String>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    suppress: Vec<Spanned<SuppressRule>>,
}

/// A checked rule, ready to match.
#[derive(Debug, Clone)]
struct Compiled {
    line: usize,
    rule: Option<String>,
    conditions: Vec<(String, Vec<Pattern>)>,
    written: SuppressRule,
}

/// Suppression rules of one file, and the day expiry is judged on.
#[derive(Debug, Clone)]
pub struct Suppressions {
    rules: Vec<Compiled>,
    today: Date,
}

impl Default for Suppressions {
    /// No rules; deduplication only.
    fn default() -> Self {
        Suppressions {
            rules: Vec::new(),
            today: today(),
        }
    }
}

/// What one suppression rule did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleReport {
    /// Its 1-based position in the file.
    pub index: usize,
    /// The line its table starts on.
    pub line: usize,
    /// Its rule id, if it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Its reason.
    pub reason: String,
    /// Its owner.
    pub owner: String,
    /// Its expiry date.
    pub expires: Option<Date>,
    /// Whether it has expired (and so removed nothing).
    pub expired: bool,
    /// Detections it removed (each identical detection once; a detection two rules match
    /// counts for the first).
    pub removed: usize,
}

/// What suppression and deduplication removed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SuppressionReport {
    /// Detections given.
    pub detections: usize,
    /// Detections kept.
    pub kept: usize,
    /// Copies of identical detections (same id) removed.
    pub duplicates_removed: usize,
    /// Detections suppression rules removed.
    pub suppressed: usize,
    /// Rules that have expired.
    pub expired: usize,
    /// Each rule, in file order.
    pub rules: Vec<RuleReport>,
}

impl Suppressions {
    /// Reads suppression rules from TOML `text`; `file` names it in errors. Expiry is
    /// judged on today's date (UTC) unless [`Suppressions::with_today`] says otherwise.
    pub fn from_toml(text: &str, file: &str) -> Result<Suppressions> {
        let parsed: File = toml::from_str(text).map_err(|e| Error::parse(file, text, &e))?;
        let mut rules = Vec::with_capacity(parsed.suppress.len());
        for (n, spanned) in parsed.suppress.into_iter().enumerate() {
            let line = line_column(text, spanned.span().start).0;
            let refuse = |reason: String| Error::Suppression {
                file: file.to_string(),
                line,
                index: n + 1,
                reason,
            };
            let written = spanned.into_inner();
            let rule = match written.rule.as_deref().map(str::trim) {
                Some("") => return Err(refuse("`rule` is empty".into())),
                other => other.map(str::to_string),
            };
            if rule.is_none() && written.conditions.is_empty() {
                return Err(refuse(
                    "it names no `rule` and no `where` condition, so it would hide every \
                     detection"
                        .into(),
                ));
            }
            for (what, text) in [("reason", &written.reason), ("owner", &written.owner)] {
                if text.trim().is_empty() {
                    return Err(refuse(format!("`{what}` is empty")));
                }
            }
            let mut conditions = Vec::with_capacity(written.conditions.len());
            for (field, values) in &written.conditions {
                let patterns: Vec<Pattern> =
                    values.0.iter().filter_map(|v| Pattern::new(v)).collect();
                if patterns.is_empty() || patterns.len() != values.0.len() {
                    return Err(refuse(format!("`where.{field}` has an empty value")));
                }
                conditions.push((field.clone(), patterns));
            }
            rules.push(Compiled {
                line,
                rule,
                conditions,
                written,
            });
        }
        Ok(Suppressions {
            rules,
            today: today(),
        })
    }

    /// Judges expiry on `today` instead of the current date (for reproducible runs and
    /// tests).
    pub fn with_today(mut self, today: Date) -> Suppressions {
        self.today = today;
        self
    }

    /// These rules followed by `other`'s (the server's stored suppressions after the
    /// file given at start).
    pub fn and(mut self, other: Suppressions) -> Suppressions {
        self.rules.extend(other.rules);
        self
    }

    /// The rules as written.
    pub fn rules(&self) -> impl Iterator<Item = &SuppressRule> {
        self.rules.iter().map(|r| &r.written)
    }

    /// Removes identical detections (same [`Detection::id`], keeping the first) and the
    /// detections an unexpired rule matches. Returns the positions in `detections` kept,
    /// ascending, and what was removed.
    pub fn apply(&self, detections: &[Detection]) -> (Vec<usize>, SuppressionReport) {
        let (verdicts, report) = self.decide(detections);
        let kept = verdicts
            .iter()
            .enumerate()
            .filter(|(_, v)| **v == Verdict::Keep)
            .map(|(i, _)| i)
            .collect();
        (kept, report)
    }

    /// [`Suppressions::apply`], keeping the detections themselves: those kept, and those a
    /// rule suppressed (copies of identical detections are only counted).
    pub fn partition(
        &self,
        detections: Vec<Detection>,
    ) -> (Vec<Detection>, Vec<Detection>, SuppressionReport) {
        let (verdicts, report) = self.decide(&detections);
        let mut kept = Vec::with_capacity(report.kept);
        let mut suppressed = Vec::with_capacity(report.suppressed);
        for (detection, verdict) in detections.into_iter().zip(verdicts) {
            match verdict {
                Verdict::Keep => kept.push(detection),
                Verdict::Suppressed => suppressed.push(detection),
                Verdict::Duplicate => {}
            }
        }
        (kept, suppressed, report)
    }

    /// What happens to each detection, and the report.
    fn decide(&self, detections: &[Detection]) -> (Vec<Verdict>, SuppressionReport) {
        let mut report = SuppressionReport {
            detections: detections.len(),
            rules: self
                .rules
                .iter()
                .enumerate()
                .map(|(n, r)| RuleReport {
                    index: n + 1,
                    line: r.line,
                    rule: r.rule.clone(),
                    reason: r.written.reason.clone(),
                    owner: r.written.owner.clone(),
                    expires: r.written.expires,
                    expired: r.written.expires.is_some_and(|d| d < self.today),
                    removed: 0,
                })
                .collect(),
            ..SuppressionReport::default()
        };
        report.expired = report.rules.iter().filter(|r| r.expired).count();
        let live: Vec<usize> = (0..self.rules.len())
            .filter(|&n| !report.rules[n].expired)
            .collect();
        let need_fields = live.iter().any(|&n| !self.rules[n].conditions.is_empty());

        let mut seen: HashSet<&str> = HashSet::with_capacity(detections.len());
        let mut verdicts = Vec::with_capacity(detections.len());
        for detection in detections {
            if !seen.insert(detection.id.as_str()) {
                report.duplicates_removed += 1;
                verdicts.push(Verdict::Duplicate);
                continue;
            }
            let fields: Map<String, Value> = if need_fields {
                serde_json::from_str(detection.fields.get()).unwrap_or_default()
            } else {
                Map::new()
            };
            match live
                .iter()
                .find(|&&n| self.rules[n].matches(detection, &fields))
            {
                Some(&n) => {
                    report.rules[n].removed += 1;
                    report.suppressed += 1;
                    verdicts.push(Verdict::Suppressed);
                }
                None => {
                    report.kept += 1;
                    verdicts.push(Verdict::Keep);
                }
            }
        }
        (verdicts, report)
    }
}

/// What suppression does with one detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Keep,
    Duplicate,
    Suppressed,
}

impl Compiled {
    fn matches(&self, detection: &Detection, fields: &Map<String, Value>) -> bool {
        if let Some(rule) = &self.rule
            && !rule.eq_ignore_ascii_case(&detection.rule_id)
        {
            return false;
        }
        self.conditions.iter().all(|(field, patterns)| {
            let mut values: Vec<String> = Vec::new();
            if field == HOST_KEY
                && let Some(host) = &detection.host
            {
                values.push(host.clone());
            }
            match fields.get(field) {
                Some(Value::Array(items)) => values.extend(items.iter().filter_map(scalar)),
                Some(value) => values.extend(scalar(value)),
                None => {}
            }
            values.iter().any(|v| patterns.iter().any(|p| p.matches(v)))
        })
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn today() -> Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

fn date<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Date>, D::Error> {
    let text = crate::config::date_text(d)?;
    text.parse::<Date>()
        .map(Some)
        .map_err(|e| de::Error::custom(format!("`{text}` is not a date (YYYY-MM-DD): {e}")))
}

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Values, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Values;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("text, a number, a boolean, or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Values, E> {
                Ok(Values(vec![v.to_string()]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Values, E> {
                Ok(Values(vec![v.to_string()]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Values, E> {
                Ok(Values(vec![v.to_string()]))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Values, E> {
                Ok(Values(vec![v.to_string()]))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Values, E> {
                Ok(Values(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Values, A::Error> {
                let mut out = Vec::new();
                while let Some(Values(one)) = seq.next_element::<Values>()? {
                    // Lists of lists are flattened; nobody writes them on purpose, and
                    // any-of reads the same.
                    out.extend(one);
                }
                Ok(Values(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use vigil_detect::Level;

    use super::*;
    use crate::fixtures::detection;

    const T0: &str = "2024-05-01T10:00:00Z";

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn load(text: &str) -> Suppressions {
        Suppressions::from_toml(text, "suppress.toml")
            .unwrap()
            .with_today(day("2025-01-15"))
    }

    fn sample() -> Vec<Detection> {
        vec![
            detection(
                "lsass",
                Level::High,
                "bk01",
                T0,
                json!({"Image": "C:\\Tools\\Backup-Agent.exe"}),
            ),
            detection(
                "lsass",
                Level::High,
                "ws01",
                T0,
                json!({"Image": "C:\\Users\\x\\m.exe"}),
            ),
            detection(
                "logon",
                Level::Low,
                "ws01",
                T0,
                json!({"EventID": 4624, "LogonType": [3, 10]}),
            ),
            detection("logon", Level::Low, "dc01", T0, json!({"EventID": 4625})),
        ]
    }

    #[test]
    fn identical_detections_are_kept_once() {
        let mut ds = sample();
        ds.push(ds[1].clone());
        ds.push(ds[1].clone());
        let (kept, report) = Suppressions::default().apply(&ds);
        assert_eq!(kept, [0, 1, 2, 3]);
        assert_eq!(report.duplicates_removed, 2);
        assert_eq!(
            (report.detections, report.kept, report.suppressed),
            (6, 4, 0)
        );
    }

    #[test]
    fn rules_match_by_rule_id_and_field_conditions_ignoring_case() {
        let s = load(
            r#"
            [[suppress]]
            rule = "LSASS"
            where = { Image = "*\\backup-agent.exe" }
            reason = "backup agent reads LSASS"
            owner = "alice"
            expires = 2025-06-30

            [[suppress]]
            where = { EventID = 4624, LogonType = ["10", "2"] }
            reason = "RDP logons are expected here"
            owner = "bob"
            "#,
        );
        let (kept, report) = s.apply(&sample());
        assert_eq!(kept, [1, 3]);
        assert_eq!(report.suppressed, 2);
        let removed: Vec<usize> = report.rules.iter().map(|r| r.removed).collect();
        assert_eq!(removed, [1, 1]);
        assert_eq!(report.rules[0].reason, "backup agent reads LSASS");
        assert_eq!(report.rules[0].owner, "alice");
        assert_eq!(report.rules[0].expires, Some(day("2025-06-30")));
        assert_eq!(report.rules[0].line, 2);
        assert_eq!(report.rules[1].line, 9);
    }

    #[test]
    fn host_names_the_detection_host() {
        let s = load(
            r#"
            [[suppress]]
            where = { host = ["BK*", "dc01"] }
            reason = "lab"
            owner = "soc"
            "#,
        );
        let (kept, report) = s.apply(&sample());
        assert_eq!(kept, [1, 2]);
        assert_eq!(report.rules[0].removed, 2);
    }

    #[test]
    fn a_detection_two_rules_match_counts_for_the_first() {
        let s = load(
            r#"
            [[suppress]]
            rule = "logon"
            reason = "one"
            owner = "a"
            [[suppress]]
            where = { EventID = "4625" }
            reason = "two"
            owner = "b"
            "#,
        );
        let (_, report) = s.apply(&sample());
        assert_eq!(report.rules[0].removed, 2);
        assert_eq!(report.rules[1].removed, 0);
    }

    #[test]
    fn expired_rules_do_not_apply_and_are_reported() {
        let s = load(
            r#"
            [[suppress]]
            rule = "logon"
            reason = "temporary"
            owner = "carol"
            expires = "2025-01-14"
            [[suppress]]
            rule = "lsass"
            reason = "last day still applies"
            owner = "carol"
            expires = 2025-01-15
            "#,
        );
        let (kept, report) = s.apply(&sample());
        assert_eq!(kept, [2, 3]);
        assert_eq!(report.expired, 1);
        assert!(report.rules[0].expired);
        assert_eq!(report.rules[0].removed, 0);
        assert!(!report.rules[1].expired);
    }

    #[test]
    fn partition_keeps_the_detections_themselves() {
        let s = load("[[suppress]]\nrule = \"lsass\"\nreason = \"r\"\nowner = \"o\"\n");
        let ds = sample();
        let (kept, suppressed, report) = s.partition(ds.clone());
        assert_eq!(kept, vec![ds[2].clone(), ds[3].clone()]);
        assert_eq!(suppressed, vec![ds[0].clone(), ds[1].clone()]);
        assert_eq!(report.kept, 2);
        assert_eq!(report.suppressed, 2);
    }

    #[test]
    fn the_report_serializes_per_rule_counts() {
        let s = load("[[suppress]]\nrule = \"lsass\"\nreason = \"r\"\nowner = \"o\"\n");
        let (_, report) = s.apply(&sample());
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json,
            json!({
                "detections": 4, "kept": 2, "duplicates_removed": 0, "suppressed": 2,
                "expired": 0,
                "rules": [{"index": 1, "line": 1, "rule": "lsass", "reason": "r", "owner": "o",
                           "expires": null, "expired": false, "removed": 2}]
            })
        );
    }

    fn error(text: &str) -> String {
        Suppressions::from_toml(text, "suppress.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_files_name_file_line_and_rule() {
        assert_eq!(
            error(
                "[[suppress]]\nrule = \"a\"\nreason = \"r\"\nowner = \"o\"\n\n[[suppress]]\nreason = \"r\"\nowner = \"o\"\n"
            ),
            "suppress.toml:6: suppression rule 2: it names no `rule` and no `where` condition, \
             so it would hide every detection"
        );
        assert_eq!(
            error("[[suppress]]\nrule = \"a\"\nreason = \" \"\nowner = \"o\"\n"),
            "suppress.toml:1: suppression rule 1: `reason` is empty"
        );
        assert_eq!(
            error(
                "[[suppress]]\nrule = \"a\"\nwhere = { Image = [] }\nreason = \"r\"\nowner = \"o\"\n"
            ),
            "suppress.toml:1: suppression rule 1: `where.Image` has an empty value"
        );
        let e = error(
            "[[suppress]]\nrule = \"a\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"soon\"\n",
        );
        assert!(
            e.starts_with("suppress.toml:5:11: `soon` is not a date"),
            "{e}"
        );
        let e = error("[[suppress]]\nrule = \"a\"\nreason = \"r\"\n");
        assert!(
            e.starts_with("suppress.toml:1:1: missing field `owner`"),
            "{e}"
        );
        let e =
            error("[[suppress]]\nrule = \"a\"\nreason = \"r\"\nowner = \"o\"\nowners = \"p\"\n");
        assert!(
            e.starts_with("suppress.toml:5:1: unknown field `owners`"),
            "{e}"
        );
        let e = error(
            "[[suppress]]\nrule = \"a\"\nwhere = { Image = { x = 1 } }\nreason = \"r\"\nowner = \"o\"\n",
        );
        assert!(e.starts_with("suppress.toml:3:"), "{e}");
    }
}
