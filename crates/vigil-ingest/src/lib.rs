//! Readers that turn log files, archives and streams into [`vigil_event::Event`]s, one
//! result per record.
//!
//! A [`Reader`] knows one format: it says how sure it is that some bytes are in its format
//! ([`Reader::sniff`]) and turns an [`Input`] into a stream of [`RecordResult`]s, where a
//! bad record is a [`RecordError`] naming the input and the place in it, and never ends the
//! read. Readers are listed once, in `formats/mod.rs`; [`readers`] returns them.
//!
//! [`Ingest`] runs readers over what a user points at: a [`Plan`] walks directories, gzip,
//! zip and tar archives are opened in place, each input's format is detected from its
//! content (or forced), several files are read at once, and every input ends with an
//! [`InputSummary`] where `records = events + errors`.
//!
//! ```
//! use vigil_ingest::{Input, ReadOptions, read_all, reader_named};
//!
//! let json = reader_named("json").unwrap();
//! let text = br#"{"EventID": 4625, "Channel": "Security", "TargetUserName": "admin"}
//! not json
//! "#;
//! let results = read_all(json, Input::from_slice("events.jsonl", text), &ReadOptions::default()).unwrap();
//! assert_eq!(results[0].as_ref().unwrap().get_str("TargetUserName"), Some("admin"));
//! let error = results[1].as_ref().unwrap_err();
//! assert_eq!(error.to_string(), "events.jsonl: record 2, line 2, offset 0x00000044: expected a JSON object, found text");
//! ```
#![warn(missing_docs)]

mod archive;
mod error;
mod flatten;
mod formats;
mod ingest;
mod input;
mod lines;
mod reader;
mod walk;
mod windows;
pub mod wire;

pub use error::{IngestError, RecordError, RecordErrorKind, Result};
pub use ingest::{Ingest, InputInfo, InputSummary, detect, reader_named, readers};
pub use input::{CountingFile, Input, Seekable};
pub use reader::{Emit, ReadOptions, Reader, RecordResult, read_all};
pub use walk::{Plan, PlannedFile};
