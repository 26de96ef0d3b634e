//! Sigma rules for vigil: load and strictly validate rule files, compile them once, and
//! match [`vigil_event::Event`]s.
//!
//! Parsing and per-rule compilation are done by the `rsigma-parser` and `rsigma-eval`
//! crates (see `docs/adr/0002-sigma-engine.md`); this crate adds what vigil needs around
//! them:
//!
//! - [`RuleSet::load`] reads files and directories of rules (multi-document YAML), the
//!   built-in pack ([`builtin`]) and `|expand` placeholders, and reports every rule that
//!   fails with its file, id and reason ([`LoadReport`]) instead of skipping it;
//! - [`Routing`] is log-source routing as data: which rules can meet an event, and under
//!   which names its fields are known to them (`data/routing.toml`);
//! - [`Detector`] matches events: each distinct event log source gets, once, an engine
//!   holding only the rules that apply to it, whose candidate index and literal automata
//!   prune the rest; the event is read in place through [`SigmaEvent`].
//!
//! ```
//! use vigil_event::{Event, Location, Origin, Value};
//! use vigil_sigma::{Detector, RuleSet, Routing};
//!
//! let yaml = r#"
//! title: Whoami
//! id: 3c6f3d4e-0000-4000-8000-000000000001
//! status: test
//! level: medium
//! logsource: {product: windows, category: process_creation}
//! detection:
//!     selection: {Image|endswith: '\whoami.exe'}
//!     condition: selection
//! "#;
//! let (rules, report) = RuleSet::from_yaml("whoami.yml", yaml, None);
//! assert_eq!(report.loaded, 1);
//! let detector = Detector::new(rules, Routing::builtin().unwrap());
//!
//! // A Security 4688 event keeps the path as NewProcessName; routing finds it.
//! let mut event = Event::new(Origin::new("security.evtx".into(), Location::record(1)), "evtx");
//! event.push("NewProcessName", Value::from(r"C:\Windows\System32\whoami.exe"));
//! event.logsource.product = Some("windows".into());
//! event.logsource.service = Some("security".into());
//! event.logsource.category = Some("process_creation".into());
//! let matches = detector.matcher().detect(&event);
//! assert_eq!(matches[0].rule.title, "Whoami");
//! ```
#![warn(missing_docs)]

pub mod builtin;
mod conformance;
mod detector;
mod error;
mod event;
mod level;
mod placeholders;
mod routing;
mod rules;

pub use detector::{CorrelationMatch, Correlator, Detector, Match, Matcher};
pub use error::{Error, Result};
pub use event::SigmaEvent;
pub use level::Level;
pub use placeholders::Placeholders;
pub use routing::{Aliases, Routing};
pub use rules::{
    CorrelationInfo, LoadReport, RuleFailure, RuleInfo, RuleKind, RuleSet, RuleSource,
};
