//! Hunting: run a [`vigil_sigma::Detector`] over what [`vigil_ingest`] reads.
//!
//! [`hunt`] reads every input of a plan on worker threads (files in parallel, EVTX chunks
//! in parallel), places each event with the taxonomy, and matches it on the thread that
//! read it. Matches of rules that correlation rules count are kept with their event and,
//! once every input is read, fed to the correlation engine in time order. The result is a
//! [`HuntReport`]: [`Detection`]s in a stable order (time, then file, then record) and a
//! [`Summary`] with the counts `summary.json` holds.
#![warn(missing_docs)]

mod attack;
mod detection;
mod hunt;

pub use attack::{AttackMapping, RuleTechniques, TextMapping};
pub use detection::{Detection, DetectionSource, Summary, fingerprint};
pub use hunt::{HuntOptions, HuntReport, LiveHunt, Taken, hunt};
pub use vigil_sigma::Level;
