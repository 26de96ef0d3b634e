//! OpenAI-compatible chat completions (`POST {url}/chat/completions`, server-sent events).
//! The same wire format is spoken by OpenRouter, DeepSeek, Qwen's compatible mode, vLLM,
//! LM Studio and llama.cpp's server.

use serde_json::{Value, json};

use super::{Remote, Streamed, Wire, chunk, count, cut_off};
use crate::{ProviderError, Request, sse};

/// The wire format.
pub(super) struct OpenAi;

impl Wire for OpenAi {
    const KIND: &'static str = "openai";
    const NATIVE_SCHEMA: bool = true;

    fn answer(
        remote: &Remote,
        request: &Request,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProviderError> {
        // OpenAI's `json_schema` response format first; servers that only know the older
        // `json_object` (llama-cpp-python's, older vLLM) refuse it naming `response_format`,
        // and get the schema that way instead.
        use std::sync::atomic::Ordering;
        let formats: &[Option<&str>] = match request.schema {
            None => &[None],
            Some(_) if remote.json_object_only.load(Ordering::Relaxed) => &[Some("json_object")],
            Some(_) => &[Some("json_schema"), Some("json_object")],
        };
        for (n, format) in formats.iter().enumerate() {
            match send(remote, request, *format, on_token) {
                Err(error) if n + 1 < formats.len() && refuses_format(&error) => {
                    tracing::debug!(provider = %remote.name, %error, "Structured output asked again as json_object.");
                    remote.json_object_only.store(true, Ordering::Relaxed);
                }
                other => return other,
            }
        }
        Err(ProviderError::Malformed(
            "no response format was accepted".to_owned(),
        ))
    }
}

/// Whether the server refused the request's `response_format`.
fn refuses_format(error: &ProviderError) -> bool {
    match error {
        ProviderError::Client { message, .. } | ProviderError::Server { message, .. } => {
            message.contains("response_format")
        }
        _ => false,
    }
}

fn send(
    remote: &Remote,
    request: &Request,
    format: Option<&str>,
    on_token: &mut dyn FnMut(&str),
) -> Result<Streamed, ProviderError> {
    let mut body = json!({
        "model": remote.model,
        "messages": request.messages,
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
    });
    if let (Some(schema), Some(format)) = (&request.schema, format) {
        body["response_format"] = if format == "json_schema" {
            json!({
                "type": "json_schema",
                "json_schema": {"name": schema.name, "schema": schema.schema, "strict": true},
            })
        } else {
            json!({"type": "json_object", "schema": schema.schema})
        };
    }
    let mut headers = vec![("accept", "text/event-stream".to_owned())];
    if let Some(secret) = &remote.secret {
        headers.push(("authorization", format!("Bearer {}", secret.expose())));
    }
    let url = format!("{}/chat/completions", remote.url);
    let mut reader = remote.http.post(&url, &headers, &body)?;
    let mut out = Streamed::default();
    let mut finish: Option<String> = None;
    while let Some(event) = sse::next_event(&mut reader)? {
        if event.data.trim() == "[DONE]" {
            return finished(out, finish);
        }
        let value = chunk(&event.data)?;
        if let Some(error) = value.get("error") {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("error");
            return Err(ProviderError::Server {
                status: 0,
                message: message.to_owned(),
            });
        }
        if let Some(choice) = value.pointer("/choices/0") {
            // The first chunk carries the role and an empty content: not a token.
            if let Some(text) = choice
                .pointer("/delta/content")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                on_token(text);
                out.text.push_str(text);
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                finish = Some(reason.to_owned());
            }
        }
        if value.get("usage").is_some_and(Value::is_object) {
            out.input_tokens = count(&value, "/usage/prompt_tokens");
            out.output_tokens = count(&value, "/usage/completion_tokens");
        }
    }
    // Some servers end the stream without `[DONE]` once they sent a finish reason.
    if finish.is_some() {
        finished(out, finish)
    } else {
        Err(cut_off())
    }
}

fn finished(mut out: Streamed, finish: Option<String>) -> Result<Streamed, ProviderError> {
    match finish.as_deref() {
        Some("length") => out.truncated = true,
        Some("content_filter") => {
            return Err(ProviderError::Refused(
                "finish_reason content_filter".to_owned(),
            ));
        }
        None => return Err(cut_off()),
        Some(_) => {}
    }
    Ok(out)
}
