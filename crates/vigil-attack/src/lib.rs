//! MITRE ATT&CK for vigil: the knowledge base, mapping with confidence, coverage.
//!
//! [`Attack`] holds one ATT&CK domain and release: [`Tactic`]s in kill-chain order,
//! [`Technique`]s and sub-techniques (revoked and deprecated ones with their
//! replacements), and [`Entity`]s (groups, software, campaigns, mitigations, data sources),
//! with O(1) lookups by id, tactic name and Sigma tag. It is read from a STIX bundle
//! ([`Attack::from_bundle`]) or from the compact table generated from one, which the binary
//! embeds ([`Attack::embedded`]) so vigil works offline.
//!
//! [`Coverage`] counts which techniques a rule set covers, per tactic; it prints a terminal
//! summary and writes an ATT&CK Navigator [`Layer`] (layer format 4.5).
//!
//! [`TextMapper`] maps free text (a rule's title and description, an alert, a note) to
//! techniques: a BM25F index over technique names, descriptions, detection prose and
//! procedure examples, each hit a [`TechniqueHit`] with a confidence and the matched terms.
//!
//! ```
//! let attack = vigil_attack::Attack::embedded()?;
//! let lsass = attack.technique("T1003.001").expect("in every release since 7");
//! assert_eq!(lsass.name, "LSASS Memory");
//! assert_eq!(lsass.tactics, ["credential-access"]);
//! # Ok::<(), vigil_attack::Error>(())
//! ```
#![warn(missing_docs)]

mod coverage;
mod error;
mod kb;
mod layer;
mod mapping;
mod model;
mod stix;
mod table;
mod text;

pub use coverage::{
    COMMENT_LABELS, Coverage, Label, TacticRow, TechniqueCount, Totals, UnknownTechnique,
};
pub use error::{Error, Result};
pub use kb::{Attack, Meta, Object};
pub use layer::{
    AggregateFunction, DOMAINS, ExpandedSubtechniques, Filters, Gradient, LAYER_FORMAT_VERSION,
    Layer, LayerTechnique, Layout, LayoutKind, LegendItem, Link, Metadata, NAVIGATOR_VERSION,
    Sorting, Versions,
};
pub use mapping::{
    DEPRECATED_CONFIDENCE, EntityHit, Mapping, REVOKED_CONFIDENCE, SUCCESSOR_CONFIDENCE,
    TAG_CONFIDENCE, TacticHit, TechniqueHit, Unresolved,
};
pub use model::{Entity, EntityKind, Status, Tactic, Technique, TechniqueText};
pub use table::{TABLE_FILE, TEXT_FILE};
pub use text::{RULE_PART_WEIGHTS, TextMapper, TextParams};
