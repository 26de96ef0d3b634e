//! Microsoft Sentinel / Log Analytics `Syslog` rows: what their `SyslogMessage` carries.
//!
//! Linux hosts send two kinds of security record through the Log Analytics agent: Sysmon
//! for Linux events, whose message is the event's XML (`<Event><System>...</System>
//! <EventData><Data Name="Image">...`), and AUOMS audit records (`type=AUOMS_EXECVE
//! audit(...): key=value ...`, with the `key=value` part also in `EventData`). The XML is
//! read into the names a Windows Sysmon event has (`EventID`, `Image`, `CommandLine`,
//! `ParentImage`, `User`), which are the names Sigma's Linux Sysmon rules use; the audit
//! record's pairs become fields under AUOMS's own names (`exe`, `comm`, `cmdline`). The
//! row's own columns stay; `SyslogMessage` is kept as it was.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event as Xml};
use vigil_event::{Fields, Value};

use crate::windows;

const MESSAGE: &str = "SyslogMessage";

/// Adds the fields of the row's message: Sysmon XML or an AUOMS record. A message that
/// is neither adds nothing; of XML that is malformed or cut short (syslog transports cut
/// long messages), what came before the fault is read.
pub(super) fn read_message(fields: &mut Fields) {
    let Some(message) = fields.get(MESSAGE).and_then(Value::as_str) else {
        return;
    };
    let message = message.trim_start();
    let parsed = if message.starts_with("<Event") {
        sysmon_xml(message)
    } else if let Some(record) = message.strip_prefix("type=AUOMS_") {
        // The pairs follow `audit(time:serial): `; Sentinel also gives them as `EventData`.
        let pairs = fields
            .get("EventData")
            .and_then(Value::as_str)
            .or_else(|| record.split_once("): ").map(|(_, pairs)| pairs))
            .unwrap_or_default();
        audit_pairs(pairs)
    } else {
        return;
    };
    for (name, value) in parsed {
        // The row states `Computer` too; the same value is not repeated.
        if fields.get(&name) != Some(&value) {
            fields.append(name.as_ref(), value);
        }
    }
    windows::coerce_system_numbers(fields);
}

/// Reads a Sysmon event's XML into Windows names: `System` children by their names,
/// their attributes as `Element_Attribute`, and `EventData` items by their `Name`.
fn sysmon_xml(xml: &str) -> Vec<(Cow<'static, str>, Value)> {
    let mut out = Vec::new();
    // A fault ends the reading; the fields before it stay.
    let _ = read_sysmon_xml(xml, &mut out);
    out
}

fn read_sysmon_xml(
    xml: &str,
    out: &mut Vec<(Cow<'static, str>, Value)>,
) -> Result<(), quick_xml::Error> {
    let mut reader = quick_xml::Reader::from_str(xml);
    // The open elements, by local name.
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut data_name: Option<String> = None;
    loop {
        match reader.read_event()? {
            Xml::Start(element) => {
                let name = local_name(&element);
                system_attributes(&path, &name, &element, out)?;
                if in_event_data(&path) && name == "Data" {
                    data_name = attribute(&element, "Name")?;
                }
                path.push(name);
                text.clear();
            }
            Xml::Empty(element) => {
                let name = local_name(&element);
                system_attributes(&path, &name, &element, out)?;
                if in_event_data(&path) && name == "Data" {
                    let name = attribute(&element, "Name")?.unwrap_or_else(|| "Data".into());
                    out.push((data_field(name), Value::Null));
                }
            }
            Xml::Text(content) => text.push_str(&content.xml10_content()),
            Xml::CData(content) => text.push_str(&content.xml10_content()),
            Xml::GeneralRef(reference) => match reference.resolve_char_ref()? {
                Some(c) => text.push(c),
                None => match quick_xml::escape::resolve_predefined_entity(&reference) {
                    Some(entity) => text.push_str(entity),
                    // An entity XML does not define stays as written.
                    None => {
                        text.push('&');
                        text.push_str(&reference);
                        text.push(';');
                    }
                },
            },
            Xml::End(_) => {
                let Some(name) = path.pop() else {
                    continue;
                };
                let value = if text.is_empty() {
                    Value::Null
                } else {
                    Value::from(std::mem::take(&mut text))
                };
                if is_system(&path) {
                    if !value.is_null() {
                        out.push((Cow::Owned(name), value));
                    }
                } else if in_event_data(&path) && name == "Data" {
                    let name = data_name.take().unwrap_or_else(|| "Data".into());
                    out.push((data_field(name), value));
                }
                text.clear();
            }
            Xml::Eof => {
                // A message cut inside an item keeps the part of the value it has.
                if path.len() == 3 && in_event_data(&path[..2]) && !text.is_empty() {
                    let name = data_name.take().unwrap_or_else(|| "Data".into());
                    out.push((data_field(name), Value::from(text)));
                }
                break;
            }
            _ => {}
        }
    }
    Ok(())
}

fn local_name(element: &BytesStart<'_>) -> String {
    element.local_name().as_ref().to_string()
}

fn attribute(element: &BytesStart<'_>, name: &str) -> Result<Option<String>, quick_xml::Error> {
    for attribute in element.attributes() {
        let attribute = attribute.map_err(quick_xml::Error::from)?;
        if attribute.key.local_name().as_ref() == name {
            return Ok(Some(
                attribute
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)?
                    .into_owned(),
            ));
        }
    }
    Ok(None)
}

/// Whether `path` is `Event/System`: its children are the system fields.
fn is_system(path: &[String]) -> bool {
    matches!(path, [event, system] if event == "Event" && system == "System")
}

/// Whether `path` is `Event/EventData`.
fn in_event_data(path: &[String]) -> bool {
    matches!(path, [event, data] if event == "Event" && data == "EventData")
}

/// Names the attributes of a `System` child `Element_Attribute` (`Provider_Name`,
/// `Execution_ProcessID`).
fn system_attributes(
    path: &[String],
    element_name: &str,
    element: &BytesStart<'_>,
    out: &mut Vec<(Cow<'static, str>, Value)>,
) -> Result<(), quick_xml::Error> {
    if !is_system(path) {
        return Ok(());
    }
    for attribute in element.attributes() {
        let attribute = attribute.map_err(quick_xml::Error::from)?;
        let key = attribute.key.local_name();
        let name = match (element_name, key.as_ref()) {
            // Sysmon for Linux writes `UserId`, Windows `UserID`.
            ("Security", "UserId" | "UserID") => Cow::Borrowed(windows::USER_ID),
            (element, key) => Cow::Owned(format!("{element}_{key}")),
        };
        out.push((
            name,
            Value::from(
                attribute
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)?
                    .into_owned(),
            ),
        ));
    }
    Ok(())
}

/// The field name of an `EventData` item: its `Name`, prefixed when it would shadow a
/// `System` field.
fn data_field(name: String) -> Cow<'static, str> {
    match windows::data_name("EventData", Cow::Borrowed(&name)) {
        Cow::Borrowed(_) => Cow::Owned(name),
        Cow::Owned(prefixed) => Cow::Owned(prefixed),
    }
}

/// Reads an audit record's `key=value` pairs. Values may be quoted (`comm="bash"`) or
/// bracketed lists (`path_name=["/a","/b"]`); a bare value runs to the next space, and
/// words that follow it and are no `key=value` belong to it (AUOMS writes `proctitle`
/// unquoted, spaces and all).
fn audit_pairs(text: &str) -> Vec<(Cow<'static, str>, Value)> {
    let mut out: Vec<(Cow<'static, str>, String)> = Vec::new();
    let mut rest = text;
    let mut last_bare = false;
    loop {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            break;
        }
        let key_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let is_key = key_len > 0
            && rest.as_bytes().get(key_len) == Some(&b'=')
            && !rest.as_bytes()[0].is_ascii_digit();
        if !is_key {
            let end = rest.find(' ').unwrap_or(rest.len());
            if last_bare && let Some((_, value)) = out.last_mut() {
                value.push(' ');
                value.push_str(&rest[..end]);
            }
            rest = &rest[end..];
            continue;
        }
        let key = &rest[..key_len];
        let after = &rest[key_len + 1..];
        let (value, used, bare) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], end + 2, false),
                None => (quoted, after.len(), false),
            }
        } else if after.starts_with('[') {
            let end = list_end(after);
            (&after[..end], end, false)
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (&after[..end], end, true)
        };
        out.push((Cow::Owned(key.to_string()), value.to_string()));
        rest = &after[used..];
        last_bare = bare;
    }
    out.into_iter()
        .map(|(name, value)| (name, Value::from(value)))
        .collect()
}

/// The length of the bracketed list at the start of `text` (up to its `]`, quotes
/// respected), or all of `text` when it does not close.
fn list_end(text: &str) -> usize {
    let mut in_quotes = false;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b']' if !in_quotes => return i + 1,
            _ => {}
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSMON: &str = r#"<Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2022-05-11T18:10:29.532000000Z"/><EventRecordID>245790</EventRecordID><Correlation/><Execution ProcessID="1590" ThreadID="1590"/><Channel>Linux-Sysmon/Operational</Channel><Computer>UBUNTU5</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="Image">/usr/bin/bash</Data><Data Name="CommandLine">bash -c "echo &lt;x&gt; &amp;&amp; id"</Data><Data Name="CurrentDirectory"/><Data Name="Channel">odd</Data></EventData></Event>"#;

    fn read(pairs: &[(&str, &str)]) -> Fields {
        let mut fields: Fields = pairs
            .iter()
            .map(|(name, value)| (*name, Value::from(*value)))
            .collect();
        read_message(&mut fields);
        fields
    }

    #[test]
    fn sysmon_xml_gets_windows_names() {
        let fields = read(&[(MESSAGE, SYSMON), ("Computer", "UBUNTU5")]);
        assert_eq!(fields.get("EventID"), Some(&Value::Int(1)));
        assert_eq!(
            fields.get("Provider_Name"),
            Some(&Value::from("Linux-Sysmon"))
        );
        assert_eq!(
            fields.get("Channel"),
            Some(&Value::from("Linux-Sysmon/Operational"))
        );
        assert_eq!(fields.get("Execution_ProcessID"), Some(&Value::Int(1590)));
        assert_eq!(fields.get("Security_UserID"), Some(&Value::from("0")));
        assert_eq!(
            fields.get("TimeCreated_SystemTime"),
            Some(&Value::from("2022-05-11T18:10:29.532000000Z"))
        );
        assert_eq!(fields.get("Image"), Some(&Value::from("/usr/bin/bash")));
        assert_eq!(
            fields.get("CommandLine"),
            Some(&Value::from(r#"bash -c "echo <x> && id""#))
        );
        assert_eq!(fields.get("CurrentDirectory"), Some(&Value::Null));
        // A data item named like a System field keeps its section.
        assert_eq!(fields.get("EventData.Channel"), Some(&Value::from("odd")));
        // The row's `Computer` is not doubled.
        assert_eq!(fields.get("Computer"), Some(&Value::from("UBUNTU5")));
        assert_eq!(fields.get("Correlation"), None);
    }

    #[test]
    fn xml_is_read_up_to_a_fault_and_never_panics() {
        for (xml, fields) in [
            ("<Event><System><EventID>1</EventID></Event>", 2),
            ("<Event><System><Provider Name=\"x/></System></Event>", 1),
            (
                "<Event><EventData><Data Name=\"Image\">&bogus;</Data></EventData></Event>",
                2,
            ),
            ("<Event>\u{0}\u{ff}", 1),
            ("<Event", 1),
            ("<Event><EventData><Data Name=\"Image\">/bin/ba", 2),
        ] {
            let got = read(&[(MESSAGE, xml)]);
            assert_eq!(got.len(), fields, "{xml}: {got:?}");
        }
        let odd = read(&[(
            MESSAGE,
            "<Event><EventData><Data Name=\"Image\">&bogus;&#x41;</Data></EventData></Event>",
        )]);
        assert_eq!(odd.get("Image"), Some(&Value::from("&bogus;A")));
        let cut = read(&[(
            MESSAGE,
            "<Event><System><EventID>1</EventID></System><EventData><Data Name=\"CommandLine\">java -Dx=",
        )]);
        assert_eq!(cut.get("EventID"), Some(&Value::Int(1)));
        assert_eq!(cut.get("CommandLine"), Some(&Value::from("java -Dx=")));
    }

    #[test]
    fn auoms_pairs_keep_quoted_bracketed_and_spaced_values() {
        let data = r#"SchemaVersion="1" syscall=execve success=no comm="http-nio-8080-e" key=auoms,delete path_name=["/a b","/c]"] proctitle=/usr/bin/java -Dx=1 -Djava.util.l redactors= containerid="#;
        let message = format!("type=AUOMS_EXECVE audit(1652292621.986:84138): {data}");
        for fields in [
            read(&[(MESSAGE, &message)]),
            read(&[(MESSAGE, &message), ("EventData", data)]),
        ] {
            assert_eq!(fields.get("SchemaVersion"), Some(&Value::from("1")));
            assert_eq!(fields.get("syscall"), Some(&Value::from("execve")));
            assert_eq!(fields.get("comm"), Some(&Value::from("http-nio-8080-e")));
            assert_eq!(fields.get("key"), Some(&Value::from("auoms,delete")));
            assert_eq!(
                fields.get("path_name"),
                Some(&Value::from(r#"["/a b","/c]"]"#))
            );
            assert_eq!(
                fields.get("proctitle"),
                Some(&Value::from("/usr/bin/java -Dx=1 -Djava.util.l"))
            );
            assert_eq!(fields.get("redactors"), Some(&Value::from("")));
            assert_eq!(fields.get("containerid"), Some(&Value::from("")));
        }
    }

    #[test]
    fn odd_audit_text_never_panics() {
        for text in ["=", "a=\"", "a=[\"", "é=1 ü ", "1=2 x", "a= =b"] {
            let _ = audit_pairs(text);
        }
        assert_eq!(
            audit_pairs("1=2 x=3"),
            vec![(Cow::Borrowed("x"), Value::from("3"))]
        );
    }
}
