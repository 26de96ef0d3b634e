//! Delimited text with a header row: CSV and TSV as spreadsheets, SIEM exports (Splunk's
//! `_time,_raw,host,source,sourcetype,index`) and scripts write them.
//!
//! The delimiter (comma, tab, semicolon or pipe) is chosen from the header. Cells follow
//! RFC 4180: a cell in double quotes may hold the delimiter, line breaks and `""` for a
//! quote, so one record can span lines; its location is its first line, and record numbers
//! count records, not lines. Splitting a record into cells is `csv-core`'s; this module
//! only finds where records end, so a quote that never closes is an error naming its column
//! (at the end of the input) or is cut at the record length limit, instead of swallowing
//! the rest of the file unseen.
//!
//! Header cells, trimmed, name the fields (an empty one becomes `column<N>`, counting from
//! 1; a repeated name collects its cells into a list). Cells beyond the header's are kept
//! as `column<N>`; missing ones and empty ones are absent. A cell that is wholly a number
//! becomes one (not `0012` nor digits beyond 64 bits, which stay text), `true`/`false`
//! become booleans. Rows of nothing but delimiters (spreadsheets pad with them) are blank.
//!
//! Events are of variant `splunk` when the header has `_time` or `_raw`, else `generic`.
//! Their time is `_time`, else the first readable of `@timestamp`, `timestamp`, `time`,
//! `date` (with `time` when both exist), `datetime`, `EventTime`, `TimeCreated` (any case;
//! numbers are epoch seconds to nanoseconds, text without an offset is read in the
//! configured zone); their host is `host`, `hostname`, `Computer`, `ComputerName` or
//! `device`. A Splunk export of `WinEventLog` events gets the Windows names the JSON reader
//! gives the same export (`EventCode` → `EventID`, `ComputerName` → `Computer`, ...).

use std::borrow::Cow;

use jiff::tz::TimeZone;
use vigil_event::time::{from_epoch, from_epoch_int, parse_timestamp};
use vigil_event::{Event, FieldName, Location, Origin, Text, Timestamp, Value};

use super::columns::Columns;
use super::text::{canonical_int, plain_digits};
use crate::error::{RecordError, RecordErrorKind, Result};
use crate::input::Input;
use crate::lines::{Line, Lines};
use crate::reader::{Emit, ReadOptions, Reader};
use crate::windows;

/// Reads delimited text with a header row.
pub(crate) struct CsvReader;

const NAME: &str = "csv";

/// The delimiters a header may use, in the order ties are broken.
const DELIMITERS: [u8; 4] = [b',', b'\t', b';', b'|'];

const QUOTE: u8 = b'"';

impl Reader for CsvReader {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "CSV or TSV with a header row (comma, tab, semicolon or pipe; RFC 4180 quoting), such as Splunk exports"
    }

    fn example(&self) -> &'static str {
        r#"_time,host,sourcetype,_raw / 2024-03-01T12:00:00.000+00:00,web01,linux_secure,"sshd[811]: Failed password for root""#
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        let records = head_records(head, 20);
        let Some((header, rows)) = records.split_first() else {
            return 0;
        };
        let Some((delimiter, columns)) = named_delimiter(header) else {
            return 0;
        };
        if rows.is_empty() {
            return 0;
        }
        let mut splitter = Splitter::new(delimiter);
        let even = rows
            .iter()
            .filter(|row| splitter.split(row).len() == columns)
            .count();
        if even * 100 / rows.len() >= 90 { 60 } else { 0 }
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        let path = input.name().clone();
        let tz = &options.timezone;
        let max = options.max_record_len;
        let mut lines = Lines::new(input.into_reader(), max);
        let mut joiner = Joiner::new(&DELIMITERS);
        let mut table: Option<Table> = None;
        let mut index = 0u64;
        let error =
            |location: Location, kind: RecordErrorKind| RecordError::new(&path, location, kind);
        let invalid = |reason: String| RecordErrorKind::Format {
            format: NAME,
            reason,
        };
        loop {
            let delimiter = table.as_ref().map(|t| t.delimiter);
            let record = match lines.next_line() {
                None => match joiner.take() {
                    // The input ends inside a quoted cell.
                    Some(open) => {
                        let column = match &mut table {
                            Some(t) => {
                                let count = t.splitter.split(&open.text).len();
                                t.column_name(count)
                            }
                            None => "the header".to_string(),
                        };
                        Err((
                            open.location(),
                            invalid(format!(
                                "the quoted value of {column} never ends (a `\"` is missing)"
                            )),
                        ))
                    }
                    None => break,
                },
                Some(Err(e)) => {
                    let _ = emit(Err(error(lines.position(), RecordErrorKind::Io(e))));
                    break;
                }
                Some(Ok(Line::TooLong { len, line, offset })) => {
                    // A record cut by an over-long line is lost with it.
                    let location = joiner
                        .take()
                        .map_or(Location::line(line, offset), |open| open.location());
                    Err((location, RecordErrorKind::TooLong { len, limit: max }))
                }
                Some(Ok(Line::Text { text, line, offset })) => {
                    if joiner.is_idle() && is_blank(&text, delimiter) {
                        continue;
                    }
                    match joiner.push(text, line, offset) {
                        Some(record) => Ok(record),
                        None if joiner.len() > max => {
                            let len = joiner.len();
                            let location = joiner.take().map(|open| open.location());
                            Err((
                                location.unwrap_or_default(),
                                RecordErrorKind::TooLong { len, limit: max },
                            ))
                        }
                        None => continue,
                    }
                }
            };
            let result = match (record, &mut table) {
                (Ok(record), None) => {
                    let t = Table::new(&record.text);
                    joiner.set_delimiter(t.delimiter);
                    table = Some(t);
                    continue;
                }
                (Ok(record), Some(t)) => {
                    index += 1;
                    let location = record.location_as(index);
                    t.event(&record.text, Origin::new(path.clone(), location), tz)
                        .map_err(|reason| error(location, invalid(reason)))
                }
                (Err((mut location, kind)), _) => {
                    index += 1;
                    location.record = Some(index);
                    Err(error(location, kind))
                }
            };
            if emit(result).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// Whether a line outside any record holds nothing: only spaces, or only spaces and the
/// delimiter once it is known.
fn is_blank(text: &str, delimiter: Option<u8>) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_whitespace() || Some(b) == delimiter)
}

/// The columns of the header row and what they mean.
struct Table {
    delimiter: u8,
    splitter: Splitter,
    columns: Columns,
    variant: &'static str,
    /// Where the time is, most specific first.
    times: Vec<TimeSource>,
    /// Names of columns that may hold the host, most specific first.
    hosts: Vec<FieldName>,
}

enum TimeSource {
    Column(FieldName),
    DateAndTime(FieldName, FieldName),
}

/// Columns that hold the time, after Splunk's `_time`, matched without regard to case.
const TIME_COLUMNS: [&str; 7] = [
    "@timestamp",
    "timestamp",
    "time",
    "date",
    "datetime",
    "EventTime",
    "TimeCreated",
];

/// Columns that name the host, matched without regard to case.
const HOST_COLUMNS: [&str; 5] = ["host", "hostname", "Computer", "ComputerName", "device"];

impl Table {
    fn new(header: &str) -> Table {
        let delimiter = best_delimiter(header);
        let mut splitter = Splitter::new(delimiter);
        let columns =
            Columns::new(splitter.split(header).iter().enumerate().map(
                |(i, cell)| match cell.trim() {
                    "" => FieldName::from(format!("column{}", i + 1)),
                    name => FieldName::from(name),
                },
            ));
        let names = columns.names();
        let find = |wanted: &str| names.iter().find(|n| n.eq_ignore_ascii_case(wanted));
        let splunk = names.iter().any(|n| n == "_time" || n == "_raw");
        let mut times = Vec::new();
        if let Some(t) = names.iter().find(|n| *n == "_time") {
            times.push(TimeSource::Column(t.clone()));
        }
        if let (Some(date), Some(time)) = (find("date"), find("time")) {
            times.push(TimeSource::DateAndTime(date.clone(), time.clone()));
        }
        times.extend(
            TIME_COLUMNS
                .iter()
                .filter_map(|c| find(c))
                .map(|n| TimeSource::Column(n.clone())),
        );
        let hosts = HOST_COLUMNS
            .iter()
            .filter_map(|c| find(c))
            .cloned()
            .collect();
        Table {
            delimiter,
            splitter,
            columns,
            variant: if splunk { "splunk" } else { "generic" },
            times,
            hosts,
        }
    }

    /// How an error names the last of `count` cells.
    fn column_name(&self, count: usize) -> String {
        let index = count.saturating_sub(1);
        match self.columns.name(index) {
            Some(name) => format!("column {name}"),
            None => format!("column{}", index + 1),
        }
    }

    fn event(
        &mut self,
        text: &str,
        origin: Origin,
        tz: &TimeZone,
    ) -> std::result::Result<Event, String> {
        let cells = self.splitter.split(text);
        let mut row = self.columns.row();
        for (i, cell) in cells.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let value = typed(&cell);
            if i < self.columns.len() {
                row.set(i, value);
            } else {
                row.set_extra(FieldName::from(format!("column{}", i + 1)), value);
            }
        }
        let fields = row.into_fields();
        if fields.is_empty() {
            return Err("the row has no values".into());
        }
        let mut event = Event::with_fields(origin, NAME, fields);
        event.variant = Some(self.variant);
        if self.variant == "splunk" {
            windows::splunk_windows_names(event.fields_mut());
        }
        event.timestamp = self.times.iter().find_map(|source| match source {
            TimeSource::Column(name) => event.get(name).and_then(|v| timestamp_of(v, tz)),
            TimeSource::DateAndTime(date, time) => {
                let date = event.get(date)?.to_text();
                let time = event.get(time)?.to_text();
                parse_timestamp(&format!("{date}T{time}"), tz).ok()
            }
        });
        event.host = self
            .hosts
            .iter()
            .find_map(|name| event.get_str(name).filter(|h| !h.is_empty()))
            .map(Text::from);
        Ok(event)
    }
}

fn timestamp_of(value: &Value, tz: &TimeZone) -> Option<Timestamp> {
    match value {
        Value::Str(text) => parse_timestamp(text, tz).ok(),
        Value::Int(n) => from_epoch_int(*n).ok(),
        Value::Float(n) => from_epoch(*n).ok(),
        _ => None,
    }
}

/// A cell's value: a number when the whole cell is one written plainly, a boolean for
/// `true`/`false`, else the text.
fn typed(cell: &str) -> Value {
    if let Some(n) = canonical_int(cell) {
        return Value::Int(n);
    }
    if let Some(x) = float(cell) {
        return Value::Float(x);
    }
    if cell.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if cell.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    Value::from(cell)
}

/// `12.5`, `-0.25`, `1.5e3`: digits as [`canonical_int`] wants them, a fraction, and an optional
/// exponent. `1e5`, `.5`, `NaN` and `inf` stay text.
fn float(cell: &str) -> Option<f64> {
    let unsigned = cell.strip_prefix('-').unwrap_or(cell);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.')?;
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    if !plain_digits(whole)
        || fraction.is_empty()
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || !exponent_ok
    {
        return None;
    }
    cell.parse().ok().filter(|x: &f64| x.is_finite())
}

/// The delimiter a header uses and its column count, when its cells look like column names
/// (the test sniffing relies on): at least two names, at most one empty cell.
fn named_delimiter(header: &str) -> Option<(u8, usize)> {
    DELIMITERS
        .iter()
        .filter_map(|&d| {
            let mut splitter = Splitter::new(d);
            let cells = splitter.split(header);
            let empty = cells.iter().filter(|c| c.trim().is_empty()).count();
            let named = cells
                .iter()
                .all(|c| c.trim().is_empty() || is_column_name(c.trim()));
            (named && empty <= 1 && cells.len() - empty >= 2).then_some((d, cells.len()))
        })
        .max_by_key(|&(d, n)| (n, std::cmp::Reverse(delimiter_rank(d))))
}

/// The delimiter of a header row: the one whose cells look like names, else the one that
/// splits it most; comma when nothing splits it.
fn best_delimiter(header: &str) -> u8 {
    if let Some((d, _)) = named_delimiter(header) {
        return d;
    }
    DELIMITERS
        .iter()
        .map(|&d| (d, Splitter::new(d).split(header).len()))
        .max_by_key(|&(d, n)| (n, std::cmp::Reverse(delimiter_rank(d))))
        .map_or(b',', |(d, _)| d)
}

fn delimiter_rank(d: u8) -> usize {
    DELIMITERS
        .iter()
        .position(|&x| x == d)
        .unwrap_or(usize::MAX)
}

/// Whether a header cell looks like a column name: a letter, `_` or `@` first, then
/// letters, digits, spaces and a little punctuation, at most 64 bytes. No `:`, `=`, `<`,
/// `{`, `[` or quotes, which syslog, key=value, CEF and JSON lines are full of.
fn is_column_name(cell: &str) -> bool {
    let mut chars = cell.chars();
    cell.len() <= 64
        && chars
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '@')
        && chars.all(|c| {
            c.is_alphanumeric()
                || matches!(c, ' ' | '_' | '-' | '.' | '@' | '/' | '(' | ')' | '#' | '%')
        })
}

/// The complete records at the start of `head`, at most `max`: lines joined where a quoted
/// cell spans them, a record the head cuts off left out.
fn head_records(head: &[u8], max: usize) -> Vec<String> {
    if head.iter().take(512).any(|&b| b == 0) {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(head);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut lines: Vec<&str> = text.split('\n').collect();
    // The last line is cut short unless the head ends with a line break (then it is empty).
    lines.pop();
    if lines.is_empty() && !text.is_empty() {
        // A head of one unterminated line: the whole input, when it is this short.
        lines.push(text);
    }
    let mut joiner = Joiner::new(&DELIMITERS);
    let mut records = Vec::new();
    for (i, line) in lines.into_iter().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let delimiter = joiner.delimiter();
        if joiner.is_idle() && is_blank(line, delimiter) {
            continue;
        }
        if let Some(record) = joiner.push(line.to_string(), i as u64 + 1, 0) {
            if records.is_empty() {
                joiner.set_delimiter(best_delimiter(&record.text));
            }
            records.push(record.text);
            if records.len() > max {
                break;
            }
        }
    }
    records
}

/// A record's text and where it starts.
struct Joined {
    text: String,
    line: u64,
    offset: u64,
}

impl Joined {
    fn location(&self) -> Location {
        Location::line(self.line, self.offset)
    }

    fn location_as(&self, record: u64) -> Location {
        Location {
            record: Some(record),
            ..self.location()
        }
    }
}

/// Where a scan of a record's bytes stands, as `csv-core` would see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScanState {
    StartField,
    InField,
    InQuoted,
    /// A `"` inside a quoted cell: it closes the cell, or a second one follows (`""`).
    QuoteSeen,
}

/// Joins physical lines into records: a line that ends inside a quoted cell goes on in
/// the next one, the line break being part of the cell.
struct Joiner {
    delimiters: Vec<u8>,
    open: Option<Joined>,
}

impl Joiner {
    fn new(delimiters: &[u8]) -> Self {
        Joiner {
            delimiters: delimiters.to_vec(),
            open: None,
        }
    }

    fn set_delimiter(&mut self, delimiter: u8) {
        self.delimiters = vec![delimiter];
    }

    fn delimiter(&self) -> Option<u8> {
        match self.delimiters[..] {
            [d] => Some(d),
            _ => None,
        }
    }

    /// Whether no record is open.
    fn is_idle(&self) -> bool {
        self.open.is_none()
    }

    /// The length of the open record.
    fn len(&self) -> usize {
        self.open.as_ref().map_or(0, |o| o.text.len())
    }

    /// Takes the open record, unfinished.
    fn take(&mut self) -> Option<Joined> {
        self.open.take()
    }

    /// Adds a line; returns the record it completes.
    fn push(&mut self, line: String, number: u64, offset: u64) -> Option<Joined> {
        match self.open.as_mut() {
            None => {
                let state = scan(line.as_bytes(), &self.delimiters, ScanState::StartField);
                let record = Joined {
                    text: line,
                    line: number,
                    offset,
                };
                if state == ScanState::InQuoted {
                    self.open = Some(record);
                    None
                } else {
                    Some(record)
                }
            }
            Some(open) => {
                // Only an open quoted cell keeps a record open, so the scan resumes in it,
                // the line break being part of the cell.
                let state = scan(line.as_bytes(), &self.delimiters, ScanState::InQuoted);
                open.text.push('\n');
                open.text.push_str(&line);
                if state == ScanState::InQuoted {
                    None
                } else {
                    self.open.take()
                }
            }
        }
    }
}

/// Follows RFC 4180 quoting over `bytes` from `state`, as `csv-core` reads it: a quote opens
/// a quoted cell only at the start of a cell, `""` inside one is a quote, and text after a
/// closing quote continues the cell unquoted.
fn scan(bytes: &[u8], delimiters: &[u8], mut state: ScanState) -> ScanState {
    if state == ScanState::StartField && memchr::memchr(QUOTE, bytes).is_none() {
        return ScanState::InField;
    }
    for &b in bytes {
        state = match state {
            ScanState::StartField if b == QUOTE => ScanState::InQuoted,
            ScanState::StartField | ScanState::InField | ScanState::QuoteSeen
                if delimiters.contains(&b) =>
            {
                ScanState::StartField
            }
            ScanState::StartField | ScanState::InField => ScanState::InField,
            ScanState::InQuoted if b == QUOTE => ScanState::QuoteSeen,
            ScanState::InQuoted => ScanState::InQuoted,
            ScanState::QuoteSeen if b == QUOTE => ScanState::InQuoted,
            ScanState::QuoteSeen => ScanState::InField,
        };
    }
    state
}

/// Splits one record into cells with `csv-core`, reusing its buffers.
struct Splitter {
    reader: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
}

/// The cells of one record.
struct Cells<'s> {
    out: &'s [u8],
    ends: &'s [usize],
}

impl Cells<'_> {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn iter(&self) -> impl Iterator<Item = Cow<'_, str>> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let bytes = self.out.get(start..end).unwrap_or_default();
            start = end;
            // Cells split at ASCII delimiters and quotes of valid UTF-8 stay valid.
            String::from_utf8_lossy(bytes)
        })
    }
}

impl Splitter {
    fn new(delimiter: u8) -> Self {
        Splitter {
            reader: csv_core::ReaderBuilder::new()
                .delimiter(delimiter)
                // Lines were split already; a line break left in a record is in a quoted
                // cell, and a stray `\r` is text.
                .terminator(csv_core::Terminator::Any(b'\n'))
                .build(),
            out: Vec::new(),
            ends: vec![0; 32],
        }
    }

    fn split(&mut self, text: &str) -> Cells<'_> {
        use csv_core::ReadRecordResult as R;
        self.reader.reset();
        // Unquoting only shrinks a record, so its length is room enough.
        if self.out.len() <= text.len() {
            self.out.resize(text.len() + 1, 0);
        }
        let mut input = text.as_bytes();
        let (mut nout, mut nend) = (0, 0);
        loop {
            let at_end = input.is_empty();
            let (result, nin, o, e) =
                self.reader
                    .read_record(input, &mut self.out[nout..], &mut self.ends[nend..]);
            input = input.get(nin..).unwrap_or_default();
            nout += o;
            nend += e;
            match result {
                R::Record | R::End => break,
                R::OutputFull => {
                    let len = self.out.len();
                    self.out.resize(len * 2 + 1, 0);
                }
                R::OutputEndsFull => {
                    let len = self.ends.len();
                    self.ends.resize(len * 2, 0);
                }
                // Told the input ended and still wanting more: csv-core never does this.
                R::InputEmpty if at_end => break,
                R::InputEmpty => {}
            }
        }
        Cells {
            out: &self.out[..nout.min(self.out.len())],
            ends: &self.ends[..nend.min(self.ends.len())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::RecordResult;

    fn read_text(text: &str, options: &ReadOptions) -> Vec<RecordResult> {
        crate::reader::read_all(
            &CsvReader,
            Input::from_slice("export.csv", text.as_bytes()),
            options,
        )
        .unwrap()
    }

    fn read(text: &str) -> Vec<RecordResult> {
        read_text(text, &ReadOptions::default())
    }

    fn ok(results: &[RecordResult]) -> Vec<&Event> {
        results
            .iter()
            .map(|r| r.as_ref().unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    fn cells(delimiter: u8, text: &str) -> Vec<String> {
        let mut s = Splitter::new(delimiter);
        s.split(text).iter().map(Cow::into_owned).collect()
    }

    #[test]
    fn quoting_follows_rfc_4180() {
        assert_eq!(cells(b',', "a,b,c"), ["a", "b", "c"]);
        assert_eq!(
            cells(b',', r#""a,1","say ""hi""",c"#),
            ["a,1", r#"say "hi""#, "c"]
        );
        assert_eq!(cells(b',', "a,,"), ["a", "", ""]);
        assert_eq!(cells(b',', "\"two\nlines\",x"), ["two\nlines", "x"]);
        assert_eq!(cells(b'\t', "a b\tc,d"), ["a b", "c,d"]);
        // A quote inside an unquoted cell is text; text after a closing quote continues it.
        assert_eq!(cells(b',', r#"5" disk,"ab"cd"#), [r#"5" disk"#, "abcd"]);
        assert_eq!(cells(b',', "x\ry"), ["x\ry"]);
    }

    #[test]
    fn the_scan_agrees_with_csv_core_on_where_a_record_ends() {
        let d = &[b','][..];
        assert_eq!(scan(b"a,b", d, ScanState::StartField), ScanState::InField);
        assert_eq!(
            scan(b"a,\"b", d, ScanState::StartField),
            ScanState::InQuoted
        );
        assert_eq!(
            scan(b"a,\"b\"\"", d, ScanState::StartField),
            ScanState::InQuoted
        );
        assert_eq!(
            scan(b"a,\"b\"", d, ScanState::StartField),
            ScanState::QuoteSeen
        );
        assert_eq!(
            scan(b"a,b\"c", d, ScanState::StartField),
            ScanState::InField
        );
        assert_eq!(scan(b"end\",x", d, ScanState::InQuoted), ScanState::InField);
        assert_eq!(scan(b"", d, ScanState::InQuoted), ScanState::InQuoted);
    }

    #[test]
    fn values_are_typed_only_when_wholly_plain_numbers_or_booleans() {
        assert_eq!(typed("4624"), Value::Int(4624));
        assert_eq!(typed("-3"), Value::Int(-3));
        assert_eq!(typed("0"), Value::Int(0));
        assert_eq!(typed("12.5"), Value::Float(12.5));
        assert_eq!(typed("-0.25e2"), Value::Float(-25.0));
        assert_eq!(typed("TRUE"), Value::Bool(true));
        assert_eq!(typed("false"), Value::Bool(false));
        for text in [
            "0012",
            "00.5",
            "99999999999999999999",
            "1e5",
            ".5",
            "5.",
            "NaN",
            "inf",
            "+5",
            " 12",
            "12 ",
            "0x1F",
            "1.2.3",
            "-",
            "1.5e",
            "yes",
        ] {
            assert_eq!(typed(text), Value::from(text), "{text}");
        }
    }

    #[test]
    fn header_names_fields_and_odd_rows_keep_their_cells() {
        let got = read(" Name ,,count,Name\nalice,x,3,bob\nshort\nw,x,y,z,extra,\n");
        let e = ok(&got);
        assert_eq!(e.len(), 3);
        assert_eq!(
            e[0].get("Name"),
            Some(&Value::List(vec![Value::from("alice"), Value::from("bob")]))
        );
        assert_eq!(e[0].get_str("column2"), Some("x"));
        assert_eq!(e[0].get("count"), Some(&Value::Int(3)));
        assert_eq!(e[1].fields().len(), 1);
        assert_eq!(e[1].get_str("Name"), Some("short"));
        assert_eq!(e[2].get_str("column5"), Some("extra"));
        assert!(e[2].get("column6").is_none(), "empty cells are absent");
        assert_eq!(e[0].variant, Some("generic"));
    }

    #[test]
    fn a_row_of_many_cells_beyond_the_header_reads_in_linear_time() {
        let text = format!("a,b,column7\n{}\n", "x,".repeat(200_000));
        let got = read(&text);
        let e = ok(&got)[0];
        assert_eq!(e.fields().len(), 199_999);
        assert_eq!(e.get_str("column200000"), Some("x"));
        assert_eq!(
            e.get("column7"),
            Some(&Value::List(vec![Value::from("x"), Value::from("x")])),
            "a cell beyond the header joins a header column of its name"
        );
    }

    #[test]
    fn a_multi_line_record_is_located_at_its_first_line_and_counted_once() {
        let text = "id,msg\n1,\"first\nsecond\n\nfourth\"\n2,plain\n";
        let got = read(text);
        let e = ok(&got);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].get_str("msg"), Some("first\nsecond\n\nfourth"));
        let l = e[0].origin.location;
        assert_eq!((l.record, l.line, l.offset), (Some(1), Some(2), Some(7)));
        let l = e[1].origin.location;
        assert_eq!((l.record, l.line), (Some(2), Some(6)));
    }

    #[test]
    fn delimiters_are_told_from_the_header() {
        for (text, d) in [
            ("a\tb\n1\t2\n", b'\t'),
            ("a;b\n1;2\n", b';'),
            ("a|b\n1|2\n", b'|'),
            ("a,b\n1,2\n", b','),
            ("\"a;x\",b\n1,2\n", b','),
        ] {
            assert_eq!(
                Table::new(text.lines().next().unwrap()).delimiter,
                d,
                "{text}"
            );
            let got = read(text);
            assert_eq!(ok(&got)[0].get("b"), Some(&Value::Int(2)), "{text}");
        }
    }

    #[test]
    fn splunk_exports_take_time_and_host_from_their_columns() {
        let got = read(concat!(
            "\"_time\",host,source,sourcetype,\"_raw\"\n",
            "\"2024-03-01T12:00:00.000+00:00\",web01,/var/log/secure,linux_secure,\"Mar  1 12:00:00 web01 sshd[1]: a, b\"\n",
            "1709294401.5,web02,x,y,z\n",
        ));
        let e = ok(&got);
        assert_eq!(e[0].variant, Some("splunk"));
        assert_eq!(e[0].timestamp.unwrap().to_string(), "2024-03-01T12:00:00Z");
        assert_eq!(e[0].host.as_deref(), Some("web01"));
        assert_eq!(
            e[0].get_str("_raw"),
            Some("Mar  1 12:00:00 web01 sshd[1]: a, b")
        );
        assert_eq!(
            e[1].timestamp.unwrap().to_string(),
            "2024-03-01T12:00:01.5Z"
        );
    }

    #[test]
    fn splunk_windows_events_take_windows_names() {
        let got = read(concat!(
            "_time,host,sourcetype,EventCode,ComputerName,LogName\n",
            "2024-03-01T12:00:00Z,dc1,WinEventLog:Security,4625,DC1.corp,Security\n",
        ));
        let e = ok(&got)[0];
        assert_eq!(e.get("EventID"), Some(&Value::Int(4625)));
        assert_eq!(e.get_str("Computer"), Some("DC1.corp"));
        assert_eq!(e.get_str("Channel"), Some("Security"));
        assert!(e.get("EventCode").is_none());
    }

    #[test]
    fn generic_time_columns_are_read_in_the_configured_zone() {
        let options = ReadOptions {
            timezone: TimeZone::fixed(jiff::tz::offset(2)),
            ..ReadOptions::default()
        };
        let got = read_text(
            "Date,Time,Computer,x\n2024-03-01,12:00:00,PC1,1\n",
            &options,
        );
        let e = ok(&got)[0];
        assert_eq!(e.timestamp.unwrap().to_string(), "2024-03-01T10:00:00Z");
        assert_eq!(e.host.as_deref(), Some("PC1"));
        let got = read_text("TimeCreated;Hostname\n2024-03-01 12:00:00;h\n", &options);
        assert_eq!(
            ok(&got)[0].timestamp.unwrap().to_string(),
            "2024-03-01T10:00:00Z"
        );
        let got = read("name,time\nx,not a time\n");
        assert!(ok(&got)[0].timestamp.is_none());
    }

    #[test]
    fn an_unterminated_quote_at_the_end_is_an_error_naming_its_column() {
        let got = read("a,b,c\n1,2,3\n4,\"open\nstill open\n");
        assert!(got[0].is_ok());
        assert_eq!(
            got[1].as_ref().unwrap_err().to_string(),
            "export.csv: record 2, line 3, offset 0x0000000c: not a valid csv record: the quoted value of column b never ends (a `\"` is missing)"
        );
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn a_runaway_quote_is_cut_at_the_record_limit_and_reading_goes_on() {
        let options = ReadOptions {
            max_record_len: 20,
            ..ReadOptions::default()
        };
        let got = read_text("a,b\n1,\"x\n2222222222\n3333333333\n4,5\n", &options);
        assert!(matches!(
            got[0].as_ref().unwrap_err().kind,
            RecordErrorKind::TooLong { .. }
        ));
        assert_eq!(got[0].as_ref().unwrap_err().origin.location.line, Some(2));
        let last = got.last().unwrap().as_ref().unwrap();
        assert_eq!(last.get("b"), Some(&Value::Int(5)));
        // Over-long single lines too.
        let got = read_text("a,b\n1,2\n33333333333333333333333333,4\n5,6\n", &options);
        assert_eq!(got.len(), 3);
        assert!(got[1].is_err() && got[2].is_ok());
        assert_eq!(got[2].as_ref().unwrap().origin.location.record, Some(3));
    }

    #[test]
    fn blank_and_padding_rows_are_not_records_and_empty_quoted_rows_are_errors() {
        let got = read("a,b\n\n,,\n  \n1,2\n\"\",\"\"\n");
        assert_eq!(got.len(), 2);
        assert!(got[0].is_ok());
        assert_eq!(
            got[1].as_ref().unwrap_err().to_string(),
            "export.csv: record 2, line 6, offset 0x0000000f: not a valid csv record: the row has no values"
        );
    }

    #[test]
    fn junk_never_panics_and_is_accounted_for() {
        let junk = [
            &b"\xff\xfe\x00\x01,\x02\n\x03\"\n"[..],
            b"\"",
            b"a,b\n\"",
            b"a,b\n\"\"\"\n",
            b",\n,\n",
            b"\"a\nb\"\"\n\",c\nx\n",
            b"\xef\xbb\xbfa,b\r\n1,2\r\n",
        ];
        for bytes in junk {
            let _ = crate::reader::read_all(
                &CsvReader,
                Input::from_slice("j.csv", bytes),
                &ReadOptions::default(),
            )
            .unwrap();
            let _ = CsvReader.sniff(bytes);
        }
        let got = read("\u{feff}a,b\r\n1,\"caf\u{e9}\"\r\n");
        assert_eq!(ok(&got)[0].get("a"), Some(&Value::Int(1)));
        assert_eq!(ok(&got)[0].get_str("b"), Some("café"));
    }

    #[test]
    fn sniffing_wants_a_named_header_and_even_rows() {
        assert_eq!(CsvReader.sniff(b"a,b,c\n1,2,3\n4,5,6\n"), 60);
        assert_eq!(CsvReader.sniff(b"_time\t_raw\n1\t\"x\ny\"\n2\tz\n"), 60);
        assert_eq!(CsvReader.sniff(b"a,b,c\n1,2\n4\n"), 0, "uneven rows");
        assert_eq!(CsvReader.sniff(b"a,b\n"), 0, "no rows");
        assert_eq!(CsvReader.sniff(b"only\n1\n"), 0, "one column");
        assert_eq!(CsvReader.sniff(b"1,2\n3,4\n"), 0, "no header");
        for line in [
            &b"Dec 10 06:55:46 LabSZ sshd[24200]: Failed password, for root from 1.2.3.4\n"[..],
            b"date=2019-05-10 time=11:37:47 devname=\"FG100\", srcip=1.2.3.4\n",
            b"CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1\n",
            b"{\"a\":1,\"b\":2}\n",
            b"#separator \\x09\n#fields\tts\tuid\n",
            b"<134>1 2024-01-01T00:00:00Z h app - - - a,b\n",
        ] {
            let twice = [line, line, line].concat();
            assert_eq!(
                CsvReader.sniff(&twice),
                0,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
