//! The fallback chain: providers in order, each with retries and a circuit breaker.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::provider::{self, LlmProvider, Streamed};
use crate::schema::{extract_json, validate};
use crate::{
    Attempt, ChainError, Completion, Config, ConfigError, Message, ProviderConfig, ProviderError,
    Request, Role,
};

/// What a caller sees while an answer streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// A provider starts answering.
    Start {
        /// Its name in the configuration.
        provider: &'a str,
        /// Its model.
        model: &'a str,
    },
    /// A piece of the answer.
    Token(&'a str),
    /// The answer streamed since the last `Start` failed and is void; another try follows
    /// or the chain gives up.
    Discard,
}

/// Retry and breaker settings of one provider.
#[derive(Debug, Clone, Copy)]
struct Policy {
    retries: u32,
    backoff: Duration,
    max_backoff: Duration,
    breaker_failures: u32,
    cooldown: Duration,
}

impl Policy {
    fn of(config: &ProviderConfig) -> Self {
        Self {
            retries: config.retries,
            backoff: Duration::from_millis(config.backoff_ms),
            max_backoff: Duration::from_millis(config.max_backoff_ms.max(config.backoff_ms)),
            breaker_failures: config.breaker_failures.max(1),
            cooldown: Duration::from_secs_f64(config.breaker_cooldown_secs.max(0.0)),
        }
    }

    /// The pause before retry number `retry` (0-based): the provider's `Retry-After` when
    /// it sent one, else the backoff doubled each time; never above the maximum.
    fn pause(&self, retry: u32, error: &ProviderError) -> Duration {
        if let ProviderError::RateLimited {
            retry_after: Some(after),
            ..
        } = error
        {
            return (*after).min(self.max_backoff);
        }
        self.backoff
            .saturating_mul(1 << retry.min(16))
            .min(self.max_backoff)
    }
}

/// A circuit breaker: after `breaker_failures` failed tries in a row (retries count) the
/// provider is skipped for `cooldown`; then one trial try decides whether it is back.
#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

struct Link {
    provider: Box<dyn LlmProvider>,
    policy: Policy,
    low_confidence: bool,
    breaker: Mutex<Breaker>,
}

/// The configured providers in order. [`Chain::complete`] returns the first answer any of
/// them gives, and every failure on the way.
pub struct Chain {
    links: Vec<Link>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.links
                    .iter()
                    .map(|l| (l.provider.name(), l.provider.kind(), l.provider.model())),
            )
            .finish()
    }
}

impl Chain {
    /// Builds every configured provider. A provider that cannot work here (a missing API
    /// key, no in-process model in this build) stays in the chain and fails saying why.
    pub fn from_config(config: &Config, label: &str) -> Result<Self, ConfigError> {
        let mut links = Vec::new();
        for entry in &config.providers {
            let provider = provider::build(entry).map_err(|message| ConfigError::Provider {
                path: label.to_owned(),
                provider: entry.name.clone(),
                message,
            })?;
            let low_confidence = entry.low_confidence.unwrap_or(provider.low_confidence());
            links.push(Link {
                provider,
                policy: Policy::of(entry),
                low_confidence,
                breaker: Mutex::new(Breaker::default()),
            });
        }
        Ok(Self { links })
    }

    /// A chain of given providers with `config`'s retry and breaker settings (tests, and
    /// callers that build providers themselves).
    pub fn of(providers: Vec<(Box<dyn LlmProvider>, ProviderConfig)>) -> Self {
        let links = providers
            .into_iter()
            .map(|(provider, config)| Link {
                low_confidence: config.low_confidence.unwrap_or(provider.low_confidence()),
                provider,
                policy: Policy::of(&config),
                breaker: Mutex::new(Breaker::default()),
            })
            .collect();
        Self { links }
    }

    /// Whether no provider is configured (callers then use their deterministic path).
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// The providers in order: name, kind and model.
    pub fn providers(&self) -> Vec<(String, String, String)> {
        self.links
            .iter()
            .map(|l| {
                let p = &l.provider;
                (
                    p.name().to_owned(),
                    p.kind().to_owned(),
                    p.model().to_owned(),
                )
            })
            .collect()
    }

    /// The first complete answer of the chain, streamed to `on`.
    pub fn complete(
        &self,
        request: &Request,
        on: &mut dyn FnMut(StreamEvent<'_>),
    ) -> Result<Completion, ChainError> {
        self.first(on, |link, attempts, on| link.call(request, attempts, on))
    }

    /// The first answer that is JSON matching `request.schema`. The schema goes to the
    /// provider (natively where it can) and into the instructions; an answer that does not
    /// match gets one repair request to the same provider before the chain moves on.
    ///
    /// # Panics
    /// Never; a request without a schema is answered as free text parsed as JSON.
    pub fn complete_json(
        &self,
        request: &Request,
        on: &mut dyn FnMut(StreamEvent<'_>),
    ) -> Result<(Value, Completion), ChainError> {
        let request = with_schema_instructions(request);
        let mut value = Value::Null;
        let completion = self.first(on, |link, attempts, on| {
            let completion = link.call(&request, attempts, on)?;
            let problems = match extract_json(&completion.text) {
                Ok(parsed) => {
                    let problems = schema_problems(&request, &parsed);
                    value = parsed;
                    problems
                }
                Err(why) => vec![why],
            };
            if problems.is_empty() {
                return Ok(completion);
            }
            // The answer streamed is void: the repair streams a new one.
            on(StreamEvent::Discard);
            tracing::debug!(provider = %link.provider.name(), problems = ?problems, "Asking the model to repair its JSON.");
            let mut repair = request.clone();
            repair.messages.push(Message::assistant(completion.text.clone()));
            repair.messages.push(Message::user(format!(
                "That answer is not valid: {}. Answer again with only the corrected JSON object.",
                problems.join("; ")
            )));
            let mut fixed = link.call(&repair, attempts, on)?;
            let problems = match extract_json(&fixed.text) {
                Ok(parsed) => {
                    let problems = schema_problems(&request, &parsed);
                    value = parsed;
                    problems
                }
                Err(why) => vec![why],
            };
            if !problems.is_empty() {
                on(StreamEvent::Discard);
                return Err(ProviderError::Invalid(problems.join("; ")));
            }
            fixed.input_tokens = sum(completion.input_tokens, fixed.input_tokens);
            fixed.output_tokens = sum(completion.output_tokens, fixed.output_tokens);
            Ok(fixed)
        })?;
        Ok((value, completion))
    }

    /// Runs `call` on each provider in turn until one succeeds.
    fn first(
        &self,
        on: &mut dyn FnMut(StreamEvent<'_>),
        mut call: impl FnMut(
            &Link,
            &mut Vec<Attempt>,
            &mut dyn FnMut(StreamEvent<'_>),
        ) -> Result<Completion, ProviderError>,
    ) -> Result<Completion, ChainError> {
        let started = Instant::now();
        let mut attempts = Vec::new();
        for link in &self.links {
            match call(link, &mut attempts, on) {
                Ok(mut completion) => {
                    completion.total = Some(started.elapsed());
                    completion.fallbacks = attempts;
                    return Ok(completion);
                }
                Err(error) => {
                    // Errors `call` returns after `Link::call` already recorded them are
                    // schema failures; record those here.
                    let recorded = attempts.last().is_some_and(|a: &Attempt| {
                        a.provider == link.provider.name() && a.error == error
                    });
                    if !recorded {
                        attempts.push(Attempt {
                            provider: link.provider.name().to_owned(),
                            error,
                        });
                    }
                }
            }
        }
        Err(ChainError { attempts })
    }
}

impl Link {
    /// One provider with its retries and breaker. Every failed try is added to `attempts`;
    /// the last error is returned.
    fn call(
        &self,
        request: &Request,
        attempts: &mut Vec<Attempt>,
        on: &mut dyn FnMut(StreamEvent<'_>),
    ) -> Result<Completion, ProviderError> {
        let provider = &*self.provider;
        let mut retry = 0;
        loop {
            if let Some(left) = self.open_for() {
                let error = ProviderError::CircuitOpen(left);
                attempts.push(Attempt {
                    provider: provider.name().to_owned(),
                    error: error.clone(),
                });
                return Err(error);
            }
            let started = Instant::now();
            let mut first_token = None;
            on(StreamEvent::Start {
                provider: provider.name(),
                model: provider.model(),
            });
            let result = provider.stream(request, &mut |token| {
                first_token.get_or_insert_with(|| started.elapsed());
                on(StreamEvent::Token(token));
            });
            let error = match result {
                Ok(Streamed {
                    truncated: true, ..
                }) => ProviderError::Truncated,
                Ok(streamed) => {
                    self.record(true);
                    return Ok(Completion {
                        text: streamed.text,
                        provider: provider.name().to_owned(),
                        kind: provider.kind().to_owned(),
                        model: provider.model().to_owned(),
                        input_tokens: streamed.input_tokens,
                        output_tokens: streamed.output_tokens,
                        low_confidence: self.low_confidence,
                        first_token,
                        total: Some(started.elapsed()),
                        fallbacks: Vec::new(),
                    });
                }
                Err(error) => error,
            };
            on(StreamEvent::Discard);
            // A provider that cannot be used at all is not "failing"; the breaker is for
            // providers that are down or overloaded.
            if !matches!(error, ProviderError::Unavailable(_)) {
                self.record(false);
            }
            tracing::warn!(provider = %provider.name(), %error, retry, "LLM call failed.");
            attempts.push(Attempt {
                provider: provider.name().to_owned(),
                error: error.clone(),
            });
            if !error.is_transient() || retry >= self.policy.retries {
                return Err(error);
            }
            std::thread::sleep(self.policy.pause(retry, &error));
            retry += 1;
        }
    }

    /// How much longer the breaker stays open, if it is.
    fn open_for(&self) -> Option<Duration> {
        let breaker = self
            .breaker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let until = breaker.open_until?;
        until.checked_duration_since(Instant::now())
    }

    fn record(&self, success: bool) {
        let mut breaker = self
            .breaker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if success {
            *breaker = Breaker::default();
            return;
        }
        breaker.failures += 1;
        if breaker.failures >= self.policy.breaker_failures {
            tracing::warn!(provider = %self.provider.name(), cooldown_secs = self.policy.cooldown.as_secs_f64(), "Circuit opened: the provider is skipped for a while.");
            breaker.open_until = Some(Instant::now() + self.policy.cooldown);
            // After the cooldown one failure reopens it.
            breaker.failures = self.policy.breaker_failures - 1;
        }
    }
}

fn sum(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        _ => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

fn schema_problems(request: &Request, value: &Value) -> Vec<String> {
    match &request.schema {
        Some(schema) => validate(value, &schema.schema),
        None => Vec::new(),
    }
}

/// The request with the schema spelt out in its system message, for providers that cannot
/// take it as a parameter (and as a reminder for those that can).
fn with_schema_instructions(request: &Request) -> Request {
    let mut request = request.clone();
    let Some(schema) = &request.schema else {
        return request;
    };
    let rule = format!(
        "Answer with one JSON object that matches this JSON Schema, and nothing else:\n{}",
        schema.schema
    );
    match request.messages.iter_mut().find(|m| m.role == Role::System) {
        Some(system) => {
            system.content.push_str("\n\n");
            system.content.push_str(&rule);
        }
        None => request.messages.insert(0, Message::system(rule)),
    }
    request
}
