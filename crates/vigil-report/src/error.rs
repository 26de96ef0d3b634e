//! Errors of reading a hunt's output and rendering reports.

/// What can go wrong making a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file of the hunt's output is missing or unreadable.
    #[error("{path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A line or document of the hunt's output is not what `vigil hunt` writes.
    #[error("{path}{}: {reason}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: String,
        /// The 1-based line, for JSON Lines.
        line: Option<usize>,
        /// Why.
        reason: String,
    },
    /// A template failed.
    #[error("template {name}: {reason}")]
    Template {
        /// The template's name.
        name: String,
        /// Why.
        reason: String,
    },
    /// Writing the report failed.
    #[error("writing the report: {0}")]
    Write(#[from] std::io::Error),
    /// The format exists but this build leaves it out (a cargo feature).
    #[error(
        "report format {name:?} is not in this build of vigil; rebuild with `--features {feature}` \
         (e.g. `cargo build --release -p vigil-cli --features {feature}`)"
    )]
    NotBuilt {
        /// What was asked for.
        name: String,
        /// The cargo feature that brings it.
        feature: &'static str,
    },
    /// No renderer has this name.
    #[error("no report format {name:?}; formats: {known}")]
    UnknownFormat {
        /// What was asked for.
        name: String,
        /// The formats there are.
        known: String,
    },
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
