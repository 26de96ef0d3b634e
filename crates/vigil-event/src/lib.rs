//! The vocabulary every vigil stage shares: the normalized [`Event`].
//!
//! Every reader turns its records into an [`Event`]: a table of [`Fields`] (typed [`Value`]s
//! by name, named the way Sigma rules address them), a UTC timestamp, the host, the format
//! that produced it and its [`Origin`] (input path and [`Location`] in it). Detection,
//! correlation and reporting only ever see this type.
//!
//! The type is built for the hot path: names up to 24 bytes and short strings are stored
//! inline, and a lookup scans an array of name hashes instead of walking a tree. A
//! [`FieldKey`] carries its hash so compiled rules never hash a name twice.
//!
//! ```
//! use vigil_event::{Event, FieldKey, Location, Origin, Value};
//!
//! let mut event = Event::new(Origin::new("Security.evtx".into(), Location::record(42)), "evtx");
//! event.push("EventID", Value::Int(4688));
//! event.push("CommandLine", Value::from("cmd.exe /c whoami"));
//!
//! let command_line = FieldKey::new("CommandLine");
//! assert_eq!(event.get_key(&command_line).and_then(Value::as_str), Some("cmd.exe /c whoami"));
//! assert_eq!(event.get("EventID").and_then(Value::as_i64), Some(4688));
//! ```
#![warn(missing_docs)]

mod error;
mod event;
mod field;
mod logsource;
pub mod time;
mod value;

pub use error::{Error, Result};
pub use event::{Event, Location, Origin, SourcePath};
pub use field::{FieldKey, FieldName, Fields, NameFilter};
pub use logsource::LogSource;
pub use value::{Text, Value};

/// Re-exported so callers name the same timestamp type.
pub use jiff::Timestamp;
