//! Ollama's native chat API (`POST {url}/api/chat`, one JSON object a line).

use serde_json::{Value, json};

use super::{LlmProvider, Remote, Streamed, chunk, count, cut_off};
use crate::{ProviderConfig, ProviderError, Request, sse};

pub(super) fn build(_: &ProviderConfig, remote: Remote) -> Result<Box<dyn LlmProvider>, String> {
    Ok(Box::new(Ollama { remote }))
}

struct Ollama {
    remote: Remote,
}

impl LlmProvider for Ollama {
    fn name(&self) -> &str {
        &self.remote.name
    }
    fn kind(&self) -> &'static str {
        "ollama"
    }
    fn model(&self) -> &str {
        &self.remote.model
    }
    fn native_schema(&self) -> bool {
        true
    }

    fn stream(
        &self,
        request: &Request,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProviderError> {
        self.answer(request, on_token)
            .map_err(|e| self.remote.scrub(e))
    }
}

impl Ollama {
    /// The call itself; `stream` scrubs the key from whatever error it returns.
    fn answer(
        &self,
        request: &Request,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProviderError> {
        let mut body = json!({
            "model": self.remote.model,
            "messages": request.messages,
            "stream": true,
            "options": {"num_predict": request.max_tokens, "temperature": request.temperature},
        });
        if let Some(schema) = &request.schema {
            body["format"] = schema.schema.clone();
        }
        let mut headers = Vec::new();
        if let Some(secret) = &self.remote.secret {
            headers.push(("authorization", format!("Bearer {}", secret.expose())));
        }
        let url = format!("{}/api/chat", self.remote.url);
        let mut reader = self.remote.http.post(&url, &headers, &body)?;
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
