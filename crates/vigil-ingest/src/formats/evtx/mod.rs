//! Windows EVTX files, through the `evtx` crate.
//!
//! The crate parses chunks on a thread pool and renders each record as compact JSON; that
//! text is flattened straight into the event's fields (no JSON tree) with the Windows names
//! of [`crate::windows`]. Chunk checksums are checked: a damaged chunk becomes one error that
//! stands for the records its header announces (or its neighbours leave room for), and
//! reading goes on with the next chunk. Records a chunk header announces but the parser never
//! delivered (a damaged record it skipped) are reported at the end, so every record is
//! accounted for ([`chunks`]).

mod chunks;

use std::io::{Seek, SeekFrom};

use evtx::err::EvtxError;
use evtx::{EvtxParser, EvtxRecord, ParserSettings};
use jiff::tz::TimeZone;
use vigil_event::{Event, Fields, Location, Origin, SourcePath, Timestamp};

use crate::error::{IngestError, RecordError, RecordErrorKind, Result, chain};
use crate::flatten::flatten_json;
use crate::input::Input;
use crate::reader::{Emit, ReadOptions, Reader, RecordResult};
use crate::windows::{self, EvtxJson};

use chunks::{HeaderKey, Tally, chunk_offset, header_key, scan_chunks};

const FILE_MAGIC: &[u8] = b"ElfFile\0";

/// Reads Windows `.evtx` files.
pub(crate) struct EvtxReader;

impl Reader for EvtxReader {
    fn name(&self) -> &'static str {
        "evtx"
    }

    fn description(&self) -> &'static str {
        "Windows XML Event Log files (Security, System, Sysmon, PowerShell, ...), chunks read in parallel"
    }

    fn example(&self) -> &'static str {
        "C:\\Windows\\System32\\winevt\\Logs\\Security.evtx (binary, starts with \"ElfFile\")"
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        if head.starts_with(FILE_MAGIC) { 100 } else { 0 }
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        let path = input.name().clone();
        let mut data = input
            .into_seekable(options.max_in_memory)
            .map_err(|e| IngestError::io(&path, e))?;
        // The headers are read before the records; that is not progress through the file.
        data.count_progress(false);
        let chunks = scan_chunks(&mut data).map_err(|e| IngestError::io(&path, e))?;
        data.count_progress(true);
        data.seek(SeekFrom::Start(0))
            .map_err(|e| IngestError::io(&path, e))?;
        // One chunk gains nothing from a pool of workers, and a reader already running on
        // rayon's pool must not wait on jobs queued behind it.
        let threads = if chunks.len() > 1 && rayon::current_thread_index().is_none() {
            options.threads.max(1)
        } else {
            1
        };
        if threads > 1 {
            start_chunk_pool(threads);
        }
        let settings = ParserSettings::default()
            .validate_checksums(true)
            .indent(false)
            .num_threads(threads);
        let mut parser = EvtxParser::from_read_seek(data)
            .map_err(|e| IngestError::Invalid {
                path: path.clone(),
                format: "evtx",
                reason: chain(&e),
            })?
            .with_configuration(settings);

        let mut tally = Tally::new(chunks);
        let record_path = path.clone();
        let tz = options.timezone.clone();
        let records =
            parser.serialized_records(move |record| Ok(to_event(record, &record_path, &tz)));
        for item in records {
            let result = match item {
                Ok((Ok(mut event), key)) => {
                    let location = &mut event.origin.location;
                    location.chunk = key.and_then(|k| tally.chunk_of(&k));
                    tally.count(location.chunk, location.record, 1);
                    Ok(event)
                }
                Ok((Err(mut error), key)) => {
                    let location = &mut error.origin.location;
                    if location.chunk.is_none() {
                        location.chunk = key.and_then(|k| tally.chunk_of(&k));
                    }
                    tally.count(location.chunk, location.record, error.records);
                    Err(error)
                }
                Err(chunk_error) => Err(lost_chunk(&mut tally, &path, &chunk_error)),
            };
            if emit(result).is_break() {
                return Ok(());
            }
        }
        for missing in tally.missing(&path) {
            if emit(Err(missing)).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// Sizes rayon's global pool, where the `evtx` crate parses chunks, the first time a file
/// is read with several threads. Starting the pool costs most of a millisecond, so it is
/// started only when an EVTX file needs it; an application that built the global pool
/// itself keeps its pool.
fn start_chunk_pool(threads: usize) {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global();
    });
}

/// Turns one record from the parser into an event, on the parser's worker thread, with the
/// header of the chunk it came from.
fn to_event(
    record: evtx::err::Result<EvtxRecord<'_>>,
    path: &SourcePath,
    tz: &TimeZone,
) -> (RecordResult, Option<HeaderKey>) {
    match record {
        Ok(record) => {
            let key = header_key(record.chunk.header);
            (record_event(record, path, tz), Some(key))
        }
        Err(error) => (Err(record_error(path, &error)), None),
    }
}

fn record_event(record: EvtxRecord<'_>, path: &SourcePath, tz: &TimeZone) -> RecordResult {
    let id = record.event_record_id;
    let location = Location::record(id);
    let rendered = record
        .into_json_bytes()
        .map_err(|e| RecordError::new(path, location, RecordErrorKind::EvtxRecord(chain(&e))))?;
    let mut fields = Fields::with_capacity(32);
    flatten_json(&rendered.data, &EvtxJson, &mut fields)
        .map_err(|e| RecordError::new(path, location, e))?;
    let mut event = Event::with_fields(Origin::new(path.clone(), location), "evtx", fields);
    windows::set_time_and_host(&mut event, tz);
    if event.timestamp.is_none() && rendered.timestamp > Timestamp::UNIX_EPOCH {
        event.timestamp = Some(rendered.timestamp);
    }
    Ok(event)
}

/// An error the parser reported about one record.
fn record_error(path: &SourcePath, error: &EvtxError) -> RecordError {
    let location = match error {
        EvtxError::FailedToParseRecord { record_id, .. } => Location::record(*record_id),
        EvtxError::FailedToReadRecordAt { chunk, offset, .. } => Location {
            chunk: *chunk,
            offset: Some(chunk.map_or(*offset, |c| chunk_offset(c).saturating_add(*offset))),
            ..Location::default()
        },
        _ => Location::default(),
    };
    RecordError::new(path, location, RecordErrorKind::EvtxRecord(chain(error)))
}

/// A chunk the parser rejected as a whole: one error standing for all its records.
fn lost_chunk(tally: &mut Tally, path: &SourcePath, error: &EvtxError) -> RecordError {
    let number = match error {
        EvtxError::FailedToParseChunk { chunk_id, .. } => Some(*chunk_id),
        _ => None,
    };
    let records = tally.lost(number);
    let location = Location {
        chunk: number,
        offset: number.map(chunk_offset),
        ..Location::default()
    };
    let reason = match error {
        EvtxError::FailedToParseChunk { source, .. } => chain(source.as_ref()),
        other => chain(other),
    };
    RecordError::new(
        path,
        location,
        RecordErrorKind::EvtxChunk {
            chunk: number.unwrap_or_default(),
            records,
            reason,
        },
    )
    .covering(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::ControlFlow;

    #[test]
    fn sniffs_only_the_file_magic() {
        assert_eq!(EvtxReader.sniff(b"ElfFile\0\0\0"), 100);
        assert_eq!(EvtxReader.sniff(b"ElfChnk\0"), 0);
        assert_eq!(EvtxReader.sniff(b""), 0);
    }

    #[test]
    fn a_file_that_is_not_evtx_is_an_input_error() {
        let options = ReadOptions::default();
        let err = EvtxReader
            .read(
                Input::from_bytes("x.evtx", b"ElfFile\0 short".to_vec()),
                &options,
                &mut |_| ControlFlow::Continue(()),
            )
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x.evtx: not a valid evtx input"),
            "{err}"
        );
    }
}
