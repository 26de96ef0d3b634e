//! Integration tests of the Sigma engine: the specification's detection semantics, strict
//! loading, log-source routing, correlations and filters, and the fast path against the
//! exhaustive reference.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

mod conditions;
mod correlation;
mod fastpath;
mod filters;
mod harness;
mod loading;
mod modifiers;
mod random_event;
mod routing;
mod semantics;
