//! Rule levels, ordered, as vigil reports and filters them.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

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

    pub(crate) fn from_rsigma(level: rsigma_parser::Level) -> Level {
        match level {
            rsigma_parser::Level::Informational => Level::Informational,
            rsigma_parser::Level::Low => Level::Low,
            rsigma_parser::Level::Medium => Level::Medium,
            rsigma_parser::Level::High => Level::High,
            rsigma_parser::Level::Critical => Level::Critical,
        }
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
