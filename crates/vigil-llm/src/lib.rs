//! LLM providers behind one trait, and the chain that makes them dependable.
//!
//! vigil asks a model to write and to suggest, never to decide: a verdict, a score or an
//! incident never comes from here. What this crate guarantees is that asking fails cleanly:
//!
//! - [`LlmProvider`] is the one extension point; the providers are listed in one place
//!   (`provider::KINDS`): OpenAI-compatible chat completions (OpenAI, Qwen's compatible mode,
//!   OpenRouter, DeepSeek, vLLM, LM Studio, llama.cpp's server), Ollama's native API,
//!   Anthropic's Messages API, Gemini, and an in-process GGUF model (feature `local`).
//!   Every provider streams.
//! - [`Chain`] tries providers in the configured order: transient failures (timeouts, 429,
//!   5xx, broken connections) are retried with exponential backoff, every provider has a
//!   circuit breaker, and a provider that still fails hands over to the next. An answer cut
//!   off at the token limit, malformed wire data and structured output that does not match
//!   its schema after one repair attempt are failures too.
//! - API keys come from the environment or a file and live in [`Secret`], which never
//!   prints; a key a server echoes back is scrubbed from error messages.

mod chain;
mod config;
mod error;
mod http;
mod provider;
mod schema;
mod secret;
pub mod sse;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use chain::{Chain, StreamEvent};
pub use config::{Config, ProviderConfig};
pub use error::{Attempt, ChainError, ConfigError, ProviderError};
pub use http::shorten;
pub use provider::{LlmProvider, Streamed, kinds};
pub use schema::{extract_json, grammar_for, validate};
pub use secret::Secret;

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions from vigil.
    System,
    /// The question, with any data quoted in it.
    User,
    /// The model's earlier answer (in a repair or a tool loop).
    Assistant,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who says it.
    pub role: Role,
    /// What is said.
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }
    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A JSON Schema the answer must match.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonSchema {
    /// A short name (OpenAI asks for one).
    pub name: String,
    /// The schema itself (the subset [`validate`] checks).
    pub schema: serde_json::Value,
}

/// One request to a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The conversation.
    pub messages: Vec<Message>,
    /// Structured output: the answer must be JSON matching this schema.
    pub schema: Option<JsonSchema>,
    /// The most tokens the answer may have.
    pub max_tokens: u32,
    /// Sampling temperature (0 for the most repeatable answers).
    pub temperature: f32,
}

impl Request {
    /// A request with vigil's defaults: 1,024 tokens, temperature 0.2.
    pub fn new(messages: Vec<Message>) -> Self {
        Self {
            messages,
            schema: None,
            max_tokens: 1024,
            temperature: 0.2,
        }
    }

    /// The same request with structured output.
    pub fn with_schema(mut self, name: &str, schema: serde_json::Value) -> Self {
        self.schema = Some(JsonSchema {
            name: name.to_owned(),
            schema,
        });
        self
    }

    /// The same request with another token limit.
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }
}

/// A complete answer, with who wrote it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    /// The answer's text.
    pub text: String,
    /// The provider's name in the configuration.
    pub provider: String,
    /// The provider's kind (`openai`, `ollama`, `anthropic`, `gemini`, `local`).
    pub kind: String,
    /// The model that answered.
    pub model: String,
    /// Tokens of the prompt, when the provider says.
    pub input_tokens: Option<u64>,
    /// Tokens of the answer, when the provider says.
    pub output_tokens: Option<u64>,
    /// Written by a small local model: treat as a draft.
    pub low_confidence: bool,
    /// Time to the first token of the answer that was kept.
    #[serde(with = "millis")]
    pub first_token: Option<Duration>,
    /// Time of the whole call, retries and fallbacks included.
    #[serde(with = "millis")]
    pub total: Option<Duration>,
    /// Providers that failed before this one answered.
    pub fallbacks: Vec<Attempt>,
}

mod millis {
    use std::time::Duration;

    pub(crate) fn serialize<S: serde::Serializer>(
        value: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }
}
