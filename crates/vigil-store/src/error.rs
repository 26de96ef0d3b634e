//! Errors of the store.

/// What can go wrong storing or reading.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database URL or path is not one vigil can open.
    #[error("cannot open the store {target}: {reason}")]
    Open {
        /// The URL or path (a PostgreSQL password is never shown).
        target: String,
        /// Why.
        reason: String,
    },
    /// The database refused a statement.
    #[error("{backend}: {reason}")]
    Database {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The database's message.
        reason: String,
    },
    /// The database holds a newer schema than this vigil knows.
    #[error(
        "the store's schema is version {found}, newer than this vigil's {known}: upgrade vigil"
    )]
    NewerSchema {
        /// The version found.
        found: i64,
        /// The newest version this build has migrations for.
        known: i64,
    },
    /// A value cannot be stored (an unknown status, a duplicate user).
    #[error("{0}")]
    Invalid(String),
    /// A stored document is not the JSON vigil wrote.
    #[error("{table} {id}: stored JSON is damaged: {reason}")]
    Damaged {
        /// The table.
        table: &'static str,
        /// The row.
        id: String,
        /// Why.
        reason: String,
    },
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
