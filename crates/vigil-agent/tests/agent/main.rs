//! The agent over real corpus incidents, with scripted models: narratives held to the
//! facts, questions to queries, investigations bounded and read-only, and prompt injection
//! planted in log fields changing nothing.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

mod support;

mod ask;
mod injection;
mod investigate;
#[cfg(feature = "local")]
mod local;
mod narrative;
