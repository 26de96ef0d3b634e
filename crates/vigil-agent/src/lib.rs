//! What vigil asks a model for, and how every answer is held to the facts.
//!
//! - [`narrative`]: an incident's executive summary and analyst narrative, written from the
//!   incident's own facts; every entity the text names is checked ([`grounding`]) and
//!   sentences naming unknown ones are dropped, or the narrative rejected.
//! - [`ask`]: a question in plain words becomes a checked [`Query`] (by a model, or by the
//!   built-in [`parse`]r when none is configured or the model's query does not check out)
//!   that [`query::run`] answers deterministically.
//! - [`investigate`]: a bounded loop in which a model calls read-only [`tools`]; the
//!   transcript is kept and the result must cite evidence.
//!
//! Log content reaches a prompt only as quoted JSON between markers it cannot contain
//! ([`prompt::quote`]); the model picks words and tools, never scores, verdicts or changes.

pub mod ask;
mod error;
pub mod grounding;
pub mod investigate;
pub mod narrative;
pub mod parse;
pub mod prompt;
pub mod query;
pub mod tools;

pub use error::{Error, Result};
pub use query::Query;
