//! Web server access logs in the NCSA Common Log Format and the Combined format Apache
//! httpd and nginx write by default:
//! `1.2.3.4 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif?x=1 HTTP/1.0" 200 2326 "http://ref/" "Mozilla/4.08"`,
//! also with the virtual host first (`www.example.com:443 1.2.3.4 - ...`, Apache's
//! `vhost_combined`, or `www.example.com 1.2.3.4 - ...`); and W3C extended logs as IIS
//! writes them, their columns named by a `#Fields:` directive ([`w3c`]).
//!
//! Fields take the W3C extended log names Sigma's `webserver` rules use (`c-ip`,
//! `cs-username`, `cs-method`, `cs-uri-stem`, `cs-uri-query`, `cs-version`, `sc-status`,
//! `sc-bytes`, `cs-referer`, `cs-user-agent`, `cs-host`), plus `cs-uri` (the request target
//! as logged) and `request` (the whole request line as logged). What only parsing can know
//! gets its ECS name here: the decoded `url.path` and `url.query`, `http.version` (`1.1`)
//! and `event.outcome` from the status; the plain copies (`source.ip`, `url.original`, ...)
//! come from the taxonomy file `webaccess.toml`.
//!
//! A request line that is not `METHOD TARGET VERSION` (TLS handshake bytes, `-`) still makes
//! an event with what the line has; a line without the `[time] "request" status bytes`
//! skeleton is an error.

mod w3c;

use std::borrow::Cow;

use jiff::Timestamp;
use vigil_event::{Event, Fields, Origin, Value};

use super::text::{read_records, sample_lines, score_lines};
use crate::error::{RecordError, Result};
use crate::input::Input;
use crate::reader::{Emit, ReadOptions, Reader};

/// Field names, W3C extended log format.
mod names {
    pub(crate) const VHOST: &str = "cs-host";
    pub(crate) const SERVER_PORT: &str = "s-port";
    pub(crate) const CLIENT_IP: &str = "c-ip";
    pub(crate) const IDENT: &str = "ident";
    pub(crate) const USER: &str = "cs-username";
    pub(crate) const REQUEST: &str = "request";
    pub(crate) const METHOD: &str = "cs-method";
    pub(crate) const URI: &str = "cs-uri";
    pub(crate) const URI_STEM: &str = "cs-uri-stem";
    pub(crate) const URI_QUERY: &str = "cs-uri-query";
    pub(crate) const VERSION: &str = "cs-version";
    pub(crate) const STATUS: &str = "sc-status";
    pub(crate) const BYTES: &str = "sc-bytes";
    pub(crate) const REFERER: &str = "cs-referer";
    pub(crate) const USER_AGENT: &str = "cs-user-agent";
    pub(crate) const EXTRA: &str = "extra";
    pub(crate) const URL_SCHEME: &str = "url.scheme";
    pub(crate) const URL_DOMAIN: &str = "url.domain";
    pub(crate) const URL_PATH: &str = "url.path";
    pub(crate) const URL_QUERY: &str = "url.query";
    pub(crate) const HTTP_VERSION: &str = "http.version";
    pub(crate) const OUTCOME: &str = "event.outcome";
}

/// Reads Common and Combined Log Format access logs.
pub(crate) struct WebAccessReader;

impl Reader for WebAccessReader {
    fn name(&self) -> &'static str {
        "webaccess"
    }

    fn description(&self) -> &'static str {
        "Web server access logs (Apache/nginx Common and Combined Log Format, IIS W3C extended logs)"
    }

    fn example(&self) -> &'static str {
        r#"1.2.3.4 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif?x=1 HTTP/1.0" 200 2326 "http://ref/" "Mozilla/4.08""#
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        if w3c::sniff(&sample_lines(head, 10)) {
            return 90;
        }
        score_lines(head, 75, |line| parse(line).is_ok())
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        let path = input.name().clone();
        // The columns of W3C lines, once a `#Fields:` directive has named them.
        let mut columns: Option<w3c::Columns> = None;
        read_records(input, options, emit, |line, location| {
            let error = |reason: String| RecordError::format(&path, location, "webaccess", reason);
            if let Some(directive) = line.strip_prefix('#') {
                w3c::directive(directive, &mut columns);
                return None;
            }
            let origin = Origin::new(path.clone(), location);
            if let Some(columns) = &columns {
                return Some(columns.event(line, origin).map_err(error));
            }
            Some(parse(line).map_err(|r| error(r.to_string())).map(|access| {
                let mut fields = Fields::with_capacity(24);
                let variant = access.put_fields(&mut fields);
                let mut event = Event::with_fields(origin, "webaccess", fields);
                event.variant = Some(variant);
                event.timestamp = Some(access.time);
                event
            }))
        })
    }
}

/// The parts of one access-log line, as written (quoted parts unescaped).
#[derive(Debug)]
struct Access<'a> {
    vhost: Option<&'a str>,
    client: &'a str,
    ident: &'a str,
    user: &'a str,
    time: Timestamp,
    request: Cow<'a, str>,
    status: &'a str,
    bytes: &'a str,
    referer: Option<Cow<'a, str>>,
    user_agent: Option<Cow<'a, str>>,
    extra: &'a str,
}

/// Splits a line into its parts; the error says which part is missing or wrong.
fn parse(line: &str) -> std::result::Result<Access<'_>, &'static str> {
    let open = line
        .find(" [")
        .ok_or("no [time] after the client address")?;
    let mut words = line[..open].split(' ').filter(|w| !w.is_empty());
    let first: Vec<&str> = words.by_ref().take(5).collect();
    let (vhost, client, ident, user) = match first[..] {
        [client, ident, user] => (None, client, ident, user),
        [vhost, client, ident, user] => (Some(vhost), client, ident, user),
        _ => {
            return Err(
                "expected client, ident and user (and optionally the virtual host) before the [time]",
            );
        }
    };
    let rest = &line[open + 2..];
    let close = rest.find(']').ok_or("the [time] never closes")?;
    let time = parse_time(&rest[..close])?;
    let rest = rest[close + 1..].trim_start_matches(' ');
    let (request, rest) = quoted(rest).ok_or("no quoted request after the time")?;
    let (status, rest) = word(rest).ok_or("no status after the request")?;
    if status != "-" && !(status.len() == 3 && status.bytes().all(|b| b.is_ascii_digit())) {
        return Err("the status is not a three-digit number");
    }
    let (bytes, rest) = word(rest).ok_or("no byte count after the status")?;
    if bytes != "-" && bytes.parse::<u64>().is_err() {
        return Err("the byte count is not a number");
    }
    let mut rest = rest;
    let mut referer = None;
    let mut user_agent = None;
    if let Some((value, after)) = quoted(rest) {
        referer = Some(value);
        rest = after;
        if let Some((value, after)) = quoted(rest) {
            user_agent = Some(value);
            rest = after;
        }
    }
    Ok(Access {
        vhost,
        client,
        ident,
        user,
        time,
        request,
        status,
        bytes,
        referer,
        user_agent,
        extra: rest.trim(),
    })
}

impl Access<'_> {
    /// Puts the parts on `fields` and returns the variant.
    fn put_fields(&self, fields: &mut Fields) -> &'static str {
        if let Some(vhost) = self.vhost {
            match vhost.rsplit_once(':') {
                Some((host, port)) if port.parse::<u16>().is_ok() && !host.is_empty() => {
                    fields.insert(names::VHOST, Value::from(host));
                    if let Ok(port) = port.parse::<i64>() {
                        fields.insert(names::SERVER_PORT, Value::Int(port));
                    }
                }
                _ => {
                    fields.insert(names::VHOST, Value::from(vhost));
                }
            }
        }
        fields.insert(names::CLIENT_IP, Value::from(self.client));
        if self.ident != "-" {
            fields.insert(names::IDENT, Value::from(self.ident));
        }
        if self.user != "-" {
            fields.insert(names::USER, Value::from(self.user));
        }
        fields.insert(names::REQUEST, Value::from(self.request.as_ref()));
        request_fields(&self.request, fields);
        if let Ok(status) = self.status.parse::<i64>() {
            fields.insert(names::STATUS, Value::Int(status));
            outcome(status, fields);
        }
        // `-` is Apache's way of writing that no body was sent.
        fields.insert(
            names::BYTES,
            Value::Int(self.bytes.parse::<i64>().unwrap_or(0)),
        );
        for (name, value) in [
            (names::REFERER, &self.referer),
            (names::USER_AGENT, &self.user_agent),
        ] {
            if let Some(value) = value
                && value != "-"
            {
                fields.insert(name, Value::from(value.as_ref()));
            }
        }
        if !self.extra.is_empty() {
            fields.insert(names::EXTRA, Value::from(self.extra));
        }
        if self.referer.is_some() && self.user_agent.is_some() {
            "combined"
        } else {
            "common"
        }
    }
}

/// The fields of a request line `METHOD TARGET VERSION` (or HTTP/0.9's `METHOD TARGET`);
/// nothing when the line is not one.
fn request_fields(request: &str, fields: &mut Fields) {
    let mut parts = request.split(' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return;
    };
    let version = parts.next();
    if parts.next().is_some()
        || !is_token(method)
        || target.is_empty()
        || version.is_some_and(|v| !v.starts_with("HTTP/"))
    {
        return;
    }
    fields.insert(names::METHOD, Value::from(method));
    fields.insert(names::URI, Value::from(target));
    let (stem, query) = match target.split_once('?') {
        Some((stem, query)) => (stem, Some(query)),
        None => (target, None),
    };
    fields.insert(names::URI_STEM, Value::from(stem));
    if let Some(query) = query {
        fields.insert(names::URI_QUERY, Value::from(query));
    }
    url_fields(stem, query, fields);
    if let Some(version) = version {
        version_fields(version, fields);
    }
}

/// `url.path` and `url.query`, decoded, from the target's parts; a proxy's absolute URL
/// also gives `url.scheme` and `url.domain`.
fn url_fields(stem: &str, query: Option<&str>, fields: &mut Fields) {
    // A proxy request names the whole URL (`GET http://host/path HTTP/1.1`).
    let mut path = stem;
    if let Some((scheme, after)) = stem.split_once("://")
        && !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
    {
        let (authority, rest) = after.find('/').map_or((after, ""), |i| after.split_at(i));
        fields.insert(names::URL_SCHEME, Value::from(scheme));
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        fields.insert(names::URL_DOMAIN, Value::from(host));
        path = rest;
    }
    fields.insert(names::URL_PATH, Value::from(percent_decode(path).as_ref()));
    if let Some(query) = query {
        fields.insert(
            names::URL_QUERY,
            Value::from(percent_decode(query).as_ref()),
        );
    }
}

/// `cs-version` and ECS `http.version` (`1.1`) from `HTTP/1.1`.
fn version_fields(version: &str, fields: &mut Fields) {
    if let Some(number) = version.strip_prefix("HTTP/") {
        fields.insert(names::VERSION, Value::from(version));
        fields.insert(names::HTTP_VERSION, Value::from(number));
    }
}

/// `event.outcome` from the status: 4xx and 5xx failed.
fn outcome(status: i64, fields: &mut Fields) {
    let outcome = if status < 400 { "success" } else { "failure" };
    fields.insert(names::OUTCOME, Value::from(outcome));
}

/// Whether `text` is an HTTP method: an RFC 9110 token.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Undoes `%XX` escapes; a `%` not followed by two hex digits stays as it is, and bytes
/// that do not make UTF-8 become U+FFFD. `+` is left alone: only form bodies mean a space
/// by it.
pub(crate) fn percent_decode(text: &str) -> Cow<'_, str> {
    if !text.contains('%') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Some(byte) = hex_byte(hex[0], hex[1])
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex_byte(high: u8, low: u8) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    Some((digit(high)? * 16 + digit(low)?) as u8)
}

/// The first space-separated word of `text` and what follows it.
fn word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start_matches(' ');
    if text.is_empty() {
        return None;
    }
    Some(text.split_at(text.find(' ').unwrap_or(text.len())))
}

/// A double-quoted string at the start of `text` (after spaces), with Apache's `\"` and
/// `\\` escapes undone, and what follows it. The closing quote is one followed by a space or
/// the end of the line, so a stray quote inside (old servers did not escape them) does not
/// end it early.
fn quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = text.trim_start_matches(' ').strip_prefix('"')?;
    let bytes = body.as_bytes();
    let mut escaped = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                escaped = true;
                i += 2;
                continue;
            }
            b'"' if matches!(bytes.get(i + 1), None | Some(b' ')) => {
                let inner = &body[..i];
                let value = if escaped {
                    Cow::Owned(unescape(inner))
                } else {
                    Cow::Borrowed(inner)
                };
                return Some((value, &body[i + 1..]));
            }
            _ => i += 1,
        }
    }
    None
}

/// Undoes `\"` and `\\`; other escapes (`\x16`, `\n`) stay as written.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(next @ ('"' | '\\')) => out.push(next),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The month number (1-12) of an English three-letter month name.
pub(crate) fn month_number(name: &str) -> Option<i8> {
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(name))
        .map(|i| i as i8 + 1)
}

/// Reads `10/Oct/2000:13:55:36 -0700` (seconds may carry a fraction).
fn parse_time(text: &str) -> std::result::Result<Timestamp, &'static str> {
    const BAD: &str = "the time is not dd/Mon/yyyy:hh:mm:ss +zzzz";
    let (clock, zone) = text.split_once(' ').ok_or(BAD)?;
    let mut parts = clock.splitn(4, ['/', ':']);
    let mut next = || parts.next().ok_or(BAD);
    let day: i8 = next()?.parse().map_err(|_| BAD)?;
    let month = month_number(next()?).ok_or(BAD)?;
    let year: i16 = next()?.parse().map_err(|_| BAD)?;
    let (hour, minute, second, nanos) = parse_clock(next()?).ok_or(BAD)?;
    let offset = parse_offset(zone).ok_or(BAD)?;
    let civil = jiff::civil::DateTime::new(year, month, day, hour, minute, second, nanos)
        .map_err(|_| "the time is not a valid date")?;
    offset
        .to_timestamp(civil)
        .map_err(|_| "the time is out of range")
}

/// Reads `hh:mm:ss` with an optional `.fraction`.
pub(crate) fn parse_clock(text: &str) -> Option<(i8, i8, i8, i32)> {
    let mut parts = text.splitn(3, ':');
    let hour: i8 = two_digits(parts.next()?)?;
    let minute: i8 = two_digits(parts.next()?)?;
    let seconds = parts.next()?;
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    let second: i8 = two_digits(whole)?;
    let nanos = if fraction.is_empty() {
        0
    } else {
        if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let padded = format!("{fraction:0<9}");
        padded.parse().ok()?
    };
    Some((hour, minute, second.min(59), nanos))
}

fn two_digits(text: &str) -> Option<i8> {
    if text.len() == 2 && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// Reads `-0700` or `+0530`.
fn parse_offset(text: &str) -> Option<jiff::tz::Offset> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = text.get(1..)?;
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    jiff::tz::Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::read_all;

    fn read(text: &str) -> Vec<crate::reader::RecordResult> {
        read_all(
            &WebAccessReader,
            Input::from_slice("access.log", text.as_bytes()),
            &ReadOptions::default(),
        )
        .unwrap()
    }

    fn one(line: &str) -> Event {
        read(line).remove(0).unwrap()
    }

    #[test]
    fn combined_line_has_w3c_fields_and_decoded_url() {
        let e = one(
            r#"1.2.3.4 - frank [10/Oct/2000:13:55:36 -0700] "GET /a%20b.gif?x=1&q=%27or%201%3D1 HTTP/1.0" 200 2326 "http://ref/" "Mozilla/4.08 [en] (Win98; I ;Nav)""#,
        );
        assert_eq!(e.variant, Some("combined"));
        assert_eq!(e.timestamp.unwrap().to_string(), "2000-10-10T20:55:36Z");
        let s = |n| e.get_str(n).unwrap_or_else(|| panic!("{n}"));
        assert_eq!(s("c-ip"), "1.2.3.4");
        assert_eq!(s("cs-username"), "frank");
        assert_eq!(e.get("ident"), None);
        assert_eq!(s("cs-method"), "GET");
        assert_eq!(s("cs-uri"), "/a%20b.gif?x=1&q=%27or%201%3D1");
        assert_eq!(s("cs-uri-stem"), "/a%20b.gif");
        assert_eq!(s("cs-uri-query"), "x=1&q=%27or%201%3D1");
        assert_eq!(s("url.path"), "/a b.gif");
        assert_eq!(s("url.query"), "x=1&q='or 1=1");
        assert_eq!(s("cs-version"), "HTTP/1.0");
        assert_eq!(s("http.version"), "1.0");
        assert_eq!(e.get("sc-status"), Some(&Value::Int(200)));
        assert_eq!(e.get("sc-bytes"), Some(&Value::Int(2326)));
        assert_eq!(s("cs-referer"), "http://ref/");
        assert_eq!(s("cs-user-agent"), "Mozilla/4.08 [en] (Win98; I ;Nav)");
        assert_eq!(s("event.outcome"), "success");
        assert_eq!(s("request"), "GET /a%20b.gif?x=1&q=%27or%201%3D1 HTTP/1.0");
    }

    #[test]
    fn common_line_with_dashes() {
        let e = one(r#"::1 - - [01/Jan/2024:00:00:01 +0000] "POST /login HTTP/1.1" 401 -"#);
        assert_eq!(e.variant, Some("common"));
        assert_eq!(e.get_str("c-ip"), Some("::1"));
        assert_eq!(e.get("cs-username"), None);
        assert_eq!(e.get("sc-bytes"), Some(&Value::Int(0)));
        assert_eq!(e.get_str("event.outcome"), Some("failure"));
        assert_eq!(e.get("cs-uri-query"), None);
        assert_eq!(e.get_str("url.path"), Some("/login"));
    }

    #[test]
    fn virtual_host_first_with_and_without_port() {
        let e = one(
            r#"www.example.com:443 10.0.0.5 - - [10/Oct/2000:13:55:36 +0200] "GET / HTTP/2.0" 304 0 "-" "curl/8.0""#,
        );
        assert_eq!(e.get_str("cs-host"), Some("www.example.com"));
        assert_eq!(e.get("s-port"), Some(&Value::Int(443)));
        assert_eq!(e.get_str("c-ip"), Some("10.0.0.5"));
        assert_eq!(e.get("cs-referer"), None);
        assert_eq!(e.timestamp.unwrap().to_string(), "2000-10-10T11:55:36Z");
        let e = one(r#"shop 10.0.0.5 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5"#);
        assert_eq!(e.get_str("cs-host"), Some("shop"));
        assert_eq!(e.get("s-port"), None);
    }

    #[test]
    fn junk_request_lines_still_make_events() {
        let got = read(concat!(
            "5.6.7.8 - - [10/Oct/2000:13:55:36 -0700] \"\\x16\\x03\\x01\" 400 226 \"-\" \"-\"\n",
            "5.6.7.8 - - [10/Oct/2000:13:55:37 -0700] \"-\" 408 -\n",
            "5.6.7.8 - - [10/Oct/2000:13:55:38 -0700] \"GET /\" 200 10\n",
        ));
        let e = got[0].as_ref().unwrap();
        assert_eq!(e.get_str("request"), Some("\\x16\\x03\\x01"));
        assert_eq!(e.get("cs-method"), None);
        assert_eq!(e.get("sc-status"), Some(&Value::Int(400)));
        let e = got[1].as_ref().unwrap();
        assert_eq!(e.get_str("request"), Some("-"));
        assert_eq!(e.get("url.path"), None);
        // HTTP/0.9: no version.
        let e = got[2].as_ref().unwrap();
        assert_eq!(e.get_str("cs-uri-stem"), Some("/"));
        assert_eq!(e.get("cs-version"), None);
    }

    #[test]
    fn escaped_and_stray_quotes_inside_quoted_parts() {
        let e = one(
            r#"1.1.1.1 - - [10/Oct/2000:13:55:36 -0700] "GET /q?a=\"x\" HTTP/1.1" 200 1 "-" "Agent \"quoted\" and a"b end" "10.9.9.9""#,
        );
        assert_eq!(e.get_str("cs-uri-query"), Some("a=\"x\""));
        assert_eq!(
            e.get_str("cs-user-agent"),
            Some("Agent \"quoted\" and a\"b end")
        );
        assert_eq!(e.get_str("extra"), Some("\"10.9.9.9\""));
    }

    #[test]
    fn proxy_requests_split_the_url() {
        let e = one(
            r#"1.1.1.1 - - [10/Oct/2000:13:55:36 -0700] "GET http://user@evil.example:8080/x%2Fy?z=1 HTTP/1.1" 200 1"#,
        );
        assert_eq!(e.get_str("url.scheme"), Some("http"));
        assert_eq!(e.get_str("url.domain"), Some("evil.example:8080"));
        assert_eq!(e.get_str("url.path"), Some("/x/y"));
        assert_eq!(
            e.get_str("cs-uri-stem"),
            Some("http://user@evil.example:8080/x%2Fy")
        );
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("/a%2"), "/a%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(percent_decode("%c0%af"), "\u{fffd}\u{fffd}");
        assert_eq!(percent_decode("a+b"), "a+b");
        assert_eq!(percent_decode("%E2%82%AC"), "€");
    }

    #[test]
    fn lines_that_are_not_clf_are_errors_naming_the_part() {
        let got = read(concat!(
            "hello world\n",
            "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" abc 1\n",
            "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\n",
            "1.2.3.4 - - [40/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1\n",
            "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700 \"GET / HTTP/1.1\" 200 1\n",
            "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 12x\n",
            "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200\n",
            "\u{0}\u{1}\u{fffd} [\u{fffd}]\n",
            "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1\n",
        ));
        let errors: Vec<String> = got
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            [
                "access.log: record 1, line 1, offset 0x00000000: not a valid webaccess record: no [time] after the client address",
                "access.log: record 2, line 2, offset 0x0000000c: not a valid webaccess record: the status is not a three-digit number",
                "access.log: record 3, line 3, offset 0x0000004c: not a valid webaccess record: no quoted request after the time",
                "access.log: record 4, line 4, offset 0x00000085: not a valid webaccess record: the time is not a valid date",
                "access.log: record 5, line 5, offset 0x000000c5: not a valid webaccess record: the [time] never closes",
                "access.log: record 6, line 6, offset 0x00000104: not a valid webaccess record: the byte count is not a number",
                "access.log: record 7, line 7, offset 0x00000146: not a valid webaccess record: no byte count after the status",
                "access.log: record 8, line 8, offset 0x00000184: not a valid webaccess record: expected client, ident and user (and optionally the virtual host) before the [time]",
            ]
        );
        assert!(got[8].is_ok());
    }

    #[test]
    fn sniffing_claims_access_logs_only() {
        let head = b"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1\n1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /x HTTP/1.1\" 404 1 \"-\" \"ua\"\n";
        assert_eq!(WebAccessReader.sniff(head), 75);
        assert_eq!(
            WebAccessReader.sniff(b"[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok\n"),
            0
        );
        assert_eq!(
            WebAccessReader.sniff(b"Dec 10 06:55:46 host sshd[1]: hello\n"),
            0
        );
    }
}
