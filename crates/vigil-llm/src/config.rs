//! The providers file: an ordered list of providers, the first one asked first.
//!
//! ```toml
//! [[provider]]
//! name = "cloud"
//! kind = "openai"
//! model = "gpt-4o-mini"
//! api_key_env = "OPENAI_API_KEY"
//!
//! [[provider]]
//! name = "workstation"
//! kind = "ollama"
//! model = "qwen2.5:7b"
//!
//! [[provider]]
//! name = "offline"
//! kind = "local"
//! path = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{ConfigError, Secret};

/// The providers, in the order the chain asks them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The providers (`[[provider]]` tables).
    #[serde(default, rename = "provider")]
    pub providers: Vec<ProviderConfig>,
}

/// One provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// A name of your choice, shown with every answer it gives.
    pub name: String,
    /// `openai` (any OpenAI-compatible server), `ollama`, `anthropic`, `gemini` or `local`.
    pub kind: String,
    /// The model to ask (for `local`, a label; the model is `path`).
    #[serde(default)]
    pub model: String,
    /// Base URL; defaults to the provider's public API (Ollama: `http://127.0.0.1:11434`).
    /// OpenAI-compatible servers take the URL up to `/v1`.
    pub url: Option<String>,
    /// Environment variable holding the API key.
    pub api_key_env: Option<String>,
    /// File holding the API key (its first line).
    pub api_key_file: Option<PathBuf>,
    /// `local`: the GGUF model file.
    pub path: Option<PathBuf>,
    /// `local`: CPU threads (default: all cores).
    pub threads: Option<u32>,
    /// `local`: context size in tokens (default 4,096).
    pub context: Option<u32>,
    /// Label answers as low-confidence drafts (default: on for `local`, off otherwise).
    pub low_confidence: Option<bool>,
    /// Seconds the whole call may take, streamed answer included.
    #[serde(default = "defaults::timeout")]
    pub timeout_secs: f64,
    /// Seconds to connect.
    #[serde(default = "defaults::connect_timeout")]
    pub connect_timeout_secs: f64,
    /// Seconds of silence allowed before the first byte and between chunks.
    #[serde(default = "defaults::idle_timeout")]
    pub idle_timeout_secs: f64,
    /// Further tries after a transient failure (timeout, 429, 5xx, broken connection).
    #[serde(default = "defaults::retries")]
    pub retries: u32,
    /// First pause before a retry, doubled each time (a 429's `Retry-After` wins).
    #[serde(default = "defaults::backoff")]
    pub backoff_ms: u64,
    /// The longest pause before a retry.
    #[serde(default = "defaults::max_backoff")]
    pub max_backoff_ms: u64,
    /// Failed tries in a row (each retry counts) that open the circuit breaker.
    #[serde(default = "defaults::breaker_failures")]
    pub breaker_failures: u32,
    /// Seconds the breaker stays open before one trial call.
    #[serde(default = "defaults::breaker_cooldown")]
    pub breaker_cooldown_secs: f64,
}

mod defaults {
    pub(super) fn timeout() -> f64 {
        120.0
    }
    pub(super) fn connect_timeout() -> f64 {
        10.0
    }
    pub(super) fn idle_timeout() -> f64 {
        60.0
    }
    pub(super) fn retries() -> u32 {
        2
    }
    pub(super) fn backoff() -> u64 {
        500
    }
    pub(super) fn max_backoff() -> u64 {
        8_000
    }
    pub(super) fn breaker_failures() -> u32 {
        3
    }
    pub(super) fn breaker_cooldown() -> f64 {
        60.0
    }
}

impl Config {
    /// Reads a providers file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: label.clone(),
            source,
        })?;
        Self::parse(&text, &label)
    }

    /// Parses a providers file's text; `label` names it in errors.
    pub fn parse(text: &str, label: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: label.to_owned(),
            message: e.to_string(),
        })?;
        let mut names = std::collections::HashSet::new();
        for provider in &config.providers {
            let fail = |message: String| ConfigError::Provider {
                path: label.to_owned(),
                provider: provider.name.clone(),
                message,
            };
            if !names.insert(provider.name.as_str()) {
                return Err(fail("a second provider has this name".to_owned()));
            }
            if provider.timeout_secs <= 0.0
                || provider.connect_timeout_secs <= 0.0
                || provider.idle_timeout_secs <= 0.0
            {
                return Err(fail("timeouts must be more than zero seconds".to_owned()));
            }
            if provider.kind == "local" && provider.path.is_none() {
                return Err(fail("`path` (the GGUF model file) is required".to_owned()));
            }
            if provider.api_key_env.is_some() && provider.api_key_file.is_some() {
                return Err(fail(
                    "give `api_key_env` or `api_key_file`, not both".to_owned(),
                ));
            }
        }
        Ok(config)
    }

    /// A chain of one in-process model (`--llm-model PATH`), labelled with the file's stem
    /// and never retried (a local model that failed fails the same way again).
    pub fn local(path: &Path) -> Self {
        let label = path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        let mut provider = ProviderConfig::new("local", "local", &label);
        provider.retries = 0;
        Self {
            providers: vec![provider],
        }
        .with_path(path)
    }

    fn with_path(mut self, path: &Path) -> Self {
        for provider in &mut self.providers {
            provider.path = Some(path.to_owned());
        }
        self
    }
}

impl ProviderConfig {
    /// A provider with every default; set the fields you need.
    pub fn new(name: &str, kind: &str, model: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind: kind.to_owned(),
            model: model.to_owned(),
            url: None,
            api_key_env: None,
            api_key_file: None,
            path: None,
            threads: None,
            context: None,
            low_confidence: None,
            timeout_secs: defaults::timeout(),
            connect_timeout_secs: defaults::connect_timeout(),
            idle_timeout_secs: defaults::idle_timeout(),
            retries: defaults::retries(),
            backoff_ms: defaults::backoff(),
            max_backoff_ms: defaults::max_backoff(),
            breaker_failures: defaults::breaker_failures(),
            breaker_cooldown_secs: defaults::breaker_cooldown(),
        }
    }

    /// The API key from the environment or the key file; `Ok(None)` when none is configured.
    pub(crate) fn secret(&self) -> Result<Option<Secret>, String> {
        if let Some(var) = &self.api_key_env {
            return match std::env::var(var) {
                Ok(value) if !value.trim().is_empty() => Ok(Some(Secret::new(value.trim()))),
                _ => Err(format!(
                    "the environment variable {var} holding the API key is not set"
                )),
            };
        }
        if let Some(path) = &self.api_key_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("the API key file {}: {e}", path.display()))?;
            let key = text.lines().next().unwrap_or("").trim();
            if key.is_empty() {
                return Err(format!("the API key file {} is empty", path.display()));
            }
            return Ok(Some(Secret::new(key)));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_providers_file_keeps_its_order_and_defaults() {
        let config = Config::parse(
            "[[provider]]\nname = \"cloud\"\nkind = \"openai\"\nmodel = \"m\"\nretries = 0\n\n\
             [[provider]]\nname = \"box\"\nkind = \"ollama\"\nmodel = \"q\"\n",
            "llm.toml",
        )
        .unwrap();
        let names: Vec<&str> = config.providers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["cloud", "box"]);
        assert_eq!(config.providers[0].retries, 0);
        assert_eq!(config.providers[1].retries, 2);
    }

    #[test]
    fn mistakes_name_the_file_and_provider() {
        let error = Config::parse("[[provider]]\nname = \"x\"\nkind = \"local\"\n", "llm.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "llm.toml: provider `x`: `path` (the GGUF model file) is required"
        );
        let error = Config::parse(
            "[[provider]]\nname = \"x\"\nkind = \"openai\"\nmodle = \"m\"\n",
            "llm.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("llm.toml: ") && error.contains("unknown field `modle`"),
            "{error}"
        );
    }
}
