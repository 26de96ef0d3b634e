//! One `<Event>` element into fields, named the way the EVTX reader names them.
//!
//! The `evtx` crate renders a record as JSON where attributes sit under `#attributes`, the
//! text of an element with attributes under `#text`, and each `<Data Name="X">` of
//! `EventData` becomes a key `X`; the EVTX reader then names those JSON paths with
//! [`EvtxJson`]. Here the XML is walked into the same paths and named by the same map, so
//! `Event.System.Provider.#attributes.Name` is `Provider_Name` and `<Data Name="CommandLine">`
//! is `CommandLine` whichever reader saw the event.

use quick_xml::Reader;
use quick_xml::escape::{resolve_predefined_entity, unescape};
use quick_xml::events::{BytesStart, Event as XmlEvent};
use vigil_event::{Fields, Value};

use crate::flatten::KeyMap;
use crate::windows::{self, EvtxJson};

/// An element being read: where its path ended before it, and what it holds so far.
struct Frame {
    /// The length of the path before this element's segment was added.
    parent_len: usize,
    text: String,
    attributes: bool,
    children: bool,
}

/// Reads the `<Event>` element in `xml` into `fields`; the error says what is wrong.
pub(crate) fn parse_event(xml: &str, fields: &mut Fields) -> Result<(), String> {
    let mut reader = Reader::from_str(xml);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    config.expand_empty_elements = false;
    let mut path = String::with_capacity(96);
    let mut stack: Vec<Frame> = Vec::with_capacity(8);
    let mut seen_event = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("at byte {}: {e}", reader.error_position()))?;
        match event {
            XmlEvent::Start(start) => {
                open(&start, &mut path, &mut stack, fields, &mut seen_event)?;
            }
            XmlEvent::Empty(start) => {
                open(&start, &mut path, &mut stack, fields, &mut seen_event)?;
                close(&mut path, &mut stack, fields);
            }
            XmlEvent::End(_) => {
                close(&mut path, &mut stack, fields);
                if stack.is_empty() {
                    break;
                }
            }
            // Text is taken as written: XML's line-end normalization would turn the
            // `\r\n` inside values (`PrivilegeList`, `AccessList`) into `\n`, and the EVTX
            // reader keeps them.
            XmlEvent::Text(text) => {
                if let Some(frame) = stack.last_mut() {
                    frame.text.push_str(&text);
                }
            }
            XmlEvent::CData(text) => {
                if let Some(frame) = stack.last_mut() {
                    frame.text.push_str(&text);
                }
            }
            XmlEvent::GeneralRef(reference) => {
                if let Some(frame) = stack.last_mut() {
                    match reference.resolve_char_ref() {
                        Ok(Some(c)) => frame.text.push(c),
                        Ok(None) => match resolve_predefined_entity(&reference) {
                            Some(text) => frame.text.push_str(text),
                            None => return Err(format!("unknown entity &{};", &*reference)),
                        },
                        Err(e) => return Err(format!("bad character reference: {e}")),
                    }
                }
            }
            XmlEvent::Eof => {
                return Err(if seen_event {
                    "the event ends before </Event>".into()
                } else {
                    "no <Event> element".into()
                });
            }
            XmlEvent::Comment(_) | XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::DocType(_) => {}
        }
    }
    windows::coerce_system_numbers(fields);
    if let Some(value) = fields.get_mut("EventID_Qualifiers") {
        *value = typed("EventID_Qualifiers", std::mem::replace(value, Value::Null));
    }
    Ok(())
}

/// Starts an element: adds its path segment and its attributes.
fn open(
    start: &BytesStart<'_>,
    path: &mut String,
    stack: &mut Vec<Frame>,
    fields: &mut Fields,
    seen_event: &mut bool,
) -> Result<(), String> {
    let qname = start.name();
    let local = start.local_name();
    let name: &str = local.as_ref();
    if stack.is_empty() {
        if name != "Event" || *seen_event {
            return Err(format!("<{}> where <Event> should be", qname.as_ref()));
        }
        *seen_event = true;
    }
    if let Some(parent) = stack.last_mut() {
        parent.children = true;
    }
    let parent_len = path.len();
    // `<Data Name="X">` directly in `EventData` is the field `X`, as the `evtx` crate
    // renders it.
    let data_name = if name == "Data" && path == "Event.EventData" {
        attribute(start, "Name")?
    } else {
        None
    };
    if !path.is_empty() {
        path.push('.');
    }
    match &data_name {
        Some(data) => path.push_str(data),
        None => path.push_str(name),
    }
    let mut attributes = false;
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute in <{name}>: {e}"))?;
        let key: &str = attr.key.as_ref();
        if data_name.is_some() && key == "Name" {
            continue;
        }
        let value =
            unescape(&attr.value).map_err(|e| format!("bad value of {key} in <{name}>: {e}"))?;
        attributes = true;
        let leaf = format!("{path}.#attributes.{key}");
        emit(fields, &leaf, Value::from(value.as_ref()));
    }
    stack.push(Frame {
        parent_len,
        text: String::new(),
        attributes,
        children: false,
    });
    Ok(())
}

/// Ends the innermost element: its text becomes a field, and its segment leaves the path.
fn close(path: &mut String, stack: &mut Vec<Frame>, fields: &mut Fields) {
    let Some(frame) = stack.pop() else {
        return;
    };
    let blank = frame.text.trim().is_empty();
    if frame.children {
        // Whitespace between child elements is layout, not a value.
        if !blank {
            let leaf = format!("{path}.#text");
            emit(fields, &leaf, Value::from(frame.text));
        }
    } else if frame.attributes {
        if !frame.text.is_empty() {
            let leaf = format!("{path}.#text");
            emit(fields, &leaf, Value::from(frame.text));
        }
    } else if frame.text.is_empty() && path.matches('.').count() <= 1 {
        // An empty section (`<EventData/>`).
        emit(fields, path, Value::Null);
    } else {
        // An empty value is an empty string, as EVTX holds it.
        emit_typed(fields, path, Value::from(frame.text));
    }
    path.truncate(frame.parent_len);
}

/// Event-data fields that Windows manifests declare as strings although their values look
/// like numbers or booleans: Security's `IpPort` (4624, 4625), `DestPort` (5156),
/// `PrimaryGroupId`, `AttributeValue` (5136) and `PreAuthType` (4768, 4771), Sysmon's
/// `Signed` (7), `QueryStatus` (22) and `Archived` (23).
const TEXT_FIELDS: &[&str] = &[
    "IpPort",
    "DestPort",
    "PrimaryGroupId",
    "AttributeValue",
    "PreAuthType",
    "Signed",
    "QueryStatus",
    "Archived",
];

/// The value the EVTX reader would give for the field `name`: XML has only text, where EVTX
/// records carry the type of each value. Decimal integers (without leading zeros) become
/// integers and `true`/`false` booleans, which is how `evtx` renders the unsigned, signed
/// and boolean types Windows manifests use; hex numbers (`0x3e7`), GUIDs, SIDs and times
/// stay text, as they do there, and so do the [`TEXT_FIELDS`] and names with a space
/// (Defender's `Threat ID`). Where this still guesses wrong (WFP's `SourcePort` is text in
/// 5156 but Sysmon's is a number), Sigma matches `"80"` and `80` alike.
fn typed(name: &str, value: Value) -> Value {
    let Value::Str(text) = &value else {
        return value;
    };
    if TEXT_FIELDS.contains(&name) || name.contains(' ') {
        return value;
    }
    match text.as_str() {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    let plain = !digits.is_empty()
        && digits.len() <= 19
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if plain && let Ok(number) = text.parse::<i64>() {
        return Value::Int(number);
    }
    value
}

fn emit(fields: &mut Fields, path: &str, value: Value) {
    if let Some(name) = EvtxJson.name(path) {
        fields.append(name, value);
    }
}

/// Emits an element's text, typed as EVTX would type it.
fn emit_typed(fields: &mut Fields, path: &str, value: Value) {
    if let Some(name) = EvtxJson.name(path) {
        let value = typed(&name, value);
        fields.append(name, value);
    }
}

/// The value of attribute `key` of `start`, if it has one.
fn attribute(start: &BytesStart<'_>, key: &str) -> Result<Option<String>, String> {
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute: {e}"))?;
        if attr.key.as_ref() == key {
            let value = unescape(&attr.value).map_err(|e| format!("bad value of {key}: {e}"))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}
