//! The providers, listed in one place ([`KINDS`]), and what they share.

mod anthropic;
mod gemini;
#[cfg(feature = "local")]
mod local;
mod ollama;
mod openai;

use std::time::Duration;

use serde_json::Value;

use crate::http::{Http, Timeouts};
use crate::{ProviderConfig, ProviderError, Request, Role, Secret};

/// A model vigil can ask. Implementations stream: `on_token` gets each piece of text as it
/// arrives, and the returned [`Streamed`] holds the whole answer.
pub trait LlmProvider: Send + Sync {
    /// The provider's name in the configuration (`cloud`, `ollama`...).
    fn name(&self) -> &str;
    /// The provider's kind, one of [`kinds`].
    fn kind(&self) -> &'static str;
    /// The model it asks.
    fn model(&self) -> &str;
    /// Whether answers are drafts of a small local model, to be labelled low-confidence.
    fn low_confidence(&self) -> bool {
        false
    }
    /// Whether the provider itself holds the answer to `Request::schema` (OpenAI's
    /// `json_schema` response format, Ollama's and Gemini's schemas, a grammar in-process).
    fn native_schema(&self) -> bool;
    /// Asks for one answer, streaming it to `on_token`.
    fn stream(
        &self,
        request: &Request,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProviderError>;
}

/// A whole streamed answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Streamed {
    /// The text.
    pub text: String,
    /// The model stopped at the token limit: the text is cut off.
    pub truncated: bool,
    /// Tokens of the prompt, when the provider says.
    pub input_tokens: Option<u64>,
    /// Tokens of the answer, when the provider says.
    pub output_tokens: Option<u64>,
}

/// Builds a provider from its configuration and resolved key.
type Build = fn(&ProviderConfig, Remote) -> Result<Box<dyn LlmProvider>, String>;

/// Every provider kind: name, what it speaks, its default URL, whether it needs an API key,
/// and its constructor. Adding a provider means a module and one line here.
const KINDS: &[(&str, &str, &str, bool, Build)] = &[
    (
        "openai",
        "OpenAI-compatible chat completions (OpenAI, OpenRouter, DeepSeek, Qwen, vLLM, LM Studio, llama.cpp server)",
        "https://api.openai.com/v1",
        false,
        remote::<openai::OpenAi>,
    ),
    (
        "ollama",
        "Ollama's native /api/chat",
        "http://127.0.0.1:11434",
        false,
        remote::<ollama::Ollama>,
    ),
    (
        "anthropic",
        "Anthropic's Messages API",
        "https://api.anthropic.com",
        true,
        remote::<anthropic::Anthropic>,
    ),
    (
        "gemini",
        "Google's Gemini API",
        "https://generativelanguage.googleapis.com",
        true,
        remote::<gemini::Gemini>,
    ),
    (
        "local",
        "an in-process GGUF model (llama.cpp; build feature `local`)",
        "",
        false,
        build_local,
    ),
];

/// The provider kinds this build knows, with what each speaks.
pub fn kinds() -> impl Iterator<Item = (&'static str, &'static str)> {
    KINDS.iter().map(|(kind, about, ..)| (*kind, *about))
}

/// A remote provider's wire format: how it sends a request and reads the streamed answer.
/// Adding a remote provider means a `Wire` and a line in [`KINDS`].
pub(crate) trait Wire: Send + Sync + 'static {
    /// The kind's name in providers files.
    const KIND: &'static str;
    /// Whether the API takes the JSON Schema of structured output as a parameter.
    const NATIVE_SCHEMA: bool;
    /// Sends `request` and streams the answer to `on_token`.
    fn answer(
        remote: &Remote,
        request: &Request,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProviderError>;
}

/// A remote provider speaking wire format `W`.
struct RemoteProvider<W> {
    remote: Remote,
    wire: std::marker::PhantomData<W>,
}

fn remote<W: Wire>(_: &ProviderConfig, remote: Remote) -> Result<Box<dyn LlmProvider>, String> {
    Ok(Box::new(RemoteProvider::<W> {
        remote,
        wire: std::marker::PhantomData,
    }))
}

impl<W: Wire> LlmProvider for RemoteProvider<W> {
    fn name(&self) -> &str {
        &self.remote.name
    }
    fn kind(&self) -> &'static str {
        W::KIND
    }
    fn model(&self) -> &str {
        &self.remote.model
    }
    fn native_schema(&self) -> bool {
        W::NATIVE_SCHEMA
    }
    fn stream(
        &self,
        request: &Request,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProviderError> {
        // Servers echo keys in error bodies, in-stream error events and malformed chunks.
        W::answer(&self.remote, request, on_token).map_err(|e| self.remote.scrub(e))
    }
}

/// What a remote provider needs: its name, model, base URL and HTTP client.
pub(crate) struct Remote {
    pub(crate) name: String,
    pub(crate) model: String,
    pub(crate) url: String,
    pub(crate) secret: Option<Secret>,
    pub(crate) http: Http,
    /// Set once the server refused OpenAI's `json_schema` response format: later requests
    /// use the older `json_object` with the schema straight away.
    pub(crate) json_object_only: std::sync::atomic::AtomicBool,
}

impl Remote {
    /// `error` with the API key scrubbed from its text (servers echo keys in error bodies,
    /// in-stream error events and malformed chunks).
    pub(crate) fn scrub(&self, error: ProviderError) -> ProviderError {
        let Some(secret) = &self.secret else {
            return error;
        };
        let s = |text: String| secret.scrub(&text);
        match error {
            ProviderError::Timeout(m) => ProviderError::Timeout(s(m)),
            ProviderError::Connect(m) => ProviderError::Connect(s(m)),
            ProviderError::RateLimited {
                retry_after,
                message,
            } => ProviderError::RateLimited {
                retry_after,
                message: s(message),
            },
            ProviderError::Server { status, message } => ProviderError::Server {
                status,
                message: s(message),
            },
            ProviderError::Client { status, message } => ProviderError::Client {
                status,
                message: s(message),
            },
            ProviderError::Malformed(m) => ProviderError::Malformed(s(m)),
            ProviderError::Refused(m) => ProviderError::Refused(s(m)),
            ProviderError::Invalid(m) => ProviderError::Invalid(s(m)),
            ProviderError::Unavailable(m) => ProviderError::Unavailable(s(m)),
            other @ (ProviderError::Truncated | ProviderError::CircuitOpen(_)) => other,
        }
    }
}

/// Builds the provider a configuration entry describes. A provider that cannot work here
/// (its API key is missing, this build lacks the in-process model) is built as one that
/// fails every call saying why, so the chain moves on to the next.
pub(crate) fn build(config: &ProviderConfig) -> Result<Box<dyn LlmProvider>, String> {
    let Some(&(kind, _, default_url, needs_key, build)) =
        KINDS.iter().find(|(kind, ..)| *kind == config.kind)
    else {
        let known: Vec<&str> = KINDS.iter().map(|(kind, ..)| *kind).collect();
        return Err(format!(
            "unknown kind `{}` (known: {})",
            config.kind,
            known.join(", ")
        ));
    };
    if kind != "local" && config.model.trim().is_empty() {
        return Err("`model` is required".to_owned());
    }
    let secret = match config.secret() {
        Ok(secret) => secret,
        Err(why) => return Ok(Box::new(Unavailable::new(config, kind, why))),
    };
    if needs_key && secret.is_none() {
        let why = "an API key is required: set `api_key_env` or `api_key_file`".to_owned();
        return Ok(Box::new(Unavailable::new(config, kind, why)));
    }
    let url = config.url.clone().unwrap_or_else(|| default_url.to_owned());
    let url = url.trim_end_matches('/').to_owned();
    if kind != "local" && !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "`url` must start with http:// or https://, not `{url}`"
        ));
    }
    let timeouts = Timeouts {
        connect: Duration::from_secs_f64(config.connect_timeout_secs),
        total: Duration::from_secs_f64(config.timeout_secs),
        idle: Duration::from_secs_f64(config.idle_timeout_secs),
    };
    let remote = Remote {
        name: config.name.clone(),
        model: config.model.clone(),
        url,
        http: Http::new(timeouts, secret.clone()),
        secret,
        json_object_only: std::sync::atomic::AtomicBool::new(false),
    };
    build(config, remote)
}

#[cfg(feature = "local")]
fn build_local(config: &ProviderConfig, _: Remote) -> Result<Box<dyn LlmProvider>, String> {
    local::build(config)
}

#[cfg(not(feature = "local"))]
fn build_local(config: &ProviderConfig, _: Remote) -> Result<Box<dyn LlmProvider>, String> {
    let why = "this build has no in-process model: rebuild with `--features local`".to_owned();
    Ok(Box::new(Unavailable::new(config, "local", why)))
}

/// A configured provider that cannot work here; every call says why.
struct Unavailable {
    name: String,
    kind: &'static str,
    model: String,
    why: String,
}

impl Unavailable {
    fn new(config: &ProviderConfig, kind: &'static str, why: String) -> Self {
        tracing::warn!(provider = %config.name, %why, "LLM provider unavailable; the chain skips it.");
        Self {
            name: config.name.clone(),
            kind,
            model: config.model.clone(),
            why,
        }
    }
}

impl LlmProvider for Unavailable {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn model(&self) -> &str {
        &self.model
    }
    fn native_schema(&self) -> bool {
        false
    }
    fn stream(&self, _: &Request, _: &mut dyn FnMut(&str)) -> Result<Streamed, ProviderError> {
        Err(ProviderError::Unavailable(self.why.clone()))
    }
}

/// Parses one JSON chunk of a stream.
pub(crate) fn chunk(data: &str) -> Result<Value, ProviderError> {
    serde_json::from_str(data).map_err(|e| {
        ProviderError::Malformed(format!(
            "a stream chunk is not JSON ({e}): {}",
            crate::http::shorten(data, 120)
        ))
    })
}

/// The text of the system messages, joined, and the other messages (providers that take
/// the system prompt apart: Anthropic, Gemini).
pub(crate) fn split_system(request: &Request) -> (String, Vec<(Role, &str)>) {
    let system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.as_str())
        .collect();
    let rest = request
        .messages
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| (m.role, m.content.as_str()))
        .collect();
    (system.join("\n\n"), rest)
}

/// The answer ended without the provider saying it was finished.
pub(crate) fn cut_off() -> ProviderError {
    ProviderError::Connect("the stream ended before the answer was finished".to_owned())
}

/// A `u64` at `pointer` in `value`.
pub(crate) fn count(value: &Value, pointer: &str) -> Option<u64> {
    value.pointer(pointer).and_then(Value::as_u64)
}
