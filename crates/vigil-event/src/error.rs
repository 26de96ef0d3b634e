//! Errors of the event vocabulary.

/// What went wrong reading a value into the event model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A timestamp could not be read.
    #[error("invalid timestamp '{text}': {reason}")]
    Timestamp {
        /// The text as found.
        text: String,
        /// Why it was rejected.
        reason: String,
    },
}

impl Error {
    pub(crate) fn timestamp(text: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Timestamp {
            text: text.into(),
            reason: reason.into(),
        }
    }
}

/// A result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
