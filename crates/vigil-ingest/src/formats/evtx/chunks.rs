//! What the chunk headers of an EVTX file announce, and the tally that holds the parser to
//! it: every record a header announces is delivered, reported in a damaged chunk, or
//! reported missing at the end, so `records = events + errors` holds for damaged files.
//!
//! Records are credited to the chunk that delivered them (found by its header, which the
//! parser hands over with each record), never by record id, so overlapping or stale headers
//! cannot make one record count twice.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use evtx::EvtxChunkHeader;
use vigil_event::{Location, SourcePath};

use crate::error::{RecordError, RecordErrorKind};

pub(crate) const FILE_HEADER_SIZE: u64 = 4096;
pub(crate) const CHUNK_SIZE: u64 = 65536;
const CHUNK_HEADER_SIZE: usize = 512;
/// More records than fit in a chunk: a header announcing more is itself damaged.
pub(crate) const MAX_RECORDS_PER_CHUNK: u64 = CHUNK_SIZE / 24;

/// The byte offset of chunk `number`.
pub(crate) fn chunk_offset(number: u64) -> u64 {
    number
        .saturating_mul(CHUNK_SIZE)
        .saturating_add(FILE_HEADER_SIZE)
}

/// What identifies a chunk header among the file's chunks.
pub(crate) type HeaderKey = (u64, u64, u32, u32);

pub(crate) fn header_key(h: &EvtxChunkHeader) -> HeaderKey {
    (
        h.first_event_record_id,
        h.last_event_record_id,
        h.header_chunk_checksum,
        h.events_checksum,
    )
}

/// What a chunk header announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkInfo {
    pub(crate) number: u64,
    pub(crate) first_id: u64,
    pub(crate) last_id: u64,
    /// Whether the record range is known: read from a plausible header, or inferred from
    /// the neighbours of a damaged one.
    pub(crate) sane: bool,
    /// The header's identity, when the header could be read.
    pub(crate) key: Option<HeaderKey>,
}

impl ChunkInfo {
    fn damaged(number: u64) -> Self {
        ChunkInfo {
            number,
            first_id: 0,
            last_id: 0,
            sane: false,
            key: None,
        }
    }

    /// How many records the chunk holds: its range, or 1 when nothing better is known.
    pub(crate) fn expected(&self) -> u64 {
        if self.sane {
            self.last_id - self.first_id + 1
        } else {
            1
        }
    }
}

trait ReadFull: Read {
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

impl<T: Read> ReadFull for T {}

/// Reads every chunk header. A chunk whose header is all zeros is empty only if its body is
/// too; otherwise it is a chunk with a destroyed header.
pub(crate) fn scan_chunks(data: &mut (impl Read + Seek)) -> std::io::Result<Vec<ChunkInfo>> {
    let mut chunks = Vec::new();
    let mut header = [0u8; CHUNK_HEADER_SIZE];
    let mut body = vec![0u8; CHUNK_SIZE as usize - CHUNK_HEADER_SIZE];
    for number in 0u64.. {
        if data.seek(SeekFrom::Start(chunk_offset(number))).is_err()
            || !data.read_full(&mut header)?
        {
            break;
        }
        if header.iter().all(|&b| b == 0) {
            let whole = data.read_full(&mut body)?;
            if !whole || body.iter().all(|&b| b == 0) {
                continue;
            }
            chunks.push(ChunkInfo::damaged(number));
            continue;
        }
        let info = match EvtxChunkHeader::from_bytes(&header) {
            Ok(h) => ChunkInfo {
                number,
                first_id: h.first_event_record_id,
                last_id: h.last_event_record_id,
                sane: h.first_event_record_id <= h.last_event_record_id
                    && h.last_event_record_id - h.first_event_record_id < MAX_RECORDS_PER_CHUNK,
                key: Some(header_key(&h)),
            },
            Err(_) => ChunkInfo::damaged(number),
        };
        chunks.push(info);
    }
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

/// Gives chunks whose headers are unreadable the record range their neighbours leave for
/// them, so a destroyed header still costs its real number of records in the accounting. A
/// run of damaged chunks between two readable ones shares the gap evenly; a damaged last
/// chunk ends where the file header's next record id says, when its neighbour holds the
/// newest records of the file.
pub(crate) fn infer_damaged_ranges(chunks: &mut [ChunkInfo], next_record_id: u64) {
    let newest = chunks.iter().filter(|c| c.sane).map(|c| c.last_id).max();
    let mut i = 0;
    while i < chunks.len() {
        if chunks[i].sane {
            i += 1;
            continue;
        }
        // The run of damaged chunks that starts here, adjacent by number.
        let mut end = i + 1;
        while end < chunks.len()
            && !chunks[end].sane
            && chunks[end].number == chunks[end - 1].number + 1
        {
            end += 1;
        }
        let before = i
            .checked_sub(1)
            .map(|j| chunks[j])
            .filter(|c| c.sane && c.number + 1 == chunks[i].number);
        let after = chunks
            .get(end)
            .copied()
            .filter(|c| c.sane && c.number == chunks[end - 1].number + 1);
        let stop = match (before, after) {
            (Some(_), Some(after)) => Some(after.first_id),
            // The last chunks of the file, after the chunk with the newest records.
            (Some(b), None) if end == chunks.len() && Some(b.last_id) == newest => {
                Some(next_record_id)
            }
            _ => None,
        };
        if let (Some(before), Some(stop)) = (before, stop)
            && let Some(first) = before.last_id.checked_add(1)
        {
            let run = (end - i) as u64;
            let gap = stop.saturating_sub(first);
            if gap >= run && gap <= MAX_RECORDS_PER_CHUNK * run {
                let (share, extra) = (gap / run, gap % run);
                let mut next = first;
                for (k, chunk) in chunks[i..end].iter_mut().enumerate() {
                    let count = share + u64::from((k as u64) < extra);
                    chunk.first_id = next;
                    chunk.last_id = next + count - 1;
                    chunk.sane = true;
                    next += count;
                }
            }
        }
        i = end;
    }
}

/// Counts what each chunk delivered against what its header announced.
pub(crate) struct Tally {
    chunks: Vec<ChunkInfo>,
    /// Records (delivered or reported) per chunk, by position in `chunks`.
    seen: Vec<u64>,
    by_number: HashMap<u64, usize>,
    by_key: HashMap<HeaderKey, Vec<usize>>,
}

impl Tally {
    pub(crate) fn new(chunks: Vec<ChunkInfo>) -> Self {
        let by_number = chunks
            .iter()
            .enumerate()
            .map(|(i, c)| (c.number, i))
            .collect();
        let mut by_key: HashMap<HeaderKey, Vec<usize>> = HashMap::new();
        for (i, c) in chunks.iter().enumerate() {
            if let Some(key) = c.key {
                by_key.entry(key).or_default().push(i);
            }
        }
        Tally {
            seen: vec![0; chunks.len()],
            chunks,
            by_number,
            by_key,
        }
    }

    /// The chunk number of the chunk with header `key` that still has records to deliver.
    pub(crate) fn chunk_of(&self, key: &HeaderKey) -> Option<u64> {
        let candidates = self.by_key.get(key)?;
        candidates
            .iter()
            .find(|&&i| self.seen[i] < self.chunks[i].expected())
            .or(candidates.first())
            .map(|&i| self.chunks[i].number)
    }

    /// The chunk whose record range holds `id`, for errors that carry only a record id.
    fn chunk_of_id(&self, id: u64) -> Option<usize> {
        self.chunks
            .iter()
            .position(|c| c.sane && c.first_id <= id && id <= c.last_id)
    }

    pub(crate) fn count(&mut self, chunk: Option<u64>, record: Option<u64>, records: u64) {
        let slot = match (chunk, record) {
            (Some(number), _) => self.by_number.get(&number).copied(),
            (None, Some(id)) => self.chunk_of_id(id),
            (None, None) => None,
        };
        if let Some(i) = slot {
            self.seen[i] += records;
        }
    }

    /// A chunk the parser rejected as a whole: the records it stands for.
    pub(crate) fn lost(&mut self, number: Option<u64>) -> u64 {
        let Some(&i) = number.and_then(|n| self.by_number.get(&n)) else {
            return 1;
        };
        let expected = self.chunks[i].expected();
        let records = expected.saturating_sub(self.seen[i]).max(1);
        self.seen[i] = expected.max(self.seen[i] + records);
        records
    }

    /// Errors for records the chunk headers announce that were never delivered.
    pub(crate) fn missing(&self, path: &SourcePath) -> Vec<RecordError> {
        self.chunks
            .iter()
            .zip(&self.seen)
            .filter(|(c, seen)| c.sane && **seen < c.expected())
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
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sane(number: u64, first_id: u64, last_id: u64) -> ChunkInfo {
        ChunkInfo {
            number,
            first_id,
            last_id,
            sane: true,
            key: Some((first_id, last_id, 0, 0)),
        }
    }

    fn ranges(chunks: &[ChunkInfo]) -> Vec<Option<(u64, u64)>> {
        chunks
            .iter()
            .map(|c| c.sane.then_some((c.first_id, c.last_id)))
            .collect()
    }

    #[test]
    fn a_damaged_chunk_takes_the_gap_between_its_neighbours() {
        let mut chunks = vec![sane(0, 1, 98), ChunkInfo::damaged(1), sane(2, 198, 287)];
        infer_damaged_ranges(&mut chunks, 288);
        assert_eq!(
            ranges(&chunks),
            [Some((1, 98)), Some((99, 197)), Some((198, 287))]
        );
    }

    #[test]
    fn a_run_of_damaged_chunks_shares_the_gap() {
        let mut chunks = vec![
            sane(0, 1, 10),
            ChunkInfo::damaged(1),
            ChunkInfo::damaged(2),
            sane(3, 16, 20),
        ];
        infer_damaged_ranges(&mut chunks, 21);
        assert_eq!(
            ranges(&chunks),
            [
                Some((1, 10)),
                Some((11, 13)),
                Some((14, 15)),
                Some((16, 20))
            ]
        );
        let total: u64 = chunks.iter().map(ChunkInfo::expected).sum();
        assert_eq!(total, 20);
    }

    #[test]
    fn the_last_chunk_is_inferred_only_after_the_newest_records() {
        let mut chunks = vec![sane(0, 1, 10), sane(1, 11, 20), ChunkInfo::damaged(2)];
        infer_damaged_ranges(&mut chunks, 31);
        assert_eq!(ranges(&chunks)[2], Some((21, 30)));
        // A wrapped log: chunk 1 holds older records than chunk 0, so the file header's
        // next id says nothing about chunk 2.
        let mut wrapped = vec![sane(0, 500, 510), sane(1, 11, 20), ChunkInfo::damaged(2)];
        infer_damaged_ranges(&mut wrapped, 511);
        assert_eq!(ranges(&wrapped)[2], None);
    }

    #[test]
    fn implausible_and_overflowing_ranges_are_not_inferred() {
        let mut chunks = vec![sane(0, u64::MAX - 1, u64::MAX), ChunkInfo::damaged(1)];
        infer_damaged_ranges(&mut chunks, 0);
        assert_eq!(ranges(&chunks)[1], None);
        let mut chunks = vec![
            sane(0, 1, 10),
            ChunkInfo::damaged(1),
            sane(2, 1_000_000, 1_000_001),
        ];
        infer_damaged_ranges(&mut chunks, 0);
        assert_eq!(ranges(&chunks)[1], None);
    }

    #[test]
    fn records_are_credited_to_their_chunk_even_when_ranges_overlap() {
        // Chunk 1's header claims chunk 0's range too (a stale copy).
        let mut tally = Tally::new(vec![sane(0, 1, 10), sane(1, 1, 10)]);
        for _ in 0..10 {
            let chunk = tally.chunk_of(&(1, 10, 0, 0));
            tally.count(chunk, Some(5), 1);
        }
        // Both headers are identical: the records fill the first, then the second.
        assert_eq!(tally.seen, [10, 0]);
        assert_eq!(tally.missing(&"x".into()).len(), 1);
        assert_eq!(tally.lost(Some(1)), 10);
        assert!(tally.missing(&"x".into()).is_empty());
    }
}
