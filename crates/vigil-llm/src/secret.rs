//! API keys that never print.

use std::fmt;

/// A secret value (an API key). `Debug` and `Display` print `[redacted]`; only
/// [`Secret::expose`] gives the value, to put it in a request header.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for a request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the secret replaced by `[redacted]`: for messages a
    /// server may have echoed the key into.
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_owned();
        }
        text.replace(&self.0, "[redacted]")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn a_secret_never_prints_and_is_scrubbed_from_text() {
        let key = Secret::new("sk-live-1234567890");
        assert_eq!(format!("{key} {key:?}"), "[redacted] Secret([redacted])");
        assert_eq!(
            key.scrub("invalid key sk-live-1234567890 given"),
            "invalid key [redacted] given"
        );
        assert_eq!(key.expose(), "sk-live-1234567890");
    }
}
