//! Errors of loading ATT&CK data.

/// What can go wrong loading a bundle or a table.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The STIX bundle is not valid JSON or not a bundle.
    #[error("{source_name}: not an ATT&CK STIX bundle: {reason}")]
    Bundle {
        /// The file or URL the bundle came from.
        source_name: String,
        /// Why.
        reason: String,
    },
    /// The compact table is malformed.
    #[error("{source_name} line {line}: {reason}")]
    Table {
        /// The table file (`embedded` for the built-in one).
        source_name: String,
        /// The 1-based line.
        line: usize,
        /// Why.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
