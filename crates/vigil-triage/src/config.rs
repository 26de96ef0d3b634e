//! [`TriageConfig`]: what the scoring knows about the environment (critical assets and
//! identities), the weights of its factors, the reference time, and the severity bands.
//!
//! ```toml
//! now = "2024-05-01T12:00:00Z"       # optional; default: the newest detection
//!
//! [[asset]]
//! host = "dc*"                       # `*` stands for any run of characters
//! criticality = "critical"
//! note = "domain controllers"
//!
//! [[identity]]
//! user = "administrator"             # compared as correlation names users: lowercase, no domain
//! criticality = "high"
//!
//! [weights]
//! level_high = 50
//!
//! [bands]
//! critical = 85
//! ```

use serde::{Deserialize, Deserializer, Serialize};
use toml::Spanned;

use crate::error::{Error, Result, line_column};
use crate::pattern::Pattern;

/// Triage settings, as written in a TOML file (every key optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageConfig {
    /// The time recency is measured from (RFC 3339, `2024-05-01T12:00:00Z`). Default: the
    /// newest detection in the data set, so the same data scores the same on any day.
    #[serde(default, deserialize_with = "timestamp")]
    pub now: Option<jiff::Timestamp>,
    /// Hosts that matter more (or less) than others, `[[asset]]`. The highest criticality
    /// of any incident host counts.
    #[serde(default)]
    pub asset: Vec<AssetRule>,
    /// Accounts that matter more (or less) than others, `[[identity]]`. The highest
    /// criticality of any incident user counts.
    #[serde(default)]
    pub identity: Vec<IdentityRule>,
    /// Points of each scoring factor, `[weights]`.
    #[serde(default)]
    pub weights: Weights,
    /// Score thresholds of the severity bands, `[bands]`.
    #[serde(default)]
    pub bands: Bands,
}

/// How much an asset or identity matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    /// Test machines, kiosks, service accounts known to be noisy.
    Low,
    /// Ordinary workstations and users.
    Medium,
    /// Servers, administrators.
    High,
    /// Domain controllers, identity providers, domain and enterprise administrators.
    Critical,
}

impl Criticality {
    /// `low`, `medium`, `high`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::Critical => "critical",
        }
    }
}

/// One `[[asset]]`: hosts matching `host` have `criticality`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetRule {
    /// Host name pattern, compared ignoring case with incident hosts, which carry no
    /// domain (`dc01.corp.example` is compared as `dc01`); `*` stands for any run of
    /// characters (`dc*`, `*-sql`).
    pub host: String,
    /// How much the host matters.
    pub criticality: Criticality,
    /// Why, shown in the factor's explanation (`domain controllers`).
    #[serde(default)]
    pub note: Option<String>,
}

/// One `[[identity]]`: accounts matching `user` have `criticality`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityRule {
    /// Account name pattern. `CORP\Administrator` and `administrator@corp.example` are
    /// reduced to `administrator`, as correlation names users; `*` stands for any run of
    /// characters (`adm-*`, `svc_*`).
    pub user: String,
    /// How much the account matters.
    pub criticality: Criticality,
    /// Why, shown in the factor's explanation (`domain administrators`).
    #[serde(default)]
    pub note: Option<String>,
}

/// Points each scoring factor adds (negative points lower the score). See
/// [`crate::score`] for what each factor measures.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// Points of an incident whose highest rule level is `informational`.
    pub level_informational: f32,
    /// Points of an incident whose highest rule level is `low`.
    pub level_low: f32,
    /// Points of an incident whose highest rule level is `medium`.
    pub level_medium: f32,
    /// Points of an incident whose highest rule level is `high`.
    pub level_high: f32,
    /// Points of an incident whose highest rule level is `critical`.
    pub level_critical: f32,
    /// Points per further distinct rule of level `high` or `critical` beyond the first.
    pub more_rules: f32,
    /// At most this many points from `more_rules`.
    pub more_rules_max: f32,
    /// Points when the incident's most mature rule at its highest level is `stable`.
    pub status_stable: f32,
    /// Points when it is `test`.
    pub status_test: f32,
    /// Points when it is `experimental`.
    pub status_experimental: f32,
    /// Points when it is `deprecated` or `unsupported`.
    pub status_deprecated: f32,
    /// Points per distinct ATT&CK technique beyond the first.
    pub technique: f32,
    /// At most this many points from `technique`.
    pub techniques_max: f32,
    /// Points per distinct ATT&CK tactic beyond the first.
    pub tactic: f32,
    /// At most this many points from `tactic`.
    pub tactics_max: f32,
    /// Points when the incident's tactics in time order show a known multi-stage
    /// progression (`credential theft then lateral movement`).
    pub progression: f32,
    /// Points per tactic of the incident's time-ordered sequence beyond two.
    pub sequence_tactic: f32,
    /// At most this many points from `sequence_tactic`.
    pub sequence_max: f32,
    /// Points of a rule that fires nowhere else in the data set (scaled down the more
    /// hosts, or detections, it fires on).
    pub rule_rarity: f32,
    /// Points of a key field value (process image, command line, destination) seen
    /// nowhere else in the data set (scaled likewise).
    pub value_rarity: f32,
    /// Points of a `critical` asset or identity.
    pub criticality_critical: f32,
    /// Points of a `high` asset or identity.
    pub criticality_high: f32,
    /// Points of a `medium` asset or identity.
    pub criticality_medium: f32,
    /// Points of a `low` asset or identity (usually negative).
    pub criticality_low: f32,
    /// Points when any detection is a threat-intelligence match.
    pub threat_intel: f32,
    /// Points when any detection is a correlation rule's (a threshold was crossed).
    pub correlation: f32,
    /// Points lost per day the incident's last detection is older than `now`, after
    /// `recency_grace_hours`.
    pub recency_per_day: f32,
    /// At most this many points lost to age.
    pub recency_max: f32,
    /// Hours before age costs anything.
    pub recency_grace_hours: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            level_informational: 5.0,
            level_low: 15.0,
            level_medium: 30.0,
            level_high: 45.0,
            level_critical: 60.0,
            more_rules: 2.0,
            more_rules_max: 6.0,
            status_stable: 3.0,
            status_test: 0.0,
            status_experimental: -3.0,
            status_deprecated: -8.0,
            technique: 3.0,
            techniques_max: 9.0,
            tactic: 3.0,
            tactics_max: 9.0,
            progression: 10.0,
            sequence_tactic: 2.0,
            sequence_max: 6.0,
            rule_rarity: 8.0,
            value_rarity: 6.0,
            criticality_critical: 15.0,
            criticality_high: 8.0,
            criticality_medium: 3.0,
            criticality_low: -5.0,
            threat_intel: 15.0,
            correlation: 8.0,
            recency_per_day: 1.0,
            recency_max: 10.0,
            recency_grace_hours: 24.0,
        }
    }
}

impl Weights {
    /// The points of `criticality`.
    pub fn criticality(&self, criticality: Criticality) -> f32 {
        match criticality {
            Criticality::Low => self.criticality_low,
            Criticality::Medium => self.criticality_medium,
            Criticality::High => self.criticality_high,
            Criticality::Critical => self.criticality_critical,
        }
    }
}

/// The lowest score of each severity band; below `medium` is `low`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bands {
    /// Lowest `critical` score.
    pub critical: u8,
    /// Lowest `high` score.
    pub high: u8,
    /// Lowest `medium` score.
    pub medium: u8,
}

impl Default for Bands {
    fn default() -> Self {
        Bands {
            critical: 80,
            high: 60,
            medium: 35,
        }
    }
}

impl TriageConfig {
    /// Reads a triage config from TOML `text`; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<TriageConfig> {
        let config: TriageConfig =
            toml::from_str(text).map_err(|e| Error::parse(file, text, &e))?;
        let refuse = |field: String, line: usize, reason: String| Error::Config {
            file: file.to_string(),
            line,
            field,
            reason,
        };
        let bands = &config.bands;
        if !(bands.critical > bands.high && bands.high > bands.medium && bands.critical <= 100) {
            return Err(refuse(
                "bands".into(),
                Lines::of(text).bands,
                format!(
                    "thresholds must fall: 100 >= critical > high > medium, got critical {}, \
                     high {}, medium {}",
                    bands.critical, bands.high, bands.medium
                ),
            ));
        }
        if let Some(n) = config.asset.iter().position(|a| a.host.trim().is_empty()) {
            let line = Lines::of(text).asset.get(n).copied().unwrap_or(1);
            let reason = "the pattern is empty".into();
            return Err(refuse(format!("asset[{}].host", n + 1), line, reason));
        }
        if let Some(n) = config
            .identity
            .iter()
            .position(|i| i.user.trim().is_empty())
        {
            let line = Lines::of(text).identity.get(n).copied().unwrap_or(1);
            let reason = "the pattern is empty".into();
            return Err(refuse(format!("identity[{}].user", n + 1), line, reason));
        }
        Ok(config)
    }

    /// The criticality of `host` (lowercase, no domain) and the rule that set it: the
    /// highest of the `[[asset]]` rules that match, the first among equals.
    pub fn asset_criticality(&self, host: &str) -> Option<(Criticality, &AssetRule)> {
        // Incident hosts carry no domain; neither does the pattern, once reduced.
        best(self.asset.iter(), host, |a| {
            let host = a.host.trim().to_lowercase();
            let short = match host.split_once('.') {
                Some((name, _)) if !name.is_empty() && name != "*" => name.to_string(),
                _ => host,
            };
            (short, a.criticality)
        })
    }

    /// The criticality of `user` (as correlation names it) and the rule that set it.
    pub fn identity_criticality(&self, user: &str) -> Option<(Criticality, &IdentityRule)> {
        // Identities are written as people write them (`CORP\Admin`); reduce them the
        // way correlation reduces the incident's users.
        best(self.identity.iter(), user, |i| {
            (vigil_correlate::user_name(&i.user), i.criticality)
        })
    }
}

/// Where the checked settings start, for errors found after parsing.
struct Lines {
    bands: usize,
    asset: Vec<usize>,
    identity: Vec<usize>,
}

impl Lines {
    /// Only called on a text that parsed; a second parse is cheap next to an error.
    fn of(text: &str) -> Lines {
        #[derive(Deserialize)]
        struct Spans {
            #[serde(default)]
            bands: Option<Spanned<toml::Value>>,
            #[serde(default)]
            asset: Vec<Spanned<toml::Value>>,
            #[serde(default)]
            identity: Vec<Spanned<toml::Value>>,
        }
        let line = |s: &Spanned<toml::Value>| line_column(text, s.span().start).0;
        match toml::from_str::<Spans>(text) {
            Ok(spans) => Lines {
                bands: spans.bands.as_ref().map_or(1, line),
                asset: spans.asset.iter().map(line).collect(),
                identity: spans.identity.iter().map(line).collect(),
            },
            Err(_) => Lines {
                bands: 1,
                asset: Vec::new(),
                identity: Vec::new(),
            },
        }
    }
}

fn best<'a, T>(
    rules: impl Iterator<Item = &'a T>,
    value: &str,
    of: impl Fn(&T) -> (String, Criticality),
) -> Option<(Criticality, &'a T)> {
    let mut found: Option<(Criticality, &'a T)> = None;
    for rule in rules {
        let (pattern, criticality) = of(rule);
        let hit = Pattern::new(&pattern).is_some_and(|p| p.matches(value));
        if hit && found.is_none_or(|(c, _)| criticality > c) {
            found = Some((criticality, rule));
        }
    }
    found
}

/// Reads an RFC 3339 time from a TOML string or a TOML offset date-time.
fn timestamp<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<jiff::Timestamp>, D::Error> {
    let text = date_text(d)?;
    text.parse::<jiff::Timestamp>().map(Some).map_err(|e| {
        serde::de::Error::custom(format!("`{text}` is not an RFC 3339 time with offset: {e}"))
    })
}

/// The text of a TOML string or date-time value.
pub(crate) fn date_text<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Toml(toml::value::Datetime),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::Text(text) => text,
        Raw::Toml(datetime) => datetime.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        TriageConfig::from_toml(text, "triage.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn an_empty_file_gives_the_defaults() {
        let config = TriageConfig::from_toml("", "triage.toml").unwrap();
        assert_eq!(config.weights, Weights::default());
        assert_eq!(config.bands, Bands::default());
        assert!(config.now.is_none() && config.asset.is_empty());
    }

    #[test]
    fn settings_are_read() {
        let config = TriageConfig::from_toml(
            r#"
            now = 2024-05-01T12:00:00Z
            [[asset]]
            host = "dc*"
            criticality = "critical"
            [[asset]]
            host = "dc-lab*"
            criticality = "low"
            [[identity]]
            user = "adm-*@corp.example"
            criticality = "high"
            [weights]
            level_high = 50
            threat_intel = 20.5
            [bands]
            critical = 90
            "#,
            "triage.toml",
        )
        .unwrap();
        assert_eq!(config.now, Some("2024-05-01T12:00:00Z".parse().unwrap()));
        assert_eq!(config.weights.level_high, 50.0);
        assert_eq!(config.weights.threat_intel, 20.5);
        assert_eq!(config.weights.level_low, Weights::default().level_low);
        assert_eq!(config.bands.critical, 90);
        assert_eq!(config.bands.high, 60);
        // The highest criticality of the matching rules wins.
        assert_eq!(
            config.asset_criticality("dc-lab1").map(|(c, _)| c),
            Some(Criticality::Critical)
        );
        assert_eq!(
            config.identity_criticality("adm-jo").map(|(c, _)| c),
            Some(Criticality::High)
        );
        assert!(config.identity_criticality("jo").is_none());
    }

    #[test]
    fn bad_settings_name_file_line_and_field() {
        assert_eq!(
            error("\n[bands]\ncritical = 50\nhigh = 60\n"),
            "triage.toml:2: `bands`: thresholds must fall: 100 >= critical > high > medium, got \
             critical 50, high 60, medium 35"
        );
        assert_eq!(
            error(
                "[[asset]]\nhost = \"a\"\ncriticality = \"low\"\n[[asset]]\nhost = \"\"\ncriticality = \"low\"\n"
            ),
            "triage.toml:4: `asset[2].host`: the pattern is empty"
        );
        let e = error("[[asset]]\nhost = \"a\"\ncriticality = \"extreme\"\n");
        assert!(
            e.starts_with("triage.toml:3:15: unknown variant `extreme`"),
            "{e}"
        );
        let e = error("[weights]\nlevel_hgh = 3\n");
        assert!(
            e.starts_with("triage.toml:2:1: unknown field `level_hgh`"),
            "{e}"
        );
        let e = error("now = \"yesterday\"\n");
        assert!(
            e.starts_with("triage.toml:1:7: `yesterday` is not an RFC 3339 time"),
            "{e}"
        );
    }
}
