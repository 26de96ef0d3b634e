//! Windows EVTX files, through the `evtx` crate.
//!
//! The crate parses chunks on a thread pool and renders each record as compact JSON; that
//! text is flattened straight into the event's fields (no JSON tree) with the Windows names
//! of [`crate::windows`]. Chunk checksums are checked: a damaged chunk becomes one error that
//! stands for the records its header announces, and reading goes on with the next chunk.
//! Records a chunk header announces but the parser never delivered (a damaged record header
//! stops a chunk) are reported at the end, so every record is accounted for.

use std::io::{Read, Seek, SeekFrom};

use evtx::err::EvtxError;
use evtx::{EvtxChunkHeader, EvtxParser, EvtxRecord, ParserSettings};
use jiff::tz::TimeZone;
use vigil_event::{Event, Fields, Location, Origin, SourcePath, Timestamp};

use crate::error::{IngestError, RecordError, RecordErrorKind, Result, chain};
use crate::flatten::flatten_json;
use crate::input::Input;
use crate::reader::{Emit, ReadOptions, Reader, RecordResult};
use crate::windows::{self, EvtxJson};

const FILE_MAGIC: &[u8] = b"ElfFile\0";
const FILE_HEADER_SIZE: u64 = 4096;
const CHUNK_SIZE: u64 = 65536;
const CHUNK_HEADER_SIZE: usize = 512;
/// More records than fit in a chunk: a header announcing more is itself damaged.
const MAX_RECORDS_PER_CHUNK: u64 = CHUNK_SIZE / 24;

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
        let chunks = scan_chunks(&mut data).map_err(|e| IngestError::io(&path, e))?;
        data.seek(SeekFrom::Start(0))
            .map_err(|e| IngestError::io(&path, e))?;
        // One chunk gains nothing from a pool of workers.
        let threads = if chunks.len() > 1 {
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
                Ok(Ok(event)) => {
                    if let Some(id) = event.origin.location.record {
                        tally.count_record(id);
                    }
                    Ok(event)
                }
                Ok(Err(error)) => {
                    tally.count_error(&error);
                    Err(error)
                }
                Err(chunk_error) => Err(tally.lost_chunk(&path, &chunk_error)),
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

/// Turns one record from the parser into an event, on the parser's worker thread.
fn to_event(
    record: evtx::err::Result<EvtxRecord<'_>>,
    path: &SourcePath,
    tz: &TimeZone,
) -> RecordResult {
    let record = record.map_err(|e| record_error(path, &e))?;
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
            offset: Some(chunk.map_or(*offset, |c| chunk_offset(c) + offset)),
            ..Location::default()
        },
        _ => Location::default(),
    };
    RecordError::new(path, location, RecordErrorKind::EvtxRecord(chain(error)))
}

fn chunk_offset(chunk: u64) -> u64 {
    FILE_HEADER_SIZE + chunk * CHUNK_SIZE
}

/// What a chunk header announces.
#[derive(Debug, Clone, Copy)]
struct ChunkInfo {
    number: u64,
    first_id: u64,
    last_id: u64,
    /// Whether the header is readable and its record range plausible.
    sane: bool,
}

impl ChunkInfo {
    fn expected(&self) -> u64 {
        if self.sane {
            self.last_id - self.first_id + 1
        } else {
            1
        }
    }
}

/// Reads every chunk header, so that damaged chunks can be counted in records.
fn scan_chunks(data: &mut impl ReadSeekExt) -> std::io::Result<Vec<ChunkInfo>> {
    let mut chunks = Vec::new();
    let mut header = [0u8; CHUNK_HEADER_SIZE];
    for number in 0.. {
        if data.seek(SeekFrom::Start(chunk_offset(number))).is_err()
            || !data.read_full(&mut header)?
        {
            break;
        }
        if header.iter().all(|&b| b == 0) {
            continue;
        }
        let info = match EvtxChunkHeader::from_bytes(&header) {
            Ok(h) => ChunkInfo {
                number,
                first_id: h.first_event_record_id,
                last_id: h.last_event_record_id,
                sane: h.first_event_record_id <= h.last_event_record_id
                    && h.last_event_record_id - h.first_event_record_id < MAX_RECORDS_PER_CHUNK,
            },
            Err(_) => ChunkInfo {
                number,
                first_id: 0,
                last_id: 0,
                sane: false,
            },
        };
        chunks.push(info);
    }
    // The file header's next record id bounds the last chunk.
    let mut file_header = [0u8; 32];
    let next_record_id = match data.seek(SeekFrom::Start(0)) {
        Ok(_) if data.read_full(&mut file_header)? => {
            u64::from_le_bytes(file_header[24..32].try_into().unwrap_or_default())
        }
        _ => 0,
    };
    infer_damaged_ranges(&mut chunks, next_record_id);
    Ok(chunks)
}

/// Gives a chunk whose header is unreadable the record range its neighbours leave for it,
/// so a destroyed header still costs its real number of records in the accounting.
fn infer_damaged_ranges(chunks: &mut [ChunkInfo], next_record_id: u64) {
    for i in 0..chunks.len() {
        if chunks[i].sane {
            continue;
        }
        let number = chunks[i].number;
        let before = i
            .checked_sub(1)
            .map(|j| chunks[j])
            .filter(|c| c.sane && c.number + 1 == number);
        let after = chunks
            .get(i + 1)
            .copied()
            .filter(|c| c.sane && c.number == number + 1);
        let Some(before) = before else { continue };
        let end = match after {
            Some(after) => after.first_id,
            None if i + 1 == chunks.len() => next_record_id,
            None => continue,
        };
        let first = before.last_id + 1;
        if end > first && end - first <= MAX_RECORDS_PER_CHUNK {
            chunks[i].first_id = first;
            chunks[i].last_id = end - 1;
            chunks[i].sane = true;
        }
    }
}

trait ReadSeekExt: Read + Seek {
    /// Fills `buf` completely; `false` when the input ends first.
    fn read_full(&mut self, buf: &mut [u8]) -> std::io::Result<bool> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.read(&mut buf[filled..])? {
                0 => return Ok(false),
                n => filled += n,
            }
        }
        Ok(true)
    }
}

impl<T: Read + Seek> ReadSeekExt for T {}

/// Counts what each chunk delivered against what its header announced.
struct Tally {
    /// Sane chunks, sorted by first record id, with the records seen so far.
    by_id: Vec<(ChunkInfo, u64)>,
    /// Every chunk by number.
    all: Vec<ChunkInfo>,
}

impl Tally {
    fn new(all: Vec<ChunkInfo>) -> Self {
        let mut by_id: Vec<(ChunkInfo, u64)> =
            all.iter().filter(|c| c.sane).map(|c| (*c, 0)).collect();
        by_id.sort_by_key(|(c, _)| c.first_id);
        Tally { by_id, all }
    }

    fn slot_for_id(&mut self, id: u64) -> Option<&mut (ChunkInfo, u64)> {
        let i = self
            .by_id
            .partition_point(|(c, _)| c.first_id <= id)
            .checked_sub(1)?;
        let slot = &mut self.by_id[i];
        (id <= slot.0.last_id).then_some(slot)
    }

    fn slot_for_chunk(&mut self, number: u64) -> Option<&mut (ChunkInfo, u64)> {
        self.by_id.iter_mut().find(|(c, _)| c.number == number)
    }

    fn count_record(&mut self, id: u64) {
        if let Some(slot) = self.slot_for_id(id) {
            slot.1 += 1;
        }
    }

    fn count_error(&mut self, error: &RecordError) {
        let location = error.origin.location;
        let slot = match (location.record, location.chunk) {
            (Some(id), _) => self.slot_for_id(id),
            (None, Some(chunk)) => self.slot_for_chunk(chunk),
            (None, None) => None,
        };
        if let Some(slot) = slot {
            slot.1 += error.records;
        }
    }

    /// A chunk the parser rejected as a whole: one error standing for all its records.
    fn lost_chunk(&mut self, path: &SourcePath, error: &EvtxError) -> RecordError {
        let number = match error {
            EvtxError::FailedToParseChunk { chunk_id, .. } => Some(*chunk_id),
            _ => None,
        };
        let info = number.and_then(|n| self.all.iter().find(|c| c.number == n).copied());
        let records = info.map_or(1, |c| c.expected());
        if let Some(n) = number
            && let Some(slot) = self.slot_for_chunk(n)
        {
            slot.1 = slot.0.expected();
        }
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

    /// Errors for records the chunk headers announce that were never delivered.
    fn missing(&self, path: &SourcePath) -> Vec<RecordError> {
        let mut out: Vec<RecordError> = self
            .by_id
            .iter()
            .filter(|(c, seen)| *seen < c.expected())
            .map(|(c, seen)| {
                let missing = c.expected() - seen;
                RecordError::new(
                    path,
                    Location {
                        chunk: Some(c.number),
                        offset: Some(chunk_offset(c.number)),
                        ..Location::default()
                    },
                    RecordErrorKind::EvtxMissing {
                        chunk: c.number,
                        missing,
                        expected: c.expected(),
                    },
                )
                .covering(missing)
            })
            .collect();
        out.sort_by_key(|e| e.origin.location.chunk);
        out
    }
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
