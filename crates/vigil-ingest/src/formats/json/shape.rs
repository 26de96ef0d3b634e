//! The shapes of JSON event a SOC meets, told apart by their keys, and how each is named.
//!
//! Windows events arrive as JSON in several wrappings; each is mapped to the same Windows
//! names an EVTX file gives ([`crate::windows`]), so one Sigma rule matches all of them.
//! Everything else keeps its own keys, nested objects joined with dots.

use std::borrow::Cow;

use jiff::tz::TimeZone;
use memchr::memmem;
use vigil_event::time::{from_epoch, parse_timestamp};
use vigil_event::{Event, Fields, Text, Timestamp, Value};

use crate::flatten::{Dotted, KeyMap, flatten_json};
use crate::windows::{self, EvtxJson, data_name};

/// A recognised shape of JSON record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `evtx_dump` / `evtx` crate output: `{"Event":{"System":{...},"EventData":{...}}}`.
    EvtxDump,
    /// Winlogbeat or an Elastic Agent Windows document: `winlog.event_data.*`.
    Winlogbeat,
    /// A Wazuh `alerts.json` alert: `rule`, `agent`, `data.win.*` for Windows.
    Wazuh,
    /// A Splunk search export: `{"result":{"_raw":...,"_time":...}}` or bare `_raw`/`_time`.
    Splunk,
    /// Windows events already flattened by NXLog and similar shippers: top-level `EventID`,
    /// `Channel`, `Hostname`, `SourceName`.
    FlatWindows,
    /// An Elastic Common Schema document (`ecs.version`, `@timestamp`).
    Ecs,
    /// Any other object: its keys, nested objects joined with dots.
    Generic,
}

/// The quoted keys shapes are told apart by, each with its searcher built once: building
/// a searcher costs more than running it over a record.
const KEYS: [&str; 14] = [
    "\"@timestamp\"",
    "\"System\"",
    "\"winlog\"",
    "\"rule\"",
    "\"agent\"",
    "\"manager\"",
    "\"decoder\"",
    "\"_raw\"",
    "\"result\"",
    "\"preview\"",
    "\"EventID\"",
    "\"Channel\"",
    "\"SourceName\"",
    "\"ecs\"",
];

static FINDERS: std::sync::LazyLock<Vec<memmem::Finder<'static>>> =
    std::sync::LazyLock::new(|| {
        KEYS.iter()
            .map(|k| memmem::Finder::new(k.as_bytes()))
            .collect()
    });

fn has(bytes: &[u8], needle: &str) -> bool {
    match KEYS.iter().position(|k| *k == needle) {
        Some(i) => FINDERS[i].find(bytes).is_some(),
        None => memmem::find(bytes, needle.as_bytes()).is_some(),
    }
}

/// Whether the record's first key is `"Event"`.
fn starts_with_event_key(bytes: &[u8]) -> bool {
    let rest = bytes.trim_ascii_start();
    rest.strip_prefix(b"{")
        .map(<[u8]>::trim_ascii_start)
        .is_some_and(|r| r.starts_with(b"\"Event\""))
}

impl Shape {
    /// Tells the shape from the record's bytes, before parsing. Key names are matched with
    /// their quotes, so text inside string values (where quotes are escaped) cannot match.
    pub(crate) fn detect(bytes: &[u8]) -> Shape {
        if starts_with_event_key(bytes) && has(bytes, "\"System\"") {
            Shape::EvtxDump
        } else if has(bytes, "\"winlog\"") {
            Shape::Winlogbeat
        } else if has(bytes, "\"rule\"")
            && has(bytes, "\"agent\"")
            && (has(bytes, "\"manager\"") || has(bytes, "\"decoder\""))
        {
            Shape::Wazuh
        } else if has(bytes, "\"_raw\"") || (has(bytes, "\"result\"") && has(bytes, "\"preview\""))
        {
            Shape::Splunk
        } else if has(bytes, "\"EventID\"")
            && (has(bytes, "\"Channel\"") || has(bytes, "\"SourceName\""))
        {
            Shape::FlatWindows
        } else if has(bytes, "\"ecs\"") && has(bytes, "\"@timestamp\"") {
            Shape::Ecs
        } else {
            Shape::Generic
        }
    }

    /// The name reported as the input's variant.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Shape::EvtxDump => "evtx_dump",
            Shape::Winlogbeat => "winlogbeat",
            Shape::Wazuh => "wazuh",
            Shape::Splunk => "splunk",
            Shape::FlatWindows => "windows_flat",
            Shape::Ecs => "ecs",
            Shape::Generic => "generic",
        }
    }

    /// Parses the record into `fields` with this shape's names.
    pub(crate) fn flatten(
        self,
        bytes: &[u8],
        fields: &mut Fields,
    ) -> Result<(), serde_json::Error> {
        match self {
            Shape::EvtxDump => flatten_json(bytes, &EvtxJson, fields),
            Shape::Winlogbeat => flatten_json(bytes, &WinlogbeatKeys, fields),
            Shape::Wazuh => flatten_json(bytes, &WazuhKeys, fields),
            Shape::Splunk => flatten_json(bytes, &SplunkKeys, fields),
            Shape::FlatWindows | Shape::Ecs | Shape::Generic => {
                flatten_json(bytes, &Dotted, fields)
            }
        }
    }

    /// Sets the event's time and host, and evens out the shape's quirks.
    pub(crate) fn finish(self, event: &mut Event, tz: &TimeZone) {
        match self {
            Shape::EvtxDump => windows::set_time_and_host(event, tz),
            Shape::Winlogbeat => {
                windows::coerce_system_numbers(event.fields_mut());
                set_time(event, &["@timestamp", windows::SYSTEM_TIME], tz);
                set_host(event, &[windows::COMPUTER, "host.name", "host.hostname"]);
            }
            Shape::Wazuh => {
                undo_wazuh_escapes(event.fields_mut());
                windows::coerce_system_numbers(event.fields_mut());
                set_time(
                    event,
                    &["timestamp", "@timestamp", windows::SYSTEM_TIME],
                    tz,
                );
                set_host(
                    event,
                    &["agent.name", windows::COMPUTER, "predecoder.hostname"],
                );
            }
            Shape::Splunk => {
                let fields = event.fields_mut();
                if fields
                    .get("sourcetype")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.contains("WinEventLog"))
                {
                    for (from, to) in [
                        ("EventCode", windows::EVENT_ID),
                        ("LogName", windows::CHANNEL),
                        ("ComputerName", windows::COMPUTER),
                        ("SourceName", windows::PROVIDER_NAME),
                        ("RecordNumber", windows::EVENT_RECORD_ID),
                    ] {
                        if fields.get(to).is_none() {
                            fields.rename(from, to);
                        }
                    }
                    windows::coerce_system_numbers(fields);
                }
                set_time(event, &["_time", "timestamp"], tz);
                set_host(event, &["host", windows::COMPUTER]);
            }
            Shape::FlatWindows => {
                let fields = event.fields_mut();
                for (from, to) in [
                    ("SourceName", windows::PROVIDER_NAME),
                    ("Hostname", windows::COMPUTER),
                    ("RecordNumber", windows::EVENT_RECORD_ID),
                ] {
                    if fields.get(to).is_none() {
                        fields.rename(from, to);
                    }
                }
                windows::coerce_system_numbers(fields);
                // `UtcTime` is what Sysmon states, in UTC whatever `--timezone` says;
                // exports often write `TimeCreated` in local time.
                set_time(event, &["UtcTime"], &TimeZone::UTC);
                set_time(event, &["@timestamp", "EventTime", "TimeCreated"], tz);
                set_host(event, &[windows::COMPUTER]);
            }
            Shape::Ecs | Shape::Generic => {
                set_time(event, TIME_FIELDS, tz);
                set_host(event, HOST_FIELDS);
            }
        }
    }
}

/// Where generic records keep their time, most specific first.
const TIME_FIELDS: &[&str] = &[
    "@timestamp",
    "timestamp",
    "eventTime",
    "EventTime",
    "TimeGenerated",
    "published",
    "time",
    "_time",
    "ts",
    "datetime",
    "date",
    "created_at",
    "event.created",
];

/// Where generic records name their host.
const HOST_FIELDS: &[&str] = &[
    "host.name",
    "host.hostname",
    "hostname",
    "HostName",
    "Hostname",
    "Computer",
    "computer_name",
    "host",
    "agent.hostname",
    "device.hostname",
    "observer.hostname",
];

fn timestamp_of(value: &Value, tz: &TimeZone) -> Option<Timestamp> {
    match value {
        Value::Str(text) => parse_timestamp(text, tz)
            .ok()
            .or_else(|| text.parse::<f64>().ok().and_then(|n| from_epoch(n).ok())),
        Value::Int(n) => from_epoch(*n as f64).ok(),
        Value::Float(n) => from_epoch(*n).ok(),
        _ => None,
    }
}

fn set_time(event: &mut Event, names: &[&str], tz: &TimeZone) {
    if event.timestamp.is_some() {
        return;
    }
    event.timestamp = names
        .iter()
        .filter_map(|name| event.get(name))
        .find_map(|value| timestamp_of(value, tz));
}

fn set_host(event: &mut Event, names: &[&str]) {
    if event.host.is_some() {
        return;
    }
    event.host = names
        .iter()
        .filter_map(|name| event.get_str(name))
        .find(|host| !host.is_empty())
        .map(Text::from);
}

/// Winlogbeat's `winlog.*` fields under their Windows names.
struct WinlogbeatKeys;

impl KeyMap for WinlogbeatKeys {
    fn map<'p>(&self, path: &'p str) -> Option<Cow<'p, str>> {
        let Some(rest) = path.strip_prefix("winlog.") else {
            return Some(Cow::Borrowed(path));
        };
        if let Some(name) = rest.strip_prefix("event_data.") {
            return Some(data_name("EventData", Cow::Borrowed(name)));
        }
        if let Some(name) = rest.strip_prefix("user_data.") {
            return Some(data_name("UserData", Cow::Borrowed(name)));
        }
        let known = match rest {
            "event_id" => windows::EVENT_ID,
            "channel" => windows::CHANNEL,
            "computer_name" => windows::COMPUTER,
            "provider_name" => windows::PROVIDER_NAME,
            "provider_guid" => windows::PROVIDER_GUID,
            "record_id" => windows::EVENT_RECORD_ID,
            "process.pid" => windows::PROCESS_ID,
            "process.thread.id" => windows::THREAD_ID,
            "user.identifier" => windows::USER_ID,
            "version" => windows::VERSION,
            _ => return Some(Cow::Borrowed(path)),
        };
        Some(Cow::Borrowed(known))
    }
}

/// Wazuh's `data.win.*` fields under their Windows names. Wazuh lower-cases the first
/// letter of event-data names (`commandLine`); the Windows name is restored.
struct WazuhKeys;

impl KeyMap for WazuhKeys {
    fn map<'p>(&self, path: &'p str) -> Option<Cow<'p, str>> {
        if let Some(name) = path.strip_prefix("data.win.eventdata.") {
            return Some(data_name("EventData", upper_first(name)));
        }
        let Some(name) = path.strip_prefix("data.win.system.") else {
            return Some(Cow::Borrowed(path));
        };
        let known = match name {
            "eventID" => windows::EVENT_ID,
            "channel" => windows::CHANNEL,
            "computer" => windows::COMPUTER,
            "providerName" => windows::PROVIDER_NAME,
            "providerGuid" => windows::PROVIDER_GUID,
            "eventRecordID" => windows::EVENT_RECORD_ID,
            "processID" => windows::PROCESS_ID,
            "threadID" => windows::THREAD_ID,
            "systemTime" => windows::SYSTEM_TIME,
            "securityUserID" => windows::USER_ID,
            "version" => windows::VERSION,
            "level" => windows::LEVEL,
            "task" => windows::TASK,
            "opcode" => windows::OPCODE,
            "keywords" => windows::KEYWORDS,
            "message" => "Message",
            _ => return Some(Cow::Borrowed(path)),
        };
        Some(Cow::Borrowed(known))
    }
}

/// Wazuh escapes the backslashes of Windows event data twice (`C:\\\\Windows`); the
/// Windows fields (bare names: Wazuh's own are dotted) get their single backslashes back, so
/// paths read as in the event log.
fn undo_wazuh_escapes(fields: &mut Fields) {
    for (name, value) in fields.iter_mut() {
        if name.contains('.')
            || matches!(
                name,
                "timestamp" | "id" | "location" | "full_log" | "previous_output"
            )
        {
            continue;
        }
        if let Value::Str(text) = value
            && text.contains("\\\\")
        {
            *text = Text::from(text.replace("\\\\", "\\"));
        }
    }
}

fn upper_first(name: &str) -> Cow<'_, str> {
    match name.chars().next() {
        Some(c) if c.is_ascii_lowercase() => {
            let mut owned = String::with_capacity(name.len());
            owned.push(c.to_ascii_uppercase());
            owned.push_str(&name[1..]);
            Cow::Owned(owned)
        }
        _ => Cow::Borrowed(name),
    }
}

/// A Splunk export's `result` object holds the event's fields.
struct SplunkKeys;

impl KeyMap for SplunkKeys {
    fn map<'p>(&self, path: &'p str) -> Option<Cow<'p, str>> {
        Some(Cow::Borrowed(path.strip_prefix("result.").unwrap_or(path)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_told_apart_by_their_keys() {
        let cases = [
            (r#"{"Event":{"System":{"EventID":1}}}"#, Shape::EvtxDump),
            ("{\n  \"Event\": {\n    \"System\": {}}}", Shape::EvtxDump),
            (
                r#"{"@timestamp":"x","winlog":{"event_id":"4688"}}"#,
                Shape::Winlogbeat,
            ),
            (
                r#"{"rule":{"level":3},"agent":{"name":"a"},"manager":{"name":"m"}}"#,
                Shape::Wazuh,
            ),
            (r#"{"preview":false,"result":{"_raw":"x"}}"#, Shape::Splunk),
            (
                r#"{"EventID":4624,"Channel":"Security","Hostname":"H"}"#,
                Shape::FlatWindows,
            ),
            (r#"{"@timestamp":"x","ecs":{"version":"8.0"}}"#, Shape::Ecs),
            (
                r#"{"msg":"the \"winlog\" word in a value"}"#,
                Shape::Generic,
            ),
        ];
        for (json, shape) in cases {
            assert_eq!(Shape::detect(json.as_bytes()), shape, "{json}");
        }
    }

    #[test]
    fn wazuh_event_data_gets_windows_capitalisation() {
        assert_eq!(
            WazuhKeys.map("data.win.eventdata.commandLine").unwrap(),
            "CommandLine"
        );
        assert_eq!(WazuhKeys.map("data.win.system.eventID").unwrap(), "EventID");
        assert_eq!(WazuhKeys.map("rule.level").unwrap(), "rule.level");
    }

    #[test]
    fn wazuh_double_escaped_windows_paths_are_restored() {
        let mut fields: Fields = [
            ("Image", Value::from(r"C:\\Windows\\System32\\cmd.exe")),
            ("full_log", Value::from(r"a\\b")),
        ]
        .into_iter()
        .collect();
        undo_wazuh_escapes(&mut fields);
        assert_eq!(
            fields.get("Image"),
            Some(&Value::from(r"C:\Windows\System32\cmd.exe"))
        );
        assert_eq!(fields.get("full_log"), Some(&Value::from(r"a\\b")));
    }

    #[test]
    fn winlogbeat_fields_get_windows_names() {
        assert_eq!(
            WinlogbeatKeys
                .map("winlog.event_data.TargetUserName")
                .unwrap(),
            "TargetUserName"
        );
        assert_eq!(WinlogbeatKeys.map("winlog.event_id").unwrap(), "EventID");
        assert_eq!(
            WinlogbeatKeys.map("winlog.event_data.Channel").unwrap(),
            "EventData.Channel"
        );
        assert_eq!(
            WinlogbeatKeys.map("process.command_line").unwrap(),
            "process.command_line"
        );
    }

    #[test]
    fn sysmon_utc_time_ignores_the_local_zone() {
        let mut event = vigil_event::Event::new(vigil_event::Origin::default(), "json");
        event.push("UtcTime", Value::from("2020-10-18 23:50:05.910"));
        event.push("TimeCreated", Value::from("2020-10-18 07:50:06.220"));
        Shape::FlatWindows.finish(&mut event, &TimeZone::fixed(jiff::tz::offset(-8)));
        assert_eq!(
            event.timestamp.unwrap().to_string(),
            "2020-10-18T23:50:05.91Z"
        );
    }
}
