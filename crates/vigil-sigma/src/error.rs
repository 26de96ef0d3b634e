//! Errors of loading rules and routing data.

use std::path::PathBuf;

/// What can go wrong before any event is matched. A rule that fails to load is not an
/// error of the whole load: it is a [`crate::RuleFailure`] in the [`crate::LoadReport`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A path given as rules could not be read at all.
    #[error("{}: {reason}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The routing data is malformed.
    #[error("{file}: {reason}")]
    Routing {
        /// The routing file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The placeholder file for `|expand` is malformed.
    #[error("{}: {reason}", path.display())]
    Placeholders {
        /// The placeholder file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
