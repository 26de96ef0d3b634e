//! `key=value` logs, as Fortinet FortiGate and many appliances write them:
//! `date=2019-05-10 time=11:37:47 devname="FG100" srcip=10.1.100.11 action="close"`, alone, after
//! a bare `<PRI>`, or after a syslog header. Values are bare words or double-quoted with `\"`
//! and `\\` escapes. An unterminated quote makes the line an error naming the key.

use jiff::tz::TimeZone;
use vigil_event::time::{from_epoch_int, parse_timestamp};
use vigil_event::{Event, Fields, Origin, Text, Timestamp, Value};

use super::syslog::YearGuess;
use super::text::{
    envelope, header_into, host_from_header, int_or_text, preview, read_lines, score_lines,
};
use crate::error::{RecordError, Result};
use crate::input::Input;
use crate::reader::{Emit, ReadOptions, Reader};

/// Reads `key=value` lines.
pub(crate) struct KvReader;

impl Reader for KvReader {
    fn name(&self) -> &'static str {
        "kv"
    }

    fn description(&self) -> &'static str {
        "key=value logs (FortiGate and similar appliances), quoted values, alone or after a syslog header"
    }

    fn example(&self) -> &'static str {
        r#"date=2019-05-10 time=11:37:47 devname="FG100" type="traffic" srcip=10.1.100.11 dstport=80 action="close""#
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        score_lines(head, 65, |line| {
            let start = pairs_start(line);
            let mut fields = Fields::default();
            only_a_header_before(line, start)
                && parse_pairs(&line[start..], &mut fields).is_ok()
                && fields.len() >= 4
        })
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        let path = input.name().clone();
        let mut years = YearGuess::new(options.year, input.modified());
        let tz = &options.timezone;
        read_lines(input, options, emit, |line, location| {
            let error = |reason: String| RecordError::format(&path, location, "kv", reason);
            let start = pairs_start(line);
            let mut fields = Fields::with_capacity(48);
            let mut timestamp = None;
            let mut header = None;
            if start > 0 {
                let prefix = line[..start].trim_end();
                // FortiGate over syslog writes only `<PRI>` before its pairs.
                if let Some(pri) = bare_priority(prefix) {
                    fields.insert("log.syslog.priority", Value::Int(i64::from(pri)));
                } else {
                    let env = envelope(line, start, tz)
                        .map_err(|e| error(format!("before the pairs: {e}")))?;
                    if let Some(h) = env.header {
                        timestamp = header_into(&h, &mut fields, &mut years, tz)
                            .map_err(|e| error(e.to_string()))?;
                        header = Some(h);
                    }
                }
            }
            parse_pairs(&line[start..], &mut fields).map_err(error)?;
            if fields.is_empty() {
                return Err(error("no key=value pairs".into()));
            }
            let mut event = Event::with_fields(Origin::new(path.clone(), location), "kv", fields);
            event.variant = Some(
                if event.get("devid").is_some() || event.get("logid").is_some() {
                    "fortinet"
                } else {
                    "generic"
                },
            );
            event.timestamp = device_time(&event, tz).or(timestamp);
            host_from_header(&mut event, header.as_ref());
            if event.host.is_none() {
                event.host = ["devname", "hostname", "host", "device"]
                    .iter()
                    .find_map(|name| event.get_str(name))
                    .map(Text::from);
            }
            Ok(event)
        })
    }
}

/// Whether what comes before the pairs is nothing, a bare `<PRI>`, or a syslog header whose
/// message is the pairs: a syslog message with a few `k=v` in its text is not a `kv` line.
fn only_a_header_before(line: &str, start: usize) -> bool {
    let prefix = line[..start].trim_end();
    prefix.is_empty()
        || bare_priority(prefix).is_some()
        || super::syslog::header::parse(line, &TimeZone::UTC).is_ok_and(|h| {
            h.app.is_none() && std::ptr::eq(h.message.as_ptr(), line[start..].as_ptr())
        })
}

/// `<189>` alone: the priority FortiGate puts before its pairs.
fn bare_priority(prefix: &str) -> Option<u8> {
    let digits = prefix.strip_prefix('<')?.strip_suffix('>')?;
    digits.parse().ok().filter(|p| *p <= 191)
}

/// Where the pairs start: at the first word shaped `key=`, after any header.
fn pairs_start(line: &str) -> usize {
    let mut at = 0;
    for word in line.split(' ') {
        if let Some((key, _)) = word.split_once('=') {
            // `<189>date=...`: the pairs start after the priority.
            let name = key.trim_start_matches(|c| c == '<' || char::is_ascii_digit(&c) || c == '>');
            if is_key(name) {
                return at + key.len() - name.len();
            }
        }
        at += word.len() + 1;
    }
    line.len()
}

fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b':'))
}

/// Parses `key=value key="quoted value"` into `fields`; the error names what is wrong.
pub(crate) fn parse_pairs(text: &str, fields: &mut Fields) -> std::result::Result<(), String> {
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else {
            return Err(format!("text without a key: {}", preview(rest)));
        };
        let key = &rest[..eq];
        if !is_key(key) {
            return Err(format!("not a key: {}", preview(key)));
        }
        let after = &rest[eq + 1..];
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            let (value, end) =
                unquote(quoted).ok_or_else(|| format!("the quoted value of {key} never ends"))?;
            (value, &quoted[end..])
        } else {
            let end = after.find([' ', '\t']).unwrap_or(after.len());
            // Appliances quote text and write numbers bare: a bare number is an integer.
            fields.append(key, int_or_text(&after[..end]));
            rest = after[end..].trim_start();
            continue;
        };
        fields.append(key, Value::from(value));
        rest = remainder.trim_start();
    }
    Ok(())
}

/// The value of a quoted string without its escapes, and where its closing quote ends.
fn unquote(text: &str) -> Option<(String, usize)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, next @ ('"' | '\\'))) => value.push(next),
                Some((_, next)) => {
                    value.push('\\');
                    value.push(next);
                }
                None => value.push('\\'),
            },
            '"' => return Some((value, i + 1)),
            c => value.push(c),
        }
    }
    None
}

/// FortiGate's `eventtime` (epoch, seconds to nanoseconds), else `date` and `time` in the
/// zone its `tz` field names (`"-0700"`) or the configured one.
fn device_time(event: &Event, tz: &TimeZone) -> Option<Timestamp> {
    if let Some(epoch) = event.get("eventtime").and_then(Value::as_i64)
        && let Ok(t) = from_epoch_int(epoch)
    {
        return Some(t);
    }
    let date = event.get_str("date")?;
    let time = event.get_str("time")?;
    let text = format!("{date}T{time}");
    if let Some(offset) = event.get_str("tz")
        && let Ok(t) = parse_timestamp(&format!("{text}{offset}"), tz)
    {
        return Some(t);
    }
    parse_timestamp(&text, tz).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<crate::reader::RecordResult> {
        crate::reader::read_text(&KvReader, "fw.log", text, TimeZone::UTC)
    }

    #[test]
    fn quoted_and_bare_values_with_escapes() {
        let mut fields = Fields::default();
        parse_pairs(
            r#"a=1 b="two words" c="say \"hi\"" d=x\y e="""#,
            &mut fields,
        )
        .unwrap();
        let got: Vec<_> = fields
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("a", "1"),
                ("b", "two words"),
                ("c", "say \"hi\""),
                ("d", "x\\y"),
                ("e", "")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn fortigate_lines_with_and_without_headers() {
        let got = read(concat!(
            "date=2019-05-10 time=11:37:47 logid=\"0000000013\" devname=\"FG100\" eventtime=1557513467369913239 srcip=10.1.100.11\n",
            "<189>date=2019-05-10 time=11:37:48 devname=\"FG100\" devid=\"FG1\" tz=\"-0700\" action=\"deny\"\n",
            "<134>May 10 11:37:49 fw1 date=2019-05-10 time=11:37:49 devid=FG1 srcip=1.2.3.4 dstip=5.6.7.8\n",
        ));
        let e: Vec<_> = got.iter().map(|r| r.as_ref().unwrap()).collect();
        assert_eq!(e[0].variant, Some("fortinet"));
        assert_eq!(e[0].host.as_deref(), Some("FG100"));
        assert_eq!(
            e[0].timestamp.unwrap().to_string(),
            "2019-05-10T18:37:47.369913239Z"
        );
        assert_eq!(e[1].timestamp.unwrap().to_string(), "2019-05-10T18:37:48Z");
        assert_eq!(e[1].get("log.syslog.priority"), Some(&Value::Int(189)));
        assert_eq!(e[2].get_str("host.hostname"), Some("fw1"));
        assert_eq!(e[2].get_str("dstip"), Some("5.6.7.8"));
    }

    #[test]
    fn a_first_key_starting_with_an_underscore_keeps_it() {
        let got = read("_time=1 b=2\n<189>_id=7 b=2\n");
        let e: Vec<_> = got.iter().map(|r| r.as_ref().unwrap()).collect();
        assert_eq!(e[0].get("_time"), Some(&Value::Int(1)));
        assert_eq!(e[1].get("_id"), Some(&Value::Int(7)));
        assert_eq!(e[1].get("log.syslog.priority"), Some(&Value::Int(189)));
    }

    #[test]
    fn an_unterminated_quote_is_an_error_naming_the_key() {
        let got = read("a=1 msg=\"no end\nb=2 c=3\n");
        assert_eq!(
            got[0].as_ref().unwrap_err().to_string(),
            "fw.log: record 1, line 1, offset 0x00000000: not a valid kv record: the quoted value of msg never ends"
        );
        assert!(got[1].is_ok());
    }

    #[test]
    fn sniffing_wants_many_pairs() {
        assert_eq!(KvReader.sniff(b"a=1 b=2 c=3 d=4\na=1 b=2 c=3 d=5\n"), 65);
        let pam = b"Dec 10 06:55:46 h sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4\n";
        assert_eq!(
            KvReader.sniff(pam),
            0,
            "a syslog message that holds pairs is syslog"
        );
        assert_eq!(KvReader.sniff(b"Dec 10 06:55:46 host sshd[1]: a=b\n"), 0);
        assert_eq!(KvReader.sniff(b"{\"a\":1}\n"), 0);
    }
}
