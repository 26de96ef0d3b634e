//! Errors of correlation settings.

/// What can go wrong before any detection is correlated.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A data file (entities, progressions) is malformed.
    #[error("{file}: {reason}")]
    Data {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
