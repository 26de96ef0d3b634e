//! The HTTP calls every remote provider makes: a JSON POST whose answer is read as a stream.

use std::io::{BufRead, BufReader};
use std::time::Duration;

use crate::{ProviderError, Secret};

/// Timeouts of one provider.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// Connecting (DNS included).
    pub(crate) connect: Duration,
    /// The whole call, the streamed answer included.
    pub(crate) total: Duration,
    /// Silence between two chunks of a stream (and before the first byte).
    pub(crate) idle: Duration,
}

/// An HTTP client with one provider's timeouts.
pub(crate) struct Http {
    agent: ureq::Agent,
    secret: Option<Secret>,
}

/// The most of an error answer we read to quote its message.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

impl Http {
    pub(crate) fn new(timeouts: Timeouts, secret: Option<Secret>) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeouts.connect))
            .timeout_global(Some(timeouts.total))
            .timeout_recv_response(Some(timeouts.idle))
            .timeout_per_read(Some(timeouts.idle))
            .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent: config.into(),
            secret,
        }
    }

    /// POSTs `body` as JSON and returns the answer's body to read as a stream, or the
    /// error the status and body say.
    pub(crate) fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &serde_json::Value,
    ) -> Result<Box<dyn BufRead + Send>, ProviderError> {
        let mut request = self
            .agent
            .post(url)
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let response = request
            .send(body.to_string())
            .map_err(|e| self.transport(&e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.into_body();
        if (200..300).contains(&status) {
            return Ok(Box::new(BufReader::new(body.into_reader())));
        }
        let text = body
            .into_with_config()
            .limit(ERROR_BODY_LIMIT)
            .read_to_string()
            .unwrap_or_default();
        let message = self.scrub(&error_message(&text));
        Err(match status {
            429 => ProviderError::RateLimited {
                retry_after,
                message,
            },
            408 => ProviderError::Timeout(format!("HTTP 408: {message}")),
            500..=599 => ProviderError::Server { status, message },
            _ => ProviderError::Client { status, message },
        })
    }

    fn scrub(&self, text: &str) -> String {
        match &self.secret {
            Some(secret) => secret.scrub(text),
            None => text.to_owned(),
        }
    }

    fn transport(&self, error: &ureq::Error) -> ProviderError {
        let text = self.scrub(&error.to_string());
        match error {
            ureq::Error::Timeout(_) => ProviderError::Timeout(text),
            // Before an answer started (a refused or reset connection): nothing "broke off".
            ureq::Error::Io(e) => match io_error(std::io::Error::new(e.kind(), text.clone())) {
                timeout @ ProviderError::Timeout(_) => timeout,
                _ => ProviderError::Connect(text),
            },
            _ => ProviderError::Connect(text),
        }
    }
}

/// Maps an error reading a streamed body.
pub(crate) fn io_error(error: std::io::Error) -> ProviderError {
    match error.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            ProviderError::Timeout(error.to_string())
        }
        _ if error.to_string().contains("timeout") => ProviderError::Timeout(error.to_string()),
        _ => ProviderError::Connect(format!("the answer broke off: {error}")),
    }
}

/// The message of an error answer: `error.message`, `error` or `message` of a JSON body
/// (the first element of an array, as Gemini sends), else the text itself, shortened.
fn error_message(text: &str) -> String {
    let value: Option<serde_json::Value> = serde_json::from_str(text).ok();
    let value = match value {
        Some(serde_json::Value::Array(items)) => items.into_iter().next(),
        other => other,
    };
    let found = value.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("error").filter(|e| e.is_string()))
            .or_else(|| v.get("message"))
            .and_then(|m| m.as_str())
            .map(str::to_owned)
    });
    let message = found.unwrap_or_else(|| text.trim().to_owned());
    shorten(&message, 300)
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_found_in_each_providers_shape() {
        assert_eq!(
            error_message(r#"{"error":{"message":"bad key","type":"x"}}"#),
            "bad key"
        );
        assert_eq!(
            error_message(r#"{"error":"model not found"}"#),
            "model not found"
        );
        assert_eq!(
            error_message(r#"[{"error":{"code":429,"message":"quota"}}]"#),
            "quota"
        );
        assert_eq!(error_message("upstream down\n"), "upstream down");
    }
}
