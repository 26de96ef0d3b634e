//! The syslog header: RFC 5424, RFC 3164 with or without `<PRI>`, and the ISO 8601
//! timestamped lines rsyslog writes to files.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use vigil_event::time::parse_timestamp;

/// Which syslog layout a line has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
    Rfc5424,
    /// `<PRI>Mmm dd hh:mm:ss HOST TAG: MSG`.
    Rfc3164,
    /// `Mmm dd hh:mm:ss HOST TAG: MSG`, as `/var/log/auth.log` and `/var/log/secure` hold.
    BsdFile,
    /// `2023-09-28T12:10:12.175599+02:00 HOST TAG: MSG` (rsyslog's file format).
    IsoFile,
}

impl Layout {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Layout::Rfc5424 => "rfc5424",
            Layout::Rfc3164 => "rfc3164",
            Layout::BsdFile => "bsd_file",
            Layout::IsoFile => "iso_file",
        }
    }
}

/// A time as the line gives it: whole, or a BSD date and clock that may lack a year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Stamp {
    Full(Timestamp),
    Civil(CivilStamp),
    /// RFC 5424's `-`.
    Nil,
}

/// A BSD timestamp: a local date and clock, with the year when the line has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CivilStamp {
    pub(crate) year: Option<i16>,
    pub(crate) month: i8,
    pub(crate) day: i8,
    pub(crate) hour: i8,
    pub(crate) minute: i8,
    pub(crate) second: i8,
    pub(crate) nanos: i32,
}

impl CivilStamp {
    /// The instant in `year` (the stamp's own year wins) read in `tz`.
    pub(crate) fn timestamp(&self, year: i16, tz: &TimeZone) -> Result<Timestamp, &'static str> {
        // Leap seconds are written as :60; they are read as the last second of the minute.
        let second = self.second.min(59);
        let year = self.year.unwrap_or(year);
        jiff::civil::DateTime::new(
            year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            second,
            self.nanos,
        )
        .map_err(|_| "the date or time is out of range")?
        .to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .map_err(|_| "the date or time is out of range")
    }
}

/// The parts of a syslog line.
#[derive(Debug, PartialEq)]
pub(crate) struct Header<'a> {
    pub(crate) layout: Layout,
    pub(crate) priority: Option<u8>,
    pub(crate) stamp: Stamp,
    pub(crate) hostname: Option<&'a str>,
    pub(crate) app: Option<&'a str>,
    pub(crate) procid: Option<&'a str>,
    pub(crate) msgid: Option<&'a str>,
    pub(crate) structured_data: Option<&'a str>,
    pub(crate) message: &'a str,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses one line. The error says what was expected.
pub(crate) fn parse<'a>(line: &'a str, tz: &TimeZone) -> Result<Header<'a>, &'static str> {
    let (priority, rest) = match line.strip_prefix('<') {
        Some(after) => {
            let end = after
                .find('>')
                .ok_or("'<' opens a priority that never closes")?;
            let digits = &after[..end];
            if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err("the priority between '<' and '>' is not a number");
            }
            let value: u16 = digits.parse().map_err(|_| "priority out of range")?;
            if value > 191 {
                return Err("priority above 191");
            }
            (Some(value as u8), &after[end + 1..])
        }
        None => (None, line),
    };
    if priority.is_some()
        && let Some(after) = rest.strip_prefix("1 ")
    {
        return parse_5424(priority, after, tz);
    }
    let (stamp, rest, iso) = parse_stamp(rest, tz)?;
    let layout = match (priority, iso) {
        (Some(_), _) => Layout::Rfc3164,
        (None, true) => Layout::IsoFile,
        (None, false) => Layout::BsdFile,
    };
    let rest = rest.trim_start_matches(' ');
    let (hostname, app, procid, message) = split_host_and_tag(rest);
    Ok(Header {
        layout,
        priority,
        stamp,
        hostname,
        app,
        procid,
        msgid: None,
        structured_data: None,
        message,
    })
}

/// Reads the timestamp at the start of `text`: BSD (`Dec 10 06:55:46`, optionally with a
/// year or fraction) or ISO 8601. Returns the rest and whether it was ISO.
fn parse_stamp<'a>(text: &'a str, tz: &TimeZone) -> Result<(Stamp, &'a str, bool), &'static str> {
    let bytes = text.as_bytes();
    if bytes.len() >= 4 && bytes[..4].iter().all(u8::is_ascii_digit) {
        let end = text.find(' ').unwrap_or(text.len());
        // A date and a time: a date alone (`2024-05-01 10:00:00 ...`, as dpkg.log writes)
        // is not a syslog stamp.
        if !text[..end].contains('T') {
            return Err("the leading date has no time (expected 2024-05-01T10:00:00...)");
        }
        let t =
            parse_timestamp(&text[..end], tz).map_err(|_| "the leading date is not ISO 8601")?;
        return Ok((Stamp::Full(t), &text[end..], true));
    }
    let month = MONTHS
        .iter()
        .position(|m| text.get(..3).is_some_and(|t| t.eq_ignore_ascii_case(m)))
        .ok_or("no timestamp: expected '<PRI>', 'Mmm dd hh:mm:ss' or an ISO 8601 date")?;
    let rest = text[3..]
        .strip_prefix(' ')
        .ok_or("no space after the month")?;
    let rest = rest.trim_start_matches(' ');
    let day_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=2).contains(&day_len) {
        return Err("the day of month is not a number");
    }
    let day: i8 = rest[..day_len].parse().map_err(|_| "bad day")?;
    let mut rest = rest[day_len..]
        .strip_prefix(' ')
        .ok_or("no space after the day")?;
    // Some devices put the year between the day and the time.
    let mut year = None;
    if rest.len() > 5
        && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && rest.as_bytes()[4] == b' '
    {
        year = rest[..4].parse::<i16>().ok();
        rest = &rest[5..];
    }
    let (hour, minute, second, nanos, after) = parse_clock(rest)?;
    // ... and others after the time.
    let mut after = after;
    if year.is_none()
        && after.len() > 5
        && after.as_bytes()[0] == b' '
        && after.as_bytes()[1..5].iter().all(u8::is_ascii_digit)
        && matches!(after.as_bytes().get(5), Some(b' ') | None)
    {
        year = after[1..5].parse::<i16>().ok();
        after = &after[5..];
    }
    let stamp = Stamp::Civil(CivilStamp {
        year,
        month: month as i8 + 1,
        day,
        hour,
        minute,
        second,
        nanos,
    });
    Ok((stamp, after, false))
}

/// `hh:mm:ss` with an optional `.fraction`.
fn parse_clock(text: &str) -> Result<(i8, i8, i8, i32, &str), &'static str> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() < 8
        || b[2] != b':'
        || b[5] != b':'
        || !digits(0..2)
        || !digits(3..5)
        || !digits(6..8)
    {
        return Err("the time is not hh:mm:ss");
    }
    let num = |s: &str| s.parse::<i8>().map_err(|_| "the time is not hh:mm:ss");
    let (hour, minute, second) = (num(&text[0..2])?, num(&text[3..5])?, num(&text[6..8])?);
    let mut rest = &text[8..];
    let mut nanos = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            let mut n: i32 = frac[..digits.min(9)].parse().unwrap_or(0);
            for _ in digits.min(9)..9 {
                n *= 10;
            }
            nanos = n;
            rest = &frac[digits..];
        }
    }
    Ok((hour, minute, second, nanos, rest))
}

/// Splits `HOST TAG: MSG`. The host is absent when the first word is already a tag
/// (`sshd[42]:`); the tag is absent when the second word is not one.
fn split_host_and_tag(text: &str) -> (Option<&str>, Option<&str>, Option<&str>, &str) {
    let (first, after_first) = split_word(text);
    if let Some((app, pid)) = tag(first) {
        return (None, Some(app), pid, after_first);
    }
    let hostname = (!first.is_empty()).then_some(first);
    let (second, after_second) = split_word(after_first);
    match tag(second) {
        Some((app, pid)) => (hostname, Some(app), pid, after_second),
        None => (hostname, None, None, after_first),
    }
}

/// The first word and the text after the single space that ends it.
fn split_word(text: &str) -> (&str, &str) {
    match text.find(' ') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    }
}

/// `prog[pid]:` or `prog:`; `None` when `word` is not a tag.
fn tag(word: &str) -> Option<(&str, Option<&str>)> {
    let body = word.strip_suffix(':')?;
    if body.is_empty() {
        return None;
    }
    if let Some(open) = body.rfind('[')
        && let Some(pid) = body[open + 1..].strip_suffix(']')
        && open > 0
    {
        return Some((&body[..open], Some(pid)));
    }
    if body.contains(['[', ']']) {
        return None;
    }
    Some((body, None))
}

fn parse_5424<'a>(
    priority: Option<u8>,
    text: &'a str,
    tz: &TimeZone,
) -> Result<Header<'a>, &'static str> {
    let (stamp_text, rest) = split_word(text);
    let stamp = match stamp_text {
        "-" => Stamp::Nil,
        t if !t.contains('T') => return Err("the RFC 5424 timestamp has no time"),
        t => Stamp::Full(
            parse_timestamp(t, tz).map_err(|_| "the RFC 5424 timestamp is not RFC 3339")?,
        ),
    };
    let nil = |s: &'a str| (s != "-" && !s.is_empty()).then_some(s);
    let (hostname, rest) = split_word(rest);
    let (app, rest) = split_word(rest);
    let (procid, rest) = split_word(rest);
    let (msgid, rest) = split_word(rest);
    let (structured_data, message) = if let Some(after) = rest.strip_prefix('-') {
        (None, after)
    } else if rest.starts_with('[') {
        let end = structured_data_end(rest).ok_or("the structured data is not closed")?;
        (Some(&rest[..end]), &rest[end..])
    } else if rest.is_empty() {
        (None, "")
    } else {
        return Err("the structured data is neither '-' nor '[...]'");
    };
    let message = message.strip_prefix(' ').unwrap_or(message);
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    Ok(Header {
        layout: Layout::Rfc5424,
        priority,
        stamp,
        hostname: nil(hostname),
        app: nil(app),
        procid: nil(procid),
        msgid: nil(msgid),
        structured_data,
        message,
    })
}

/// The end of the run of `[...]` elements at the start of `text` (quoted values may hold
/// `]` escaped as `\]`).
fn structured_data_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while bytes.get(i) == Some(&b'[') {
        let mut in_quotes = false;
        i += 1;
        loop {
            match bytes.get(i)? {
                b'\\' if in_quotes => i += 1,
                b'"' => in_quotes = !in_quotes,
                b']' if !in_quotes => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    Some(i)
}

/// The parameters of structured data: `(sd-id, name, value)` with escapes undone.
pub(crate) fn structured_params(sd: &str) -> Vec<(&str, &str, String)> {
    let mut out = Vec::new();
    let mut rest = sd;
    while let Some(element) = rest.strip_prefix('[') {
        let id_end = element.find([' ', ']']).unwrap_or(element.len());
        let (id, mut params) = element.split_at(id_end);
        loop {
            params = params.trim_start_matches(' ');
            if params.starts_with(']') {
                break;
            }
            let Some(eq) = params.find("=\"") else { break };
            let name = &params[..eq];
            let value_start = &params[eq + 2..];
            let mut value = String::new();
            let mut chars = value_start.char_indices();
            let mut end = value_start.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, next)) = chars.next() {
                            if !matches!(next, '"' | '\\' | ']') {
                                value.push('\\');
                            }
                            value.push(next);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            out.push((id, name, value));
            params = &value_start[end..];
            if params.starts_with(']') {
                break;
            }
        }
        rest = match params.find(']') {
            Some(i) => &params[i + 1..],
            None => "",
        };
    }
    out
}

pub(crate) const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

pub(crate) const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Header<'_> {
        parse(line, &TimeZone::UTC).unwrap()
    }

    #[test]
    fn bsd_file_lines_without_priority() {
        let h = p("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186");
        assert_eq!(h.layout, Layout::BsdFile);
        assert_eq!(h.hostname, Some("LabSZ"));
        assert_eq!(h.app, Some("sshd"));
        assert_eq!(h.procid, Some("24200"));
        assert_eq!(h.message, "Invalid user webmaster from 173.234.31.186");
        assert_eq!(
            h.stamp,
            Stamp::Civil(CivilStamp {
                year: None,
                month: 12,
                day: 10,
                hour: 6,
                minute: 55,
                second: 46,
                nanos: 0
            })
        );
    }

    #[test]
    fn old_pam_tags_and_space_padded_days() {
        let h =
            p("Jun  4 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; rhost=1.2.3.4");
        assert_eq!(h.app, Some("sshd(pam_unix)"));
        assert_eq!(h.procid, Some("19939"));
        assert!(matches!(
            h.stamp,
            Stamp::Civil(CivilStamp {
                year: None,
                month: 6,
                day: 4,
                ..
            })
        ));
    }

    #[test]
    fn rfc3164_with_priority_and_lines_without_tag_or_host() {
        let h = p("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(
            (h.layout, h.priority, h.hostname, h.app),
            (Layout::Rfc3164, Some(34), Some("mymachine"), Some("su"))
        );
        let h = p("<13>Feb  5 17:32:18 myprog[99]: hello");
        assert_eq!(
            (h.hostname, h.app, h.procid, h.message),
            (None, Some("myprog"), Some("99"), "hello")
        );
        let h = p("Jun 14 15:16:02 combo last message repeated 2 times");
        assert_eq!(
            (h.hostname, h.app, h.message),
            (Some("combo"), None, "last message repeated 2 times")
        );
    }

    #[test]
    fn years_and_fractions_in_bsd_stamps() {
        let h = p("Jan 05 2024 01:02:03 fw1 %ASA-6-302013: Built");
        assert!(matches!(
            h.stamp,
            Stamp::Civil(CivilStamp {
                year: Some(2024),
                month: 1,
                day: 5,
                ..
            })
        ));
        let h = p("Jan  5 01:02:03.250 host app: x");
        assert!(matches!(
            h.stamp,
            Stamp::Civil(CivilStamp {
                year: None,
                nanos: 250_000_000,
                ..
            })
        ));
    }

    #[test]
    fn iso_file_lines() {
        let h = p(
            "2023-09-28T12:10:12.175599+02:00 test.lab.com sudo: pam_unix(sudo:session): session closed for user root",
        );
        assert_eq!(h.layout, Layout::IsoFile);
        assert_eq!(h.hostname, Some("test.lab.com"));
        assert_eq!(h.app, Some("sudo"));
        assert!(
            matches!(h.stamp, Stamp::Full(t) if t.to_string() == "2023-09-28T10:10:12.175599Z")
        );
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let line = r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Appl\"ication"][ex@1 a="]\]"] An application event"#;
        let h = p(line);
        assert_eq!(h.layout, Layout::Rfc5424);
        assert_eq!(
            (h.hostname, h.app, h.procid, h.msgid),
            (
                Some("mymachine.example.com"),
                Some("evntslog"),
                None,
                Some("ID47")
            )
        );
        assert_eq!(h.message, "An application event");
        let params = structured_params(h.structured_data.unwrap());
        assert_eq!(
            params,
            vec![
                ("exampleSDID@32473", "iut", "3".to_string()),
                (
                    "exampleSDID@32473",
                    "eventSource",
                    "Appl\"ication".to_string()
                ),
                ("ex@1", "a", "]]".to_string()),
            ]
        );
        let h = p(
            "<30>1 2023-09-28T12:10:12.175599+02:00 test.lab.com systemd 153589 - - Stopped target Default.",
        );
        assert_eq!(
            (h.procid, h.msgid, h.structured_data, h.message),
            (Some("153589"), None, None, "Stopped target Default.")
        );
    }

    #[test]
    fn what_is_not_syslog_says_why() {
        assert!(
            parse("hello world", &TimeZone::UTC)
                .unwrap_err()
                .contains("no timestamp")
        );
        assert!(parse("<999>Jan  1 00:00:00 h a: b", &TimeZone::UTC).is_err());
        assert!(parse("Jan 1x 00:00:00 h", &TimeZone::UTC).is_err());
        assert!(parse("Jan 10 0:00:00 h", &TimeZone::UTC).is_err());
        assert!(parse("<1>1 garbage h a p m - x", &TimeZone::UTC).is_err());
    }

    #[test]
    fn structured_data_ids_end_at_a_space_or_bracket_and_dates_need_times() {
        let params = structured_params(r#"[a][b x="1"][c@1 y="2" z="3"]"#);
        assert_eq!(
            params,
            vec![
                ("b", "x", "1".to_string()),
                ("c@1", "y", "2".to_string()),
                ("c@1", "z", "3".to_string())
            ]
        );
        assert!(parse("2024-05-01 10:00:00 host app: msg", &TimeZone::UTC).is_err());
        assert!(parse("<13>1 2024-05-01 host app - - - msg", &TimeZone::UTC).is_err());
    }
}
