//! W3C extended log files as IIS writes them (W3C Working Draft WD-logfile-960323; Microsoft
//! Learn, "W3C Logging" for IIS): `#` directives (`#Software:`, `#Version:`, `#Date:`), and a
//! `#Fields:` directive naming the space-separated columns of the lines after it:
//! `#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken`.
//!
//! Columns keep their W3C names, which Sigma's `webserver` rules use; a header column
//! `cs(User-Agent)` is named `cs-user-agent` as Sigma writes it, and IIS's `+` for a space
//! in it is undone. `-` is an empty column and gives no field. Times are UTC, as the format
//! specifies. As for Apache lines, `cs-uri`, the decoded `url.path` and `url.query`,
//! `http.version` and `event.outcome` are added.

use vigil_event::{Event, Fields, Origin, Text, Value};

use super::{names, outcome, url_fields, version_fields};

/// Columns that hold whole numbers.
const NUMERIC: &[&str] = &[
    "s-port",
    "c-port",
    "sc-status",
    "sc-substatus",
    "sc-win32-status",
    "sc-bytes",
    "cs-bytes",
    "time-taken",
];

/// The column names of the lines that follow a `#Fields:` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Columns {
    names: Vec<String>,
}

/// Whether the sampled lines start a W3C extended log: directives, one of them `#Fields:`.
pub(super) fn sniff(lines: &[String]) -> bool {
    lines.first().is_some_and(|l| l.starts_with('#'))
        && lines.iter().any(|l| l.starts_with("#Fields:"))
        && lines
            .iter()
            .any(|l| l.starts_with("#Software:") || l.starts_with("#Version:"))
}

/// Takes in a `#` line: a `#Fields:` directive names the columns from here on; other
/// directives (`#Software:`, `#Date:`, remarks) change nothing.
pub(super) fn directive(text: &str, columns: &mut Option<Columns>) {
    if let Some(list) = text.strip_prefix("Fields:") {
        let names: Vec<String> = list.split_whitespace().map(column_name).collect();
        *columns = (!names.is_empty()).then_some(Columns { names });
    }
}

/// The field name of a column: `cs(User-Agent)` is `cs-user-agent`.
fn column_name(column: &str) -> String {
    if let Some((prefix, header)) = column.split_once('(')
        && let Some(header) = header.strip_suffix(')')
        && !prefix.is_empty()
    {
        return format!("{prefix}-{}", header.to_ascii_lowercase());
    }
    column.to_string()
}

impl Columns {
    /// Parses a line of these columns into an event; the error says what does not fit.
    pub(super) fn event(&self, line: &str, origin: Origin) -> Result<Event, String> {
        let values: Vec<&str> = line.split([' ', '\t']).filter(|v| !v.is_empty()).collect();
        if values.len() != self.names.len() {
            return Err(format!(
                "{} values for the {} columns of #Fields",
                values.len(),
                self.names.len()
            ));
        }
        let mut fields = Fields::with_capacity(self.names.len() + 8);
        let (mut date, mut time) = (None, None);
        for (name, value) in self.names.iter().zip(values) {
            match name.as_str() {
                "date" => date = Some(value),
                "time" => time = Some(value),
                _ => {}
            }
            if value == "-" {
                continue;
            }
            let value = if NUMERIC.contains(&name.as_str()) {
                value
                    .parse::<i64>()
                    .map(Value::Int)
                    .map_err(|_| format!("{name} is not a number: {value}"))?
            } else if name == names::USER_AGENT {
                Value::from(value.replace('+', " "))
            } else {
                Value::from(value)
            };
            fields.insert(name.as_str(), value);
        }
        let timestamp = match (date, time) {
            (Some(date), Some(time)) => Some(
                vigil_event::time::parse_timestamp(
                    &format!("{date}T{time}Z"),
                    &jiff::tz::TimeZone::UTC,
                )
                .map_err(|_| format!("the date and time are not a time: {date} {time}"))?,
            ),
            _ => None,
        };
        derived_fields(&mut fields);
        let host = fields
            .get("s-computername")
            .and_then(Value::as_str)
            .map(Text::from);
        let mut event = Event::with_fields(origin, "webaccess", fields);
        event.variant = Some("w3c");
        event.timestamp = timestamp;
        event.host = host;
        Ok(event)
    }
}

/// What Apache lines get from their request line: the whole target, decoded URL parts,
/// the version, the outcome.
fn derived_fields(fields: &mut Fields) {
    let stem = fields
        .get(names::URI_STEM)
        .and_then(Value::as_str)
        .map(str::to_string);
    let query = fields
        .get(names::URI_QUERY)
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(stem) = &stem {
        if fields.get(names::URI).is_none() {
            let uri = match &query {
                Some(query) => format!("{stem}?{query}"),
                None => stem.clone(),
            };
            fields.insert(names::URI, Value::from(uri));
        }
        url_fields(stem, query.as_deref(), fields);
    }
    if let Some(version) = fields
        .get(names::VERSION)
        .and_then(Value::as_str)
        .map(str::to_string)
    {
        version_fields(&version, fields);
    }
    if let Some(status) = fields.get(names::STATUS).and_then(Value::as_i64) {
        outcome(status, fields);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Input;
    use crate::reader::{ReadOptions, Reader, read_all};

    const LOG: &str = "#Software: Microsoft Internet Information Services 10.0\r\n\
#Version: 1.0\r\n\
#Date: 2024-03-14 09:20:00\r\n\
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n\
2024-03-14 09:20:11 10.20.0.5 GET /owa/auth/x.js a=%27b%27 443 - 203.0.113.45 Mozilla/5.0+(compatible;+Nmap+Scripting+Engine) - 404 0 2 15\r\n\
2024-03-14 09:20:12 10.20.0.5 POST /ecp/DDI/DDIService.svc/GetList - 443 CORP\\alice 203.0.113.45 python-requests/2.31.0 https://mail.example.com/ 200 0 0 230\r\n";

    fn read(text: &str) -> Vec<crate::reader::RecordResult> {
        read_all(
            &super::super::WebAccessReader,
            Input::from_slice("u_ex240314.log", text.as_bytes()),
            &ReadOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn iis_lines_take_their_columns_names() {
        assert_eq!(super::super::WebAccessReader.sniff(LOG.as_bytes()), 90);
        let got = read(LOG);
        assert_eq!(got.len(), 2, "directives are not records");
        let e = got[0].as_ref().unwrap();
        assert_eq!(e.variant, Some("w3c"));
        assert_eq!(e.timestamp.unwrap().to_string(), "2024-03-14T09:20:11Z");
        assert_eq!(e.origin.location.record, Some(1));
        assert_eq!(e.origin.location.line, Some(5));
        assert_eq!(e.get_str("cs-method"), Some("GET"));
        assert_eq!(e.get_str("cs-uri-query"), Some("a=%27b%27"));
        assert_eq!(e.get_str("url.query"), Some("a='b'"));
        assert_eq!(e.get_str("cs-uri"), Some("/owa/auth/x.js?a=%27b%27"));
        assert_eq!(
            e.get_str("cs-user-agent"),
            Some("Mozilla/5.0 (compatible; Nmap Scripting Engine)")
        );
        assert_eq!(e.get("sc-status"), Some(&Value::Int(404)));
        assert_eq!(e.get("s-port"), Some(&Value::Int(443)));
        assert_eq!(e.get("time-taken"), Some(&Value::Int(15)));
        assert_eq!(e.get("cs-username"), None);
        assert_eq!(e.get("cs-referer"), None);
        assert_eq!(e.get_str("event.outcome"), Some("failure"));
        let e = got[1].as_ref().unwrap();
        assert_eq!(e.get_str("cs-username"), Some("CORP\\alice"));
        assert_eq!(e.get_str("cs-referer"), Some("https://mail.example.com/"));
        assert_eq!(e.get("cs-uri-query"), None);
        assert_eq!(e.get_str("event.outcome"), Some("success"));
    }

    #[test]
    fn a_new_fields_directive_changes_the_columns_and_bad_lines_are_errors() {
        let text = format!(
            "{LOG}#Fields: date time c-ip cs-method cs-uri-stem sc-status cs-version s-computername\n\
             2024-03-14 10:00:00 198.51.100.7 GET / 200 HTTP/1.1 WEB01\n\
             2024-03-14 10:00:01 198.51.100.7 GET /\n\
             2024-03-14 10:00:02 198.51.100.7 GET / 2xx HTTP/1.1 WEB01\n\
             2024-13-14 10:00:03 198.51.100.7 GET / 200 HTTP/1.1 WEB01\n"
        );
        let got = read(&text);
        assert_eq!(got.len(), 6);
        let e = got[2].as_ref().unwrap();
        assert_eq!(e.get_str("http.version"), Some("1.1"));
        assert_eq!(e.host.as_deref(), Some("WEB01"));
        let reasons: Vec<String> = got[3..]
            .iter()
            .map(|r| r.as_ref().unwrap_err().to_string())
            .collect();
        assert_eq!(
            reasons,
            [
                "u_ex240314.log: record 4, line 9, offset 0x000002bc: not a valid webaccess record: 5 values for the 8 columns of #Fields",
                "u_ex240314.log: record 5, line 10, offset 0x000002e3: not a valid webaccess record: sc-status is not a number: 2xx",
                "u_ex240314.log: record 6, line 11, offset 0x0000031d: not a valid webaccess record: the date and time are not a time: 2024-13-14 10:00:03",
            ]
        );
    }

    #[test]
    fn column_names_follow_sigma() {
        assert_eq!(column_name("cs(User-Agent)"), "cs-user-agent");
        assert_eq!(column_name("cs(Referer)"), "cs-referer");
        assert_eq!(column_name("sc-status"), "sc-status");
        assert_eq!(column_name("(odd)"), "(odd)");
        let mut columns = None;
        directive("Fields:", &mut columns);
        assert_eq!(columns, None);
        directive("Remark: hello", &mut columns);
        assert_eq!(columns, None);
    }
}
