//! vigil's storage, behind one interface ([`Store`]): SQLite by default (a file in vigil's
//! data directory, WAL, full sync) or PostgreSQL by URL. Both run the same versioned
//! migrations (`migrations/`, one SQL dialect for both) and the same code: the backends
//! only execute statements ([`backend`](crate) is private), so every operation behaves the
//! same on both, and the same test suite runs against both.
//!
//! It holds events received live, hunt runs, detections with the event that matched,
//! incidents with their case (status, assignee, notes), rules with their enabled state,
//! suppressions, investigations of incidents (their transcripts), users, API keys (hashes
//! only) and an append-only audit log whose records
//! are chained by SHA-256 ([`Store::verify_audit`] finds a changed, removed or reordered
//! record).
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let mut store = vigil_store::Store::open(dir.path().join("vigil.db").to_str().unwrap())?;
//! store.audit("admin", "login", "admin", &serde_json::json!({}))?;
//! assert!(store.verify_audit()?.broken.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod backend;
mod error;
mod store;

pub use error::{Error, Result};
pub use store::{
    ApiKey, AuditRecord, AuditVerdict, CaseStatus, CaseUpdate, DetectionQuery, GENESIS, HuntRun,
    IncidentQuery, IncidentSort, Note, Page, Store, StoredDetection, StoredIncident,
    StoredInvestigation, StoredRule, StoredSuppression, User,
};

/// A store URL or path with any password replaced by `***`, for messages and logs.
pub fn redacted(target: &str) -> String {
    backend::redact_url(target)
}
