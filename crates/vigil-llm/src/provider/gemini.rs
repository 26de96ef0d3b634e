//! Google's Gemini API (`POST {url}/v1beta/models/{model}:streamGenerateContent?alt=sse`).

use serde_json::{Value, json};

use super::{Remote, Streamed, Wire, chunk, count, cut_off, split_system};
use crate::{ProviderError, Request, Role, sse};

/// The wire format.
pub(super) struct Gemini;

impl Wire for Gemini {
    const KIND: &'static str = "gemini";
    const NATIVE_SCHEMA: bool = true;

    fn answer(
        remote: &Remote,
        request: &Request,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProviderError> {
        let (system, rest) = split_system(request);
        let contents: Vec<Value> = rest
            .into_iter()
            .map(|(role, text)| {
                let role = if role == Role::Assistant {
                    "model"
                } else {
                    "user"
                };
                json!({"role": role, "parts": [{"text": text}]})
            })
            .collect();
        let mut config = json!({
            "maxOutputTokens": request.max_tokens,
            "temperature": request.temperature,
        });
        if let Some(schema) = &request.schema {
            config["responseMimeType"] = json!("application/json");
            config["responseJsonSchema"] = schema.schema.clone();
        }
        let mut body = json!({"contents": contents, "generationConfig": config});
        if !system.is_empty() {
            body["systemInstruction"] = json!({"parts": [{"text": system}]});
        }
        let mut headers = Vec::new();
        if let Some(secret) = &remote.secret {
            headers.push(("x-goog-api-key", secret.expose().to_owned()));
        }
        let url = format!(
            "{}/v1beta/models/{}:streamGenerateContent?alt=sse",
            remote.url, remote.model
        );
        let mut reader = remote.http.post(&url, &headers, &body)?;
        let mut out = Streamed::default();
        let mut finish: Option<String> = None;
        while let Some(event) = sse::next_event(&mut reader)? {
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
            if let Some(reason) = value
                .pointer("/promptFeedback/blockReason")
                .and_then(Value::as_str)
            {
                return Err(ProviderError::Refused(format!("prompt blocked: {reason}")));
            }
            let candidate = value.pointer("/candidates/0");
            let parts = candidate
                .and_then(|c| c.pointer("/content/parts"))
                .and_then(Value::as_array);
            for part in parts.into_iter().flatten() {
                if let Some(text) = part
                    .get("text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                {
                    on_token(text);
                    out.text.push_str(text);
                }
            }
            if let Some(reason) = candidate
                .and_then(|c| c.get("finishReason"))
                .and_then(Value::as_str)
            {
                finish = Some(reason.to_owned());
            }
            if value.get("usageMetadata").is_some() {
                out.input_tokens = count(&value, "/usageMetadata/promptTokenCount");
                out.output_tokens = count(&value, "/usageMetadata/candidatesTokenCount");
            }
        }
        match finish.as_deref() {
            None => Err(cut_off()),
            Some("MAX_TOKENS") => Ok(Streamed {
                truncated: true,
                ..out
            }),
            Some("STOP") | Some("FINISH_REASON_UNSPECIFIED") => Ok(out),
            Some(other) => Err(ProviderError::Refused(format!("finishReason {other}"))),
        }
    }
}
