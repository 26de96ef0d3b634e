//! Syslog: RFC 5424, RFC 3164 with or without `<PRI>`, and the files rsyslog and syslog-ng
//! write (`/var/log/auth.log`, `/var/log/secure`, `/var/log/messages`), one record per line.
//!
//! The header becomes the fields Elastic's system module uses (`host.hostname`,
//! `process.name`, `process.pid`, `log.syslog.*`, `message`); messages of sshd, sudo, su,
//! PAM and the shadow tools are parsed further by [`auth`]. BSD timestamps carry no year: it
//! is taken from [`ReadOptions::year`] or else guessed from the input's modification time
//! (a line never lies in the future of the file that holds it), and advanced when the
//! months of a file wrap from December to January.

pub(crate) mod auth;
pub(crate) mod header;

use jiff::tz::TimeZone;
use vigil_event::{Event, Fields, Location, Origin, SourcePath, Text, Timestamp, Value};

use super::text::read_lines;
use crate::error::{RecordError, RecordErrorKind, Result};
use crate::input::Input;
use crate::reader::{Emit, ReadOptions, Reader};
use header::{FACILITIES, Header, SEVERITIES, Stamp};

/// Field names the syslog header fills.
pub(crate) mod names {
    pub(crate) const PRIORITY: &str = "log.syslog.priority";
    pub(crate) const FACILITY: &str = "log.syslog.facility.name";
    pub(crate) const SEVERITY: &str = "log.syslog.severity.name";
    pub(crate) const MSGID: &str = "log.syslog.msgid";
    pub(crate) const STRUCTURED_DATA: &str = "log.syslog.structured_data";
    pub(crate) const HOSTNAME: &str = "host.hostname";
    pub(crate) const PROGRAM: &str = "process.name";
    pub(crate) const PID: &str = "process.pid";
    pub(crate) const MESSAGE: &str = "message";
}

/// Reads syslog lines.
pub(crate) struct SyslogReader;

impl Reader for SyslogReader {
    fn name(&self) -> &'static str {
        "syslog"
    }

    fn description(&self) -> &'static str {
        "Syslog (RFC 3164, RFC 5424, rsyslog files) incl. Linux auth.log/secure: sshd, sudo, su, PAM, useradd"
    }

    fn example(&self) -> &'static str {
        "Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for root from 173.234.31.186 port 38926 ssh2"
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        // A dozen lines are plenty; binary input is not syslog.
        let head = &head[..head.len().min(8192)];
        if head.iter().take(512).any(|&b| b == 0) {
            return 0;
        }
        let text = String::from_utf8_lossy(head);
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        // The last line of the head may be cut short.
        let sample: Vec<&str> = lines.by_ref().take(11).collect();
        let sample = if sample.len() > 1 {
            &sample[..sample.len() - 1]
        } else {
            &sample[..]
        };
        if sample.is_empty() {
            return 0;
        }
        let good = sample
            .iter()
            .filter(|line| header::parse(line, &TimeZone::UTC).is_ok())
            .count();
        match good * 100 / sample.len() {
            90.. => 60,
            50.. => 40,
            _ => 0,
        }
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        let path = input.name().clone();
        let mut years = YearGuess::new(options.year, input.modified());
        read_lines(input, options, emit, |text, location| {
            to_event(text, location, &path, &options.timezone, &mut years)
        })
    }
}

/// Parses one line into an event.
pub(crate) fn to_event(
    text: &str,
    location: Location,
    path: &SourcePath,
    tz: &TimeZone,
    years: &mut YearGuess,
) -> std::result::Result<Event, RecordError> {
    let error = |reason: &str| {
        RecordError::new(path, location, RecordErrorKind::Syslog(reason.to_string()))
    };
    let header = header::parse(text, tz).map_err(error)?;
    let timestamp = header_time(&header, years, tz).map_err(error)?;
    let mut fields = Fields::with_capacity(16);
    header_fields(&header, &mut fields);
    if let Some(app) = header.app {
        auth::parse(app, header.message, &mut fields);
    }
    let mut event = Event::with_fields(Origin::new(path.clone(), location), "syslog", fields);
    event.variant = Some(header.layout.name());
    event.timestamp = timestamp;
    event.host = header.hostname.map(Text::from);
    Ok(event)
}

/// The header's parts as fields.
pub(crate) fn header_fields(header: &Header<'_>, fields: &mut Fields) {
    header_fields_without_message(header, fields);
    fields.push(names::MESSAGE, Value::from(header.message));
}

/// The header's parts but its message, for formats that parse the message themselves.
pub(crate) fn header_fields_without_message(header: &Header<'_>, fields: &mut Fields) {
    if let Some(priority) = header.priority {
        fields.push(names::PRIORITY, Value::Int(i64::from(priority)));
        if let Some(facility) = FACILITIES.get(usize::from(priority / 8)) {
            fields.push(names::FACILITY, Value::from(*facility));
        }
        fields.push(
            names::SEVERITY,
            Value::from(SEVERITIES[usize::from(priority % 8)]),
        );
    }
    if let Some(host) = header.hostname {
        fields.push(names::HOSTNAME, Value::from(host));
    }
    if let Some(app) = header.app {
        fields.push(names::PROGRAM, Value::from(app));
    }
    if let Some(pid) = header.procid {
        fields.push(
            names::PID,
            pid.parse::<i64>()
                .map_or_else(|_| Value::from(pid), Value::Int),
        );
    }
    if let Some(msgid) = header.msgid {
        fields.push(names::MSGID, Value::from(msgid));
    }
    if let Some(sd) = header.structured_data {
        for (id, name, value) in header::structured_params(sd) {
            let key = format!("{}.{id}.{name}", names::STRUCTURED_DATA);
            fields.append(key, Value::from(value));
        }
    }
}

/// The instant the header states, the year supplied by `years` when the stamp has none.
pub(crate) fn header_time(
    header: &Header<'_>,
    years: &mut YearGuess,
    tz: &TimeZone,
) -> std::result::Result<Option<Timestamp>, &'static str> {
    Ok(match header.stamp {
        Stamp::Full(t) => Some(t),
        Stamp::Nil => None,
        Stamp::Civil(civil) => {
            let year = match civil.year {
                Some(year) => year,
                None => years.year_for(civil.month),
            };
            Some(civil.timestamp(year, tz)?)
        }
    })
}

/// Supplies the year BSD timestamps leave out.
#[derive(Debug, Clone)]
pub(crate) struct YearGuess {
    /// The year of the current line, once known.
    year: Option<i16>,
    /// The month of the previous line.
    last_month: i8,
    /// When the input was last written, or now.
    reference: Timestamp,
}

impl YearGuess {
    /// Years from `fixed` when given, else guessed against `modified` (or the current time).
    pub(crate) fn new(fixed: Option<i16>, modified: Option<Timestamp>) -> Self {
        YearGuess {
            year: fixed,
            last_month: 0,
            reference: modified.unwrap_or_else(Timestamp::now),
        }
    }

    /// The year of a line dated in `month`.
    pub(crate) fn year_for(&mut self, month: i8) -> i16 {
        let reference = self.reference.to_zoned(TimeZone::UTC);
        let year = match self.year {
            // The first line: the latest year that does not put it after the reference.
            None => {
                if month > reference.month() {
                    reference.year() - 1
                } else {
                    reference.year()
                }
            }
            // A file's months only go down when it crosses New Year.
            Some(year) if month < self.last_month && self.last_month - month >= 6 => {
                year.saturating_add(1)
            }
            Some(year) => year,
        };
        self.year = Some(year);
        self.last_month = month;
        year
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::read_all;

    fn read_with_year(text: &str) -> Vec<crate::reader::RecordResult> {
        let options = ReadOptions {
            year: Some(2024),
            ..ReadOptions::default()
        };
        read_all(
            &SyslogReader,
            Input::from_slice("auth.log", text.as_bytes()),
            &options,
        )
        .unwrap()
    }

    #[test]
    fn header_fields_and_time_are_set() {
        let got = read_with_year(
            "<38>Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\n",
        );
        let e = got[0].as_ref().unwrap();
        assert_eq!(e.timestamp.unwrap().to_string(), "2024-12-10T06:55:46Z");
        assert_eq!(e.host.as_deref(), Some("LabSZ"));
        assert_eq!(e.variant, Some("rfc3164"));
        assert_eq!(e.get_str(names::FACILITY), Some("auth"));
        assert_eq!(e.get_str(names::SEVERITY), Some("info"));
        assert_eq!(e.get(names::PID), Some(&Value::Int(24200)));
        assert_eq!(e.get_str(names::PROGRAM), Some("sshd"));
        assert_eq!(e.get_str("user.name"), Some("webmaster"));
    }

    #[test]
    fn years_advance_across_new_year_and_blank_lines_are_not_records() {
        let got = read_with_year("Dec 31 23:59:59 h a: x\n\nJan  1 00:00:01 h a: y\n");
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1].as_ref().unwrap().timestamp.unwrap().to_string(),
            "2025-01-01T00:00:01Z"
        );
    }

    #[test]
    fn the_first_year_never_lies_after_the_file_was_written() {
        let modified: Timestamp = "2024-01-05T00:00:00Z".parse().unwrap();
        let mut years = YearGuess::new(None, Some(modified));
        assert_eq!(years.year_for(12), 2023);
        assert_eq!(years.year_for(1), 2024);
        let mut years = YearGuess::new(None, Some(modified));
        assert_eq!(years.year_for(1), 2024);
    }

    #[test]
    fn bad_lines_are_errors_naming_the_line_and_reading_goes_on() {
        let got = read_with_year(
            "Dec 10 06:55:46 h a: x\nnot syslog at all\nFeb 30 00:00:00 h a: y\nDec 10 06:55:47 h a: z\n",
        );
        assert_eq!(got.len(), 4);
        let err = got[1].as_ref().unwrap_err().to_string();
        assert_eq!(
            err,
            "auth.log: record 2, line 2, offset 0x00000017: not a syslog line: no timestamp: expected '<PRI>', 'Mmm dd hh:mm:ss' or an ISO 8601 date"
        );
        assert!(
            got[2]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("out of range")
        );
        assert!(got[3].is_ok());
    }

    #[test]
    fn structured_data_becomes_fields() {
        let got = read_with_year(
            r#"<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An event"#,
        );
        let e = got[0].as_ref().unwrap();
        assert_eq!(
            e.get_str("log.syslog.structured_data.exampleSDID@32473.iut"),
            Some("3")
        );
        assert_eq!(e.get_str(names::MSGID), Some("ID47"));
        assert_eq!(e.get_str(names::MESSAGE), Some("An event"));
        assert_eq!(e.get_str(names::FACILITY), Some("local4"));
        assert_eq!(e.get_str(names::SEVERITY), Some("notice"));
    }

    #[test]
    fn sniffing_wants_mostly_syslog_lines() {
        assert_eq!(
            SyslogReader
                .sniff(b"Dec 10 06:55:46 LabSZ sshd[1]: a\nDec 10 06:55:47 LabSZ sshd[1]: b\n"),
            60
        );
        assert_eq!(SyslogReader.sniff(b"hello\nworld\n"), 0);
        assert_eq!(SyslogReader.sniff(b"{\"a\":1}\n"), 0);
    }
}
