//! Reports of a hunt: what leaves the SOC.
//!
//! [`Run::load`] reads what `vigil hunt --out DIR` wrote; [`build`] turns it into one
//! report model (each incident with a deterministic plain-words summary, a timeline with
//! key evidence, indicators, a tactic-by-technique heat map, recommendations from
//! `data/recommendations.toml` and the ATT&CK mitigations that apply); a [`Renderer`]
//! writes it. Renderers are registered in one place ([`renderers`]): JSON, Markdown (from
//! a template users can override), and timelines as CSV and JSON Lines in the shape
//! Timesketch imports (`datetime`, `timestamp_desc`, `message`, then fields).
//!
//! ```
//! let run = vigil_report::Run::new(serde_json::json!({}), Vec::new(), Vec::new());
//! let attack = vigil_attack::Attack::embedded()?;
//! let model = vigil_report::build(&run, &attack);
//! let templates = vigil_report::Templates::new(None)?;
//! let mut out = Vec::new();
//! vigil_report::renderer("md")?.render(&model, &templates, &mut out)?;
//! assert!(String::from_utf8(out)?.starts_with("# vigil hunt report"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod docx;
mod error;
mod model;
#[cfg(feature = "pdf")]
mod pdf;
mod render;
mod run;

pub use error::{Error, Result};
pub use model::{EVIDENCE_FIELDS, Recommendation, build, executive_summary};
pub use render::{Renderer, Templates, renderer, renderers};
pub use run::Run;
