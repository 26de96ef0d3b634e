//! Integration tests of the Sigma engine: the specification's detection semantics, strict
//! loading, log-source routing, correlations and filters, the fast path against the
//! exhaustive reference, and the built-in rule pack.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

mod builtin;
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
