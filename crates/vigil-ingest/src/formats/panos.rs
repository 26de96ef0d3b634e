//! Palo Alto Networks PAN-OS logs as their firewalls send them over syslog: comma-separated
//! values in the order PAN-OS documents for each log type, after an optional syslog header.
//! `Nov 30 16:44:36 PA-220 1,2018/11/30 16:44:35,012801096514,TRAFFIC,end,...`
//!
//! The column orders of the TRAFFIC, THREAT, SYSTEM, CONFIG, HIPMATCH and GLOBALPROTECT logs
//! are data files beside this module (`panos/traffic.txt`...), one column a line, taken from
//! Palo Alto Networks' "Syslog Field Descriptions". Columns are named as PAN-OS documents
//! them, in snake case (`receive_time`, `serial_number`, `threat_content_type`,
//! `source_address`, `nat_source_port`); `FUTURE_USE` and empty columns are left out.
//! Releases add columns at the end, so a line may have fewer columns than its list (older
//! releases) or more (newer ones: kept as `column<N>`, counting from 1). Other log types keep
//! their first columns' names and `column<N>` for the rest.
//!
//! Values in double quotes may hold commas, with `""` for a quote; an unterminated quote makes
//! the line an error. The event's time is the high-resolution timestamp when the line has
//! one (it carries its offset), else the generated time read in the configured time zone.

use std::sync::LazyLock;

use jiff::tz::TimeZone;
use vigil_event::time::parse_timestamp;
use vigil_event::{Event, Fields, Origin, Text, Timestamp, Value};

use super::syslog::YearGuess;
use super::text::{envelope, header_into, host_from_header, read_lines, score_lines};
use crate::error::{RecordError, Result};
use crate::input::Input;
use crate::reader::{Emit, ReadOptions, Reader};

/// Reads PAN-OS syslog CSV lines.
pub(crate) struct PanosReader;

impl Reader for PanosReader {
    fn name(&self) -> &'static str {
        "panos"
    }

    fn description(&self) -> &'static str {
        "Palo Alto PAN-OS syslog CSV (TRAFFIC, THREAT, SYSTEM, CONFIG, HIPMATCH, GLOBALPROTECT), alone or after a syslog header"
    }

    fn example(&self) -> &'static str {
        "Nov 30 16:09:08 PA-220 1,2018/11/30 16:09:07,012801096514,TRAFFIC,end,2049,2018/11/30 16:09:07,192.168.15.207,175.16.199.1,192.168.1.63,175.16.199.1,new_outbound_from_trust,,,apple-maps,vsys1,trust,untrust,..."
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        score_lines(head, 85, |line| payload_start(line).is_some())
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        let path = input.name().clone();
        let mut years = YearGuess::new(options.year, input.modified());
        let tz = &options.timezone;
        read_lines(input, options, emit, |line, location| {
            let error = |reason: String| RecordError::format(&path, location, "panos", reason);
            let start = payload_start(line).ok_or_else(|| {
                error("no PAN-OS CSV (expected `1,YYYY/MM/DD hh:mm:ss,serial,TYPE,...`)".into())
            })?;
            let env =
                envelope(line, start, tz).map_err(|e| error(format!("before the CSV: {e}")))?;
            // The type is the fourth column, never quoted.
            let layout = Layout::of(env.payload.split(',').nth(3).unwrap_or(""));
            let columns = split_csv(env.payload).map_err(|column| {
                let name = match layout.name(column) {
                    "" | FUTURE_USE => String::new(),
                    name => format!(" ({name})"),
                };
                error(format!(
                    "the quoted value of column {}{name} never ends",
                    column + 1
                ))
            })?;
            let mut fields = Fields::with_capacity(columns.len() + 8);
            let mut header_time = None;
            if let Some(header) = &env.header {
                header_time = header_into(header, &mut fields, &mut years, tz)
                    .map_err(|e| error(e.to_string()))?;
            }
            for (i, value) in columns.into_iter().enumerate() {
                layout.put(i, value, &mut fields);
            }
            let mut event =
                Event::with_fields(Origin::new(path.clone(), location), "panos", fields);
            event.variant = Some(layout.variant);
            event.timestamp = device_time(&event, tz).or(header_time);
            if let Some(device) = event.get_str("device_name") {
                event.host = Some(Text::from(device));
            }
            host_from_header(&mut event, env.header.as_ref());
            Ok(event)
        })
    }
}

/// One column of a layout: its name, and whether its values are integers.
#[derive(Debug, Clone, Copy)]
struct Column {
    name: &'static str,
    int: bool,
}

/// The columns of one log type, in order.
struct Layout {
    variant: &'static str,
    columns: Vec<Column>,
}

static TRAFFIC: LazyLock<Layout> =
    LazyLock::new(|| Layout::parse("traffic", include_str!("panos/traffic.txt")));
static THREAT: LazyLock<Layout> =
    LazyLock::new(|| Layout::parse("threat", include_str!("panos/threat.txt")));
static SYSTEM: LazyLock<Layout> =
    LazyLock::new(|| Layout::parse("system", include_str!("panos/system.txt")));
static CONFIG: LazyLock<Layout> =
    LazyLock::new(|| Layout::parse("config", include_str!("panos/config.txt")));
static HIPMATCH: LazyLock<Layout> =
    LazyLock::new(|| Layout::parse("hipmatch", include_str!("panos/hipmatch.txt")));
static GLOBALPROTECT: LazyLock<Layout> =
    LazyLock::new(|| Layout::parse("globalprotect", include_str!("panos/globalprotect.txt")));

const FUTURE_USE: &str = "FUTURE_USE";

impl Layout {
    /// The columns every log type starts with; other types keep only these names.
    const COMMON: Layout = Layout {
        variant: "other",
        columns: Vec::new(),
    };

    const COMMON_NAMES: [&'static str; 7] = [
        FUTURE_USE,
        "receive_time",
        "serial_number",
        "type",
        "threat_content_type",
        FUTURE_USE,
        "generated_time",
    ];

    /// Reads a column list: one `name` or `name int` a line; `#` starts a comment.
    fn parse(variant: &'static str, text: &'static str) -> Layout {
        let columns = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|line| {
                let mut words = line.split_whitespace();
                let name = words.next().unwrap_or(FUTURE_USE);
                Column {
                    name,
                    int: words.next() == Some("int"),
                }
            })
            .collect();
        Layout { variant, columns }
    }

    /// The layout of a log type (the fourth column).
    fn of(kind: &str) -> &'static Layout {
        static OTHER: Layout = Layout::COMMON;
        match kind {
            "TRAFFIC" => &TRAFFIC,
            "THREAT" => &THREAT,
            "SYSTEM" => &SYSTEM,
            "CONFIG" => &CONFIG,
            "HIPMATCH" | "HIP-MATCH" => &HIPMATCH,
            "GLOBALPROTECT" => &GLOBALPROTECT,
            _ => &OTHER,
        }
    }

    /// The name of column `i` (from 0); `FUTURE_USE` for the unused ones.
    fn name(&self, i: usize) -> &'static str {
        match self.columns.get(i) {
            Some(column) => column.name,
            None => Self::COMMON_NAMES.get(i).copied().unwrap_or(""),
        }
    }

    /// Puts column `i`'s value on `fields`, typed, unless it is unused or empty.
    fn put(&self, i: usize, value: String, fields: &mut Fields) {
        if value.is_empty() {
            return;
        }
        let column = self.columns.get(i).copied().or_else(|| {
            Self::COMMON_NAMES
                .get(i)
                .map(|&name| Column { name, int: false })
        });
        match column {
            Some(Column {
                name: FUTURE_USE, ..
            }) => {}
            Some(Column { name, int }) => {
                let value = match value.parse::<i64>() {
                    Ok(n) if int => Value::Int(n),
                    _ => Value::from(value),
                };
                fields.insert(name, value);
            }
            None => {
                fields.insert(format!("column{}", i + 1), Value::from(value));
            }
        }
    }
}

/// Where the CSV starts: at the line's start or after a space (the syslog header), with a
/// number, a `YYYY/MM/DD hh:mm:ss` receive time, a serial number and an upper-case type.
fn payload_start(line: &str) -> Option<usize> {
    std::iter::once(0)
        .chain(line.match_indices(' ').map(|(i, _)| i + 1))
        .find(|&start| looks_like_payload(&line[start..]))
}

fn looks_like_payload(text: &str) -> bool {
    // Scanned a part at a time, each scan stopping at the first byte that cannot belong:
    // splitting at commas first made every space of a long line cost the rest of the line.
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || text.as_bytes().get(digits) != Some(&b',') {
        return false;
    }
    let rest = &text[digits + 1..];
    if !rest.get(..19).is_some_and(is_panos_time) || rest.as_bytes().get(19) != Some(&b',') {
        return false;
    }
    let rest = &rest[20..];
    let serial = rest.bytes().position(|b| matches!(b, b',' | b' ' | b'"'));
    let Some(serial) = serial.filter(|&end| rest.as_bytes()[end] == b',') else {
        return false;
    };
    let rest = &rest[serial + 1..];
    let kind = rest
        .bytes()
        .take_while(|&b| b.is_ascii_uppercase() || b == b'-')
        .count();
    kind > 0 && rest.as_bytes().get(kind) == Some(&b',')
}

/// `2018/11/30 16:44:35`.
fn is_panos_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 19
        && digits(0..4)
        && b[4] == b'/'
        && digits(5..7)
        && b[7] == b'/'
        && digits(8..10)
        && b[10] == b' '
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
}

/// Splits a CSV line into its values. A value in double quotes may hold commas and `""`
/// for a quote; a value in braces (`{link 1, link 2}`, PAN-OS's Link Switches) may hold
/// commas too. The error is the index of a column whose quote never ends.
fn split_csv(text: &str) -> std::result::Result<Vec<String>, usize> {
    let mut columns = Vec::with_capacity(128);
    let mut rest = text;
    loop {
        let index = columns.len();
        let (value, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let (mut value, after) = unquote(quoted).ok_or(index)?;
            // Text after the closing quote belongs to the value (lenient, as PAN-OS never
            // writes it).
            let end = after.find(',').unwrap_or(after.len());
            value.push_str(&after[..end]);
            (value, &after[end..])
        } else {
            let end = braced_end(rest)
                .or_else(|| rest.find(','))
                .unwrap_or(rest.len());
            (rest[..end].to_string(), &rest[end..])
        };
        columns.push(value);
        match after.strip_prefix(',') {
            Some(next) => rest = next,
            None => return Ok(columns),
        }
    }
}

/// The value of a quoted field (after its opening quote) and the text after its closing one.
fn unquote(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut from = 0;
    loop {
        let quote = from + text[from..].find('"')?;
        value.push_str(&text[from..quote]);
        if text[quote + 1..].starts_with('"') {
            value.push('"');
            from = quote + 2;
        } else {
            return Some((value, &text[quote + 1..]));
        }
    }
}

/// Where a `{...}` value ends (at the comma after its closing brace, or the end), when
/// `text` starts with a balanced one.
fn braced_end(text: &str) -> Option<usize> {
    if !text.starts_with('{') {
        return None;
    }
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    let after = &text[i + 1..];
                    return Some(i + 1 + after.find(',').unwrap_or(after.len()));
                }
            }
            _ => {}
        }
    }
    None
}

/// The device's time: the high-resolution timestamp (with its offset), else the generated
/// time, else the receive time, read in `tz`.
fn device_time(event: &Event, tz: &TimeZone) -> Option<Timestamp> {
    if let Some(t) = event
        .get_str("high_resolution_timestamp")
        .and_then(|t| parse_timestamp(t, tz).ok())
    {
        return Some(t);
    }
    ["generated_time", "receive_time"]
        .iter()
        .filter_map(|name| event.get_str(name))
        .find_map(|t| {
            if !is_panos_time(t) {
                return None;
            }
            parse_timestamp(&t.replace('/', "-"), tz).ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::RecordResult;

    fn read_in(text: &str, timezone: TimeZone) -> Vec<RecordResult> {
        crate::reader::read_text(&PanosReader, "pan.log", text, timezone)
    }

    fn read(text: &str) -> Vec<RecordResult> {
        read_in(text, TimeZone::UTC)
    }

    fn one(line: &str) -> Event {
        let mut got = read(line);
        assert_eq!(got.len(), 1);
        got.pop().unwrap().unwrap()
    }

    const TRAFFIC_LINE: &str = "Nov 30 16:09:08 PA-220 1,2018/11/30 16:09:07,012801096514,TRAFFIC,end,2049,2018/11/30 16:09:07,192.168.15.207,175.16.199.1,192.168.1.63,175.16.199.1,new_outbound_from_trust,,,apple-maps,vsys1,trust,untrust,ethernet1/2,ethernet1/1,send_to_mac,2018/11/30 16:09:07,22751,1,55113,443,16418,443,0x400053,tcp,allow,7734,1758,5976,36,2018/11/30 15:59:04,586,computer-and-internet-info,0,32091112,0x0,192.168.0.0-192.168.255.255,United States,0,16,20,tcp-fin,0,0,0,0,,PA-220,from-policy,,,0,,0,,N/A,0,0,0,0";

    #[test]
    fn layouts_have_the_documented_lengths_and_unique_names() {
        for (layout, len) in [
            (&*TRAFFIC, 115),
            (&*THREAT, 121),
            (&*SYSTEM, 26),
            (&*CONFIG, 28),
            (&*HIPMATCH, 31),
            (&*GLOBALPROTECT, 50),
        ] {
            assert_eq!(layout.columns.len(), len, "{}", layout.variant);
            for (i, name) in Layout::COMMON_NAMES.iter().enumerate() {
                assert_eq!(layout.columns[i].name, *name, "{}", layout.variant);
            }
            let mut names: Vec<_> = layout
                .columns
                .iter()
                .map(|c| c.name)
                .filter(|n| *n != FUTURE_USE)
                .collect();
            let count = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), count, "{} repeats a name", layout.variant);
            assert!(
                names.iter().all(|n| n
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')),
                "{}",
                layout.variant
            );
        }
        assert_eq!(TRAFFIC.name(46), "session_end_reason");
        assert_eq!(THREAT.name(31), "url_filename");
        assert_eq!(SYSTEM.name(14), "description");
    }

    #[test]
    fn traffic_columns_are_named_and_typed() {
        let e = one(TRAFFIC_LINE);
        assert_eq!(e.variant, Some("traffic"));
        assert_eq!(e.host.as_deref(), Some("PA-220"));
        assert_eq!(e.timestamp.unwrap().to_string(), "2018-11-30T16:09:07Z");
        for (name, value) in [
            ("receive_time", Value::from("2018/11/30 16:09:07")),
            ("serial_number", Value::from("012801096514")),
            ("type", Value::from("TRAFFIC")),
            ("threat_content_type", Value::from("end")),
            ("source_address", Value::from("192.168.15.207")),
            ("destination_address", Value::from("175.16.199.1")),
            ("nat_source_ip", Value::from("192.168.1.63")),
            ("rule_name", Value::from("new_outbound_from_trust")),
            ("application", Value::from("apple-maps")),
            ("source_zone", Value::from("trust")),
            ("inbound_interface", Value::from("ethernet1/2")),
            ("session_id", Value::Int(22751)),
            ("source_port", Value::Int(55113)),
            ("destination_port", Value::Int(443)),
            ("nat_source_port", Value::Int(16418)),
            ("protocol", Value::from("tcp")),
            ("action", Value::from("allow")),
            ("bytes", Value::Int(7734)),
            ("bytes_sent", Value::Int(1758)),
            ("bytes_received", Value::Int(5976)),
            ("packets", Value::Int(36)),
            ("elapsed_time", Value::Int(586)),
            ("sequence_number", Value::Int(32091112)),
            ("destination_country", Value::from("United States")),
            ("session_end_reason", Value::from("tcp-fin")),
            ("device_name", Value::from("PA-220")),
            ("tunnel_type", Value::from("N/A")),
            ("host.hostname", Value::from("PA-220")),
        ] {
            assert_eq!(e.get(name), Some(&value), "{name}");
        }
        assert!(e.get("FUTURE_USE").is_none() && e.get("source_user").is_none());
        assert!(e.get("column65").is_none());
    }

    #[test]
    fn quoted_values_hold_commas_and_quotes() {
        assert_eq!(
            split_csv(r#"a,"b,c","say ""hi""",,"",{x, y},{z,"q"#).unwrap_err(),
            7
        );
        assert_eq!(
            split_csv(r#"a,"b,c","say ""hi""",,"",{x, y},{z"#).unwrap(),
            ["a", "b,c", "say \"hi\"", "", "", "{x, y}", "{z"]
        );
        assert_eq!(split_csv("").unwrap(), [""]);
        assert_eq!(split_csv("a,").unwrap(), ["a", ""]);
        assert_eq!(split_csv(r#""a"b,c"#).unwrap(), ["ab", "c"]);
    }

    #[test]
    fn the_time_zone_applies_to_generated_time_and_not_to_stamps_with_offsets() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let got = read_in(TRAFFIC_LINE, tz.clone());
        let e = got[0].as_ref().unwrap();
        assert_eq!(e.timestamp.unwrap().to_string(), "2018-11-30T21:09:07Z");
        let line = "1,2021/01/23 00:45:03,012001003714,SYSTEM,general,0,2021/01/23 00:45:03,,general,,0,0,general,informational,hello,1,0x0,0,0,0,0,,fw1,0,0,2021-01-23T00:45:03.123+01:00";
        let got = read_in(line, tz);
        let e = got[0].as_ref().unwrap();
        assert_eq!(e.timestamp.unwrap().to_string(), "2021-01-22T23:45:03.123Z");
    }

    #[test]
    fn other_types_and_extra_columns() {
        let e = one(
            "1,2025/03/28 05:40:45,000000000000,USERID,login,2049,2025/03/28 05:40:45,vsys1,10.0.0.5,corp\\alice",
        );
        assert_eq!(e.variant, Some("other"));
        assert_eq!(e.get_str("threat_content_type"), Some("login"));
        assert_eq!(e.get_str("generated_time"), Some("2025/03/28 05:40:45"));
        assert_eq!(e.get_str("column8"), Some("vsys1"));
        assert_eq!(e.get_str("column10"), Some("corp\\alice"));
        let mut line = TRAFFIC_LINE.to_string();
        line.push_str(&",x".repeat(60));
        let e = one(&line);
        assert_eq!(e.get_str("offloaded"), Some("x"));
        assert_eq!(e.get_str("column116"), Some("x"));
        assert_eq!(e.get_str("column125"), Some("x"));
        // HIP match and config.
        let e = one(
            "<14>May 11 10:13:22 fw 1,2020/05/11 10:13:22,015451000001111,HIPMATCH,0,2049,2020/05/11 10:13:22,alice,vsys1,mb-01,Mac,10.252.31.187,GP-HIP,1,profile,0,0,1052623,0x0,17,11,12,0,,fw1,1,0.0.0.0,",
        );
        assert_eq!(e.variant, Some("hipmatch"));
        assert_eq!(e.get_str("machine_name"), Some("mb-01"));
        assert_eq!(e.get("repeat_count"), Some(&Value::Int(1)));
        assert_eq!(e.get("virtual_system_id"), Some(&Value::Int(1)));
        assert_eq!(e.get_str("ipv6_source_address"), Some("0.0.0.0"));
        assert_eq!(e.get("log.syslog.priority"), Some(&Value::Int(14)));
        let e = one(
            r#"1,2025/03/14 16:28:52,111111111111111,CONFIG,0,0,2025/03/14 16:28:52,10.0.0.9,vsys1,edit,admin,Web,Succeeded," vsys  vsys1 rulebases security rules  allow-all",,,1234,0x0,0,0,0,0,,fw1,,"""quoted"" comment, with a comma",0,2025-03-14T16:28:52.000+00:00"#,
        );
        assert_eq!(e.variant, Some("config"));
        assert_eq!(e.get_str("admin"), Some("admin"));
        assert_eq!(e.get_str("command"), Some("edit"));
        assert_eq!(
            e.get_str("configuration_path"),
            Some(" vsys  vsys1 rulebases security rules  allow-all")
        );
        assert_eq!(
            e.get_str("audit_comment"),
            Some("\"quoted\" comment, with a comma")
        );
        assert_eq!(e.host.as_deref(), Some("fw1"));
    }

    #[test]
    fn integers_that_do_not_parse_stay_text() {
        let line = TRAFFIC_LINE.replace(",22751,", ",notanumber,");
        let e = one(&line);
        assert_eq!(e.get_str("session_id"), Some("notanumber"));
        let line = TRAFFIC_LINE.replace(",32091112,", ",18446744073709551615,");
        let e = one(&line);
        assert_eq!(e.get_str("sequence_number"), Some("18446744073709551615"));
    }

    #[test]
    fn bad_lines_are_errors_with_their_line() {
        let got = read(concat!(
            "1,2018/11/30 16:44:36,0128,THREAT,url,2049,2018/11/30 16:44:36,1.2.3.4,\"never ends\n",
            "just text\n",
            "garbage header 1,2018/11/30 16:44:36,0128,TRAFFIC,end\n",
            "1,2018/11/30 16:44:36,0128,TRAFFIC,end\n",
            "\u{0}\u{ff}é 1,2018/11/30 16:44:36,é,TRAFFIC,{é,\"\u{0}\"\n",
        ));
        let messages: Vec<String> = got
            .iter()
            .map(|r| match r {
                Ok(_) => "ok".into(),
                Err(e) => e.to_string(),
            })
            .collect();
        assert_eq!(
            messages[0],
            "pan.log: record 1, line 1, offset 0x00000000: not a valid panos record: the quoted value of column 9 (destination_address) never ends"
        );
        assert!(
            messages[1]
                .ends_with("no PAN-OS CSV (expected `1,YYYY/MM/DD hh:mm:ss,serial,TYPE,...`)")
        );
        assert!(messages[2].contains("before the CSV: "), "{}", messages[2]);
        assert_eq!(messages[3], "ok", "few columns are fine");
        assert!(messages[4].contains("before the CSV"), "{}", messages[4]);
    }

    #[test]
    fn a_long_line_without_the_csv_is_rejected_in_linear_time() {
        // Every space could start the CSV; each used to be split up to its fourth comma.
        let line = "1 ".repeat(200_000);
        let started = std::time::Instant::now();
        let got = read(&line);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(got.len(), 1);
        assert!(got[0].is_err());
    }

    #[test]
    fn sniffing() {
        assert_eq!(
            PanosReader.sniff(format!("{TRAFFIC_LINE}\n{TRAFFIC_LINE}\n").as_bytes()),
            85
        );
        assert_eq!(PanosReader.sniff(b"a,b,c,d\n1,2,3,4\n"), 0);
        assert_eq!(
            PanosReader.sniff(b"Dec 10 06:55:46 host sshd[1]: Accepted password for a\n"),
            0
        );
    }
}
