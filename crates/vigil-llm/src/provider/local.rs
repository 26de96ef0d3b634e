//! An in-process GGUF model through llama.cpp (`llama-cpp-2`, feature `local`).
//!
//! Building the provider costs nothing: llama.cpp starts and the model loads on the first
//! call, and both stay for the life of the process. Each call gets a fresh context sized to its
//! prompt and token limit, so answers do not depend on earlier calls. Structured output is
//! held by a grammar ([`crate::grammar_for`]), so a schema-constrained answer is valid JSON
//! of that schema by construction.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::{LogOptions, send_logs_to_tracing};

use super::{LlmProvider, Streamed};
use crate::{ProviderConfig, ProviderError, Request, Role};

/// The kind this module provides.
const KIND: &str = "local";
/// Context size when the configuration gives none.
const DEFAULT_CONTEXT: u32 = 4096;
/// Prompt tokens evaluated per llama.cpp call.
const BATCH: usize = 512;
/// Penalty on repeating one of the last 64 tokens (1.0: none).
const REPEAT_PENALTY: f32 = 1.15;
/// Seed of the sampler, so answers at a temperature above 0 repeat too.
const SEED: u32 = 0x5eed;

/// llama.cpp, started once per process (`LlamaBackend::init` fails a second time).
static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();

/// Builds the provider. A model file that is not there makes a provider that fails every
/// call saying so, and the chain moves on.
pub(super) fn build(config: &ProviderConfig) -> Result<Box<dyn LlmProvider>, String> {
    let Some(path) = &config.path else {
        return Err("`path` (the GGUF model file) is required".to_owned());
    };
    if !path.is_file() {
        let why = if path.exists() {
            format!("the model path {} is not a file", path.display())
        } else {
            format!("the model file {} does not exist", path.display())
        };
        return Ok(Box::new(super::Unavailable::new(config, KIND, why)));
    }
    let model = if config.model.trim().is_empty() {
        path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        )
    } else {
        config.model.clone()
    };
    let threads = config.threads.filter(|&t| t > 0).unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().try_into().unwrap_or(u32::MAX))
    });
    Ok(Box::new(Local {
        name: config.name.clone(),
        model,
        path: path.clone(),
        threads: i32::try_from(threads).unwrap_or(i32::MAX),
        context: config.context.filter(|&c| c > 0).unwrap_or(DEFAULT_CONTEXT),
        timeout: Duration::try_from_secs_f64(config.timeout_secs).unwrap_or(Duration::MAX),
        loaded: Mutex::new(None),
    }))
}

/// A GGUF model run in this process.
struct Local {
    name: String,
    model: String,
    path: PathBuf,
    threads: i32,
    /// The most tokens a call may hold, prompt and answer together.
    context: u32,
    timeout: Duration,
    /// The model, once the first call has loaded it. The lock also makes calls take turns:
    /// they would only compete for the same cores.
    loaded: Mutex<Option<LlamaModel>>,
}

impl LlmProvider for Local {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        KIND
    }
    fn model(&self) -> &str {
        &self.model
    }
    fn low_confidence(&self) -> bool {
        true
    }
    fn native_schema(&self) -> bool {
        true
    }
    fn stream(
        &self,
        request: &Request,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProviderError> {
        let started = Instant::now();
        let backend = backend()?;
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        let model: &LlamaModel = match &mut *loaded {
            Some(model) => model,
            empty => empty.insert(load(backend, &self.path)?),
        };
        let call = Call {
            backend,
            model,
            local: self,
            started,
        };
        call.run(request, on_token)
    }
}

/// Starts llama.cpp, its logs sent to `tracing` (target `llama-cpp-2`) rather than stderr.
fn backend() -> Result<&'static LlamaBackend, ProviderError> {
    BACKEND
        .get_or_init(|| {
            send_logs_to_tracing(LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|why| ProviderError::Unavailable(format!("llama.cpp did not start: {why}")))
}

fn load(backend: &LlamaBackend, path: &Path) -> Result<LlamaModel, ProviderError> {
    if !path.is_file() {
        return Err(ProviderError::Unavailable(format!(
            "the model file {} is gone",
            path.display()
        )));
    }
    let started = Instant::now();
    let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default()).map_err(|e| {
        ProviderError::Unavailable(format!(
            "llama.cpp cannot load {} ({e}): not a GGUF model, or an architecture this build does not know",
            path.display()
        ))
    })?;
    tracing::info!(
        path = %path.display(),
        parameters = model.n_params(),
        elapsed_ms = started.elapsed().as_millis(),
        "Loaded the local model."
    );
    Ok(model)
}

/// One request to a loaded model.
struct Call<'a> {
    backend: &'a LlamaBackend,
    model: &'a LlamaModel,
    local: &'a Local,
    started: Instant,
}

impl Call<'_> {
    fn run(
        &self,
        request: &Request,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProviderError> {
        let vocab = self.model.vocab();
        let prompt = self.prompt(request)?;
        let tokens = vocab.tokenize(prompt.as_bytes(), true, true);
        let limit = self.local.context;
        if tokens.is_empty() {
            return Err(refused("the prompt is empty".to_owned()));
        }
        if tokens.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            return Err(refused(format!(
                "the prompt has {} tokens and the model's context holds {limit}: shorten the prompt or raise `context`",
                tokens.len()
            )));
        }
        let mut sampler = Sampler::new(self.model, request)?;
        // The context holds this prompt and answer only: no bigger than needed.
        let wanted = tokens
            .len()
            .saturating_add(usize::try_from(request.max_tokens).unwrap_or(usize::MAX));
        let n_ctx = u32::try_from(wanted).unwrap_or(u32::MAX).clamp(1, limit);
        let mut ctx = self.context(n_ctx)?;

        let mut batch = LlamaBatch::new(BATCH, 1);
        for (n, chunk) in tokens.chunks(BATCH).enumerate() {
            batch.clear();
            for (i, token) in chunk.iter().enumerate() {
                let pos = n * BATCH + i;
                add(&mut batch, *token, pos, pos + 1 == tokens.len())?;
            }
            decode(&mut ctx, &mut batch)?;
        }

        let mut position = tokens.len();
        let mut text = String::new();
        let mut utf8 = Utf8Pieces::default();
        let mut piece = Vec::new();
        let mut output: u64 = 0;
        let truncated = loop {
            if self.started.elapsed() > self.local.timeout {
                return Err(ProviderError::Timeout(format!(
                    "the local model took more than {} s",
                    self.local.timeout.as_secs_f64()
                )));
            }
            let token = sampler.next(&ctx, batch.n_tokens() - 1)?;
            if vocab.is_eog(token) {
                break false;
            }
            // Only now is the limit reached: an answer that ends exactly at it is whole.
            if output >= u64::from(request.max_tokens) || position >= n_ctx as usize {
                break true;
            }
            output += 1;
            piece.clear();
            vocab.token_to_piece_into(token, &mut piece, false, None);
            if let Some(complete) = utf8.push(&piece) {
                text.push_str(&complete);
                on_token(&complete);
            }
            batch.clear();
            add(&mut batch, token, position, true)?;
            decode(&mut ctx, &mut batch)?;
            position += 1;
        };
        if let Some(rest) = utf8.finish() {
            text.push_str(&rest);
            on_token(&rest);
        }
        tracing::debug!(
            provider = %self.local.name,
            input_tokens = tokens.len(),
            output_tokens = output,
            truncated,
            elapsed_ms = self.started.elapsed().as_millis(),
            "Local model answered."
        );
        Ok(Streamed {
            text,
            truncated,
            input_tokens: Some(tokens.len() as u64),
            output_tokens: Some(output),
        })
    }

    /// The conversation in the model's own chat template, or ChatML when it has none
    /// llama.cpp knows.
    fn prompt(&self, request: &Request) -> Result<String, ProviderError> {
        let mut messages = Vec::with_capacity(request.messages.len());
        for message in &request.messages {
            let message =
                LlamaChatMessage::new(role(message.role).to_owned(), message.content.clone())
                    .map_err(|e| {
                        refused(format!("a message cannot be passed to llama.cpp: {e}"))
                    })?;
            messages.push(message);
        }
        match self.model.chat_template(None) {
            Ok(template) => match self.model.apply_chat_template(&template, &messages, true) {
                Ok(prompt) => return Ok(prompt),
                Err(error) => {
                    tracing::debug!(provider = %self.local.name, %error, "The model's chat template is not one llama.cpp knows; using ChatML.");
                }
            },
            Err(error) => {
                tracing::debug!(provider = %self.local.name, %error, "The model has no chat template; using ChatML.");
            }
        }
        Ok(chatml(request))
    }

    fn context(&self, n_ctx: u32) -> Result<LlamaContext<'_>, ProviderError> {
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(BATCH as u32)
            .with_n_ubatch(BATCH as u32)
            .with_n_threads(self.local.threads)
            .with_n_threads_batch(self.local.threads);
        self.model.new_context(self.backend, params).map_err(|e| {
            ProviderError::Unavailable(format!(
                "llama.cpp cannot make a context of {n_ctx} tokens ({e}): lower `context` or free memory"
            ))
        })
    }
}

/// Picks each next token: the grammar of the request's schema (if any), then greedy at
/// temperature 0, else seeded sampling.
struct Sampler {
    grammar: Option<LlamaSampler>,
    pick: LlamaSampler,
}

impl Sampler {
    fn new(model: &LlamaModel, request: &Request) -> Result<Self, ProviderError> {
        let grammar = match &request.schema {
            Some(schema) => {
                let grammar = crate::grammar_for(&schema.schema);
                let sampler = LlamaSampler::grammar(model, &grammar, "root").map_err(|e| {
                    refused(format!(
                        "llama.cpp refused the grammar of the schema `{}`: {e}",
                        schema.name
                    ))
                })?;
                Some(sampler)
            }
            None => None,
        };
        // Small models fall into loops ("17:17:17:..."); a mild penalty on tokens of the
        // last 64 keeps them out without changing what a well-behaved answer says.
        let penalty = LlamaSampler::penalties(model.n_vocab(), 64, REPEAT_PENALTY, 0.0, 0.0);
        let pick = if request.temperature <= 0.0 {
            LlamaSampler::chain_simple([penalty, LlamaSampler::greedy()])
        } else {
            LlamaSampler::chain_simple([
                penalty,
                LlamaSampler::top_k(40),
                LlamaSampler::top_p(0.95, 1),
                LlamaSampler::min_p(0.05, 1),
                LlamaSampler::temp(request.temperature),
                LlamaSampler::dist(SEED),
            ])
        };
        Ok(Self { grammar, pick })
    }

    /// The next token after the logits at `index` of the last batch.
    ///
    /// Checking a whole vocabulary against the grammar is the slow part of a step, so the
    /// unconstrained choice is tried first and the grammar applied to all candidates only
    /// when it rejects that one (llama.cpp's own sampler does the same).
    fn next(&mut self, ctx: &LlamaContext<'_>, index: i32) -> Result<LlamaToken, ProviderError> {
        let mut candidates = ctx.token_data_array_ith(index);
        candidates.apply_sampler(&mut self.pick);
        let picked = candidates.selected_token().ok_or_else(no_token)?;
        let Some(grammar) = &mut self.grammar else {
            self.pick.accept(picked);
            return Ok(picked);
        };
        let mut single =
            LlamaTokenDataArray::new(vec![LlamaTokenData::new(picked, 1.0, 0.0)], false);
        single.apply_sampler(grammar);
        let allowed = single.data.first().is_some_and(|d| d.logit().is_finite());
        let token = if allowed {
            picked
        } else {
            let mut candidates = ctx.token_data_array_ith(index);
            candidates.apply_sampler(grammar);
            candidates.apply_sampler(&mut self.pick);
            candidates.selected_token().ok_or_else(no_token)?
        };
        grammar
            .try_accept(token)
            .map_err(|e| refused(format!("the grammar rejected the token it allowed ({e})")))?;
        self.pick.accept(token);
        Ok(token)
    }
}

/// Text arriving as the bytes of tokens, handed on in whole characters only: a character
/// can be split across two tokens.
#[derive(Default)]
struct Utf8Pieces {
    pending: Vec<u8>,
}

impl Utf8Pieces {
    /// Adds a token's bytes; returns the characters now complete, if any.
    fn push(&mut self, bytes: &[u8]) -> Option<String> {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(text) => {
                    out.push_str(text);
                    self.pending.clear();
                    break;
                }
                Err(error) => {
                    let valid = error.valid_up_to();
                    out.push_str(&String::from_utf8_lossy(&self.pending[..valid]));
                    match error.error_len() {
                        // Bytes that can never become a character.
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + bad);
                        }
                        // The start of a character whose other bytes are still to come.
                        None => {
                            self.pending.drain(..valid);
                            break;
                        }
                    }
                }
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// What is left when the answer ends: an unfinished character, replaced.
    fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.pending);
        (!rest.is_empty()).then(|| String::from_utf8_lossy(&rest).into_owned())
    }
}

fn role(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

/// The conversation in ChatML, the template most small models are trained on.
fn chatml(request: &Request) -> String {
    let mut prompt = String::new();
    for message in &request.messages {
        prompt.push_str("<|im_start|>");
        prompt.push_str(role(message.role));
        prompt.push('\n');
        prompt.push_str(&message.content);
        prompt.push_str("<|im_end|>\n");
    }
    prompt.push_str("<|im_start|>assistant\n");
    prompt
}

fn add(
    batch: &mut LlamaBatch<'_>,
    token: LlamaToken,
    position: usize,
    logits: bool,
) -> Result<(), ProviderError> {
    let position = i32::try_from(position)
        .map_err(|_| refused(format!("token position {position} is too large")))?;
    batch
        .add(token, position, &[0], logits)
        .map_err(|e| ProviderError::Server {
            status: 0,
            message: format!("llama.cpp batch: {e}"),
        })
}

fn decode(ctx: &mut LlamaContext<'_>, batch: &mut LlamaBatch<'_>) -> Result<(), ProviderError> {
    ctx.decode(batch).map_err(|e| ProviderError::Server {
        status: 0,
        message: format!(
            "llama.cpp failed to evaluate {} tokens: {e}",
            batch.n_tokens()
        ),
    })
}

/// A request this model cannot take; asking again would fail the same way.
fn refused(message: String) -> ProviderError {
    ProviderError::Client { status: 0, message }
}

fn no_token() -> ProviderError {
    ProviderError::Server {
        status: 0,
        message: "llama.cpp's sampler chose no token".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_split_across_tokens_are_handed_on_whole() {
        let mut utf8 = Utf8Pieces::default();
        let snowman = "☃".as_bytes();
        assert_eq!(utf8.push(b"a"), Some("a".to_owned()));
        assert_eq!(utf8.push(&snowman[..1]), None);
        assert_eq!(utf8.push(&snowman[1..2]), None);
        assert_eq!(utf8.push(&[snowman[2], b'b']), Some("☃b".to_owned()));
        assert_eq!(utf8.finish(), None);
    }

    #[test]
    fn bytes_that_are_not_utf8_become_replacement_characters() {
        let mut utf8 = Utf8Pieces::default();
        assert_eq!(
            utf8.push(&[b'x', 0xff, b'y']),
            Some("x\u{fffd}y".to_owned())
        );
        assert_eq!(utf8.push(&[0xe2, 0x98]), None);
        assert_eq!(utf8.finish(), Some("\u{fffd}".to_owned()));
    }

    #[test]
    fn chatml_ends_with_the_assistant_turn() {
        let request = Request::new(vec![crate::Message::system("s"), crate::Message::user("u")]);
        assert_eq!(
            chatml(&request),
            "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\n"
        );
    }
}
