//! ArcSight Common Event Format (CEF) and IBM QRadar's Log Event Extended Format (LEEF 1.0
//! and 2.0), alone on a line or after a syslog header.
//!
//! CEF: `CEF:Version|Device Vendor|Device Product|Device Version|Device Event Class ID|Name|Severity|Extension`,
//! where `|` and `\` are escaped with `\` in the header, and the extension is `key=value`
//! pairs separated by spaces, values holding spaces and escaping `=`, `\`, and line breaks
//! (`\n`, `\r`). LEEF: `LEEF:1.0|Vendor|Product|Version|EventID|` then `key=value` pairs
//! separated by tabs; LEEF 2.0 adds a delimiter field (`^`, or `x5E` in hex) before them.
//!
//! Header fields take the CEF dictionary's full names (`deviceVendor`, `deviceProduct`,
//! `deviceVersion`, `deviceEventClassId`, `name`, `severity`, `cefVersion`); extension keys
//! keep their own names (`src`, `dpt`, `suser`). A custom label (`cs1Label=User Group`)
//! also names its value: `cs1=Admins` gives `cs1` and `User Group`.

use jiff::tz::TimeZone;
use vigil_event::time::{from_epoch_int, parse_timestamp};
use vigil_event::{Event, Fields, Origin, Text, Timestamp, Value};

use super::syslog::YearGuess;
use super::text::{envelope, header_into, host_from_header, int_or_text, read_lines, score_lines};
use crate::error::{RecordError, Result};
use crate::input::Input;
use crate::reader::{Emit, ReadOptions, Reader};

/// The parts of a CEF or LEEF line.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Flavour {
    Cef,
    Leef1,
    Leef2,
}

/// Where `CEF:` or `LEEF:` starts in `line`: at its start or after a syslog header.
pub(crate) fn find_start(line: &str) -> Option<(usize, Flavour)> {
    for (marker, flavour) in [
        (" CEF:", Flavour::Cef),
        (" LEEF:2", Flavour::Leef2),
        (" LEEF:1", Flavour::Leef1),
    ] {
        if line.starts_with(&marker[1..]) {
            return Some((0, flavour));
        }
        // After a header: `<134>Mar  1 12:00:00 host CEF:0|...`; the marker follows a space.
        if let Some(i) = line.find(marker) {
            return Some((i + 1, flavour));
        }
    }
    None
}

/// Splits the `|`-separated header into `count` fields and the rest, undoing `\|` and
/// `\\`. `None` when the line has fewer fields.
fn split_header(text: &str, count: usize) -> Option<(Vec<String>, &str)> {
    let mut fields = Vec::with_capacity(count);
    let mut current = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.clone().next() {
                Some((_, next @ ('|' | '\\'))) => {
                    current.push(next);
                    chars.next();
                }
                _ => current.push('\\'),
            },
            '|' => {
                fields.push(std::mem::take(&mut current));
                if fields.len() == count {
                    return Some((fields, &text[i + 1..]));
                }
            }
            c => current.push(c),
        }
    }
    None
}

const CEF_HEADER: [&str; 7] = [
    "cefVersion",
    "deviceVendor",
    "deviceProduct",
    "deviceVersion",
    "deviceEventClassId",
    "name",
    "severity",
];

const LEEF_HEADER: [&str; 5] = [
    "leefVersion",
    "deviceVendor",
    "deviceProduct",
    "deviceVersion",
    "deviceEventClassId",
];

/// Parses the CEF or LEEF text that starts at `text` into `fields`. The error says what
/// is wrong.
pub(crate) fn parse(
    text: &str,
    flavour: Flavour,
    fields: &mut Fields,
) -> std::result::Result<(), &'static str> {
    match flavour {
        Flavour::Cef => {
            let body = text.strip_prefix("CEF:").ok_or("no CEF: marker")?;
            let (header, extension) = split_header(body, CEF_HEADER.len())
                .ok_or("the CEF header has fewer than 8 fields")?;
            for (name, value) in CEF_HEADER.iter().zip(header) {
                fields.insert(*name, Value::from(value));
            }
            cef_extension(extension, fields);
        }
        Flavour::Leef1 | Flavour::Leef2 => {
            let body = text.strip_prefix("LEEF:").ok_or("no LEEF: marker")?;
            let count = if flavour == Flavour::Leef2 {
                LEEF_HEADER.len() + 1
            } else {
                LEEF_HEADER.len()
            };
            let (header, attributes) = split_header(body, count)
                .ok_or("the LEEF header has fewer fields than its version needs")?;
            let mut delimiter = '\t';
            for (i, value) in header.into_iter().enumerate() {
                match LEEF_HEADER.get(i) {
                    Some(name) => {
                        fields.insert(*name, Value::from(value));
                    }
                    None => {
                        delimiter = leef_delimiter(&value)
                            .ok_or("the LEEF 2.0 delimiter is not a character")?
                    }
                }
            }
            leef_attributes(attributes, delimiter, fields);
        }
    }
    Ok(())
}

/// LEEF 2.0 delimiters are a character (`^`) or its code in hex (`x5E`, `0x5E`); empty
/// means the default tab.
fn leef_delimiter(text: &str) -> Option<char> {
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("x"))
        .or_else(|| text.strip_prefix("X"));
    match hex {
        Some(hex) if !hex.is_empty() => u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
        _ => {
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (None, _) => Some('\t'),
                (Some(c), None) => Some(c),
                _ => None,
            }
        }
    }
}

/// Whether `key` can be a CEF extension key: letters, digits, `_`, `.`, `-`, `[`, `]`.
fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'[' | b']'))
}

/// Splits a CEF extension into `key=value` pairs. A value runs until the space before the
/// next `key=`; `\=` inside it is not a separator.
fn cef_extension(text: &str, fields: &mut Fields) {
    let bytes = text.as_bytes();
    // Offsets of every unescaped `=`, each with where the word before it starts (found in
    // the same pass: searching back from each `=` is quadratic on long values).
    let mut equals = Vec::new();
    let mut word_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                if bytes.get(i + 1) == Some(&b' ') {
                    word_start = i + 2;
                }
                i += 2;
            }
            b'=' => {
                equals.push((word_start, i));
                i += 1;
            }
            b' ' => {
                word_start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    // Each `=` whose preceding word is a key starts a pair.
    let mut pairs: Vec<(usize, usize)> = Vec::new(); // (key start, equals)
    for &(key_start, eq) in &equals {
        let key_start = key_start.max(pairs.last().map_or(0, |&(_, e)| e + 1));
        if is_key(&text[key_start..eq]) {
            pairs.push((key_start, eq));
        }
    }
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut values: Vec<(String, String)> = Vec::new();
    for (n, &(key_start, eq)) in pairs.iter().enumerate() {
        let end = pairs.get(n + 1).map_or(text.len(), |&(next, _)| next);
        let key = &text[key_start..eq];
        let raw = text[eq + 1..end].trim_end_matches(' ');
        let value = unescape_cef_value(raw);
        if key.ends_with("Label") {
            labels.push((key.trim_end_matches("Label").to_string(), value.clone()));
        }
        values.push((key.to_string(), value));
    }
    for (key, value) in &values {
        let value = if CEF_INTEGER_KEYS.contains(&key.as_str()) {
            int_or_text(value)
        } else {
            Value::from(value.as_str())
        };
        fields.insert(key.as_str(), value);
    }
    // `cs1Label=User Group cs1=Admins`: the label names the value too.
    for (base, label) in labels {
        if label.is_empty() || label == base {
            continue;
        }
        if let Some((_, value)) = values.iter().find(|(k, _)| *k == base)
            && fields.get(&label).is_none()
        {
            fields.insert(label.as_str(), Value::from(value.as_str()));
        }
    }
}

/// The extension keys the CEF dictionary types as Integer (ports, counts, sizes, ids).
const CEF_INTEGER_KEYS: &[&str] = &[
    "cnt",
    "spt",
    "dpt",
    "in",
    "out",
    "fsize",
    "oldFileSize",
    "cn1",
    "cn2",
    "cn3",
    "dvcpid",
    "spid",
    "dpid",
    "type",
    "sourceTranslatedPort",
    "destinationTranslatedPort",
];

/// The LEEF predefined attributes typed as integers.
const LEEF_INTEGER_KEYS: &[&str] = &[
    "sev",
    "srcPort",
    "dstPort",
    "srcPostNATPort",
    "dstPostNATPort",
    "srcPreNATPort",
    "dstPreNATPort",
    "srcBytes",
    "dstBytes",
    "totalBytes",
    "srcPackets",
    "dstPackets",
    "totalPackets",
];

fn unescape_cef_value(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other @ ('=' | '\\')) => out.push(other),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// LEEF attributes: `key=value` separated by `delimiter`.
fn leef_attributes(text: &str, delimiter: char, fields: &mut Fields) {
    for pair in text.split(delimiter) {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if is_key(key) {
            let value = if LEEF_INTEGER_KEYS.contains(&key) {
                int_or_text(value)
            } else {
                Value::from(value)
            };
            fields.insert(key, value);
        }
    }
}

/// Reads CEF lines.
pub(crate) struct CefReader;

/// Reads LEEF lines.
pub(crate) struct LeefReader;

impl Reader for CefReader {
    fn name(&self) -> &'static str {
        "cef"
    }

    fn description(&self) -> &'static str {
        "ArcSight Common Event Format, alone or after a syslog header, with extension escapes and custom labels"
    }

    fn example(&self) -> &'static str {
        "CEF:0|Vendor|Product|1.0|100|Port scan|7|src=10.0.0.1 dst=10.0.0.2 dpt=22 act=blocked"
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        score_lines(head, 85, |l| {
            find_start(l).is_some_and(|(_, f)| f == Flavour::Cef)
        })
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        read_flavour(input, options, emit, "cef")
    }
}

impl Reader for LeefReader {
    fn name(&self) -> &'static str {
        "leef"
    }

    fn description(&self) -> &'static str {
        "IBM QRadar Log Event Extended Format 1.0 and 2.0 (custom delimiters), alone or after a syslog header"
    }

    fn example(&self) -> &'static str {
        "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5"
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        score_lines(head, 85, |l| {
            find_start(l).is_some_and(|(_, f)| f != Flavour::Cef)
        })
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        read_flavour(input, options, emit, "leef")
    }
}

fn read_flavour(
    input: Input<'_>,
    options: &ReadOptions,
    emit: &mut Emit<'_>,
    format: &'static str,
) -> Result<()> {
    let path = input.name().clone();
    let mut years = YearGuess::new(options.year, input.modified());
    let tz = &options.timezone;
    read_lines(input, options, emit, |line, location| {
        let error = |reason: &str| RecordError::format(&path, location, format, reason.to_string());
        let (start, flavour) = find_start(line).ok_or_else(|| error("no CEF: or LEEF: marker"))?;
        let envelope =
            envelope(line, start, tz).map_err(|e| error(&format!("before the marker: {e}")))?;
        let mut fields = Fields::with_capacity(32);
        let mut timestamp = None;
        if let Some(header) = &envelope.header {
            timestamp = header_into(header, &mut fields, &mut years, tz).map_err(error)?;
        }
        parse(envelope.payload, flavour, &mut fields).map_err(error)?;
        let mut event = Event::with_fields(Origin::new(path.clone(), location), format, fields);
        event.variant = Some(match flavour {
            Flavour::Cef => "cef",
            Flavour::Leef1 => "leef1",
            Flavour::Leef2 => "leef2",
        });
        // The device's own time has a year and often milliseconds; the header's is the relay's.
        event.timestamp = device_time(&event, tz, &mut years).or(timestamp);
        host_from_header(&mut event, envelope.header.as_ref());
        if event.host.is_none() {
            event.host = ["dvchost", "dvc", "deviceHostName", "identHostName"]
                .iter()
                .find_map(|name| event.get_str(name))
                .map(Text::from);
        }
        Ok(event)
    })
}

/// The time the device states: CEF `rt`, `end`, `start` (epoch milliseconds or
/// `MMM dd yyyy HH:mm:ss`), LEEF `devTime`.
fn device_time(event: &Event, tz: &TimeZone, years: &mut YearGuess) -> Option<Timestamp> {
    // LEEF names its own layout for `devTime` (Java date-format letters).
    if let (Some(text), Some(layout)) = (event.get_str("devTime"), event.get_str("devTimeFormat"))
        && let Some(t) = java_layout(layout).and_then(|f| parse_with_layout(text, &f, tz))
    {
        return Some(t);
    }
    ["rt", "end", "start", "devTime"]
        .iter()
        .filter_map(|name| event.get_str(name))
        .find_map(|text| parse_device_time(text, tz, years))
}

fn parse_device_time(text: &str, tz: &TimeZone, years: &mut YearGuess) -> Option<Timestamp> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i64>()
            .ok()
            .and_then(|n| from_epoch_int(n).ok());
    }
    if let Ok(t) = parse_timestamp(text, tz) {
        return Some(t);
    }
    // `Feb 14 2024 19:04:54`, with optional milliseconds and a zone (`zzz`), which wins over
    // the configured one when it is one we can read.
    let mut words: Vec<&str> = text.split_whitespace().collect();
    // `Feb 14 19:04:54`: CEF lets the year out; it is guessed as for syslog stamps.
    let year;
    if words.len() >= 3 && words[2].contains(':') {
        let month = jiff::civil::Date::strptime("%b %d %Y", format!("{} 1 2000", words[0]))
            .ok()?
            .month();
        year = years.year_for(month).to_string();
        words.insert(2, &year);
    }
    let zone = match words.get(4) {
        Some(name) => stated_zone(name).unwrap_or_else(|| tz.clone()),
        None => tz.clone(),
    };
    words.truncate(4);
    let joined = words.join(" ");
    for format in ["%b %d %Y %H:%M:%S%.f", "%b %d %Y %H:%M:%S"] {
        if let Ok(dt) = jiff::civil::DateTime::strptime(format, &joined)
            && let Ok(zoned) = dt.to_zoned(zone.clone())
        {
            return Some(zoned.timestamp());
        }
    }
    None
}

/// A Java date-format layout (`MMM dd yyyy HH:mm:ss.SSS z`, what LEEF's `devTimeFormat`
/// holds) as a `strptime` format; `None` for letters it cannot express.
fn java_layout(layout: &str) -> Option<String> {
    let mut out = String::new();
    let chars: Vec<char> = layout.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|&&d| d == c).count();
        i += run;
        match (c, run) {
            ('y', 2) => out.push_str("%y"),
            ('y', _) => out.push_str("%Y"),
            ('M', 1 | 2) => out.push_str("%m"),
            ('M', 3) => out.push_str("%b"),
            ('M', _) => out.push_str("%B"),
            ('d', 1 | 2) => out.push_str("%d"),
            ('H', 1 | 2) => out.push_str("%H"),
            ('h', 1 | 2) => out.push_str("%I"),
            ('m', 1 | 2) => out.push_str("%M"),
            ('s', 1 | 2) => out.push_str("%S"),
            ('S', _) => out.push_str("%f"),
            ('a', _) => out.push_str("%p"),
            ('E', 1..=3) => out.push_str("%a"),
            ('E', _) => out.push_str("%A"),
            ('Z', _) => out.push_str("%z"),
            ('X', _) => out.push_str("%:z"),
            // `z` (an abbreviation such as `UTC`) is read by `parse_with_layout`.
            ('z', _) => out.push_str("%Q"),
            ('\'', _) => {
                // `''` is a quote; otherwise quoted text runs to the next lone quote, in
                // which `''` is a quote too.
                i -= run;
                i += 1;
                if chars.get(i) == Some(&'\'') {
                    out.push('\'');
                    i += 1;
                    continue;
                }
                loop {
                    match (chars.get(i), chars.get(i + 1)) {
                        (None, _) => return None,
                        (Some('\''), Some('\'')) => {
                            out.push('\'');
                            i += 2;
                        }
                        (Some('\''), _) => {
                            i += 1;
                            break;
                        }
                        (Some('%'), _) => {
                            out.push_str("%%");
                            i += 1;
                        }
                        (Some(&d), _) => {
                            out.push(d);
                            i += 1;
                        }
                    }
                }
            }
            (c, _) if c.is_ascii_alphabetic() => return None,
            ('%', _) => out.push_str(&"%%".repeat(run)),
            (c, _) => out.extend(std::iter::repeat_n(c, run)),
        }
    }
    Some(out)
}

/// `text` read with a `strptime` layout; without an offset in it, in `tz`.
fn parse_with_layout(text: &str, layout: &str, tz: &TimeZone) -> Option<Timestamp> {
    // `%Q` stands for a zone abbreviation: only the ones we can read are kept.
    let (layout, zone) = match layout.strip_suffix(" %Q") {
        Some(rest) => {
            let (time, name) = text.trim().rsplit_once(' ')?;
            return parse_with_layout(time, rest, &stated_zone(name)?);
        }
        None => (layout, tz),
    };
    let parsed = jiff::fmt::strtime::parse(layout, text.trim()).ok()?;
    if parsed.offset().is_some() {
        return parsed.to_timestamp().ok();
    }
    parsed
        .to_datetime()
        .ok()?
        .to_zoned(zone.clone())
        .ok()
        .map(|z| z.timestamp())
}

/// The zone a device time names: `UTC`, `GMT`, an offset (`+0200`, `-05:00`) or an IANA
/// name; `None` for an abbreviation that is none of these (`PST`).
fn stated_zone(name: &str) -> Option<TimeZone> {
    if matches!(name, "UTC" | "GMT" | "Z") {
        return Some(TimeZone::UTC);
    }
    if name.starts_with(['+', '-']) {
        let offset = jiff::fmt::strtime::parse("%z", name)
            .or_else(|_| jiff::fmt::strtime::parse("%:z", name))
            .ok()?
            .offset()?;
        return Some(TimeZone::fixed(offset));
    }
    TimeZone::get(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cef(line: &str) -> Vec<(String, String)> {
        let mut fields = Fields::default();
        let (start, flavour) = find_start(line).unwrap();
        parse(&line[start..], flavour, &mut fields).unwrap();
        fields
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn get<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn header_and_extension_with_spaces_and_escapes() {
        let f = cef(
            r"CEF:0|Security|threat\|manager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232 msg=Detected a threat. No action needed act=blocked a \= b\\c",
        );
        assert_eq!(get(&f, "deviceVendor"), Some("Security"));
        assert_eq!(get(&f, "deviceProduct"), Some("threat|manager"));
        assert_eq!(get(&f, "severity"), Some("10"));
        assert_eq!(get(&f, "src"), Some("10.0.0.1"));
        assert_eq!(get(&f, "spt"), Some("1232"));
        assert_eq!(get(&f, "msg"), Some("Detected a threat. No action needed"));
        assert_eq!(get(&f, "act"), Some(r"blocked a = b\c"));
    }

    #[test]
    fn a_long_extension_without_spaces_is_split_in_linear_time() {
        // Each `=` used to search back for the space before its key: quadratic here.
        let value = "a=".repeat(200_000);
        let line = format!("CEF:0|V|P|1|1|n|5|msg={value}");
        let started = std::time::Instant::now();
        let f = cef(&line);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(get(&f, "msg"), Some(""));
        assert_eq!(get(&f, "a"), Some(""));
    }

    #[test]
    fn labels_name_custom_strings_and_trailing_space_is_dropped() {
        let f = cef("CEF:0|V|P|1|1|N|5|cs1Label=User Group cs1=Domain Admins msg=x     ");
        assert_eq!(get(&f, "cs1"), Some("Domain Admins"));
        assert_eq!(get(&f, "User Group"), Some("Domain Admins"));
        assert_eq!(get(&f, "msg"), Some("x"));
    }

    #[test]
    fn after_a_syslog_header() {
        let text = "<134>Feb 14 19:04:54 fw1 CEF:0|Palo Alto Networks|PAN-OS|8.0|TRAFFIC|end|3|src=10.1.1.1\n";
        let options = ReadOptions {
            year: Some(2024),
            ..ReadOptions::default()
        };
        let got = crate::reader::read_all(
            &CefReader,
            Input::from_slice("fw.log", text.as_bytes()),
            &options,
        )
        .unwrap();
        let e = got[0].as_ref().unwrap();
        assert_eq!(e.get_str("deviceProduct"), Some("PAN-OS"));
        assert_eq!(e.get_str("host.hostname"), Some("fw1"));
        assert_eq!(e.host.as_deref(), Some("fw1"));
        assert_eq!(e.timestamp.unwrap().to_string(), "2024-02-14T19:04:54Z");
    }

    #[test]
    fn device_times() {
        let tz = TimeZone::UTC;
        assert_eq!(
            parse_device_time("1557513467369", &tz, &mut YearGuess::new(Some(2024), None))
                .unwrap()
                .to_string(),
            "2019-05-10T18:37:47.369Z"
        );
        assert_eq!(
            parse_device_time(
                "Feb 14 2024 19:04:54 UTC",
                &tz,
                &mut YearGuess::new(Some(2024), None)
            )
            .unwrap()
            .to_string(),
            "2024-02-14T19:04:54Z"
        );
        assert_eq!(
            parse_device_time(
                "Feb 14 2024 19:04:54.250",
                &tz,
                &mut YearGuess::new(Some(2024), None)
            )
            .unwrap()
            .to_string(),
            "2024-02-14T19:04:54.25Z"
        );
        // Without a year (the CEF guide allows it): the year is guessed as for syslog.
        assert_eq!(
            parse_device_time(
                "Feb 14 19:04:54.250 UTC",
                &tz,
                &mut YearGuess::new(Some(2024), None)
            )
            .unwrap()
            .to_string(),
            "2024-02-14T19:04:54.25Z"
        );
        assert_eq!(
            parse_device_time(
                "Dec 31 23:59:59",
                &tz,
                &mut YearGuess::new(Some(2023), None)
            )
            .unwrap()
            .to_string(),
            "2023-12-31T23:59:59Z"
        );
        assert!(parse_device_time("soon", &tz, &mut YearGuess::new(Some(2024), None)).is_none());
    }

    #[test]
    fn leef_device_times_follow_their_declared_layout() {
        for (layout, text, want) in [
            (
                "MMM dd yyyy HH:mm:ss",
                "Mar 12 2024 10:21:00",
                "2024-03-12T10:21:00Z",
            ),
            (
                "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
                "2024-03-12T10:21:00.250+0200",
                "2024-03-12T08:21:00.25Z",
            ),
            (
                "dd/MM/yyyy hh:mm:ss a",
                "12/03/2024 01:05:09 PM",
                "2024-03-12T13:05:09Z",
            ),
            (
                "MMM dd yyyy HH:mm:ss z",
                "Mar 12 2024 10:21:00 GMT",
                "2024-03-12T10:21:00Z",
            ),
        ] {
            let format = java_layout(layout).unwrap();
            let got = parse_with_layout(text, &format, &TimeZone::UTC).map(|t| t.to_string());
            assert_eq!(got.as_deref(), Some(want), "{layout} ({format}): {text}");
        }
        assert_eq!(java_layout("yyyy-MM-dd G"), None, "an era cannot be read");
        assert_eq!(java_layout("HH 'o''clock'"), Some("%H o'clock".to_string()));
    }

    #[test]
    fn device_times_keep_the_zone_they_name() {
        let tz = TimeZone::fixed(jiff::tz::offset(1));
        for (text, expected) in [
            ("Feb 14 2024 19:04:54 UTC", "2024-02-14T19:04:54Z"),
            ("Feb 14 2024 19:04:54.250 GMT", "2024-02-14T19:04:54.25Z"),
            ("Feb 14 2024 19:04:54 +0200", "2024-02-14T17:04:54Z"),
            ("Feb 14 2024 19:04:54 -05:00", "2024-02-15T00:04:54Z"),
            ("Feb 14 2024 19:04:54", "2024-02-14T18:04:54Z"),
        ] {
            let got = parse_device_time(text, &tz, &mut YearGuess::new(Some(2024), None))
                .map(|t| t.to_string());
            assert_eq!(got.as_deref(), Some(expected), "{text}");
        }
    }

    #[test]
    fn bad_lines_are_errors_with_their_place() {
        let text = "CEF:0|a|b\n<1>garbage CEF:0|V|P|1|1|N|5|a=b\nCEF:0|V|P|1|1|N|5|a=b\n";
        let got = crate::reader::read_all(
            &CefReader,
            Input::from_slice("x.cef", text.as_bytes()),
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0].as_ref().unwrap_err().to_string(),
            "x.cef: record 1, line 1, offset 0x00000000: not a valid cef record: the CEF header has fewer than 8 fields"
        );
        assert!(
            got[1].as_ref().unwrap_err().to_string().contains("line 2"),
            "{:?}",
            got[1]
        );
        assert!(got[2].is_ok());
    }

    #[test]
    fn leef_one_and_two() {
        let f = cef(
            "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\tsev=5\tusrName=joe.black",
        );
        assert_eq!(get(&f, "deviceEventClassId"), Some("15345"));
        assert_eq!(get(&f, "usrName"), Some("joe.black"));
        let f = cef("LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5");
        assert_eq!(get(&f, "dst"), Some("10.0.0.5"));
        let f = cef("LEEF:2.0|Vendor|Product|1.0|41|x5E|a=1^b=2");
        assert_eq!(get(&f, "b"), Some("2"));
    }

    #[test]
    fn short_headers_are_errors() {
        let mut fields = Fields::default();
        assert!(parse("CEF:0|a|b", Flavour::Cef, &mut fields).is_err());
        assert!(parse("LEEF:2.0|a|b|c|d|xZZ|k=v", Flavour::Leef2, &mut fields).is_err());
    }
}
