//! Multi-stage attacks: an incident's tactics in time order, and the progressions they show.

use serde::Deserialize;

use crate::error::{Error, Result};

const PROGRESSIONS: &str = include_str!("../data/progressions.toml");

/// A named tactic sequence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progression {
    /// `credential theft then lateral movement`.
    pub name: String,
    /// The tactics, by short name, in the order they must appear.
    pub tactics: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    progression: Vec<Progression>,
}

/// The built-in progressions, most specific first.
pub fn progressions() -> Result<Vec<Progression>> {
    toml::from_str::<File>(PROGRESSIONS)
        .map(|f| f.progression)
        .map_err(|e| Error::Data {
            file: "crates/vigil-correlate/data/progressions.toml".into(),
            reason: e.to_string(),
        })
}

/// The first progression whose tactics appear in `sequence` in order (not necessarily
/// adjacent).
pub fn recognise<'p>(
    sequence: &[String],
    progressions: &'p [Progression],
) -> Option<&'p Progression> {
    progressions.iter().find(|p| {
        let mut wanted = p.tactics.iter().peekable();
        for tactic in sequence {
            if wanted.peek().is_some_and(|w| *w == tactic) {
                wanted.next();
            }
        }
        wanted.peek().is_none()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(s: &[&str]) -> Vec<String> {
        s.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn progressions_are_recognised_in_order_with_gaps() {
        let all = progressions().unwrap();
        let found = recognise(
            &seq(&[
                "discovery",
                "credential-access",
                "execution",
                "lateral-movement",
                "exfiltration",
            ]),
            &all,
        );
        assert_eq!(
            found.map(|p| p.name.as_str()),
            Some("intrusion through exfiltration")
        );
        let found = recognise(&seq(&["lateral-movement", "credential-access"]), &all);
        assert!(found.is_none());
    }
}
