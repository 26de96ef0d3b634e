//! The [`Reader`] trait every format implements, and the options readers share.

use std::ops::ControlFlow;

use jiff::tz::TimeZone;
use vigil_event::Event;

use crate::error::{RecordError, Result};
use crate::input::Input;

/// The outcome of reading one record.
pub type RecordResult = std::result::Result<Event, RecordError>;

/// Where a reader hands its records, one at a time, in input order. Returning
/// [`ControlFlow::Break`] asks the reader to stop early (the consumer has gone away).
pub type Emit<'s> = dyn FnMut(RecordResult) -> ControlFlow<()> + 's;

/// A log format: recognises its content and turns it into events, one result per record.
///
/// Implementations live in the crate's `formats` module, one module each, and are listed
/// once in `formats::READERS` ([`crate::readers`] returns them); nothing else needs to change
/// to add one.
pub trait Reader: Send + Sync {
    /// The short, stable name used by `--format` and in statistics (`evtx`, `json`).
    fn name(&self) -> &'static str;

    /// One line saying what the reader reads.
    fn description(&self) -> &'static str;

    /// A short example of the input, for `vigil formats`.
    fn example(&self) -> &'static str;

    /// How sure the reader is, from 0 (not mine) to 100 (certain), that an input starting
    /// with `head` is in its format. `head` is the input's first bytes (up to 64 KiB), after
    /// any decompression.
    fn sniff(&self, head: &[u8]) -> u8;

    /// Reads `input` to its end, handing every record to `emit` as an event or an error.
    /// Returns an error only when the input cannot be read at all; a bad record never ends
    /// the read.
    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()>;
}

/// Settings that change how readers interpret their input.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Worker threads a reader may use inside one input (EVTX chunks); 1 reads inline.
    /// The first EVTX input read with more than one thread sizes rayon's global pool to
    /// this, unless the application built that pool already.
    pub threads: usize,
    /// The year for syslog timestamps that have none; by default it is guessed from the
    /// input's modification time.
    pub year: Option<i16>,
    /// The time zone of timestamps written without an offset.
    pub timezone: TimeZone,
    /// The longest record, in bytes, a text reader accepts; longer ones are errors.
    pub max_record_len: usize,
    /// The most bytes of one input held in memory, when a reader must seek in a stream (an
    /// EVTX file inside a tar or gzip stream) or a zip member is unpacked (default 4 GiB).
    pub max_in_memory: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            threads: 1,
            year: None,
            timezone: TimeZone::UTC,
            max_record_len: 16 * 1024 * 1024,
            max_in_memory: 4 << 30,
        }
    }
}

/// Reads a whole input with `reader` and collects the results, for tests and small inputs.
pub fn read_all(
    reader: &dyn Reader,
    input: Input<'_>,
    options: &ReadOptions,
) -> Result<Vec<RecordResult>> {
    let mut out = Vec::new();
    reader.read(input, options, &mut |record| {
        out.push(record);
        ControlFlow::Continue(())
    })?;
    Ok(out)
}

/// Reads `text` as the input `name` with `reader`, with syslog's missing years taken as 2024
/// and stamps without an offset in `timezone`: the unit tests' way in.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn read_text(
    reader: &dyn Reader,
    name: &str,
    text: &str,
    timezone: TimeZone,
) -> Vec<RecordResult> {
    let options = ReadOptions {
        year: Some(2024),
        timezone,
        ..ReadOptions::default()
    };
    read_all(reader, Input::from_slice(name, text.as_bytes()), &options).unwrap()
}
