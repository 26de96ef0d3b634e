//! Errors of reading inputs: [`IngestError`] for an input as a whole, [`RecordError`] for one
//! record (or a run of records, such as a damaged EVTX chunk) inside an input.

use std::fmt;
use std::io;

use vigil_event::{Location, Origin, SourcePath};

/// An input that could not be read at all. The run goes on with the other inputs.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The path could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The input's display path.
        path: SourcePath,
        /// What the operating system said.
        source: io::Error,
    },
    /// No reader recognised the content.
    #[error("{path}: unknown format (hint: force one with `--format`; `vigil formats` lists them)")]
    UnknownFormat {
        /// The input's display path.
        path: SourcePath,
    },
    /// `--format` named a reader that does not exist.
    #[error("no reader named '{name}' (known: {known})")]
    UnknownReader {
        /// The name asked for.
        name: String,
        /// The names that exist, comma-separated.
        known: String,
    },
    /// The input is not in the format its reader expects, as a whole (a bad EVTX file header).
    #[error("{path}: not a valid {format} input: {reason}")]
    Invalid {
        /// The input's display path.
        path: SourcePath,
        /// The reader's name.
        format: &'static str,
        /// Why.
        reason: String,
    },
    /// A reader failed in a way it should not (a bug); the input is abandoned, the run goes on.
    #[error("{path}: internal error while reading, please report it: {message}")]
    Internal {
        /// The input's display path.
        path: SourcePath,
        /// What the failure said.
        message: String,
    },
    /// An archive (zip, tar, gzip) could not be read.
    #[error("{path}: unreadable {kind} archive: {reason}")]
    Archive {
        /// The archive's display path.
        path: SourcePath,
        /// `zip`, `tar` or `gzip`.
        kind: &'static str,
        /// Why.
        reason: String,
    },
}

impl IngestError {
    pub(crate) fn io(path: &SourcePath, source: io::Error) -> Self {
        IngestError::Io {
            path: path.clone(),
            source,
        }
    }

    /// The message with every cause it carries, joined by `: `, for reports that must say
    /// everything on one line.
    pub fn detail(&self) -> String {
        chain(self)
    }

    /// The display path of the input the error is about, when there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            IngestError::Io { path, .. }
            | IngestError::UnknownFormat { path }
            | IngestError::Invalid { path, .. }
            | IngestError::Internal { path, .. }
            | IngestError::Archive { path, .. } => Some(path),
            IngestError::UnknownReader { .. } => None,
        }
    }
}

/// Why a record could not become an event.
#[derive(Debug, thiserror::Error)]
pub enum RecordErrorKind {
    /// The record is not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON value is not an object.
    #[error("expected a JSON object, found {0}")]
    NotAnObject(&'static str),
    /// A JSON value was cut off or its brackets do not balance.
    #[error("incomplete JSON value: {0}")]
    IncompleteJson(&'static str),
    /// The record is longer than the reader accepts.
    #[error("record of {len} bytes exceeds the limit of {limit} bytes")]
    TooLong {
        /// The record's length so far.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A line that is not syslog.
    #[error("not a syslog line: {0}")]
    Syslog(String),
    /// A record that is not valid in its format, with the reason.
    #[error("not a valid {format} record: {reason}")]
    Format {
        /// The reader's name.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A damaged EVTX chunk whose records could not be read.
    #[error("EVTX chunk {chunk} is damaged ({reason}); its {records} record(s) were not read")]
    EvtxChunk {
        /// The chunk number.
        chunk: u64,
        /// How many records its header announces (1 when the header is unreadable).
        records: u64,
        /// Why it was rejected.
        reason: String,
    },
    /// Records an EVTX chunk header announces that the parser did not deliver.
    #[error("EVTX chunk {chunk}: {missing} of its {expected} record(s) could not be read")]
    EvtxMissing {
        /// The chunk number.
        chunk: u64,
        /// How many records were not delivered.
        missing: u64,
        /// How many the chunk header announces.
        expected: u64,
    },
    /// A single EVTX record that could not be parsed or rendered.
    #[error("EVTX record could not be read: {0}")]
    EvtxRecord(String),
    /// Reading the input failed part way.
    #[error("read failed: {0}")]
    Io(#[from] io::Error),
}

/// A record (or run of records) that could not be read, with where it is.
#[derive(Debug)]
pub struct RecordError {
    /// The input and the place in it.
    pub origin: Origin,
    /// How many records the error stands for: 1 for one bad line or record, the chunk's
    /// record count for a damaged EVTX chunk.
    pub records: u64,
    /// What went wrong.
    pub kind: RecordErrorKind,
}

impl RecordError {
    /// An error about one record.
    pub fn new(path: &SourcePath, location: Location, kind: impl Into<RecordErrorKind>) -> Self {
        RecordError {
            origin: Origin::new(path.clone(), location),
            records: 1,
            kind: kind.into(),
        }
    }

    /// A record that is not valid in the `format` reader's format, for `reason`.
    pub fn format(
        path: &SourcePath,
        location: Location,
        format: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        let reason = reason.into();
        RecordError::new(path, location, RecordErrorKind::Format { format, reason })
    }

    /// The same error, standing for `records` records.
    pub fn covering(mut self, records: u64) -> Self {
        self.records = records;
        self
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.kind)
    }
}

impl std::error::Error for RecordError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.kind.source()
    }
}

/// An error with its chain of causes, joined by `: `, for messages that must say everything.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A result with this crate's input-level error.
pub type Result<T> = std::result::Result<T, IngestError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_errors_name_file_and_place() {
        let e = RecordError::new(
            &"auth.log".into(),
            Location::line(7, 300),
            RecordErrorKind::Syslog("no timestamp".into()),
        );
        assert_eq!(
            e.to_string(),
            "auth.log: line 7, offset 0x0000012c: not a syslog line: no timestamp"
        );
    }

    #[test]
    fn chains_join_causes_once() {
        let inner = io::Error::other("disk on fire");
        let e = IngestError::io(&"x.evtx".into(), inner);
        assert_eq!(chain(&e), "x.evtx: disk on fire");
    }
}
