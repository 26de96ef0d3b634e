//! Splits a JSON input into top-level records without parsing them: JSON Lines, a stream of
//! (pretty-printed) objects, or arrays of objects, read with bounded memory.
//!
//! Each record is parsed on its own afterwards, so one malformed record costs one error, not
//! the rest of the file. After the first record the splitter knows whether the input is JSON
//! Lines (the record had no line break); it then takes one line per record, which also
//! recovers from unbalanced brackets. In a multi-line layout, a `{` at the start of a line
//! while a record is still open ends that record as incomplete: pretty printers indent
//! nested objects, so that `{` opens the next record.
//!
//! AWS wraps its records in an object whose only key holds them all: a CloudTrail file is
//! `{"Records":[{...},{...}]}`, pretty or on one line, and so are S3, SNS and SQS
//! notifications; Azure diagnostic logs sent through Event Hubs come as
//! `{"records":[...]}`. The splitter opens such a wrapper as it opens an array, so each
//! record is a piece of its own, with its own line and offset, and the file is never held
//! whole.

use std::io::{self, BufRead};

use crate::error::RecordErrorKind;

/// One top-level record, or the reason a stretch of input is not one.
pub(crate) enum Piece {
    /// The bytes of one record.
    Record(Raw),
    /// A stretch that could not be a record.
    Error(Raw, RecordErrorKind),
}

/// Bytes of a record and where they start.
pub(crate) struct Raw {
    pub(crate) bytes: Vec<u8>,
    pub(crate) line: u64,
    pub(crate) offset: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Layout {
    /// Not known until the first record ends.
    Unknown,
    /// One record per line.
    Lines,
    /// Records that span lines.
    Multiline,
}

pub(crate) struct Splitter<R> {
    reader: R,
    offset: u64,
    line: u64,
    at_line_start: bool,
    layout: Layout,
    /// Open arrays around the records (`[` seen, `]` not yet).
    array_depth: u32,
    /// Open `{"Records":[` wrappers, whose closing `}` is a separator.
    wrappers: u32,
    /// Whether a record that turns out to be a wrapper (because its start was not in the
    /// buffer when it was met) is split after it was read; off for that inner split.
    unwrap_read_records: bool,
    max_len: usize,
    failed: bool,
    /// Records found on one line, waiting their turn.
    pending: std::collections::VecDeque<Piece>,
}

impl<R: BufRead> Splitter<R> {
    pub(crate) fn new(reader: R, max_len: usize) -> Self {
        Splitter {
            reader,
            offset: 0,
            line: 1,
            at_line_start: true,
            layout: Layout::Unknown,
            array_depth: 0,
            wrappers: 0,
            unwrap_read_records: true,
            max_len,
            failed: false,
            pending: std::collections::VecDeque::new(),
        }
    }

    /// Where reading has got to.
    pub(crate) fn position(&self) -> vigil_event::Location {
        vigil_event::Location::line(self.line, self.offset)
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.reader.fill_buf()?.first().copied())
    }

    fn bump(&mut self, byte: u8) {
        self.reader.consume(1);
        self.offset += 1;
        if byte == b'\n' {
            self.line += 1;
            self.at_line_start = true;
        } else {
            self.at_line_start = false;
        }
    }

    /// Skips whitespace, a byte-order mark, and the brackets and commas around records.
    fn skip_separators(&mut self) -> io::Result<Option<u8>> {
        loop {
            let Some(byte) = self.peek()? else {
                return Ok(None);
            };
            match byte {
                b' ' | b'\t' | b'\r' | b'\n' | b',' => self.bump(byte),
                // UTF-8 byte-order mark.
                0xEF | 0xBB | 0xBF if self.offset < 3 => self.bump(byte),
                b'[' if self.layout != Layout::Lines => {
                    self.array_depth += 1;
                    self.bump(byte);
                }
                b']' if self.array_depth > 0 => {
                    self.array_depth -= 1;
                    self.bump(byte);
                }
                b'}' if self.wrappers > 0 => {
                    self.wrappers -= 1;
                    self.bump(byte);
                }
                _ => return Ok(Some(byte)),
            }
        }
    }

    fn next_piece(&mut self) -> io::Result<Option<Piece>> {
        // A wrapper may hold no records, so reading goes on until there is a piece.
        while self.pending.is_empty() {
            if !self.read_pieces()? {
                return Ok(None);
            }
        }
        Ok(self.pending.pop_front())
    }

    /// Reads the next piece (or the pieces of one line) into `pending`. Returns `false` at
    /// the end of the input.
    fn read_pieces(&mut self) -> io::Result<bool> {
        let first = loop {
            let Some(first) = self.skip_separators()? else {
                // A cut file (a CloudTrail object or a JSON array whose last write never
                // finished) still gives its complete records; this error says the rest is
                // missing. A wrapper holds an array, so a cut one is named first.
                let why = if self.wrappers > 0 {
                    UNCLOSED_WRAPPER
                } else if self.array_depth > 0 {
                    UNCLOSED_ARRAY
                } else {
                    return Ok(false);
                };
                self.wrappers = 0;
                self.array_depth = 0;
                let end = Raw {
                    bytes: Vec::new(),
                    line: self.line,
                    offset: self.offset,
                };
                self.pending
                    .push_back(Piece::Error(end, RecordErrorKind::IncompleteJson(why)));
                return Ok(true);
            };
            if first == b'{' && self.layout != Layout::Lines && self.open_wrapper()? {
                continue;
            }
            break first;
        };
        let start = Raw {
            bytes: Vec::new(),
            line: self.line,
            offset: self.offset,
        };
        if first != b'{' {
            let piece = self.take_line(start, first)?;
            self.queue(piece);
        } else if self.layout != Layout::Lines {
            let piece = self.take_object(start)?;
            self.queue(piece);
        } else {
            // JSON Lines: a line is a record, copied with `memchr`. A line that may hold
            // several objects side by side (`{...}{...}`, as Kinesis Firehose writes them)
            // is split by scanning it. A record that does not close on its line fails to
            // parse, with the reason.
            match self.take_line(start, first)? {
                Piece::Record(raw)
                    if memchr::memmem::find(&raw.bytes, b"}{").is_some()
                        || memchr::memmem::find(&raw.bytes, b"} {").is_some() =>
                {
                    for piece in split_line(raw) {
                        self.queue(piece);
                    }
                }
                piece => self.queue(piece),
            }
        }
        Ok(true)
    }

    /// Queues a piece; a record that is a whole `{"Records":[...]}` wrapper (one whose start
    /// was not in the buffer when it was met, or a line of JSON Lines) is queued as its
    /// records, and so is a wrapper the input cuts short, whose split ends with the error
    /// that says so.
    fn queue(&mut self, piece: Piece) {
        match piece {
            Piece::Record(raw) | Piece::Error(raw, RecordErrorKind::IncompleteJson(INPUT_ENDS))
                if self.unwrap_read_records && records_prefix(&raw.bytes).is_some() =>
            {
                let inner = self.split_wrapper(&raw);
                self.pending.extend(inner);
            }
            piece => self.pending.push_back(piece),
        }
    }

    /// Consumes `{"Records":[` when the buffer starts with it, as the opening of an array
    /// of records. Returns whether it did.
    fn open_wrapper(&mut self) -> io::Result<bool> {
        let buf = self.reader.fill_buf()?;
        let Some(len) = records_prefix(buf) else {
            return Ok(false);
        };
        let newlines = memchr::memchr_iter(b'\n', &buf[..len]).count() as u64;
        self.reader.consume(len);
        self.offset += len as u64;
        self.line += newlines;
        // The prefix ends with its `[`.
        self.at_line_start = false;
        self.array_depth = self.array_depth.saturating_add(1);
        self.wrappers = self.wrappers.saturating_add(1);
        Ok(true)
    }

    /// Splits a wrapper that was read as one record into its records, placed where they
    /// are in the input.
    fn split_wrapper(&self, raw: &Raw) -> Vec<Piece> {
        let mut inner = Splitter::new(&raw.bytes[..], self.max_len);
        inner.unwrap_read_records = false;
        let shift = |mut piece: Raw| {
            piece.line += raw.line - 1;
            piece.offset += raw.offset;
            piece
        };
        let mut pieces = Vec::new();
        for piece in inner {
            pieces.push(match piece {
                Ok(Piece::Record(piece)) => Piece::Record(shift(piece)),
                Ok(Piece::Error(piece, kind)) => Piece::Error(shift(piece), kind),
                // Reading a slice cannot fail.
                Err(_) => break,
            });
        }
        pieces
    }

    /// Takes the rest of the line as one record (JSON Lines, or text between records).
    fn take_line(&mut self, mut raw: Raw, first: u8) -> io::Result<Piece> {
        let mut too_long = None;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let (chunk, found) = match memchr::memchr(b'\n', buf) {
                Some(i) => (&buf[..i], true),
                None => (buf, false),
            };
            if too_long.is_none() && raw.bytes.len() + chunk.len() > self.max_len {
                too_long = Some(raw.bytes.len() + chunk.len());
                raw.bytes.clear();
            }
            if too_long.is_none() {
                raw.bytes.extend_from_slice(chunk);
            } else if let Some(len) = &mut too_long {
                *len += chunk.len();
            }
            let n = chunk.len();
            self.reader.consume(n);
            self.offset += n as u64;
            self.at_line_start = false;
            if found {
                self.bump(b'\n');
                break;
            }
        }
        if let Some(len) = too_long {
            return Ok(Piece::Error(
                raw,
                RecordErrorKind::TooLong {
                    len,
                    limit: self.max_len,
                },
            ));
        }
        while raw.bytes.last().is_some_and(u8::is_ascii_whitespace) {
            raw.bytes.pop();
        }
        if first != b'{' {
            self.close_enclosing(&raw.bytes);
            let kind = crate::flatten::json_kind(&raw.bytes);
            return Ok(Piece::Error(raw, RecordErrorKind::NotAnObject(kind)));
        }
        Ok(Piece::Record(raw))
    }

    /// Follows the brackets of a stretch that is not an object (`5]`, `2, [3]]]}`), so
    /// that an array or wrapper it closes around the records is closed.
    fn close_enclosing(&mut self, text: &[u8]) {
        let (mut depth, mut in_string, mut escaped) = (0u32, false, false);
        for &byte in text {
            if in_string {
                match (escaped, byte) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => in_string = true,
                b'[' | b'{' => depth += 1,
                b']' | b'}' if depth > 0 => depth -= 1,
                b']' => self.array_depth = self.array_depth.saturating_sub(1),
                b'}' => self.wrappers = self.wrappers.saturating_sub(1),
                _ => {}
            }
        }
    }

    /// Takes one object, following brackets and strings, possibly over several lines. The
    /// buffer is scanned a slice at a time (strings are skipped with `memchr`), and what
    /// was scanned is copied and consumed in one go.
    fn take_object(&mut self, mut raw: Raw) -> io::Result<Piece> {
        let mut scan = Scan::default();
        let mut too_long = false;
        let lines = self.layout == Layout::Lines;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                let kind = if too_long {
                    RecordErrorKind::TooLong {
                        len: (self.offset - raw.offset) as usize,
                        limit: self.max_len,
                    }
                } else {
                    RecordErrorKind::IncompleteJson(INPUT_ENDS)
                };
                return Ok(Piece::Error(raw, kind));
            }
            let (used, stop) = scan.feed(buf, self.at_line_start, lines);
            let taken = &buf[..used];
            if !too_long {
                if raw.bytes.len() + taken.len() > self.max_len {
                    too_long = true;
                    raw.bytes = Vec::new();
                } else {
                    raw.bytes.extend_from_slice(taken);
                }
            }
            let newlines = memchr::memchr_iter(b'\n', taken).count() as u64;
            if let Some(&last) = taken.last() {
                self.at_line_start = last == b'\n';
            }
            self.reader.consume(used);
            self.offset += used as u64;
            self.line += newlines;
            match stop {
                None => continue,
                Some(Stop::Closed) => break,
                Some(Stop::NextRecord) => {
                    // A record that never closed; this line starts the next one.
                    self.layout = Layout::Multiline;
                    return Ok(Piece::Error(
                        raw,
                        RecordErrorKind::IncompleteJson(
                            "the record is not closed before the next one starts",
                        ),
                    ));
                }
                Some(Stop::LineEnd) => {
                    // In JSON Lines a record never spans lines.
                    while raw.bytes.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                        raw.bytes.pop();
                    }
                    return Ok(Piece::Error(
                        raw,
                        RecordErrorKind::IncompleteJson(
                            "the line ends before the record is closed",
                        ),
                    ));
                }
            }
        }
        let (multiline, broken_string) = (scan.multiline, scan.broken_string);
        if self.layout == Layout::Unknown {
            self.layout = if multiline || self.array_depth > 0 {
                Layout::Multiline
            } else {
                Layout::Lines
            };
        }
        if too_long {
            let len = (self.offset - raw.offset) as usize;
            return Ok(Piece::Error(
                raw,
                RecordErrorKind::TooLong {
                    len,
                    limit: self.max_len,
                },
            ));
        }
        if broken_string {
            return Ok(Piece::Error(
                raw,
                RecordErrorKind::IncompleteJson("a string runs past the end of its line"),
            ));
        }
        // In JSON Lines, the rest of the line belongs to this record, unless it is the next
        // object (`{...}{...}`, as Kinesis Firehose concatenates them).
        if self.layout == Layout::Lines {
            loop {
                match self.peek()? {
                    Some(b'\n' | b'{') | None => break,
                    Some(b) if b.is_ascii_whitespace() => self.bump(b),
                    Some(_) => {
                        let rest = Raw {
                            bytes: Vec::new(),
                            line: self.line,
                            offset: self.offset,
                        };
                        let (Piece::Record(extra) | Piece::Error(extra, _)) =
                            self.take_line(rest, b'x')?;
                        raw.bytes.extend_from_slice(&extra.bytes);
                        break;
                    }
                }
            }
        }
        Ok(Piece::Record(raw))
    }
}

/// Why a record the input cuts short is not one.
const INPUT_ENDS: &str = "the input ends inside the record";

/// Why the input cannot end inside a `{"Records":[` wrapper.
const UNCLOSED_WRAPPER: &str =
    "the Records array is not closed: the input ends inside it (truncated?)";

/// Why the input cannot end inside a top-level array.
const UNCLOSED_ARRAY: &str = "the array is not closed: the input ends inside it (truncated?)";

/// The length of `{"Records":[` or `{"records":[` (with any whitespace) at the start of
/// `bytes`, when `bytes` starts with it.
fn records_prefix(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    let mut token = |tokens: &[&[u8]]| {
        while bytes
            .get(at)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            at += 1;
        }
        let rest = bytes.get(at..).unwrap_or_default();
        match tokens.iter().find(|token| rest.starts_with(token)) {
            Some(token) => {
                at += token.len();
                true
            }
            None => false,
        }
    };
    let found = token(&[b"{"])
        && token(&[b"\"Records\"", b"\"records\""])
        && token(&[b":"])
        && token(&[b"["]);
    found.then_some(at)
}

/// Splits one line holding objects side by side into records; what follows the last
/// object that is not another object stays with it (and makes it an error when parsed).
fn split_line(raw: Raw) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut pos = 0;
    let bytes = &raw.bytes;
    while pos < bytes.len() {
        let mut scan = Scan::default();
        let (used, stop) = scan.feed(&bytes[pos..], false, false);
        let mut end = pos + used;
        if stop == Some(Stop::Closed) {
            let next = end
                + bytes[end..]
                    .iter()
                    .take_while(|b| b.is_ascii_whitespace())
                    .count();
            if next < bytes.len() && bytes[next] != b'{' {
                end = bytes.len();
            }
        }
        let piece = Raw {
            bytes: bytes[pos..end].to_vec(),
            line: raw.line,
            offset: raw.offset + pos as u64,
        };
        pieces.push(match stop {
            Some(Stop::Closed) => Piece::Record(piece),
            _ => Piece::Error(
                piece,
                RecordErrorKind::IncompleteJson("the line ends before the record is closed"),
            ),
        });
        pos = end
            + bytes[end..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
    }
    pieces
}

/// Why scanning an object stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Its closing bracket was consumed.
    Closed,
    /// A `{` at the start of a line while the object is open: the next record (not
    /// consumed).
    NextRecord,
    /// A line break in JSON Lines, where a record never spans lines (consumed).
    LineEnd,
}

/// Where scanning an object has got to, across buffer refills.
#[derive(Debug, Default)]
struct Scan {
    depth: u32,
    in_string: bool,
    escaped: bool,
    multiline: bool,
    /// A line break inside a string: never valid JSON, so the record is broken, and the
    /// string is taken to end there, so the records after it are found again.
    broken_string: bool,
}

impl Scan {
    /// Scans `buf`, returning how many bytes belong to the object and why it stopped, if it
    /// did. `line_start` says whether `buf` starts a line.
    fn feed(&mut self, buf: &[u8], mut line_start: bool, lines: bool) -> (usize, Option<Stop>) {
        let mut i = 0;
        while i < buf.len() {
            if self.in_string && !self.escaped {
                // Skip to the next byte that matters inside a string.
                match memchr::memchr3(b'"', b'\\', b'\n', &buf[i..]) {
                    Some(offset) => i += offset,
                    None => return (buf.len(), None),
                }
                line_start = false;
            }
            let byte = buf[i];
            if byte == b'{' && line_start && self.depth > 0 && !self.in_string {
                return (i, Some(Stop::NextRecord));
            }
            i += 1;
            line_start = byte == b'\n';
            if byte == b'\n' && lines {
                return (i, Some(Stop::LineEnd));
            }
            if self.in_string {
                match (self.escaped, byte) {
                    (_, b'\n') => {
                        self.broken_string = true;
                        self.in_string = false;
                        self.escaped = false;
                        self.multiline = true;
                    }
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return (i, Some(Stop::Closed));
                    }
                }
                b'\n' => self.multiline = true,
                _ => {}
            }
        }
        (buf.len(), None)
    }
}

impl<R: BufRead> Iterator for Splitter<R> {
    type Item = io::Result<Piece>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_piece() {
            Ok(piece) => piece.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Whether `line` is one of the `Record 12` separators `evtx_dump` writes between records.
pub(crate) fn is_record_separator(line: &[u8]) -> bool {
    line.strip_prefix(b"Record ")
        .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<Result<(String, u64, u64), String>> {
        Splitter::new(text.as_bytes(), 1 << 20)
            .map(|p| match p.unwrap() {
                Piece::Record(r) => Ok((String::from_utf8(r.bytes).unwrap(), r.line, r.offset)),
                Piece::Error(r, kind) => Err(format!(
                    "{}@{}: {kind}",
                    String::from_utf8_lossy(&r.bytes),
                    r.line
                )),
            })
            .collect()
    }

    #[test]
    fn json_lines_are_one_record_per_line_with_positions() {
        let got = split("{\"a\":1}\n\n{\"b\":\"}\"}\r\n");
        assert_eq!(
            got,
            vec![
                Ok(("{\"a\":1}".into(), 1, 0)),
                Ok(("{\"b\":\"}\"}".into(), 3, 9))
            ]
        );
    }

    #[test]
    fn a_broken_line_costs_one_record() {
        let got = split("{\"a\":1}\n{\"b\":\n{\"c\":3}\n");
        assert_eq!(got.len(), 3);
        // Cut at its line end; parsing it reports why it is broken.
        assert_eq!(got[1], Ok(("{\"b\":".into(), 2, 8)));
        assert_eq!(got[2], Ok(("{\"c\":3}".into(), 3, 14)));
    }

    #[test]
    fn arrays_and_pretty_printed_streams_are_split_into_objects() {
        let got = split("[\n  {\n    \"a\": [1, {\"x\": 2}]\n  },\n  {\"b\": 2}\n]\n");
        assert_eq!(
            got,
            vec![
                Ok(("{\n    \"a\": [1, {\"x\": 2}]\n  }".into(), 2, 4)),
                Ok(("{\"b\": 2}".into(), 5, 36)),
            ]
        );
        let got = split("{\n  \"a\": 1\n}\n{\n  \"b\": 2\n}\n");
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn an_unclosed_pretty_record_ends_where_the_next_begins() {
        let got = split("{\n  \"a\": {\n{\n  \"b\": 2\n}\n");
        assert!(
            matches!(&got[0], Err(e) if e.contains("not closed")),
            "{got:?}"
        );
        assert_eq!(got[1], Ok(("{\n  \"b\": 2\n}".into(), 3, 11)));
        let got = split("{\"a\": [1, 2");
        assert!(
            matches!(&got[0], Err(e) if e.contains("input ends")),
            "{got:?}"
        );
    }

    #[test]
    fn text_between_records_is_reported_and_separators_recognised() {
        let got = split("Record 1\n{\"a\":1}\nnot json\n");
        assert!(matches!(&got[0], Err(e) if e.starts_with("Record 1@1")));
        assert!(is_record_separator(b"Record 1"));
        assert!(!is_record_separator(b"Record x"));
        assert!(matches!(&got[2], Err(e) if e.starts_with("not json@3")));
    }

    #[test]
    fn objects_side_by_side_on_a_line_are_separate_records() {
        let got = split("{\"a\":1}{\"b\":2} {\"c\":3}\n{\"d\":4}\n");
        let records: Vec<_> = got.iter().map(|r| r.as_ref().unwrap().0.clone()).collect();
        assert_eq!(
            records,
            ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}", "{\"d\":4}"]
        );
    }

    #[test]
    fn an_unterminated_string_costs_its_record_only() {
        // JSON Lines.
        let got = split("{\"a\":1}\n{\"b\":\"oops}\n{\"c\":3}\n");
        assert_eq!(got.len(), 3);
        assert_eq!(got[1], Ok(("{\"b\":\"oops}".into(), 2, 8)));
        assert_eq!(got[2], Ok(("{\"c\":3}".into(), 3, 20)));
        // Pretty-printed.
        let got = split("{\n  \"a\": \"oops\n}\n{\n  \"b\": 2\n}\n");
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            matches!(&got[0], Err(e) if e.contains("string runs past")),
            "{got:?}"
        );
        assert!(
            matches!(&got[1], Ok((r, 4, _)) if r.contains("\"b\": 2")),
            "{got:?}"
        );
    }

    #[test]
    fn oversized_records_are_errors_and_reading_goes_on() {
        let text = format!("{{\"a\":\"{}\"}}\n{{\"b\":1}}\n", "x".repeat(100));
        let got: Vec<_> = Splitter::new(text.as_bytes(), 50)
            .map(|p| matches!(p.unwrap(), Piece::Record(_)))
            .collect();
        assert_eq!(got, vec![false, true]);
    }

    #[test]
    fn records_wrappers_are_split_into_their_records() {
        let pretty =
            "{\n  \"Records\": [\n    {\n      \"a\": {\"x\": 1}\n    },\n    {\"b\": 2}\n  ]\n}\n";
        let expected = vec![
            Ok(("{\n      \"a\": {\"x\": 1}\n    }".into(), 3, 21)),
            Ok(("{\"b\": 2}".into(), 6, 54)),
        ];
        assert_eq!(split(pretty), expected);
        let lines =
            "{\"Records\":[{\"a\":1},{\"b\":2}]}\n{\"Records\":[]}\n{\"Records\":[{\"c\":3}]}\n";
        let expected = vec![
            Ok(("{\"a\":1}".into(), 1, 12)),
            Ok(("{\"b\":2}".into(), 1, 20)),
            Ok(("{\"c\":3}".into(), 3, 57)),
        ];
        assert_eq!(split(lines), expected);
    }

    #[test]
    fn a_wrapper_met_at_a_buffer_end_or_in_json_lines_splits_the_same() {
        let text = "{\"z\":0}\n{\"Records\":[{\"a\":1},{\"b\":2}]}\n{\"c\":3}\n";
        let expected = vec![
            Ok(("{\"z\":0}".into(), 1, 0)),
            Ok(("{\"a\":1}".into(), 2, 20)),
            Ok(("{\"b\":2}".into(), 2, 28)),
            Ok(("{\"c\":3}".into(), 3, 38)),
        ];
        // JSON Lines: the wrapper is read as a line, then split.
        assert_eq!(split(text), expected);
        // A tiny buffer never holds the whole `{"Records":[`.
        let pretty = text.replace("{\"z\":0}\n", "{\n\"z\":0}\n");
        let got: Vec<_> = Splitter::new(
            std::io::BufReader::with_capacity(3, pretty.as_bytes()),
            1 << 20,
        )
        .map(|p| match p.unwrap() {
            Piece::Record(r) => (String::from_utf8(r.bytes).unwrap(), r.line, r.offset),
            Piece::Error(r, kind) => panic!("{kind}: {}", String::from_utf8_lossy(&r.bytes)),
        })
        .collect();
        assert_eq!(
            got,
            [
                ("{\n\"z\":0}".to_string(), 1, 0),
                ("{\"a\":1}".to_string(), 3, 21),
                ("{\"b\":2}".to_string(), 3, 29),
                ("{\"c\":3}".to_string(), 4, 39),
            ]
        );
    }

    #[test]
    fn only_an_array_under_records_is_a_wrapper() {
        assert_eq!(records_prefix(b"{ \"Records\" :\n [ {"), Some(16));
        assert_eq!(records_prefix(b"{\"Records\":5}"), None);
        assert_eq!(records_prefix(b"{\"Records2\":[]}"), None);
        assert_eq!(records_prefix(b"{\"Rec"), None);
        assert_eq!(records_prefix(b"{\"records\":[{"), Some(12));
        assert_eq!(records_prefix(b"{\"RECORDS\":[{"), None);
        let got = split("{\"Records\": 5}\n");
        assert_eq!(got, vec![Ok(("{\"Records\": 5}".into(), 1, 0))]);
    }

    /// Splits `text` read through a buffer of `capacity` bytes; records as text, errors as
    /// `bytes@line: reason`.
    fn split_with(capacity: usize, text: &str) -> Vec<Result<String, String>> {
        Splitter::new(
            std::io::BufReader::with_capacity(capacity, text.as_bytes()),
            1 << 20,
        )
        .map(|p| match p.unwrap() {
            Piece::Record(r) => Ok(String::from_utf8(r.bytes).unwrap()),
            Piece::Error(r, kind) => Err(format!(
                "{}@{}: {kind}",
                String::from_utf8_lossy(&r.bytes),
                r.line
            )),
        })
        .collect()
    }

    #[test]
    fn a_records_wrapper_cut_short_is_reported_after_its_complete_records() {
        let unclosed = |got: &Result<String, String>| matches!(got, Err(e) if e.contains("the Records array is not closed"));
        let pretty = "{\"Records\": [\n  {\"a\": 1},\n  {\"b\": {\"c\": 2}}";
        let one_line = "{\"z\":0}\n{\"Records\":[{\"a\":1},{\"b\":{\"c\":2}}";
        // A buffer of 8 KiB streams the wrapper; one of 3 bytes never holds its
        // `{"Records":[`, so the wrapper is read whole and split afterwards.
        for capacity in [8192, 3] {
            for text in [pretty, one_line] {
                let got = split_with(capacity, text);
                let records: Vec<_> = got.iter().filter_map(|r| r.as_ref().ok()).collect();
                let tail = &records[records.len() - 2..];
                assert_eq!(tail.len(), 2, "{capacity} {text:?}: {got:?}");
                assert!(tail[0].contains("\"a\""), "{capacity} {text:?}: {got:?}");
                assert!(tail[1].contains("\"c\""), "{capacity} {text:?}: {got:?}");
                assert!(
                    unclosed(got.last().unwrap()),
                    "{capacity} {text:?}: {got:?}"
                );
                assert_eq!(got.iter().filter(|r| r.is_err()).count(), 1, "{got:?}");
                // A record cut mid-way is an error of its own.
                let cut = format!("{text}, {{\"d\": [1, ");
                let got = split_with(capacity, &cut);
                let n = got.len();
                assert!(
                    matches!(&got[n - 2], Err(e) if e.contains("{\"d\": [1,") && e.contains("input ends inside the record")),
                    "{capacity} {cut:?}: {got:?}"
                );
                assert!(unclosed(&got[n - 1]), "{capacity} {cut:?}: {got:?}");
                assert_eq!(got.iter().filter(|r| r.is_ok()).count(), records.len());
            }
        }
        // A closed wrapper has no such error.
        for capacity in [8192, 3] {
            let got = split_with(capacity, &format!("{pretty}]}}\n"));
            assert!(got.iter().all(Result::is_ok), "{got:?}");
        }
    }

    #[test]
    fn a_top_level_array_cut_short_is_reported_after_its_complete_records() {
        let unclosed = |got: &Result<String, String>| matches!(got, Err(e) if e.contains("the array is not closed: the input ends inside it (truncated?)"));
        let pretty = "[\n  {\"a\": 1},\n  {\"b\": {\"c\": 2}}";
        let one_line = "[{\"a\":1},{\"b\":{\"c\":2}}";
        // The input whole in one buffer, then streamed through buffers of 8 KiB, 3 bytes
        // and 1 byte.
        let routes = |text: &str| {
            let whole: Vec<_> = split(text)
                .into_iter()
                .map(|r| r.map(|(record, _, _)| record))
                .collect();
            let mut routes = vec![("whole", whole)];
            for (name, capacity) in [("8192", 8192), ("3", 3), ("1", 1)] {
                routes.push((name, split_with(capacity, text)));
            }
            routes
        };
        for text in [pretty, one_line] {
            for (route, got) in routes(text) {
                let records: Vec<_> = got.iter().filter_map(|r| r.as_ref().ok()).collect();
                assert_eq!(records.len(), 2, "{route} {text:?}: {got:?}");
                assert!(records[0].contains("\"a\""), "{route} {text:?}: {got:?}");
                assert!(records[1].contains("\"c\""), "{route} {text:?}: {got:?}");
                assert_eq!(got.len(), 3, "{route} {text:?}: {got:?}");
                assert!(unclosed(&got[2]), "{route} {text:?}: {got:?}");
                // A record cut mid-way is an error of its own, before it.
                let cut = format!("{text}, {{\"d\": [1, ");
                let got = routes(&cut);
                for (route, got) in got {
                    assert_eq!(got.len(), 4, "{route} {cut:?}: {got:?}");
                    assert!(
                        got[..2].iter().all(Result::is_ok),
                        "{route} {cut:?}: {got:?}"
                    );
                    assert!(
                        matches!(&got[2], Err(e) if e.contains("{\"d\": [1,") && e.contains("input ends inside the record")),
                        "{route} {cut:?}: {got:?}"
                    );
                    assert!(unclosed(&got[3]), "{route} {cut:?}: {got:?}");
                }
            }
        }
        // A closed array has no such error, nor has one whose closing bracket ends a
        // stretch that is not an object.
        for text in [
            format!("{pretty}\n]\n"),
            format!("{one_line}]"),
            "[{\"a\":1}, 5]\n".to_string(),
            "[{\"a\":1}, [2, [3]]]".to_string(),
            "{\"Records\":[{\"a\":1}, \"x]\"]}".to_string(),
        ] {
            for (route, got) in routes(&text) {
                assert!(
                    !got.iter()
                        .any(|r| matches!(r, Err(e) if e.contains("not closed"))),
                    "{route} {text:?}: {got:?}"
                );
            }
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use serde_json::{Map, Value, json};

        fn object() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                any::<i64>().prop_map(Value::from),
                "[ -~\n{}\\[\\]\"]{0,12}".prop_map(Value::from),
                any::<bool>().prop_map(Value::from),
            ];
            let nested = leaf.prop_recursive(3, 16, 4, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                    proptest::collection::btree_map("[a-z{}]{1,4}", inner, 0..3)
                        .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
                ]
            });
            proptest::collection::btree_map("[a-zA-Z_]{1,6}", nested, 1..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>()))
        }

        fn records(text: &str) -> Vec<Value> {
            Splitter::new(text.as_bytes(), 1 << 20)
                .map(|p| match p.unwrap() {
                    Piece::Record(r) => serde_json::from_slice(&r.bytes).unwrap(),
                    Piece::Error(r, kind) => {
                        panic!("{kind}: {}", String::from_utf8_lossy(&r.bytes))
                    }
                })
                .collect()
        }

        proptest! {
            /// Whatever the objects and however they are laid out (JSON Lines, an array,
            /// pretty-printed one after another), splitting gives each one back whole.
            #[test]
            fn every_layout_splits_into_the_same_objects(objects in proptest::collection::vec(object(), 1..6)) {
                let lines: String = objects.iter().map(|o| format!("{o}\n")).collect();
                prop_assert_eq!(&records(&lines), &objects);
                let array = serde_json::to_string_pretty(&json!(objects)).unwrap();
                prop_assert_eq!(&records(&array), &objects);
                let pretty: String = objects.iter().map(|o| serde_json::to_string_pretty(o).unwrap() + "\n").collect();
                prop_assert_eq!(&records(&pretty), &objects);
                let wrapped = json!({"Records": objects});
                prop_assert_eq!(&records(&wrapped.to_string()), &objects);
                prop_assert_eq!(&records(&serde_json::to_string_pretty(&wrapped).unwrap()), &objects);
            }
        }
    }
}
