//! What the line-based formats share: the read loop (one record per non-blank line,
//! positions, length limit, I/O failure), content sniffing over the first lines, and the
//! syslog envelope many devices put before their own payload.

use jiff::tz::TimeZone;
use vigil_event::{Event, Fields, Location, Text, Timestamp, Value};

use crate::error::{RecordError, RecordErrorKind, Result};
use crate::input::Input;
use crate::lines::{Line, Lines};
use crate::reader::{Emit, ReadOptions, RecordResult};

use super::syslog::{self, YearGuess, header};

/// Reads `input` a line at a time, handing every non-blank line to `parse` with its
/// location (record number, line, byte offset); its result is emitted.
pub(crate) fn read_lines(
    input: Input<'_>,
    options: &ReadOptions,
    emit: &mut Emit<'_>,
    mut parse: impl FnMut(&str, Location) -> std::result::Result<Event, RecordError>,
) -> Result<()> {
    read_records(input, options, emit, |text, location| {
        Some(parse(text, location))
    })
}

/// Like [`read_lines`], but `parse` may say a line is not a record (`None`: a `#`
/// directive), and then it is not counted.
pub(crate) fn read_records(
    input: Input<'_>,
    options: &ReadOptions,
    emit: &mut Emit<'_>,
    mut parse: impl FnMut(&str, Location) -> Option<RecordResult>,
) -> Result<()> {
    let path = input.name().clone();
    let mut lines = Lines::new(input.into_reader(), options.max_record_len);
    let mut index = 0u64;
    while let Some(line) = lines.next_line() {
        let result = match line {
            Ok(Line::Text { text, line, offset }) => {
                if text.trim().is_empty() {
                    continue;
                }
                let location = Location {
                    record: Some(index + 1),
                    line: Some(line),
                    offset: Some(offset),
                    chunk: None,
                };
                match parse(&text, location) {
                    Some(result) => result,
                    None => continue,
                }
            }
            Ok(Line::TooLong { len, line, offset }) => Err(RecordError::new(
                &path,
                Location {
                    record: Some(index + 1),
                    ..Location::line(line, offset)
                },
                RecordErrorKind::TooLong {
                    len,
                    limit: options.max_record_len,
                },
            )),
            Err(error) => {
                let _ = emit(Err(RecordError::new(&path, lines.position(), error)));
                break;
            }
        };
        index += 1;
        if emit(result).is_break() {
            break;
        }
    }
    Ok(())
}

/// The complete, non-blank lines at the start of `head` (the last line may be cut short,
/// so it is left out when there are others), at most `max`.
pub(crate) fn sample_lines(head: &[u8], max: usize) -> Vec<String> {
    let head = &head[..head.len().min(16 * 1024)];
    if head.iter().take(512).any(|&b| b == 0) {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(head);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(max + 1)
        .map(str::to_string)
        .collect();
    if lines.len() > 1 && !head.ends_with(b"\n") {
        lines.pop();
    }
    lines.truncate(max);
    lines
}

/// A sniff score from the share of sample lines `matches` accepts: `high` when nearly all
/// do, half of it when most do, 0 otherwise.
pub(crate) fn score_lines(head: &[u8], high: u8, matches: impl Fn(&str) -> bool) -> u8 {
    let lines = sample_lines(head, 10);
    if lines.is_empty() {
        return 0;
    }
    let good = lines.iter().filter(|l| matches(l)).count();
    match good * 100 / lines.len() {
        90.. => high,
        50.. => high / 2,
        _ => 0,
    }
}

/// A device payload after an optional syslog header (`<134>Feb 14 19:04:54 fw1 CEF:0|...`).
pub(crate) struct Envelope<'a> {
    pub(crate) header: Option<header::Header<'a>>,
    pub(crate) payload: &'a str,
}

/// Splits `line` at `payload_start`: what comes before it, when there is anything, must be
/// a syslog header.
pub(crate) fn envelope<'a>(
    line: &'a str,
    payload_start: usize,
    tz: &TimeZone,
) -> std::result::Result<Envelope<'a>, &'static str> {
    let payload = &line[payload_start..];
    let prefix = line[..payload_start].trim_end();
    if prefix.is_empty() {
        return Ok(Envelope {
            header: None,
            payload,
        });
    }
    // The header's message is the payload itself; parse the header with it so the tag and
    // host are split as syslog would.
    let header = header::parse(line, tz)?;
    Ok(Envelope {
        header: Some(header),
        payload,
    })
}

/// Puts the syslog header's fields on `fields` and returns its time.
pub(crate) fn header_into(
    header: &header::Header<'_>,
    fields: &mut Fields,
    years: &mut YearGuess,
    tz: &TimeZone,
) -> std::result::Result<Option<Timestamp>, &'static str> {
    syslog::header_fields_without_message(header, fields);
    syslog::header_time(header, years, tz)
}

/// Sets an event's host from the header when it has none.
pub(crate) fn host_from_header(event: &mut Event, header: Option<&header::Header<'_>>) {
    if event.host.is_none()
        && let Some(host) = header.and_then(|h| h.hostname)
    {
        event.host = Some(Text::from(host));
    }
}

/// A value as text, or as an integer when the text is one written the canonical way (`443`,
/// `-1`; not `0443`, `+1` or a number beyond 64 bits, which stay text).
pub(crate) fn int_or_text(text: &str) -> Value {
    canonical_int(text).map_or_else(|| Value::from(text), Value::Int)
}

/// The integer `text` writes the canonical way: digits with an optional `-`, without a
/// leading zero (`0012` is an identifier, not 12), that fit 64 bits.
pub(crate) fn canonical_int(text: &str) -> Option<i64> {
    plain_digits(text.strip_prefix('-').unwrap_or(text))
        .then(|| text.parse().ok())
        .flatten()
}

/// Whether `digits` is one or more ASCII digits without a leading zero (`0` itself is).
pub(crate) fn plain_digits(digits: &str) -> bool {
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// The first 40 characters of `text`, with `...` when there is more: a bad value quoted in
/// an error without flooding it.
pub(crate) fn preview(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    if cut.len() < text.len() {
        format!("{cut}...")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_integers_are_typed() {
        assert_eq!(int_or_text("443"), Value::Int(443));
        assert_eq!(int_or_text("-1"), Value::Int(-1));
        assert_eq!(int_or_text("0"), Value::Int(0));
        for text in ["0443", "+1", "1.5", "", "-", "99999999999999999999", "12a"] {
            assert_eq!(int_or_text(text), Value::from(text), "{text}");
        }
    }

    #[test]
    fn sampling_drops_a_cut_last_line_and_binary() {
        assert_eq!(sample_lines(b"a\nb\nc", 10), ["a", "b"]);
        assert_eq!(sample_lines(b"a\nb\nc\n", 10), ["a", "b", "c"]);
        assert_eq!(sample_lines(b"only", 10), ["only"]);
        assert!(sample_lines(b"\x00\x01\x02", 10).is_empty());
        assert_eq!(score_lines(b"x=1\nx=2\nx=3\n", 80, |l| l.contains('=')), 80);
        assert_eq!(
            score_lines(b"x=1\nx=2\nnope\n", 80, |l| l.contains('=')),
            40
        );
    }

    #[test]
    fn an_envelope_is_a_syslog_header_or_nothing() {
        let line = "<134>Feb 14 19:04:54 fw1 CEF:0|a";
        let e = envelope(line, line.find("CEF:").unwrap(), &TimeZone::UTC).unwrap();
        assert_eq!(e.payload, "CEF:0|a");
        assert_eq!(e.header.unwrap().hostname, Some("fw1"));
        let e = envelope("CEF:0|a", 0, &TimeZone::UTC).unwrap();
        assert!(e.header.is_none());
        assert!(envelope("garbage CEF:0|a", 8, &TimeZone::UTC).is_err());
    }
}
