//! Anthropic's Messages API (`POST {url}/v1/messages`, server-sent events). It has no JSON
//! schema parameter: structured output is asked for in the prompt and validated by the chain.

use serde_json::{Value, json};

use super::{Remote, Streamed, Wire, chunk, count, cut_off, split_system};
use crate::{ProviderError, Request, Role, sse};

/// The API version vigil speaks.
const VERSION: &str = "2023-06-01";

/// The wire format.
pub(super) struct Anthropic;

impl Wire for Anthropic {
    const KIND: &'static str = "anthropic";
    const NATIVE_SCHEMA: bool = false;

    fn answer(
        remote: &Remote,
        request: &Request,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProviderError> {
        let (system, rest) = split_system(request);
        // The API wants user and assistant turns alternating: neighbours of one role join.
        let mut messages: Vec<(Role, String)> = Vec::new();
        for (role, content) in rest {
            match messages.last_mut() {
                Some((last, text)) if *last == role => {
                    text.push_str("\n\n");
                    text.push_str(content);
                }
                _ => messages.push((role, content.to_owned())),
            }
        }
        let messages: Vec<Value> = messages
            .into_iter()
            .map(|(role, content)| json!({"role": role, "content": content}))
            .collect();
        let mut body = json!({
            "model": remote.model,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "messages": messages,
            "stream": true,
        });
        if !system.is_empty() {
            body["system"] = Value::String(system);
        }
        let mut headers = vec![("anthropic-version", VERSION.to_owned())];
        if let Some(secret) = &remote.secret {
            headers.push(("x-api-key", secret.expose().to_owned()));
        }
        let url = format!("{}/v1/messages", remote.url);
        let mut reader = remote.http.post(&url, &headers, &body)?;
        let mut out = Streamed::default();
        let mut stop: Option<String> = None;
        while let Some(event) = sse::next_event(&mut reader)? {
            let value = chunk(&event.data)?;
            let name = value
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or(&event.name);
            match name {
                "message_start" => {
                    out.input_tokens = count(&value, "/message/usage/input_tokens");
                }
                "content_block_delta" => {
                    if let Some(text) = value.pointer("/delta/text").and_then(Value::as_str) {
                        on_token(text);
                        out.text.push_str(text);
                    }
                }
                "message_delta" => {
                    if let Some(reason) =
                        value.pointer("/delta/stop_reason").and_then(Value::as_str)
                    {
                        stop = Some(reason.to_owned());
                    }
                    out.output_tokens = count(&value, "/usage/output_tokens").or(out.output_tokens);
                }
                "message_stop" => {
                    return match stop.as_deref() {
                        Some("max_tokens") => Ok(Streamed {
                            truncated: true,
                            ..out
                        }),
                        Some("refusal") => {
                            Err(ProviderError::Refused("stop_reason refusal".to_owned()))
                        }
                        _ => Ok(out),
                    };
                }
                "error" => {
                    let message = value
                        .pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("error event");
                    let kind = value
                        .pointer("/error/type")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    return Err(ProviderError::Server {
                        status: 0,
                        message: format!("{kind}: {message}"),
                    });
                }
                _ => {}
            }
        }
        Err(cut_off())
    }
}
