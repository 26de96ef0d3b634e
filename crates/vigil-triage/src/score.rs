//! Scoring: an incident's risk score (0 to 100), severity and confidence, each from named
//! factors that say how many points they gave and why.
//!
//! The score is the sum of the score factors' points, rounded and held to 0..=100. The
//! confidence is the sum of the `confidence.*` factors, which are given in percentage
//! points (so `confidence * 100` is their sum). Every factor is computed from the
//! incident, its detections, the [`DatasetStats`] of the whole data set and the
//! [`TriageConfig`]; nothing depends on the clock unless `now` is configured to, so the
//! same data gives the same scores.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use vigil_correlate::Incident;
use vigil_detect::{Detection, Level};

use crate::config::{Bands, TriageConfig};
use crate::stats::{DatasetStats, Prevalence};

/// A score band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Below `bands.medium`.
    Low,
    /// From `bands.medium`.
    Medium,
    /// From `bands.high`.
    High,
    /// From `bands.critical`.
    Critical,
}

impl Severity {
    /// The band of `score`.
    pub fn of(score: u8, bands: &Bands) -> Severity {
        if score >= bands.critical {
            Severity::Critical
        } else if score >= bands.high {
            Severity::High
        } else if score >= bands.medium {
            Severity::Medium
        } else {
            Severity::Low
        }
    }

    /// `critical`, `high`, `medium`, `low`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One reason behind a score or confidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Factor {
    /// The factor (`rule_level`, `kill_chain`, `confidence.mapping`).
    pub name: String,
    /// Points it contributed (score points; percentage points for `confidence.*`), to one
    /// decimal; negative ones lowered the result.
    pub weight: f32,
    /// What it saw, with the numbers.
    pub detail: String,
}

/// An incident's score, severity, confidence and the factors behind them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Triage {
    /// 0 to 100.
    pub score: u8,
    /// The band of the score.
    pub severity: Severity,
    /// How sure the score's basis is, 0 to 1, to two decimals.
    pub confidence: f32,
    /// Score factors first, in a fixed order, then the `confidence.*` factors.
    pub factors: Vec<Factor>,
}

/// Factor names.
pub mod factor {
    /// Rule level: the incident's highest Sigma rule level, and further severe rules.
    ///
    /// **What**: the points of the highest level among the incident's detections
    /// (`weights.level_*`), plus `weights.more_rules` per further distinct rule of level
    /// high or critical, at most `weights.more_rules_max`.
    ///
    /// **Why**: the rule author's level is the best prior on how bad a match is; several
    /// independent high-level rules on the same activity make it worse.
    ///
    /// **Example**: one critical and two high rules: 60 + 2 × 2 = 64 points, "highest level
    /// critical (1 critical, 2 high); 2 more rules of level high or above".
    pub const RULE_LEVEL: &str = "rule_level";
    /// Rule status: how mature the rules at the incident's highest level are.
    ///
    /// **What**: the status of the most mature rule among those at the incident's highest
    /// level: `stable` gives `weights.status_stable` (+3), `test` `weights.status_test` (0),
    /// `experimental` `weights.status_experimental` (-3), `deprecated` or `unsupported`
    /// `weights.status_deprecated` (-8); no status gives 0.
    ///
    /// **Why**: experimental rules have not been tuned against real environments and false
    /// positives are common; stable rules have.
    ///
    /// **Example**: a critical experimental rule alone: -3, "most mature rule at level
    /// critical is experimental (Mimikatz Use)".
    pub const RULE_STATUS: &str = "rule_status";
    /// Techniques: how many distinct ATT&CK techniques the incident shows.
    ///
    /// **What**: `weights.technique` (3) per distinct technique beyond the first, at most
    /// `weights.techniques_max` (9). No factor when no technique is mapped.
    ///
    /// **Why**: an intrusion uses several techniques; one technique firing repeatedly is
    /// more often an administrator's habit or a noisy rule.
    ///
    /// **Example**: T1003.001, T1021.002 and T1059.001: 6 points, "3 techniques: ...".
    pub const TECHNIQUES: &str = "techniques";
    /// Tactics: how many distinct ATT&CK tactics the incident spans.
    ///
    /// **What**: `weights.tactic` (3) per distinct tactic beyond the first, at most
    /// `weights.tactics_max` (9). Tactics are those correlation kept (mapped with
    /// confidence 0.5 or more). No factor when there is none.
    ///
    /// **Why**: activity across tactics (credential access and lateral movement and
    /// exfiltration) is an attack moving forward; one tactic alone is often tooling.
    ///
    /// **Example**: credential-access, lateral-movement: 3 points.
    pub const TACTICS: &str = "tactics";
    /// Kill-chain progress: the stage correlation recognised.
    ///
    /// **What**: `weights.progression` (10) when the detections' tactics in time order show
    /// a known multi-stage progression (`credential theft then lateral movement`), plus
    /// `weights.sequence_tactic` (2) per tactic of the time-ordered sequence beyond two, at
    /// most `weights.sequence_max` (6). No factor without a sequence.
    ///
    /// **Why**: tactics that follow each other in attack order are the strongest sign that
    /// detections are one intrusion rather than coincidences.
    ///
    /// **Example**: credential-access → execution → lateral-movement: 10 + 2 = 12 points.
    pub const KILL_CHAIN: &str = "kill_chain";
    /// Rule rarity: how rare the incident's rarest rule is in the data set.
    ///
    /// **What**: `weights.rule_rarity` (8) × (1 - prevalence) of the rarest rule, where the
    /// prevalence is the share of hosts the rule fires on (from 3 hosts in the data set) or
    /// the share of all detections it makes (below that).
    ///
    /// **Why**: a rule that fires on one host of a hundred points at something unusual; one
    /// that fires everywhere is background noise of the environment.
    ///
    /// **Example**: a rule on 1 of 40 hosts: 8 × 0.975 = 7.8 points.
    pub const RULE_RARITY: &str = "rule_rarity";
    /// Value rarity: how rare the incident's rarest key field value is in the data set.
    ///
    /// **What**: `weights.value_rarity` (6) × (1 - prevalence) of the rarest value of a key
    /// field ([`crate::stats::KEY_FIELDS`]: process image, command line, parent image,
    /// destination, file, service), prevalence being the share of hosts (from 3 hosts) or of
    /// detections carrying that kind of field that carry this value. No factor when no
    /// detection has a key field.
    ///
    /// **Why**: the same rule on a binary or destination seen nowhere else is more likely an
    /// intruder's tool than the fleet's software.
    ///
    /// **Example**: command line `rundll32 comsvcs.dll minidump ...` in 1 of 120
    /// detections with a command line: 6 × 0.99 = 5.9 points.
    pub const VALUE_RARITY: &str = "value_rarity";
    /// Asset criticality: the most critical incident host, from `[[asset]]` config.
    ///
    /// **What**: the points of the highest criticality (`weights.criticality_*`: critical
    /// 15, high 8, medium 3, low -5) among the incident's hosts that an `[[asset]]` rule
    /// matches. No factor when none matches.
    ///
    /// **Why**: the same technique on a domain controller puts the whole domain at risk; on
    /// a lab machine it may be expected.
    ///
    /// **Example**: `host = "dc*"`, `criticality = "critical"`: host dc01 gives 15 points.
    pub const ASSET_CRITICALITY: &str = "asset_criticality";
    /// Identity criticality: the most critical incident account, from `[[identity]]`
    /// config.
    ///
    /// **What**: as [`ASSET_CRITICALITY`], over the incident's users (lowercase, without
    /// domain) and the `[[identity]]` rules.
    ///
    /// **Why**: activity by or against a domain administrator or a break-glass account has
    /// a larger blast radius than by an ordinary user.
    ///
    /// **Example**: `user = "administrator"`, `criticality = "high"`: 8 points.
    pub const IDENTITY_CRITICALITY: &str = "identity_criticality";
    /// Threat intel: a detection matched a known indicator.
    ///
    /// **What**: `weights.threat_intel` (15) when any detection is a threat-intelligence
    /// match: its rule id starts with [`super::INTEL_RULE_PREFIXES`] or a tag is one of
    /// [`super::INTEL_TAGS`] (or below one, `ioc.ip`). No factor when none is.
    ///
    /// **Why**: an indicator someone has already seen in an attack is independent evidence
    /// beside behaviour rules.
    ///
    /// **Example**: a connection to an address on a feed: 15 points, "1 threat-intel
    /// detection (rules: intel-ip-c2)".
    pub const THREAT_INTEL: &str = "threat_intel";
    /// Correlation rules: a Sigma correlation rule's threshold was crossed.
    ///
    /// **What**: `weights.correlation` (8) when any detection is a correlation rule's (event
    /// count, value count, temporal). No factor when none is.
    ///
    /// **Why**: a correlation rule encodes a pattern over many events (twenty failed logons
    /// then a success) that single events do not show.
    ///
    /// **Example**: "1 correlation detection: Brute Force Then Success (event_count)".
    pub const CORRELATION: &str = "correlation";
    /// Recency: older incidents lose a little.
    ///
    /// **What**: minus `weights.recency_per_day` (1) per day the incident's last detection
    /// is older than `now` beyond `weights.recency_grace_hours` (24), at most
    /// `weights.recency_max` (10). `now` is the config's, else the newest detection of the
    /// data set. No factor without times.
    ///
    /// **Why**: among equal incidents the one still unfolding needs an analyst first; a
    /// months-old one still matters, so the loss is bounded.
    ///
    /// **Example**: last seen 4 days before the newest detection: -3 points.
    pub const RECENCY: &str = "recency";
    /// Mapping confidence: how sure the ATT&CK mapping is.
    ///
    /// **What**: [`super::CONFIDENCE_MAPPING_SHARE`] (40 percentage points) × the mean confidence of
    /// the incident's techniques; with no technique, a quarter of it.
    ///
    /// **Why**: techniques named by a rule's tags (confidence 1) are sure; ones inferred from
    /// its text, or revoked and remapped, less so.
    ///
    /// **Example**: two techniques at 1.0 and 0.6: 40 × 0.8 = 32.
    pub const CONFIDENCE_MAPPING: &str = "confidence.mapping";
    /// Status confidence: how tested the incident's rules are.
    ///
    /// **What**: [`super::CONFIDENCE_STATUS_SHARE`] (30 percentage points) × the mean trust of its
    /// distinct rules: stable 1, test 0.75, experimental or none 0.5, deprecated or
    /// unsupported 0.25.
    ///
    /// **Why**: stable rules rarely misfire; experimental ones often do.
    ///
    /// **Example**: one stable and one experimental rule: 30 × 0.75 = 22.5.
    pub const CONFIDENCE_STATUS: &str = "confidence.rule_status";
    /// Corroboration confidence: how many distinct rules agree.
    ///
    /// **What**: [`super::CONFIDENCE_CORROBORATION_SHARE`] (30 percentage points) × (0.4 + 0.2 per
    /// distinct rule beyond the first, at most 1).
    ///
    /// **Why**: one rule can misfire; several independent rules on the same entities rarely
    /// misfire together.
    ///
    /// **Example**: three rules: 30 × 0.8 = 24.
    pub const CONFIDENCE_CORROBORATION: &str = "confidence.corroboration";
}

/// Tags that mark a threat-intelligence match (compared ignoring case; `ioc.*` and
/// `intel.*` too).
pub const INTEL_TAGS: &[&str] = &["ioc", "intel", "threat-intel"];
/// Rule id prefixes of threat-intelligence matches.
pub const INTEL_RULE_PREFIXES: &[&str] = &["intel-", "ioc-"];

/// Share of the confidence from the techniques' mapping confidence.
pub const CONFIDENCE_MAPPING_SHARE: f32 = 0.4;
/// Share of the confidence from the rules' status.
pub const CONFIDENCE_STATUS_SHARE: f32 = 0.3;
/// Share of the confidence from corroborating rules.
pub const CONFIDENCE_CORROBORATION_SHARE: f32 = 0.3;

/// What every factor reads: the incident's distinct detections (one per id) and their
/// parsed fields.
struct Members<'a> {
    incident: &'a Incident,
    detections: Vec<&'a Detection>,
    config: &'a TriageConfig,
    stats: &'a DatasetStats,
}

/// Scores one incident. `detections` is the slice the incident was correlated from (its
/// `members` index into it; an incident without members finds its detections by id).
pub fn score(
    incident: &Incident,
    detections: &[Detection],
    stats: &DatasetStats,
    config: &TriageConfig,
) -> Triage {
    let members = Members {
        incident,
        detections: distinct_members(incident, detections),
        config,
        stats,
    };
    let score_factors: Vec<Factor> = [
        rule_level,
        rule_status,
        techniques,
        tactics,
        kill_chain,
        rule_rarity,
        value_rarity,
        asset_criticality,
        identity_criticality,
        threat_intel,
        correlation,
        recency,
    ]
    .iter()
    .filter_map(|f| f(&members))
    .collect();
    let confidence_factors: Vec<Factor> = [
        confidence_mapping,
        confidence_status,
        confidence_corroboration,
    ]
    .iter()
    .filter_map(|f| f(&members))
    .collect();

    let total: f32 = score_factors.iter().map(|f| f.weight).sum();
    let score = total.round().clamp(0.0, 100.0) as u8;
    let confidence: f32 = confidence_factors.iter().map(|f| f.weight).sum();
    let confidence = ((confidence).round() / 100.0).clamp(0.0, 1.0);
    Triage {
        score,
        severity: Severity::of(score, &config.bands),
        confidence,
        factors: score_factors
            .into_iter()
            .chain(confidence_factors)
            .collect(),
    }
}

fn distinct_members<'a>(incident: &Incident, detections: &'a [Detection]) -> Vec<&'a Detection> {
    let mut out: Vec<&Detection> = Vec::new();
    let mut seen = BTreeSet::new();
    if incident.members.is_empty() {
        let by_id: HashMap<&str, &Detection> = detections
            .iter()
            .rev()
            .map(|d| (d.id.as_str(), d))
            .collect();
        for id in &incident.detections {
            if let Some(d) = by_id.get(id.as_str())
                && seen.insert(id.as_str())
            {
                out.push(d);
            }
        }
    } else {
        for &i in &incident.members {
            if let Some(d) = detections.get(i)
                && seen.insert(d.id.as_str())
            {
                out.push(d);
            }
        }
    }
    out
}

fn factor(name: &str, weight: f32, detail: String) -> Option<Factor> {
    Some(Factor {
        name: name.to_string(),
        weight: round1(weight),
        detail,
    })
}

/// Rounds to one decimal, so sums and snapshots do not carry float noise.
fn round1(x: f32) -> f32 {
    let r = (x * 10.0).round() / 10.0;
    if r == 0.0 { 0.0 } else { r }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The [`factor::RULE_LEVEL`] factor.
fn rule_level(m: &Members<'_>) -> Option<Factor> {
    let w = &m.config.weights;
    let top = m.detections.iter().map(|d| d.level).max()?;
    let mut counts: BTreeMap<std::cmp::Reverse<Level>, usize> = BTreeMap::new();
    for d in &m.detections {
        *counts.entry(std::cmp::Reverse(d.level)).or_default() += 1;
    }
    let base = match top {
        Level::Informational => w.level_informational,
        Level::Low => w.level_low,
        Level::Medium => w.level_medium,
        Level::High => w.level_high,
        Level::Critical => w.level_critical,
    };
    let severe: BTreeSet<&str> = m
        .detections
        .iter()
        .filter(|d| d.level >= Level::High)
        .map(|d| d.rule_id.as_str())
        .collect();
    let more = severe.len().saturating_sub(1);
    let bonus = (more as f32 * w.more_rules).min(w.more_rules_max);
    let counts: Vec<String> = counts
        .iter()
        .map(|(level, n)| format!("{n} {}", level.0.as_str()))
        .collect();
    let mut detail = format!(
        "highest level {} ({} {})",
        top.as_str(),
        counts.join(", "),
        if m.detections.len() == 1 {
            "detection"
        } else {
            "detections"
        }
    );
    if more > 0 {
        detail.push_str(&format!(
            "; {} of level high or above",
            plural(more, "more rule", "more rules")
        ));
    }
    factor(factor::RULE_LEVEL, base + bonus, detail)
}

/// How mature a status is, for ordering: higher is more mature.
fn maturity(status: Option<&str>) -> u8 {
    match status {
        Some("stable") => 4,
        Some("test") => 3,
        Some("experimental") => 2,
        None => 1,
        Some(_) => 0,
    }
}

/// The [`factor::RULE_STATUS`] factor.
fn rule_status(m: &Members<'_>) -> Option<Factor> {
    let w = &m.config.weights;
    let top = m.detections.iter().map(|d| d.level).max()?;
    let lead = m
        .detections
        .iter()
        .filter(|d| d.level == top)
        .max_by(|a, b| {
            maturity(a.status)
                .cmp(&maturity(b.status))
                .then(b.rule_id.cmp(&a.rule_id))
        })?;
    let (points, status) = match lead.status {
        Some("stable") => (w.status_stable, "stable"),
        Some("test") => (w.status_test, "test"),
        Some("experimental") => (w.status_experimental, "experimental"),
        Some(other) => (w.status_deprecated, other),
        None => (0.0, "without status"),
    };
    factor(
        factor::RULE_STATUS,
        points,
        format!(
            "most mature rule at level {} is {status} ({})",
            top.as_str(),
            lead.rule_title
        ),
    )
}

/// The [`factor::TECHNIQUES`] factor.
fn techniques(m: &Members<'_>) -> Option<Factor> {
    let w = &m.config.weights;
    let found = &m.incident.techniques;
    if found.is_empty() {
        return None;
    }
    let points = ((found.len() - 1) as f32 * w.technique).min(w.techniques_max);
    let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
    factor(
        factor::TECHNIQUES,
        points,
        format!(
            "{}: {}",
            plural(found.len(), "technique", "techniques"),
            ids.join(", ")
        ),
    )
}

/// The [`factor::TACTICS`] factor.
fn tactics(m: &Members<'_>) -> Option<Factor> {
    let w = &m.config.weights;
    let found = &m.incident.tactics;
    if found.is_empty() {
        return None;
    }
    let points = ((found.len() - 1) as f32 * w.tactic).min(w.tactics_max);
    factor(
        factor::TACTICS,
        points,
        format!(
            "{} in kill-chain order: {}",
            plural(found.len(), "tactic", "tactics"),
            found.join(", ")
        ),
    )
}

/// The [`factor::KILL_CHAIN`] factor.
fn kill_chain(m: &Members<'_>) -> Option<Factor> {
    let w = &m.config.weights;
    let stage = &m.incident.stage;
    if stage.sequence.is_empty() {
        return None;
    }
    let steps = stage.sequence.len();
    let extra = (steps.saturating_sub(2) as f32 * w.sequence_tactic).min(w.sequence_max);
    let mut detail = format!(
        "{} in time order: {}",
        plural(steps, "tactic", "tactics"),
        stage.sequence.join(" → ")
    );
    let mut points = extra;
    if let Some(progression) = &stage.progression {
        points += w.progression;
        detail.push_str(&format!("; progression \"{progression}\""));
    }
    if let Some(reached) = &stage.reached {
        detail.push_str(&format!("; reached {reached}"));
    }
    factor(factor::KILL_CHAIN, points, detail)
}

/// The [`factor::RULE_RARITY`] factor.
fn rule_rarity(m: &Members<'_>) -> Option<Factor> {
    let rules: BTreeMap<&str, &str> = m
        .detections
        .iter()
        .map(|d| (d.rule_id.as_str(), d.rule_title.as_str()))
        .collect();
    let (title, prevalence) = rules
        .iter()
        .map(|(id, title)| (*title, m.stats.rule(id)))
        .max_by(|(ta, a), (tb, b)| a.rarity().total_cmp(&b.rarity()).then(tb.cmp(ta)))?;
    factor(
        factor::RULE_RARITY,
        m.config.weights.rule_rarity * prevalence.rarity(),
        format!(
            "rarest rule \"{title}\" fires on {}",
            prevalence.describe(" in the data set")
        ),
    )
}

/// The [`factor::VALUE_RARITY`] factor.
fn value_rarity(m: &Members<'_>) -> Option<Factor> {
    let mut best: Option<(f32, &'static str, String, Prevalence)> = None;
    for d in &m.detections {
        for (group, values) in m.stats.key_values_of(&d.id) {
            let group = *group;
            for value in values {
                let prevalence = m.stats.value(group, value);
                let rarity = prevalence.rarity();
                let better = match &best {
                    None => true,
                    Some((r, g, v, _)) => rarity > *r || (rarity == *r && (group, value) < (*g, v)),
                };
                if better {
                    best = Some((rarity, group, value.clone(), prevalence));
                }
            }
        }
    }
    let (rarity, group, value, prevalence) = best?;
    factor(
        factor::VALUE_RARITY,
        m.config.weights.value_rarity * rarity,
        format!(
            "rarest {group} \"{}\" is in {}",
            shorten(&value, 80),
            prevalence.describe(&format!(" with a {group}"))
        ),
    )
}

/// Log content is attacker-controlled and can be long; explanations quote a bounded
/// prefix.
fn shorten(text: &str, chars: usize) -> String {
    let mut out: String = text.chars().take(chars).collect();
    if text.chars().nth(chars).is_some() {
        out.push('…');
    }
    out
}

/// The [`factor::ASSET_CRITICALITY`] factor.
fn asset_criticality(m: &Members<'_>) -> Option<Factor> {
    let hits = m
        .incident
        .entities
        .hosts
        .iter()
        .filter_map(|h| Some((h, m.config.asset_criticality(h)?)));
    let mut count = 0;
    let mut best: Option<(&String, crate::Criticality, Option<&str>)> = None;
    for (host, (criticality, rule)) in hits {
        count += 1;
        if best.is_none_or(|(_, c, _)| criticality > c) {
            best = Some((host, criticality, rule.note.as_deref()));
        }
    }
    let (host, criticality, note) = best?;
    let mut detail = format!("host {host} is {}", criticality.as_str());
    if let Some(note) = note {
        detail.push_str(&format!(" ({note})"));
    }
    if count > 1 {
        detail.push_str(&format!("; {count} incident hosts have a criticality"));
    }
    factor(
        factor::ASSET_CRITICALITY,
        m.config.weights.criticality(criticality),
        detail,
    )
}

/// The [`factor::IDENTITY_CRITICALITY`] factor.
fn identity_criticality(m: &Members<'_>) -> Option<Factor> {
    let mut count = 0;
    let mut best: Option<(&String, crate::Criticality, Option<&str>)> = None;
    for user in &m.incident.entities.users {
        if let Some((criticality, rule)) = m.config.identity_criticality(user) {
            count += 1;
            if best.is_none_or(|(_, c, _)| criticality > c) {
                best = Some((user, criticality, rule.note.as_deref()));
            }
        }
    }
    let (user, criticality, note) = best?;
    let mut detail = format!("user {user} is {}", criticality.as_str());
    if let Some(note) = note {
        detail.push_str(&format!(" ({note})"));
    }
    if count > 1 {
        detail.push_str(&format!("; {count} incident users have a criticality"));
    }
    factor(
        factor::IDENTITY_CRITICALITY,
        m.config.weights.criticality(criticality),
        detail,
    )
}

/// Whether a detection is a threat-intelligence match.
pub fn is_intel(detection: &Detection) -> bool {
    let id = detection.rule_id.to_ascii_lowercase();
    INTEL_RULE_PREFIXES.iter().any(|p| id.starts_with(p))
        || detection.tags.iter().any(|tag| {
            let tag = tag.to_ascii_lowercase();
            INTEL_TAGS.iter().any(|t| {
                tag == *t || (tag.starts_with(t) && tag.as_bytes().get(t.len()) == Some(&b'.'))
            })
        })
}

/// The [`factor::THREAT_INTEL`] factor.
fn threat_intel(m: &Members<'_>) -> Option<Factor> {
    let hits: Vec<&&Detection> = m.detections.iter().filter(|d| is_intel(d)).collect();
    if hits.is_empty() {
        return None;
    }
    let rules: BTreeSet<&str> = hits.iter().map(|d| d.rule_id.as_str()).collect();
    factor(
        factor::THREAT_INTEL,
        m.config.weights.threat_intel,
        format!(
            "{} (rules: {})",
            plural(
                hits.len(),
                "threat-intel detection",
                "threat-intel detections"
            ),
            rules.into_iter().collect::<Vec<_>>().join(", ")
        ),
    )
}

/// The [`factor::CORRELATION`] factor.
fn correlation(m: &Members<'_>) -> Option<Factor> {
    let hits: Vec<&&Detection> = m
        .detections
        .iter()
        .filter(|d| d.correlation.is_some())
        .collect();
    if hits.is_empty() {
        return None;
    }
    let rules: BTreeSet<String> = hits
        .iter()
        .map(|d| {
            let kind = d
                .correlation
                .as_ref()
                .and_then(|c| c.get("type"))
                .and_then(Value::as_str);
            match kind {
                Some(kind) => format!("{} ({kind})", d.rule_title),
                None => d.rule_title.clone(),
            }
        })
        .collect();
    factor(
        factor::CORRELATION,
        m.config.weights.correlation,
        format!(
            "{}: {}",
            plural(
                hits.len(),
                "correlation detection",
                "correlation detections"
            ),
            rules.into_iter().collect::<Vec<_>>().join(", ")
        ),
    )
}

/// The [`factor::RECENCY`] factor.
fn recency(m: &Members<'_>) -> Option<Factor> {
    let w = &m.config.weights;
    let (now, configured) = match m.config.now {
        Some(now) => (now, true),
        None => (m.stats.newest()?, false),
    };
    let last = m.incident.last_seen?;
    let hours = now.duration_since(last).as_secs_f64() as f32 / 3600.0;
    let loss =
        (((hours - w.recency_grace_hours) / 24.0).max(0.0) * w.recency_per_day).min(w.recency_max);
    let reference = if configured {
        format!("the configured time {now}")
    } else {
        "the newest detection".to_string()
    };
    let age = if hours >= 48.0 {
        format!("{:.1} days", hours / 24.0)
    } else {
        format!("{hours:.1} hours")
    };
    let detail = if hours >= 0.0 {
        format!("last seen {age} before {reference}")
    } else {
        format!("last seen after {reference}")
    };
    factor(factor::RECENCY, -loss, detail)
}

/// The [`factor::CONFIDENCE_MAPPING`] factor.
fn confidence_mapping(m: &Members<'_>) -> Option<Factor> {
    let found = &m.incident.techniques;
    let (mean, detail) = if found.is_empty() {
        (0.25, "no ATT&CK technique mapped".to_string())
    } else {
        let mean = found.iter().map(|t| t.confidence).sum::<f32>() / found.len() as f32;
        (
            mean,
            format!(
                "mean mapping confidence {mean:.2} over {}",
                plural(found.len(), "technique", "techniques")
            ),
        )
    };
    factor(
        factor::CONFIDENCE_MAPPING,
        100.0 * CONFIDENCE_MAPPING_SHARE * mean,
        detail,
    )
}

/// How much a status is trusted, for confidence.
fn status_trust(status: Option<&str>) -> f32 {
    match status {
        Some("stable") => 1.0,
        Some("test") => 0.75,
        Some("experimental") | None => 0.5,
        Some(_) => 0.25,
    }
}

/// The [`factor::CONFIDENCE_STATUS`] factor.
fn confidence_status(m: &Members<'_>) -> Option<Factor> {
    let rules: BTreeMap<&str, Option<&str>> = m
        .detections
        .iter()
        .map(|d| (d.rule_id.as_str(), d.status))
        .collect();
    if rules.is_empty() {
        return None;
    }
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for status in rules.values() {
        *by_status.entry(status.unwrap_or("none")).or_default() += 1;
    }
    let mean = rules.values().map(|s| status_trust(*s)).sum::<f32>() / rules.len() as f32;
    let counts: Vec<String> = by_status.iter().map(|(s, n)| format!("{n} {s}")).collect();
    factor(
        factor::CONFIDENCE_STATUS,
        100.0 * CONFIDENCE_STATUS_SHARE * mean,
        format!(
            "rule status trust {mean:.2} over {} ({})",
            plural(rules.len(), "rule", "rules"),
            counts.join(", ")
        ),
    )
}

/// The [`factor::CONFIDENCE_CORROBORATION`] factor.
fn confidence_corroboration(m: &Members<'_>) -> Option<Factor> {
    let rules: BTreeSet<&str> = m.detections.iter().map(|d| d.rule_id.as_str()).collect();
    if rules.is_empty() {
        return None;
    }
    let share = (0.4 + 0.2 * (rules.len() - 1) as f32).min(1.0);
    factor(
        factor::CONFIDENCE_CORROBORATION,
        100.0 * CONFIDENCE_CORROBORATION_SHARE * share,
        format!(
            "{} from {}",
            plural(m.detections.len(), "detection", "detections"),
            plural(rules.len(), "distinct rule", "distinct rules")
        ),
    )
}

/// For the ranking: newer-first would punish incidents for being early, so ties go to
/// the earlier incident.
pub(crate) fn first_seen_key(first: Option<Timestamp>) -> (bool, Option<Timestamp>) {
    (first.is_none(), first)
}

#[cfg(test)]
mod tests;
