//! What can go wrong talking to a model, and which failures are worth another try.

use std::time::Duration;

/// One provider's failure on one request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// No answer in time (connect, first byte, between chunks, or overall).
    #[error("timed out: {0}")]
    Timeout(String),
    /// The connection failed or broke off mid-answer.
    #[error("connection failed: {0}")]
    Connect(String),
    /// HTTP 429: the provider asks us to slow down.
    #[error("rate limited (HTTP 429){}: {message}", retry_after.map(|d| format!(", retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The provider's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
        /// The provider's own message.
        message: String,
    },
    /// HTTP 5xx (529 "overloaded" included), or an error event inside a stream.
    #[error("server error (HTTP {status}): {message}")]
    Server {
        /// HTTP status (0 for an error event inside a stream).
        status: u16,
        /// The provider's own message.
        message: String,
    },
    /// HTTP 4xx other than 408 and 429: a bad key, an unknown model, a rejected request.
    /// Another try with the same provider would fail the same way.
    #[error("request refused (HTTP {status}): {message}")]
    Client {
        /// HTTP status.
        status: u16,
        /// The provider's own message.
        message: String,
    },
    /// The answer was not the provider's wire format (bad JSON, unknown events).
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The model stopped at its token limit (`finish_reason = length`): the text is cut off.
    #[error("answer cut off at the token limit")]
    Truncated,
    /// The provider declined to answer (content filter, safety block).
    #[error("answer refused by the provider: {0}")]
    Refused(String),
    /// Structured output that did not match the schema, even after one repair attempt.
    #[error("answer does not match the schema: {0}")]
    Invalid(String),
    /// The provider cannot be used at all (missing API key, model file, build feature).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The circuit breaker is open after repeated failures; the provider is skipped.
    #[error("skipped: circuit open for another {} s after repeated failures", .0.as_secs().max(1))]
    CircuitOpen(Duration),
}

impl ProviderError {
    /// Whether the same provider may succeed if asked again after a pause.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Timeout(_) | Self::Connect(_) | Self::RateLimited { .. } | Self::Server { .. }
        )
    }
}

/// A configuration file that cannot be used, naming the file and the provider.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The configuration file.
        path: String,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown or missing fields.
    #[error("{path}: {message}")]
    Parse {
        /// The configuration file.
        path: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A provider entry is wrong (unknown kind, missing model, bad URL).
    #[error("{path}: provider `{provider}`: {message}")]
    Provider {
        /// The configuration file.
        path: String,
        /// The provider's name in the file.
        provider: String,
        /// What is wrong.
        message: String,
    },
}

/// Every provider of the chain failed; each attempt says why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("no LLM provider answered: {}", describe(.attempts))]
pub struct ChainError {
    /// Each failed attempt, in order.
    pub attempts: Vec<Attempt>,
}

/// One failed try of one provider.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Attempt {
    /// The provider's name in the configuration.
    pub provider: String,
    /// Why it failed.
    #[serde(serialize_with = "as_text")]
    pub error: ProviderError,
}

fn as_text<S: serde::Serializer>(error: &ProviderError, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(error)
}

fn describe(attempts: &[Attempt]) -> String {
    if attempts.is_empty() {
        return "no provider is configured".to_owned();
    }
    attempts
        .iter()
        .map(|a| format!("{}: {}", a.provider, a.error))
        .collect::<Vec<_>>()
        .join("; ")
}
