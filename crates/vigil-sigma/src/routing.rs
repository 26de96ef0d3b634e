//! Log-source routing as data: which rules an event can meet, and under which names.
//!
//! The taxonomy (`vigil-normalize`) gives every event its Sigma log source; a rule applies
//! when every attribute its `logsource` sets equals the event's. Some log sources carry a
//! field under another name than the one Sigma rules for their category use: Security
//! event 4688 is a `process_creation` event, but keeps the new process's path as
//! `NewProcessName` where Sysmon event 1, and the rules, say `Image`. `data/routing.toml`
//! lists those renames per log source; [`Routing`] applies them at lookup time, so the
//! event is never rewritten.

use std::collections::HashMap;

use serde::Deserialize;
use vigil_event::LogSource;

use crate::error::{Error, Result};

const BUILTIN: &str = include_str!("../data/routing.toml");

/// Rule field names and the event field that holds each, for one log source.
#[derive(Debug, Clone, Default)]
pub struct Aliases {
    names: HashMap<String, String>,
}

impl Aliases {
    /// The event's name for a rule's field name, if this log source renames it.
    pub fn target(&self, rule_name: &str) -> Option<&str> {
        self.names.get(rule_name).map(String::as_str)
    }

    /// Every (rule name, event name) pair.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.names.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutingFile {
    #[serde(default)]
    categories: HashMap<String, Vec<String>>,
    #[serde(default)]
    source: Vec<SourceSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceSpec {
    product: Option<String>,
    category: Option<String>,
    service: Option<String>,
    fields: HashMap<String, String>,
}

/// The renames of every log source that has some, most specific first.
#[derive(Debug, Clone)]
pub struct Routing {
    categories: HashMap<String, Vec<String>>,
    sources: Vec<(LogSourceSpec, Aliases)>,
}

#[derive(Debug, Clone)]
struct LogSourceSpec {
    product: Option<String>,
    category: Option<String>,
    service: Option<String>,
}

impl Routing {
    /// The renames that ship with vigil (`data/routing.toml`).
    pub fn builtin() -> Result<Self> {
        Self::from_toml("routing.toml", BUILTIN)
    }

    /// Renames from a TOML text in the format of `data/routing.toml`; `name` is used in errors.
    pub fn from_toml(name: &str, text: &str) -> Result<Self> {
        let file: RoutingFile = toml::from_str(text).map_err(|e| Error::Routing {
            file: name.to_string(),
            reason: e.to_string(),
        })?;
        let sources = file
            .source
            .into_iter()
            .map(|spec| {
                let names = spec.fields;
                (
                    LogSourceSpec {
                        product: spec.product,
                        category: spec.category,
                        service: spec.service,
                    },
                    Aliases { names },
                )
            })
            .collect();
        Ok(Routing {
            categories: file.categories,
            sources,
        })
    }

    /// The broader categories an event of this category also belongs to.
    pub fn broader_categories(&self, category: &str) -> &[String] {
        self.categories.get(category).map_or(&[], Vec::as_slice)
    }

    /// The renames for events of this log source: the first entry whose attributes the
    /// event's log source has.
    pub fn aliases(&self, logsource: &LogSource) -> Option<&Aliases> {
        self.sources
            .iter()
            .find(|(spec, _)| {
                logsource.matches(
                    spec.category.as_deref(),
                    spec.product.as_deref(),
                    spec.service.as_deref(),
                )
            })
            .map(|(_, aliases)| aliases)
    }
}
