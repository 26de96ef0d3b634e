//! The Apache httpd error log, in the 2.2 form
//! `[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] Directory index forbidden by rule: /var/www/html/`
//! and the 2.4 form, which adds the module, process and thread, microseconds and the
//! client's port:
//! `[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:4212] AH00128: File does not exist: /favicon.ico`.
//!
//! The log has no field names of its own, so fields take ECS names: `log.level`,
//! `apache.module`, `process.pid`, `process.thread.id`, `source.ip`, `source.port`,
//! `error.code` (the `AHnnnnn` message number) and `message` (the text after the bracketed
//! parts, which Sigma's keyword rules for `service: apache` search). The time has no
//! offset; it is read in the configured time zone.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use vigil_event::{Event, Fields, Origin, Value};

use super::text::{int_or_text, read_lines, score_lines};
use super::web::{month_number, parse_clock};
use crate::error::{RecordError, Result};
use crate::input::Input;
use crate::reader::{Emit, ReadOptions, Reader};

mod names {
    pub(crate) const LEVEL: &str = "log.level";
    pub(crate) const MODULE: &str = "apache.module";
    pub(crate) const PID: &str = "process.pid";
    pub(crate) const TID: &str = "process.thread.id";
    pub(crate) const SOURCE_IP: &str = "source.ip";
    pub(crate) const SOURCE_PORT: &str = "source.port";
    pub(crate) const ERROR_CODE: &str = "error.code";
    pub(crate) const MESSAGE: &str = "message";
}

/// Reads Apache httpd error logs.
pub(crate) struct ApacheErrorReader;

impl Reader for ApacheErrorReader {
    fn name(&self) -> &'static str {
        "apache_error"
    }

    fn description(&self) -> &'static str {
        "Apache httpd error logs (2.2 and 2.4 forms: level, module, pid, client, message)"
    }

    fn example(&self) -> &'static str {
        "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico"
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        score_lines(head, 75, |line| parse(line, &TimeZone::UTC).is_ok())
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        let path = input.name().clone();
        read_lines(input, options, emit, |line, location| {
            let (timestamp, fields) = parse(line, &options.timezone).map_err(|reason| {
                RecordError::format(&path, location, "apache_error", reason.to_string())
            })?;
            let mut event =
                Event::with_fields(Origin::new(path.clone(), location), "apache_error", fields);
            event.timestamp = Some(timestamp);
            Ok(event)
        })
    }
}

/// Parses one line into its time and fields; the error names the part that is wrong.
fn parse(line: &str, tz: &TimeZone) -> std::result::Result<(Timestamp, Fields), &'static str> {
    let (stamp, rest) = bracket(line).ok_or("the line does not start with a [time]")?;
    let timestamp = parse_time(stamp, tz)?;
    let (level, mut rest) = bracket(rest).ok_or("no [level] after the time")?;
    let mut fields = Fields::with_capacity(8);
    let (module, level) = level.rsplit_once(':').unwrap_or(("", level));
    if level.is_empty() || !level.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("the [level] is not a word");
    }
    fields.insert(names::LEVEL, Value::from(level));
    if !module.is_empty() {
        fields.insert(names::MODULE, Value::from(module));
    }
    // Then any of `[pid N:tid N]`, `[client ADDR]`, in that order; other brackets belong
    // to the message.
    while let Some((inner, after)) = bracket(rest) {
        if let Some(ids) = inner.strip_prefix("pid ") {
            let (pid, tid) = match ids.split_once(":tid ") {
                Some((pid, tid)) => (pid, Some(tid)),
                None => (ids, None),
            };
            fields.insert(names::PID, int_or_text(pid));
            if let Some(tid) = tid {
                fields.insert(names::TID, int_or_text(tid));
            }
        } else if let Some(client) = inner.strip_prefix("client ") {
            let (ip, port) = split_address(client);
            fields.insert(names::SOURCE_IP, Value::from(ip));
            if let Some(port) = port {
                fields.insert(names::SOURCE_PORT, Value::Int(port));
            }
        } else {
            break;
        }
        rest = after;
    }
    let message = rest.trim();
    if let Some((code, _)) = message.split_once(": ")
        && code.len() == 7
        && code.starts_with("AH")
        && code[2..].bytes().all(|b| b.is_ascii_digit())
    {
        fields.insert(names::ERROR_CODE, Value::from(code));
    }
    fields.insert(names::MESSAGE, Value::from(message));
    Ok((timestamp, fields))
}

/// The text inside a `[...]` at the start of `text` (after spaces), and what follows.
/// Brackets nest, for `[client [2001:db8::1]:51234]`.
fn bracket(text: &str) -> Option<(&str, &str)> {
    let inner = text.trim_start_matches(' ').strip_prefix('[')?;
    let mut depth = 0u32;
    for (i, b) in inner.bytes().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' if depth == 0 => return Some((&inner[..i], &inner[i + 1..])),
            b']' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Splits `1.2.3.4:5678`, `[::1]:5678`, `::1` or `1.2.3.4` into the address and port.
fn split_address(text: &str) -> (&str, Option<i64>) {
    if let Some(v6) = text.strip_prefix('[')
        && let Some((ip, port)) = v6.split_once("]:")
    {
        return (ip, port.parse().ok());
    }
    // An IPv6 address has several colons and no port unless bracketed.
    match text.rsplit_once(':') {
        Some((ip, port)) if !ip.contains(':') => match port.parse::<u16>() {
            Ok(port) => (ip, Some(i64::from(port))),
            Err(_) => (text, None),
        },
        _ => (text, None),
    }
}

/// Reads `Sun Dec 04 04:47:44 2005` or `Fri Sep 09 10:42:29.902022 2011` in `tz`.
fn parse_time(text: &str, tz: &TimeZone) -> std::result::Result<Timestamp, &'static str> {
    const BAD: &str = "the time is not 'Www Mmm dd hh:mm:ss yyyy'";
    let mut words = text.split_whitespace();
    let _weekday = words.next().ok_or(BAD)?;
    let month = month_number(words.next().ok_or(BAD)?).ok_or(BAD)?;
    let day: i8 = words.next().ok_or(BAD)?.parse().map_err(|_| BAD)?;
    let (hour, minute, second, nanos) = parse_clock(words.next().ok_or(BAD)?).ok_or(BAD)?;
    let year: i16 = words.next().ok_or(BAD)?.parse().map_err(|_| BAD)?;
    if words.next().is_some() {
        return Err(BAD);
    }
    jiff::civil::DateTime::new(year, month, day, hour, minute, second, nanos)
        .map_err(|_| "the time is not a valid date")?
        .to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .map_err(|_| "the time is out of range")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RecordErrorKind;
    use crate::reader::read_all;

    fn read(text: &str) -> Vec<crate::reader::RecordResult> {
        read_all(
            &ApacheErrorReader,
            Input::from_slice("error_log", text.as_bytes()),
            &ReadOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn apache_2_2_lines() {
        let got = read(concat!(
            "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties\n",
            "[Sun Dec 04 05:15:09 2005] [error] [client 222.166.160.184] Directory index forbidden by rule: /var/www/html/\n",
        ));
        let e = got[0].as_ref().unwrap();
        assert_eq!(e.timestamp.unwrap().to_string(), "2005-12-04T04:47:44Z");
        assert_eq!(e.get_str("log.level"), Some("notice"));
        assert_eq!(e.get("apache.module"), None);
        assert_eq!(
            e.get_str("message"),
            Some("workerEnv.init() ok /etc/httpd/conf/workers2.properties")
        );
        let e = got[1].as_ref().unwrap();
        assert_eq!(e.get_str("source.ip"), Some("222.166.160.184"));
        assert_eq!(e.get("source.port"), None);
        assert_eq!(
            e.get_str("message"),
            Some("Directory index forbidden by rule: /var/www/html/")
        );
    }

    #[test]
    fn apache_2_4_lines_with_module_pid_and_port() {
        let got = read(concat!(
            "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico\n",
            "[Mon Jan 08 09:00:01.5 2024] [authz_core:error] [pid 12] [client [2001:db8::1]:51234] AH01630: client denied by server configuration: /srv/x, referer: http://a/\n",
            "[Mon Jan 08 09:00:02 2024] [:error] [pid 12] [client 10.0.0.1:80] [remote 10.0.0.2:80] odd\n",
        ));
        let e = got[0].as_ref().unwrap();
        assert_eq!(
            e.timestamp.unwrap().to_string(),
            "2011-09-09T10:42:29.902022Z"
        );
        assert_eq!(e.get_str("apache.module"), Some("core"));
        assert_eq!(e.get_str("log.level"), Some("error"));
        assert_eq!(e.get("process.pid"), Some(&Value::Int(35708)));
        assert_eq!(e.get("process.thread.id"), Some(&Value::Int(4328636416)));
        assert_eq!(e.get_str("source.ip"), Some("72.15.99.187"));
        let e = got[1].as_ref().unwrap();
        assert_eq!(e.get_str("source.ip"), Some("2001:db8::1"));
        assert_eq!(e.get("source.port"), Some(&Value::Int(51234)));
        assert_eq!(e.get_str("error.code"), Some("AH01630"));
        assert!(
            e.get_str("message")
                .unwrap()
                .starts_with("AH01630: client denied")
        );
        assert_eq!(e.get("process.thread.id"), None);
        let e = got[2].as_ref().unwrap();
        assert_eq!(e.get("apache.module"), None);
        assert_eq!(e.get("source.port"), Some(&Value::Int(80)));
        assert_eq!(e.get_str("message"), Some("[remote 10.0.0.2:80] odd"));
    }

    #[test]
    fn the_configured_zone_places_the_time() {
        let options = ReadOptions {
            timezone: TimeZone::fixed(jiff::tz::offset(2)),
            ..ReadOptions::default()
        };
        let got = read_all(
            &ApacheErrorReader,
            Input::from_slice("e", b"[Sun Dec 04 04:47:44 2005] [notice] x\n"),
            &options,
        )
        .unwrap();
        assert_eq!(
            got[0].as_ref().unwrap().timestamp.unwrap().to_string(),
            "2005-12-04T02:47:44Z"
        );
    }

    #[test]
    fn bad_lines_are_errors_naming_the_part() {
        let got = read(concat!(
            "Sun Dec 04 04:47:44 2005 [notice] x\n",
            "[Sun Dec 04 04:47:44 2005] notice x\n",
            "[Sun Foo 04 04:47:44 2005] [notice] x\n",
            "[Sun Feb 30 04:47:44 2005] [notice] x\n",
            "[Sun Dec 04 04:47:44 2005] [no tice] x\n",
            "[Sun Dec 04 04:47:44 2005\n",
            "[\u{fffd}\n",
        ));
        let reasons: Vec<String> = got
            .iter()
            .map(|r| match r.as_ref().unwrap_err().kind {
                RecordErrorKind::Format { ref reason, .. } => reason.clone(),
                ref other => other.to_string(),
            })
            .collect();
        assert_eq!(
            reasons,
            [
                "the line does not start with a [time]",
                "no [level] after the time",
                "the time is not 'Www Mmm dd hh:mm:ss yyyy'",
                "the time is not a valid date",
                "the [level] is not a word",
                "the line does not start with a [time]",
                "the line does not start with a [time]",
            ]
        );
    }

    #[test]
    fn sniffing_claims_error_logs_only() {
        assert_eq!(
            ApacheErrorReader.sniff(
                b"[Sun Dec 04 04:47:44 2005] [notice] a\n[Sun Dec 04 04:47:44 2005] [error] b\n"
            ),
            75
        );
        assert_eq!(
            ApacheErrorReader
                .sniff(b"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1\n"),
            0
        );
        assert_eq!(ApacheErrorReader.sniff(b"[1, 2, 3]\n"), 0);
    }
}
