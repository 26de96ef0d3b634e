//! Ollama's native chat API (`POST {url}/api/chat`, one JSON object a line).

use serde_json::{Value, json};

use super::{Remote, Streamed, Wire, chunk, count, cut_off};
use crate::{ProviderError, Request, sse};

/// The wire format.
pub(super) struct Ollama;

impl Wire for Ollama {
    const KIND: &'static str = "ollama";
    const NATIVE_SCHEMA: bool = true;

    fn answer(
        remote: &Remote,
        request: &Request,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProviderError> {
        let mut body = json!({
            "model": remote.model,
            "messages": request.messages,
            "stream": true,
            "options": {"num_predict": request.max_tokens, "temperature": request.temperature},
        });
        if let Some(schema) = &request.schema {
            body["format"] = schema.schema.clone();
        }
        let mut headers = Vec::new();
        if let Some(secret) = &remote.secret {
            headers.push(("authorization", format!("Bearer {}", secret.expose())));
        }
        let url = format!("{}/api/chat", remote.url);
        let mut reader = remote.http.post(&url, &headers, &body)?;
        let mut out = Streamed::default();
        while let Some(line) = sse::next_line(&mut reader)? {
            if line.trim().is_empty() {
                continue;
            }
            let value = chunk(&line)?;
            if let Some(error) = value.get("error").and_then(Value::as_str) {
                return Err(ProviderError::Server {
                    status: 0,
                    message: error.to_owned(),
                });
            }
            if let Some(text) = value
                .pointer("/message/content")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                on_token(text);
                out.text.push_str(text);
            }
            if value.get("done").and_then(Value::as_bool) == Some(true) {
                out.input_tokens = count(&value, "/prompt_eval_count");
                out.output_tokens = count(&value, "/eval_count");
                out.truncated = value.get("done_reason").and_then(Value::as_str) == Some("length");
                return Ok(out);
            }
        }
        Err(cut_off())
    }
}
