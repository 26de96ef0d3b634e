//! The shapes of JSON event a SOC meets, told apart by their keys, and how each is named.
//!
//! Windows events arrive as JSON in several wrappings; each is mapped to the same Windows
//! names an EVTX file gives ([`crate::windows`]), so one Sigma rule matches all of them.
//! The SIEM sources (Zeek, Suricata, CloudTrail, Entra ID, Okta, Google Cloud, Falcon,
//! Sentinel) keep the vendor's own names, nested objects joined with dots, which are the
//! names their Sigma rules use; each shape knows where its source keeps the time and the
//! host. Everything else keeps its own keys, nested objects joined with dots.

use std::borrow::Cow;

use jiff::tz::TimeZone;
use memchr::memmem;
use vigil_event::time::{from_epoch, from_epoch_int, parse_timestamp};
use vigil_event::{Event, Fields, Text, Timestamp, Value};

use crate::flatten::{Dotted, KeyMap, flatten_json};
use crate::windows::{self, EvtxJson, data_name};

use super::{azure, sentinel, zeek};

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
    /// A Microsoft Sentinel / Log Analytics `Syslog` row: `SyslogMessage`, `Computer`,
    /// `Facility`; Sysmon for Linux XML and AUOMS audit records in the message are read.
    SentinelSyslog,
    /// An AWS CloudTrail record: `eventVersion`, `eventSource`, `eventName`, `eventID`.
    CloudTrail,
    /// A CrowdStrike Falcon event: Falcon Data Replicator (`event_simpleName`, `aid`) or the
    /// Streaming API (`metadata.eventType`, `metadata.eventCreationTime`, `event.*`).
    Falcon,
    /// An Okta System Log event: `eventType`, `published`, `actor`, `outcome`.
    Okta,
    /// A Google Cloud audit log entry (also Google Workspace through Cloud Logging):
    /// `protoPayload` of type `google.cloud.audit.AuditLog`.
    GcpAudit,
    /// A Microsoft Entra ID (Azure AD) audit log record, from Azure Monitor
    /// (`properties.activityDisplayName`) or Microsoft Graph (`activityDisplayName`).
    AzureAudit,
    /// A Microsoft Entra ID (Azure AD) sign-in, from Azure Monitor
    /// (`properties.createdDateTime`) or Microsoft Graph (`createdDateTime`).
    AzureSignin,
    /// A Suricata `eve.json` record: `event_type`, `src_ip`, `dest_ip`, `flow_id`.
    Suricata,
    /// A Zeek log record in JSON: `_path`, `ts`, `id.orig_h`, or the SimpleRock/Elastic
    /// flavour with `@stream` and `id_orig_h`.
    Zeek,
    /// An Elastic Common Schema document (`ecs.version`, `@timestamp`).
    Ecs,
    /// Any other object: its keys, nested objects joined with dots.
    Generic,
}

/// Declares the quoted keys shapes are told apart by, each with its searcher built once:
/// building a searcher costs more than running it over a record.
macro_rules! keys {
    ($($field:ident = $key:literal,)*) => {
        struct Keys {
            $($field: memmem::Finder<'static>,)*
        }

        static KEYS: std::sync::LazyLock<Keys> = std::sync::LazyLock::new(|| Keys {
            $($field: memmem::Finder::new(concat!("\"", $key, "\"").as_bytes()),)*
        });
    };
}

keys! {
    at_timestamp = "@timestamp",
    system = "System",
    winlog = "winlog",
    rule = "rule",
    agent = "agent",
    manager = "manager",
    decoder = "decoder",
    raw = "_raw",
    result = "result",
    preview = "preview",
    event_id = "EventID",
    channel = "Channel",
    source_name = "SourceName",
    ecs = "ecs",
    syslog_message = "SyslogMessage",
    event_version = "eventVersion",
    event_source = "eventSource",
    aws_event_id = "eventID",
    event_simple_name = "event_simpleName",
    event_creation_time = "eventCreationTime",
    event_type = "eventType",
    published = "published",
    actor = "actor",
    proto_payload = "protoPayload",
    service_name = "serviceName",
    activity_display_name = "activityDisplayName",
    initiated_by = "initiatedBy",
    target_resources = "targetResources",
    created_date_time = "createdDateTime",
    app_display_name = "appDisplayName",
    suricata_event_type = "event_type",
    src_ip = "src_ip",
    flow_id = "flow_id",
    ts = "ts",
    path = "_path",
    stream = "@stream",
    orig_h = "id.orig_h",
    orig_h_flat = "id_orig_h",
    suricata = "suricata",
    crowdstrike = "crowdstrike",
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
    ///
    /// Wrappers come first (a Wazuh alert or a Splunk result may carry any vendor's
    /// fields), then Windows, then the vendors by the keys only they write, and the
    /// Elastic Common Schema last: a shipper that adds `@timestamp` or `ecs` to a
    /// CloudTrail record leaves it a CloudTrail record. An Elastic integration's document
    /// nests the vendor's keys under the integration's name (`suricata.eve.event_type`,
    /// `crowdstrike.metadata.eventType`); where those keys keep their spelling, that name
    /// tells the document from the vendor's own record.
    pub(crate) fn detect(bytes: &[u8]) -> Shape {
        let k = &*KEYS;
        let has = |finder: &memmem::Finder<'_>| finder.find(bytes).is_some();
        if starts_with_event_key(bytes) && has(&k.system) {
            Shape::EvtxDump
        } else if has(&k.winlog) {
            Shape::Winlogbeat
        } else if has(&k.rule) && has(&k.agent) && (has(&k.manager) || has(&k.decoder)) {
            Shape::Wazuh
        } else if has(&k.raw) || (has(&k.result) && has(&k.preview)) {
            Shape::Splunk
        } else if has(&k.event_id) && (has(&k.channel) || has(&k.source_name)) {
            Shape::FlatWindows
        } else if has(&k.syslog_message) {
            Shape::SentinelSyslog
        } else if has(&k.event_version) && has(&k.event_source) && has(&k.aws_event_id) {
            Shape::CloudTrail
        } else if (has(&k.event_simple_name) || (has(&k.event_creation_time) && has(&k.event_type)))
            && !has(&k.crowdstrike)
        {
            Shape::Falcon
        } else if has(&k.event_type) && has(&k.published) && has(&k.actor) {
            Shape::Okta
        } else if has(&k.proto_payload) && has(&k.service_name) {
            Shape::GcpAudit
        } else if has(&k.activity_display_name)
            && (has(&k.initiated_by) || has(&k.target_resources))
        {
            Shape::AzureAudit
        } else if has(&k.created_date_time) && has(&k.app_display_name) {
            Shape::AzureSignin
        } else if has(&k.suricata_event_type)
            && (has(&k.src_ip) || has(&k.flow_id))
            && !has(&k.suricata)
        {
            Shape::Suricata
        } else if has(&k.ts)
            && (has(&k.path) || has(&k.stream) || has(&k.orig_h) || has(&k.orig_h_flat))
        {
            Shape::Zeek
        } else if has(&k.ecs) && has(&k.at_timestamp) {
            Shape::Ecs
        } else {
            Shape::Generic
        }
    }

    /// The name reported as the input's variant. These names are a contract: taxonomy
    /// files and users' own mappings select events by them.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Shape::EvtxDump => "evtx_dump",
            Shape::Winlogbeat => "winlogbeat",
            Shape::Wazuh => "wazuh",
            Shape::Splunk => "splunk",
            Shape::FlatWindows => "windows_flat",
            Shape::SentinelSyslog => "sentinel_syslog",
            Shape::CloudTrail => "cloudtrail",
            Shape::Falcon => "falcon",
            Shape::Okta => "okta",
            Shape::GcpAudit => "gcp_audit",
            Shape::AzureAudit => "azure_audit",
            Shape::AzureSignin => "azure_signin",
            Shape::Suricata => "suricata",
            Shape::Zeek => "zeek",
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
            Shape::Zeek => flatten_json(bytes, &zeek::ZeekKeys, fields),
            Shape::FlatWindows
            | Shape::SentinelSyslog
            | Shape::CloudTrail
            | Shape::Falcon
            | Shape::Okta
            | Shape::GcpAudit
            | Shape::AzureAudit
            | Shape::AzureSignin
            | Shape::Suricata
            | Shape::Ecs
            | Shape::Generic => flatten_json(bytes, &Dotted, fields),
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
                windows::splunk_windows_names(event.fields_mut());
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
            Shape::SentinelSyslog => {
                sentinel::read_message(event.fields_mut());
                // Sysmon's `UtcTime` is when it happened; `TimeGenerated` when the agent
                // collected it.
                set_time(event, &["UtcTime"], &TimeZone::UTC);
                set_time(event, &["TimeGenerated", "EventTime", "@timestamp"], tz);
                set_host(event, &["Computer", "HostName"]);
            }
            Shape::CloudTrail => {
                // Logstash and Elastic exports replace `eventTime` with `@timestamp`.
                set_time(event, &["eventTime", "@timestamp"], tz);
            }
            Shape::Falcon => {
                // `ContextTimeStamp` is when it happened on the sensor, `timestamp` when
                // the cloud received it.
                set_time(
                    event,
                    &[
                        "ContextTimeStamp",
                        "timestamp",
                        "metadata.eventCreationTime",
                        "event.ProcessStartTime",
                        "@timestamp",
                    ],
                    tz,
                );
                set_host(
                    event,
                    &["ComputerName", "event.ComputerName", "event.Hostname"],
                );
            }
            Shape::Okta => set_time(event, &["published", "@timestamp"], tz),
            Shape::GcpAudit => {
                set_time(event, &["timestamp", "receiveTimestamp", "@timestamp"], tz)
            }
            Shape::AzureAudit => set_time(
                event,
                &["time", "properties.activityDateTime", "activityDateTime"],
                tz,
            ),
            Shape::AzureSignin => {
                azure::add_status(event.fields_mut());
                set_time(
                    event,
                    &[
                        "time",
                        "properties.createdDateTime",
                        "createdDateTime",
                        "@timestamp",
                    ],
                    tz,
                );
            }
            Shape::Suricata => {
                set_time(event, &["timestamp", "@timestamp"], tz);
                // The sensor's name, when `sensor-name` is configured.
                set_host(event, &["host"]);
            }
            Shape::Zeek => {
                set_time(event, &["ts", "_write_ts", "@timestamp"], tz);
                // The sensor that wrote the log.
                set_host(event, &["_system_name", "@system"]);
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
            .or_else(|| epoch_text(text))
            .or_else(|| text.parse::<f64>().ok().and_then(|n| from_epoch(n).ok())),
        Value::Int(n) => from_epoch_int(*n).ok(),
        // The shortest digits that give the float back (`1588205198.89971`), read exactly,
        // so the time has the digits the source wrote and no binary rounding.
        Value::Float(n) => epoch_text(&n.to_string()).or_else(|| from_epoch(*n).ok()),
        _ => None,
    }
}

/// Reads an epoch time written in decimal (`1580000000123`, `1588205198.899710`) exactly,
/// in the unit its whole part's size suggests (seconds, or milli-, micro- or nanoseconds
/// as [`from_epoch_int`] tells them apart).
fn epoch_text(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let unit: i128 = match whole {
        100_000_000_000_000_000.. => 1,
        100_000_000_000_000.. => 1_000,
        100_000_000_000.. => 1_000_000,
        _ => 1_000_000_000,
    };
    let mut nanos = i128::from(whole) * unit;
    let mut scale = unit;
    for digit in fraction.bytes() {
        scale /= 10;
        if scale == 0 {
            break;
        }
        nanos += i128::from(digit - b'0') * scale;
    }
    if negative {
        nanos = -nanos;
    }
    Timestamp::from_nanosecond(nanos).ok()
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
            (
                r#"{"TimeGenerated":"x","Computer":"h","SyslogMessage":"m"}"#,
                Shape::SentinelSyslog,
            ),
            (
                r#"{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"1"}"#,
                Shape::CloudTrail,
            ),
            (
                r#"{"event_simpleName":"ProcessRollup2","aid":"a","timestamp":"1"}"#,
                Shape::Falcon,
            ),
            (
                r#"{"metadata":{"eventType":"DetectionSummaryEvent","eventCreationTime":1},"event":{}}"#,
                Shape::Falcon,
            ),
            (
                r#"{"actor":{},"eventType":"user.session.start","published":"x"}"#,
                Shape::Okta,
            ),
            (
                r#"{"protoPayload":{"serviceName":"storage.googleapis.com"},"logName":"x"}"#,
                Shape::GcpAudit,
            ),
            (
                r#"{"properties":{"activityDisplayName":"Add user","initiatedBy":{}}}"#,
                Shape::AzureAudit,
            ),
            (
                r#"{"createdDateTime":"x","appDisplayName":"Office 365","status":{}}"#,
                Shape::AzureSignin,
            ),
            (
                r#"{"timestamp":"x","event_type":"dns","src_ip":"10.0.0.1"}"#,
                Shape::Suricata,
            ),
            (r#"{"_path":"conn","ts":1.5,"uid":"C1"}"#, Shape::Zeek),
            (
                r#"{"@stream":"dns","ts":1.5,"id_orig_h":"10.0.0.1"}"#,
                Shape::Zeek,
            ),
            (r#"{"ts":1.5,"id.orig_h":"10.0.0.1"}"#, Shape::Zeek),
        ];
        for (json, shape) in cases {
            assert_eq!(Shape::detect(json.as_bytes()), shape, "{json}");
        }
    }

    #[test]
    fn vendor_keys_win_over_the_shipper_s_and_wrappers_over_vendors() {
        // A CloudTrail record a shipper stamped with `@timestamp` and `ecs` stays CloudTrail.
        let cloudtrail = r#"{"@timestamp":"x","ecs":{"version":"8"},"eventVersion":"1.05","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","eventID":"e"}"#;
        assert_eq!(Shape::detect(cloudtrail.as_bytes()), Shape::CloudTrail);
        // A Wazuh alert about a Suricata record is a Wazuh alert.
        let wazuh = r#"{"rule":{},"agent":{},"manager":{},"data":{"event_type":"alert","src_ip":"1.2.3.4","flow_id":1}}"#;
        assert_eq!(Shape::detect(wazuh.as_bytes()), Shape::Wazuh);
        // An ECS document that keeps the vendor's record only as escaped text is ECS.
        let ecs = r#"{"@timestamp":"x","ecs":{},"event":{"original":"{\"eventType\":\"user.session.start\",\"published\":\"x\",\"actor\":{}}"}}"#;
        assert_eq!(Shape::detect(ecs.as_bytes()), Shape::Ecs);
        // A Sentinel row of Windows events (`EventID`, `Channel`) is Windows.
        let windows = r#"{"EventID":4688,"Channel":"Security","Computer":"h","TimeGenerated":"x"}"#;
        assert_eq!(Shape::detect(windows.as_bytes()), Shape::FlatWindows);
        // Elastic's integrations keep some vendor keys, nested under their own name.
        let filebeat_suricata =
            r#"{"@timestamp":"x","ecs":{},"suricata":{"eve":{"event_type":"alert","flow_id":1}}}"#;
        assert_eq!(Shape::detect(filebeat_suricata.as_bytes()), Shape::Ecs);
        let agent_falcon = r#"{"@timestamp":"x","ecs":{},"crowdstrike":{"metadata":{"eventType":"DetectionSummaryEvent","eventCreationTime":1}}}"#;
        assert_eq!(Shape::detect(agent_falcon.as_bytes()), Shape::Ecs);
        // S3 notifications share CloudTrail's first keys but have no `eventID`.
        let s3 = r#"{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{}}"#;
        assert_eq!(Shape::detect(s3.as_bytes()), Shape::Generic);
    }

    #[test]
    fn epoch_times_are_read_exactly_in_their_unit() {
        let utc = |value: Value| timestamp_of(&value, &TimeZone::UTC).map(|t| t.to_string());
        assert_eq!(
            utc(Value::Float(1588205198.89971)).as_deref(),
            Some("2020-04-30T00:06:38.89971Z")
        );
        assert_eq!(
            utc(Value::from("1580000000123")).as_deref(),
            Some("2020-01-26T00:53:20.123Z")
        );
        assert_eq!(
            utc(Value::from("1580000000.123456")).as_deref(),
            Some("2020-01-26T00:53:20.123456Z")
        );
        assert_eq!(
            utc(Value::Int(1_580_000_000_123)).as_deref(),
            Some("2020-01-26T00:53:20.123Z")
        );
        assert_eq!(
            utc(Value::from("2018-03-19T05:03:34.271385+0000")).as_deref(),
            Some("2018-03-19T05:03:34.271385Z")
        );
        assert_eq!(
            utc(Value::from("-1.5")).as_deref(),
            Some("1969-12-31T23:59:58.5Z")
        );
        assert_eq!(utc(Value::from("12a")), None);
        assert_eq!(utc(Value::from("1e400")), None);
        assert_eq!(utc(Value::Bool(true)), None);
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
