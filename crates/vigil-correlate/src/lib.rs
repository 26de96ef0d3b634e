//! Correlation: related detections folded into incidents.
//!
//! [`Correlator::correlate`] reads each [`vigil_detect::Detection`]'s entities (hosts,
//! users normalized across `DOMAIN\user`, UPN, SID and Linux names, IP addresses, logon
//! sessions, process GUIDs, cloud identities; where to find them is data,
//! `data/entities.toml`) and joins detections that share one within a time window, over
//! the detections in time order, so the same detections in any order or split across any
//! files give the same [`Incident`]s. Entities seen on many hosts do not join (they would
//! merge unrelated hosts). Each incident lists its entities, techniques and tactics, and
//! its [`Stage`]: the furthest tactic reached, its detections' tactics in time order, and
//! the multi-stage progression they show (`data/progressions.toml`).
#![warn(missing_docs)]

mod correlate;
mod entities;
mod error;
mod fields;
mod incident;
mod stage;
pub mod synthetic;

pub use correlate::{CorrelateOptions, Correlator};
pub use entities::{EntityKey, EntityKind, EntityRules, user_name};
pub use error::{Error, Result};
pub use incident::{Incident, IncidentEntities, IncidentTechnique, Stage};
pub use stage::{Progression, progressions, recognise};
