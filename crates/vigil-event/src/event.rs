//! The normalized [`Event`] and where it came from ([`Origin`], [`Location`]).

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::field::{FieldKey, FieldName, Fields};
use crate::logsource::LogSource;
use crate::value::{Text, Value};

/// Where in its source a record sits. Readers fill what their format has: EVTX gives the
/// record id and chunk, text formats the line and byte offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Location {
    /// The record number the source assigns (EVTX `EventRecordID`), or the 1-based index of
    /// the record in its file for formats without one.
    pub record: Option<u64>,
    /// The EVTX chunk number (0-based).
    pub chunk: Option<u64>,
    /// The 1-based line where the record starts.
    pub line: Option<u64>,
    /// The byte offset where the record starts.
    pub offset: Option<u64>,
}

impl Location {
    /// A location by line and byte offset.
    pub fn line(line: u64, offset: u64) -> Self {
        Location {
            line: Some(line),
            offset: Some(offset),
            ..Location::default()
        }
    }

    /// A location by record number.
    pub fn record(record: u64) -> Self {
        Location {
            record: Some(record),
            ..Location::default()
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::with_capacity(4);
        if let Some(r) = self.record {
            parts.push(format!("record {r}"));
        }
        if let Some(c) = self.chunk {
            parts.push(format!("chunk {c}"));
        }
        if let Some(l) = self.line {
            parts.push(format!("line {l}"));
        }
        if let Some(o) = self.offset {
            parts.push(format!("offset 0x{o:08x}"));
        }
        if parts.is_empty() {
            f.write_str("whole input")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// The display path of an input: a file path, or `archive.zip!member/path` for a member of
/// an archive. Shared by all events of the input.
pub type SourcePath = Arc<str>;

/// Where an event came from: its input and its place in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The input's display path.
    pub path: SourcePath,
    /// The record's place in the input.
    pub location: Location,
}

impl Origin {
    /// An origin in `path` at `location`.
    pub fn new(path: SourcePath, location: Location) -> Self {
        Origin { path, location }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.location)
    }
}

impl Serialize for Origin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let loc = &self.location;
        let mut s = serializer.serialize_struct("Origin", 5)?;
        s.serialize_field("path", &*self.path)?;
        for (key, value) in [
            ("record", loc.record),
            ("chunk", loc.chunk),
            ("line", loc.line),
            ("offset", loc.offset),
        ] {
            match value {
                Some(v) => s.serialize_field(key, &v)?,
                None => s.skip_field(key)?,
            }
        }
        s.end()
    }
}

/// One normalized record from any source.
///
/// Fields are addressed by the names Sigma rules use: for Windows events `EventID`,
/// `Channel`, `Computer` and the `EventData`/`UserData` fields by their bare names
/// (`CommandLine`, `TargetUserName`); for other sources the source's own names, nested
/// objects joined with dots (`source.ip`). See [`Fields`] for why lookups are cheap.
///
/// ```
/// use vigil_event::{Event, Location, Origin, Value};
/// let origin = Origin::new("auth.log".into(), Location::line(3, 120));
/// let mut event = Event::new(origin, "syslog");
/// event.push("user.name", Value::from("root"));
/// assert_eq!(event.get_str("user.name"), Some("root"));
/// assert_eq!(event.origin.to_string(), "auth.log: line 3, offset 0x00000078");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When the event happened, in UTC, if the source says.
    pub timestamp: Option<Timestamp>,
    /// The host the event is about (the computer that logged it).
    pub host: Option<Text>,
    /// The reader that produced it (`evtx`, `json`, `syslog`, ...).
    pub format: &'static str,
    /// The source's variant of the format, when a reader tells several apart
    /// (`winlogbeat`, `rfc5424`).
    pub variant: Option<&'static str>,
    /// Where it came from.
    pub origin: Origin,
    /// The Sigma log source it belongs to, once the taxonomy has placed it.
    pub logsource: LogSource,
    fields: Fields,
}

impl Event {
    /// An event with no fields yet.
    pub fn new(origin: Origin, format: &'static str) -> Self {
        Event {
            timestamp: None,
            host: None,
            format,
            variant: None,
            origin,
            logsource: LogSource::default(),
            fields: Fields::default(),
        }
    }

    /// An event with the given fields.
    pub fn with_fields(origin: Origin, format: &'static str, fields: Fields) -> Self {
        Event {
            fields,
            ..Event::new(origin, format)
        }
    }

    /// The fields.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// The fields, for changes.
    pub fn fields_mut(&mut self) -> &mut Fields {
        &mut self.fields
    }

    /// Appends a field whose name the caller knows to be new (see [`Fields::push`]).
    #[inline]
    pub fn push(&mut self, name: impl Into<FieldName>, value: Value) {
        self.fields.push(name, value);
    }

    /// Sets a field, replacing any value it had.
    pub fn insert(&mut self, name: impl Into<FieldName>, value: Value) -> Option<Value> {
        self.fields.insert(name, value)
    }

    /// The value of the field called `name`.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// The value of the field `key` names.
    #[inline]
    pub fn get_key(&self, key: &FieldKey) -> Option<&Value> {
        self.fields.get_key(key)
    }

    /// The text of the field called `name`, when it is a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }
}

/// Events serialize as `{"timestamp","host","format","variant","logsource","origin","fields"}`,
/// the shape `vigil parse` prints; an absent timestamp, host, variant or log source is left
/// out.
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Event", 7)?;
        match &self.timestamp {
            Some(t) => s.serialize_field("timestamp", &crate::time::Rfc3339(*t))?,
            None => s.skip_field("timestamp")?,
        }
        match &self.host {
            Some(h) => s.serialize_field("host", h.as_str())?,
            None => s.skip_field("host")?,
        }
        s.serialize_field("format", self.format)?;
        match self.variant {
            Some(v) => s.serialize_field("variant", v)?,
            None => s.skip_field("variant")?,
        }
        if self.logsource.is_empty() {
            s.skip_field("logsource")?;
        } else {
            s.serialize_field("logsource", &self.logsource)?;
        }
        s.serialize_field("origin", &self.origin)?;
        s.serialize_field("fields", &self.fields)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_in_the_documented_shape() {
        let origin = Origin::new(
            "Security.evtx".into(),
            Location {
                record: Some(7),
                chunk: Some(0),
                ..Location::default()
            },
        );
        let mut e = Event::new(origin, "evtx");
        e.timestamp = Some("2019-03-19T23:34:25.8943413Z".parse().unwrap());
        e.host = Some("PC01".into());
        e.push("EventID", Value::Int(4624));
        e.push("TargetUserName", Value::from("alice"));
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"timestamp":"2019-03-19T23:34:25.8943413Z","host":"PC01","format":"evtx","origin":{"path":"Security.evtx","record":7,"chunk":0},"fields":{"EventID":4624,"TargetUserName":"alice"}}"#
        );
    }

    #[test]
    fn locations_read_well_in_messages() {
        assert_eq!(
            Location::line(12, 0x1a).to_string(),
            "line 12, offset 0x0000001a"
        );
        assert_eq!(Location::record(3).to_string(), "record 3");
        assert_eq!(Location::default().to_string(), "whole input");
    }
}
