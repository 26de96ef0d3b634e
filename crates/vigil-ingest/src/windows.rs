//! How Windows events are named, whatever carried them (EVTX, evtx_dump JSON, Winlogbeat,
//! Wazuh, NXLog): `System` children by their bare names (`EventID`, `Channel`, `Computer`),
//! `System` attributes as `Element_Attribute` (`Provider_Name`, `Execution_ProcessID`), and
//! `EventData`/`UserData` fields by their bare names (`CommandLine`, `TargetUserName`), the
//! way Sigma rules for Windows address them. An `EventData` field that would collide with a
//! `System` name keeps its section as a prefix (`UserData.Channel`).

use std::borrow::Cow;

use jiff::tz::TimeZone;
use vigil_event::{Event, Fields, Text, Value};

use crate::flatten::KeyMap;

/// Field names of the `System` section.
pub(crate) const EVENT_ID: &str = "EventID";
pub(crate) const CHANNEL: &str = "Channel";
pub(crate) const COMPUTER: &str = "Computer";
pub(crate) const PROVIDER_NAME: &str = "Provider_Name";
pub(crate) const PROVIDER_GUID: &str = "Provider_Guid";
pub(crate) const EVENT_RECORD_ID: &str = "EventRecordID";
pub(crate) const SYSTEM_TIME: &str = "TimeCreated_SystemTime";
pub(crate) const PROCESS_ID: &str = "Execution_ProcessID";
pub(crate) const THREAD_ID: &str = "Execution_ThreadID";
pub(crate) const USER_ID: &str = "Security_UserID";
pub(crate) const VERSION: &str = "Version";
pub(crate) const LEVEL: &str = "Level";
pub(crate) const TASK: &str = "Task";
pub(crate) const OPCODE: &str = "Opcode";
pub(crate) const KEYWORDS: &str = "Keywords";

/// Whether `name` is a field of the `System` section, which event data must not shadow.
pub(crate) fn is_system_name(name: &str) -> bool {
    matches!(
        name,
        EVENT_ID
            | CHANNEL
            | COMPUTER
            | PROVIDER_NAME
            | PROVIDER_GUID
            | EVENT_RECORD_ID
            | SYSTEM_TIME
            | PROCESS_ID
            | THREAD_ID
            | USER_ID
            | VERSION
            | LEVEL
            | TASK
            | OPCODE
            | KEYWORDS
            | "Correlation"
            | "Security"
            | "Execution"
            | "Provider"
            | "TimeCreated"
            | "EventID_Qualifiers"
            | "Correlation_ActivityID"
            | "Correlation_RelatedActivityID"
    )
}

/// The name of an event-data field, prefixed with its section when it would shadow a
/// `System` field.
pub(crate) fn data_name<'p>(section: &str, name: Cow<'p, str>) -> Cow<'p, str> {
    if is_system_name(&name) {
        Cow::Owned(format!("{section}.{name}"))
    } else {
        name
    }
}

/// Names the leaves of an event rendered the way the `evtx` crate and `evtx_dump` render it
/// as JSON: `{"Event":{"System":{...},"EventData":{...}}}`, attributes under `#attributes`,
/// element text beside attributes under `#text`.
pub(crate) struct EvtxJson;

impl KeyMap for EvtxJson {
    fn name(&self, path: &str) -> Option<vigil_event::FieldName> {
        // Most leaves are plain `EventData` fields: their name is the key.
        if let Some(rest) = path.strip_prefix("Event.EventData.")
            && !rest.bytes().any(|b| b == b'.' || b == b'#')
            && !is_system_name(rest)
        {
            return Some(vigil_event::FieldName::from(rest));
        }
        self.map(path)
            .map(|name| vigil_event::FieldName::from(name.as_ref()))
    }

    fn map<'p>(&self, path: &'p str) -> Option<Cow<'p, str>> {
        let path = path.strip_prefix("Event.").unwrap_or(path);
        let (section, rest) = path.split_once('.').unwrap_or((path, ""));
        match section {
            // The namespace of the event element.
            "#attributes" => None,
            // `Correlation` and `Security` are leaves only when empty: nothing to keep.
            "System" if matches!(rest, "Correlation" | "Security") => None,
            "System" => Some(system_leaf(rest)),
            "UserData" => {
                // UserData holds one element named after the event; its children are the
                // fields.
                let (root, inner) = rest.split_once('.').unwrap_or((rest, ""));
                if inner.is_empty() {
                    Some(Cow::Owned(format!("UserData.{root}")))
                } else {
                    data_leaf("UserData", inner)
                }
            }
            "RenderingInfo" => data_leaf("RenderingInfo", rest)
                .map(|name| Cow::Owned(format!("RenderingInfo.{name}"))),
            _ if rest.is_empty() => Some(Cow::Borrowed(section)),
            _ => data_leaf(section, rest),
        }
    }
}

/// The name of a leaf under `System`.
fn system_leaf(rest: &str) -> Cow<'_, str> {
    // The common cases, without an allocation.
    let known = match rest {
        "Provider.#attributes.Name" => Some(PROVIDER_NAME),
        "Provider.#attributes.Guid" => Some(PROVIDER_GUID),
        "Provider.#attributes.EventSourceName" => Some("Provider_EventSourceName"),
        "EventID.#text" => Some(EVENT_ID),
        "EventID.#attributes.Qualifiers" => Some("EventID_Qualifiers"),
        "TimeCreated.#attributes.SystemTime" => Some(SYSTEM_TIME),
        "Execution.#attributes.ProcessID" => Some(PROCESS_ID),
        "Execution.#attributes.ThreadID" => Some(THREAD_ID),
        "Security.#attributes.UserID" => Some(USER_ID),
        "Correlation.#attributes.ActivityID" => Some("Correlation_ActivityID"),
        _ => None,
    };
    if let Some(name) = known {
        return Cow::Borrowed(name);
    }
    if let Some((element, attribute)) = split_attribute(rest) {
        return Cow::Owned(format!("{element}_{attribute}"));
    }
    Cow::Borrowed(rest.strip_suffix(".#text").unwrap_or(rest))
}

/// Splits `Element.#attributes.Name` into `("Element", "Name")`. Searches for `#` with
/// `memchr` rather than for the whole pattern, which is slower to set up than to run on
/// names this short.
fn split_attribute(path: &str) -> Option<(&str, &str)> {
    const MARK: &str = "#attributes.";
    let mut from = 0;
    while let Some(offset) = path[from..].find('#') {
        let at = from + offset;
        if at > 0 && path.as_bytes()[at - 1] == b'.' && path[at..].starts_with(MARK) {
            return Some((&path[..at - 1], &path[at + MARK.len()..]));
        }
        from = at + 1;
    }
    None
}

/// The name of a leaf under an event-data section (`EventData`, the `UserData` root).
fn data_leaf<'p>(section: &str, rest: &'p str) -> Option<Cow<'p, str>> {
    let rest = rest.strip_suffix(".#text").unwrap_or(rest);
    if rest == "#text" {
        return Some(Cow::Owned(section.to_string()));
    }
    let name = if let Some(attribute) = rest.strip_prefix("#attributes.") {
        if attribute.starts_with("xmlns") {
            return None;
        }
        Cow::Owned(format!("{section}_{attribute}"))
    } else if let Some((element, attribute)) = split_attribute(rest) {
        if attribute.starts_with("xmlns") {
            return None;
        }
        Cow::Owned(format!("{element}_{attribute}"))
    } else {
        Cow::Borrowed(rest)
    };
    Some(data_name(section, name))
}

/// Gives a Splunk export of Windows events (`sourcetype` `WinEventLog:*`, JSON or CSV) the
/// names an EVTX file has (`EventCode` → `EventID`, `ComputerName` → `Computer`, ...) and
/// integer `System` numbers; other Splunk events are left alone.
pub(crate) fn splunk_windows_names(fields: &mut Fields) {
    if !fields
        .get("sourcetype")
        .and_then(Value::as_str)
        .is_some_and(|s| s.contains("WinEventLog"))
    {
        return;
    }
    for (from, to) in [
        ("EventCode", EVENT_ID),
        ("LogName", CHANNEL),
        ("ComputerName", COMPUTER),
        ("SourceName", PROVIDER_NAME),
        ("RecordNumber", EVENT_RECORD_ID),
    ] {
        if fields.get(to).is_none() {
            fields.rename(from, to);
        }
    }
    coerce_system_numbers(fields);
}

/// Makes the numeric `System` fields integers where a shipper wrote them as strings
/// (`"EventID": "4688"`), so the same event reads the same from every source.
pub(crate) fn coerce_system_numbers(fields: &mut Fields) {
    for name in [
        EVENT_ID,
        EVENT_RECORD_ID,
        VERSION,
        LEVEL,
        TASK,
        OPCODE,
        PROCESS_ID,
        THREAD_ID,
    ] {
        if let Some(value) = fields.get_mut(name)
            && let Value::Str(text) = value
            && let Ok(number) = text.trim().parse::<i64>()
        {
            *value = Value::Int(number);
        }
    }
}

/// Sets the event's host from `Computer` and its time from `TimeCreated_SystemTime`, when
/// they are present and readable.
pub(crate) fn set_time_and_host(event: &mut Event, tz: &TimeZone) {
    if event.timestamp.is_none()
        && let Some(text) = event.get(SYSTEM_TIME).and_then(Value::as_str)
    {
        event.timestamp = vigil_event::time::parse_timestamp(text, tz).ok();
    }
    if event.host.is_none()
        && let Some(computer) = event.get(COMPUTER).and_then(Value::as_str)
        && !computer.is_empty()
    {
        event.host = Some(Text::from(computer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(path: &str) -> Option<String> {
        EvtxJson.map(path).map(Cow::into_owned)
    }

    #[test]
    fn system_fields_take_sigma_names() {
        assert_eq!(name("Event.System.EventID").as_deref(), Some("EventID"));
        assert_eq!(
            name("Event.System.EventID.#text").as_deref(),
            Some("EventID")
        );
        assert_eq!(
            name("Event.System.EventID.#attributes.Qualifiers").as_deref(),
            Some("EventID_Qualifiers")
        );
        assert_eq!(
            name("Event.System.Provider.#attributes.Name").as_deref(),
            Some("Provider_Name")
        );
        assert_eq!(
            name("Event.System.Execution.#attributes.ProcessorID").as_deref(),
            Some("Execution_ProcessorID")
        );
        assert_eq!(name("Event.#attributes.xmlns"), None);
    }

    #[test]
    fn event_data_and_user_data_fields_use_bare_names() {
        assert_eq!(
            name("Event.EventData.CommandLine").as_deref(),
            Some("CommandLine")
        );
        assert_eq!(name("Event.EventData.Data.#text").as_deref(), Some("Data"));
        assert_eq!(
            name("Event.UserData.LogFileCleared.SubjectUserName").as_deref(),
            Some("SubjectUserName")
        );
        assert_eq!(
            name("Event.UserData.LogFileCleared.#attributes.xmlns"),
            None
        );
        assert_eq!(
            name("Event.UserData.LogFileCleared.Channel").as_deref(),
            Some("UserData.Channel")
        );
        assert_eq!(
            name("Event.RenderingInfo.Message").as_deref(),
            Some("RenderingInfo.Message")
        );
    }

    #[test]
    fn the_fast_path_names_like_the_full_rules() {
        for path in [
            "Event.EventData.CommandLine",
            "Event.EventData.Channel",
            "Event.EventData.Data.#text",
            "Event.EventData.Data.#attributes.Name",
            "Event.System.Provider.#attributes.Name",
            "Event.System.Foo.#attributes.Bar",
            "Event.UserData.X.#attributes.xmlns",
        ] {
            let slow = EvtxJson.map(path).map(Cow::into_owned);
            let fast = EvtxJson.name(path).map(|n| n.to_string());
            assert_eq!(slow, fast, "{path}");
        }
        assert_eq!(split_attribute("A#b.#attributes.C"), Some(("A#b", "C")));
        assert_eq!(split_attribute("A.#text"), None);
    }

    #[test]
    fn string_numbers_in_system_fields_become_integers() {
        let mut fields: Fields = [
            ("EventID", Value::from("4688")),
            ("Keywords", Value::from("0x8020000000000000")),
            ("CommandLine", Value::from("42")),
        ]
        .into_iter()
        .collect();
        coerce_system_numbers(&mut fields);
        assert_eq!(fields.get("EventID"), Some(&Value::Int(4688)));
        assert_eq!(
            fields.get("Keywords"),
            Some(&Value::from("0x8020000000000000"))
        );
        assert_eq!(fields.get("CommandLine"), Some(&Value::from("42")));
    }
}
