//! Zeek (formerly Bro) logs in its default tab-separated form: a header of `#` lines, then
//! one record per line (tabs shown as spaces here):
//!
//! ```text
//! #separator \x09
//! #set_separator  ,
//! #empty_field  (empty)
//! #unset_field  -
//! #path  conn
//! #open  2023-08-15-21-06-17
//! #fields  ts  uid  id.orig_h  id.orig_p  id.resp_h  id.resp_p  proto  ...
//! #types  time  string  addr  port  addr  port  enum  ...
//! 1692146028.495991  CcDO6P1tntZGxYTFn6  192.168.1.43  49873  192.168.1.1  53  udp  ...
//! #close  2023-08-15-21-06-19
//! ```
//!
//! Field names are the `#fields` names (`id.orig_h`, `id.resp_p`), and `_path` holds
//! `#path`, as Zeek's own JSON logs have it. Values take their `#types`: `time`, `interval`
//! and `double` are floats, `count`, `int` and `port` integers, `bool` (`T`/`F`) booleans,
//! `set[...]` and `vector[...]` lists split at the set separator; anything else is text.
//! `ts` is the event's time, read exactly. The unset marker (`-`) leaves a field out, the
//! empty marker gives an empty string or list. Zeek escapes bytes as `\xHH` (and a
//! backslash as `\\`); both are undone. A new header block (`#separator` or `#fields`, as
//! when rotated logs are joined) replaces the previous one.
//!
//! A data line before any `#fields`, a line whose value count differs from the `#fields`
//! count, or a value its type cannot hold is an error naming the line and the column.

use vigil_event::{Event, FieldName, Location, Origin, Timestamp, Value};

use super::columns::Columns;
use super::text::preview;
use crate::error::{RecordError, RecordErrorKind, Result};
use crate::input::Input;
use crate::lines::{Line, Lines};
use crate::reader::{Emit, ReadOptions, Reader};

/// Reads Zeek TSV logs.
pub(crate) struct ZeekReader;

const NAME: &str = "zeek";

/// Where Zeek logs keep the log's name (`conn`, `dns`), in TSV and JSON alike.
const PATH_FIELD: &str = "_path";

impl Reader for ZeekReader {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Zeek (Bro) tab-separated logs with #fields/#types headers: conn, dns, http, files, ssh, notice and the rest"
    }

    fn example(&self) -> &'static str {
        "#fields ts uid id.orig_h id.orig_p ... then 1692146028.495991\tCcDO6P1tntZGxYTFn6\t192.168.1.43\t49873\t192.168.1.1\t53\tudp\tdns"
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        // Zeek writes `#separator` first, with the separator escaped.
        if head.starts_with(b"#separator \\x") {
            return 95;
        }
        // Some tools drop it and keep the rest of the header.
        let text = String::from_utf8_lossy(&head[..head.len().min(8192)]);
        let mut directives = text.lines().take_while(|l| l.starts_with('#'));
        let fields = directives.clone().any(|l| l.starts_with("#fields\t"));
        let types = directives.any(|l| l.starts_with("#types\t"));
        if fields && types { 90 } else { 0 }
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        let path = input.name().clone();
        let max = options.max_record_len;
        let mut lines = Lines::new(input.into_reader(), max);
        let mut header = Header::default();
        let mut index = 0u64;
        while let Some(line) = lines.next_line() {
            let (text, line, offset) = match line {
                Ok(Line::Text { text, line, offset }) => (text, line, offset),
                Ok(Line::TooLong { len, line, offset }) => {
                    index += 1;
                    let location = Location {
                        record: Some(index),
                        ..Location::line(line, offset)
                    };
                    let kind = RecordErrorKind::TooLong { len, limit: max };
                    if emit(Err(RecordError::new(&path, location, kind))).is_break() {
                        break;
                    }
                    continue;
                }
                Err(error) => {
                    let _ = emit(Err(RecordError::new(&path, lines.position(), error)));
                    break;
                }
            };
            // Blank lines are not records, in Zeek as in every line format here.
            if text.trim().is_empty() {
                continue;
            }
            if text.starts_with('#') {
                header.directive(&text);
                continue;
            }
            index += 1;
            let location = Location {
                record: Some(index),
                ..Location::line(line, offset)
            };
            let result = header
                .event(&text, Origin::new(path.clone(), location))
                .map_err(|reason| RecordError::format(&path, location, NAME, reason));
            if emit(result).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// What the `#` lines have said so far.
struct Header {
    separator: String,
    set_separator: String,
    empty: String,
    unset: String,
    path: Option<String>,
    /// `_path`, then the `#fields` names, once given.
    columns: Option<Columns>,
    /// `#types`, once given (after `#fields`).
    types: Option<Vec<Type>>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            separator: "\t".into(),
            set_separator: ",".into(),
            empty: "(empty)".into(),
            unset: "-".into(),
            path: None,
            columns: None,
            types: None,
        }
    }
}

impl Header {
    fn directive(&mut self, line: &str) {
        // `#separator` is always followed by a space and the escaped separator, since the
        // separator is not known before it.
        if let Some(rest) = line.strip_prefix("#separator ") {
            let separator = unescape(rest);
            *self = Header::default();
            // An empty separator would split between every character.
            if !separator.is_empty() {
                self.separator = separator;
            }
            return;
        }
        let (name, value) = line
            .split_once(self.separator.as_str())
            .unwrap_or((line, ""));
        match name {
            "#set_separator" => self.set_separator = unescape(value),
            "#empty_field" => self.empty = unescape(value),
            "#unset_field" => self.unset = unescape(value),
            "#path" => self.path = Some(unescape(value)),
            "#fields" => {
                let names = value
                    .split(self.separator.as_str())
                    .map(|n| FieldName::from(unescape(n)));
                let path = std::iter::once(FieldName::from(PATH_FIELD));
                self.columns = Some(Columns::new(path.chain(names)));
                self.types = None;
            }
            "#types" => {
                self.types = Some(value.split(self.separator.as_str()).map(Type::of).collect());
            }
            // `#open`, `#close` and anything newer say nothing about the records.
            _ => {}
        }
    }

    fn event(&self, line: &str, origin: Origin) -> std::result::Result<Event, String> {
        let Some(columns) = &self.columns else {
            return Err("a data line before any #fields header".into());
        };
        // Column 0 is `_path`, from the header.
        let count = columns.len() - 1;
        let values: Vec<&str> = line.split(self.separator.as_str()).collect();
        if values.len() != count {
            return Err(format!(
                "{} values for the {count} #fields columns",
                values.len()
            ));
        }
        if let Some(types) = &self.types
            && types.len() != count
        {
            return Err(format!(
                "the #types header has {} entries for the {count} #fields columns",
                types.len()
            ));
        }
        let mut row = columns.row();
        if let Some(path) = &self.path {
            row.set(0, Value::from(path.as_str()));
        }
        let mut timestamp = None;
        for (i, raw) in values.iter().enumerate() {
            let kind = self
                .types
                .as_ref()
                .and_then(|t| t.get(i))
                .copied()
                .unwrap_or(Type::Scalar(Scalar::Text));
            if *raw == self.unset {
                continue;
            }
            let name = columns.name(i + 1).map_or("", |n| n.as_str());
            let value = self
                .value(raw, kind)
                .map_err(|why| format!("column {name}: {why}"))?;
            if name == "ts" && kind == Type::Scalar(Scalar::Time) {
                timestamp = Some(
                    epoch_exact(raw).ok_or_else(|| format!("column ts: `{raw}` is not a time"))?,
                );
            }
            row.set(i + 1, value);
        }
        let mut event = Event::with_fields(origin, NAME, row.into_fields());
        event.variant = Some(NAME);
        event.timestamp = timestamp;
        Ok(event)
    }

    /// The value of one column of type `kind`.
    fn value(&self, raw: &str, kind: Type) -> std::result::Result<Value, String> {
        match kind {
            Type::List(element) => {
                if raw == self.empty {
                    return Ok(Value::List(Vec::new()));
                }
                raw.split(self.set_separator.as_str())
                    .map(|item| {
                        if item == self.unset {
                            Ok(Value::Null)
                        } else {
                            scalar(item, element)
                        }
                    })
                    .collect::<std::result::Result<_, _>>()
                    .map(Value::List)
            }
            Type::Scalar(kind) => {
                if raw == self.empty && kind == Scalar::Text {
                    return Ok(Value::from(""));
                }
                scalar(raw, kind)
            }
        }
    }
}

/// A column's `#types` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Scalar(Scalar),
    /// `set[...]` or `vector[...]` of the element type.
    List(Scalar),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    /// `time`: seconds since the epoch, with a fraction.
    Time,
    /// `interval`, `double`.
    Float,
    /// `count`, `int`, `port`.
    Int,
    /// `bool`: `T` or `F`.
    Bool,
    /// `string`, `addr`, `subnet`, `enum`, `pattern` and anything unknown.
    Text,
}

impl Type {
    fn of(name: &str) -> Type {
        let container = ["set[", "vector["]
            .iter()
            .find_map(|p| name.strip_prefix(p)?.strip_suffix(']'));
        match container {
            Some(element) => Type::List(Scalar::of(element)),
            None => Type::Scalar(Scalar::of(name)),
        }
    }
}

impl Scalar {
    fn of(name: &str) -> Scalar {
        match name {
            "time" => Scalar::Time,
            "interval" | "double" => Scalar::Float,
            "count" | "int" | "port" => Scalar::Int,
            "bool" => Scalar::Bool,
            _ => Scalar::Text,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Scalar::Time => "time",
            Scalar::Float => "number",
            Scalar::Int => "whole number",
            Scalar::Bool => "T or F",
            Scalar::Text => "text",
        }
    }
}

/// One value (or list element) of type `kind`, escapes undone.
fn scalar(raw: &str, kind: Scalar) -> std::result::Result<Value, String> {
    let wrong = || format!("`{}` is not a {}", preview(raw), kind.name());
    match kind {
        Scalar::Text => Ok(Value::from(unescape(raw))),
        // An empty cell where a number belongs: nothing to keep.
        _ if raw.is_empty() => Ok(Value::Null),
        Scalar::Time | Scalar::Float => raw
            .trim()
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| wrong()),
        Scalar::Int => {
            // A port may carry its protocol (`80/tcp`), as Zeek's own reader accepts.
            let number = raw.split_once('/').map_or(raw, |(n, _)| n).trim();
            match number.parse::<i64>() {
                Ok(n) => Ok(Value::Int(n)),
                // A `count` beyond i64 is kept as the digits it is.
                Err(_) if number.bytes().all(|b| b.is_ascii_digit()) && !number.is_empty() => {
                    Ok(Value::from(number))
                }
                Err(_) => Err(wrong()),
            }
        }
        Scalar::Bool => match raw.trim() {
            "T" | "1" => Ok(Value::Bool(true)),
            "F" | "0" => Ok(Value::Bool(false)),
            _ => Err(wrong()),
        },
    }
}

/// Reads `1692146028.495991` as a timestamp exactly, without a float's rounding.
fn epoch_exact(raw: &str) -> Option<Timestamp> {
    let raw = raw.trim();
    let (negative, digits) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let seconds: i64 = whole.parse().ok()?;
    let mut nanos: i64 = 0;
    for (i, b) in fraction.bytes().take(9).enumerate() {
        nanos += i64::from(b - b'0') * 10i64.pow(8 - i as u32);
    }
    let (seconds, nanos) = if negative {
        (-seconds, -nanos)
    } else {
        (seconds, nanos)
    };
    Timestamp::new(seconds, i32::try_from(nanos).ok()?).ok()
}

/// Undoes Zeek's escapes: `\xHH` is the byte HH, `\\` a backslash. Bytes that are not
/// UTF-8 once decoded are replaced.
fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' {
            if let Some(&[b'x', hi, lo]) = bytes.get(i + 1..i + 4)
                && let (Some(hi), Some(lo)) = (hex(hi), hex(lo))
            {
                out.push(hi << 4 | lo);
                i += 4;
                continue;
            }
            if bytes.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{RecordResult, read_all};

    const HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2023-08-15-21-06-17\n";

    fn read(text: &str) -> Vec<RecordResult> {
        read_all(
            &ZeekReader,
            Input::from_slice("conn.log", text.as_bytes()),
            &ReadOptions::default(),
        )
        .unwrap()
    }

    fn one(text: &str) -> Event {
        let mut got = read(text);
        assert_eq!(got.len(), 1);
        got.remove(0).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn values_take_their_types() {
        let e = one(&format!(
            "{HEADER}#fields\tts\tid.orig_h\tid.orig_p\tduration\tlocal_orig\tservice\tmissed\ttunnel_parents\tTTLs\tmsg\n\
             #types\ttime\taddr\tport\tinterval\tbool\tstring\tcount\tset[string]\tvector[interval]\tstring\n\
             1692146068.136475\t192.168.1.43\t49604\t315.253738\tT\t-\t0\ta,b\t2230.000000,-\t(empty)\n"
        ));
        assert_eq!(e.format, "zeek");
        assert_eq!(e.variant, Some("zeek"));
        assert_eq!(e.get_str("_path"), Some("conn"));
        assert_eq!(
            e.timestamp.unwrap().to_string(),
            "2023-08-16T00:34:28.136475Z"
        );
        assert_eq!(e.get("ts"), Some(&Value::Float(1692146068.136475)));
        assert_eq!(e.get_str("id.orig_h"), Some("192.168.1.43"));
        assert_eq!(e.get("id.orig_p"), Some(&Value::Int(49604)));
        assert_eq!(e.get("duration"), Some(&Value::Float(315.253738)));
        assert_eq!(e.get("local_orig"), Some(&Value::Bool(true)));
        assert!(e.get("service").is_none(), "unset is absent");
        assert_eq!(e.get("missed"), Some(&Value::Int(0)));
        assert_eq!(
            e.get("tunnel_parents"),
            Some(&Value::List(vec![Value::from("a"), Value::from("b")]))
        );
        assert_eq!(
            e.get("TTLs"),
            Some(&Value::List(vec![Value::Float(2230.0), Value::Null]))
        );
        assert_eq!(e.get_str("msg"), Some(""));
        let names: Vec<_> = e.fields().iter().map(|(n, _)| n).collect();
        assert_eq!(names[..2], ["_path", "ts"]);
    }

    #[test]
    fn blank_lines_are_not_records() {
        let got = read(&format!(
            "{HEADER}#fields\tts\tuid\n#types\ttime\tstring\n \t \n1692146068.1\tCx\n\n"
        ));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].as_ref().unwrap().get_str("uid"), Some("Cx"));
    }

    #[test]
    fn escapes_are_undone_in_values_sets_and_headers() {
        let e = one(&format!(
            "{HEADER}#fields\tsub\tnames\tdash\tempty\n#types\tstring\tset[string]\tstring\tset[string]\n\
             O=VMware\\\\, Inc\\x09x\tone\\x2ctwo,caf\\xc3\\xa9\t\\x2d\t(empty)\n"
        ));
        assert_eq!(e.get_str("sub"), Some("O=VMware\\, Inc\tx"));
        assert_eq!(
            e.get("names"),
            Some(&Value::List(vec![
                Value::from("one,two"),
                Value::from("café")
            ]))
        );
        assert_eq!(e.get_str("dash"), Some("-"), "an escaped dash is a dash");
        assert_eq!(e.get("empty"), Some(&Value::List(vec![])));
        assert_eq!(unescape("\\xff\\x4"), "\u{fffd}\\x4");
        assert_eq!(unescape("a\\b"), "a\\b");
    }

    #[test]
    fn a_new_header_block_replaces_the_old_one() {
        let got = read(&format!(
            "{HEADER}#fields\tts\ta\n#types\ttime\tcount\n1.5\t1\n#close\tx\n\
             #separator \\x7c\n#path|dns\n#fields|ts|query|qtype\n#types|time|string|count\n2.0|example.org|1\n"
        ));
        let e: Vec<_> = got.iter().map(|r| r.as_ref().unwrap()).collect();
        assert_eq!(e[0].get("a"), Some(&Value::Int(1)));
        assert_eq!(e[1].get_str("_path"), Some("dns"));
        assert_eq!(e[1].get_str("query"), Some("example.org"));
        assert_eq!(e[1].get("qtype"), Some(&Value::Int(1)));
        assert!(e[1].get("a").is_none());
        assert_eq!(e[1].origin.location.record, Some(2));
        assert_eq!(e[1].origin.location.line, Some(15));
    }

    #[test]
    fn bad_lines_are_errors_naming_line_and_column_and_reading_goes_on() {
        let got = read(&format!(
            "1.0\tearly\n{HEADER}#fields\tts\tn\tok\n#types\ttime\tcount\tbool\n\
             1.0\t2\n1.0\tx\tT\n1.0\t3\tmaybe\nnot-a-time\t3\tT\n1.0\t4\tF\n\x01\x02\x7f\n"
        ));
        let errors: Vec<_> = got
            .iter()
            .filter_map(|r| r.as_ref().err().map(ToString::to_string))
            .collect();
        assert_eq!(
            errors,
            [
                "conn.log: record 1, line 1, offset 0x00000000: not a valid zeek record: a data line before any #fields header",
                "conn.log: record 2, line 10, offset 0x0000009b: not a valid zeek record: 2 values for the 3 #fields columns",
                "conn.log: record 3, line 11, offset 0x000000a1: not a valid zeek record: column n: `x` is not a whole number",
                "conn.log: record 4, line 12, offset 0x000000a9: not a valid zeek record: column ok: `maybe` is not a T or F",
                "conn.log: record 5, line 13, offset 0x000000b5: not a valid zeek record: column ts: `not-a-time` is not a time",
                "conn.log: record 7, line 15, offset 0x000000cc: not a valid zeek record: 1 values for the 3 #fields columns",
            ]
        );
        assert_eq!(got.len(), 7);
        assert_eq!(got[5].as_ref().unwrap().get("n"), Some(&Value::Int(4)));
    }

    #[test]
    fn untyped_fields_are_text_and_mismatched_types_are_errors() {
        let e = one("#fields\tts\tx\n1.5\t7\n");
        assert_eq!(e.get_str("x"), Some("7"));
        assert!(e.timestamp.is_none(), "without #types, ts is text");
        let got = read("#fields\ta\tb\n#types\tcount\n1\t2\n");
        assert!(
            got[0]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("#types header has 1 entries")
        );
    }

    #[test]
    fn repeated_field_names_gather_their_values() {
        let e = one("#path\tx\n#fields\ta\ta\t_path\n1\t2\ty\n");
        assert_eq!(
            e.get("a"),
            Some(&Value::List(vec![Value::from("1"), Value::from("2")]))
        );
        assert_eq!(
            e.get("_path"),
            Some(&Value::List(vec![Value::from("x"), Value::from("y")]))
        );
    }

    #[test]
    fn exact_epochs() {
        let t = |s: &str| epoch_exact(s).map(|t| t.to_string());
        assert_eq!(
            t("1521911720.865716").as_deref(),
            Some("2018-03-24T17:15:20.865716Z")
        );
        assert_eq!(t("0").as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            t("1.1234567891").as_deref(),
            Some("1970-01-01T00:00:01.123456789Z")
        );
        assert_eq!(t("-1.5").as_deref(), Some("1969-12-31T23:59:58.5Z"));
        assert!(t("1e9").is_none() && t(".5").is_none() && t("99999999999999999999").is_none());
    }

    #[test]
    fn sniffing_wants_the_zeek_header() {
        assert_eq!(ZeekReader.sniff(HEADER.as_bytes()), 95);
        assert_eq!(
            ZeekReader.sniff(b"#fields\tts\tuid\n#types\ttime\tstring\n1\tC\n"),
            90
        );
        assert_eq!(ZeekReader.sniff(b"#fields\tts\tuid\n1\tC\n"), 0);
        assert_eq!(
            ZeekReader.sniff(b"#Software: Microsoft IIS\n#Fields: date time\n"),
            0
        );
        assert_eq!(ZeekReader.sniff(b"ts,uid\n1,C\n"), 0);
    }

    #[test]
    fn junk_never_panics() {
        for junk in [
            &b"#separator \\x\n\x00\x00"[..],
            b"#separator \n#fields\n\n",
            b"#fields\t\n\t\n",
            b"#separator \\xZZ\n#fields\\xZZa\n",
            b"#fields\ta\n#types\tvector[\n\\x\n",
        ] {
            let _ = read_all(
                &ZeekReader,
                Input::from_slice("j.log", junk),
                &ReadOptions::default(),
            )
            .unwrap();
            let _ = ZeekReader.sniff(junk);
        }
    }
}
