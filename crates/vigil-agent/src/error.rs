//! What can go wrong asking, narrating and investigating.

/// An agent error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A question no planner could turn into a query.
    #[error("cannot read the question {question:?}: {why}")]
    NotUnderstood {
        /// The question.
        question: String,
        /// Why.
        why: String,
    },
    /// An incident id that is not in the data.
    #[error("no incident {0} in the data")]
    NoIncident(String),
}

/// A result with an agent [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
