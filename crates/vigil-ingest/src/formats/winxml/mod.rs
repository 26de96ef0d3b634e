//! Windows events exported as XML: `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">`
//! elements one after another (`wevtutil qe Security /f:xml`, `Get-WinEvent | % ToXml`) or
//! inside an `<Events>` element (Event Viewer's "Save Selected Events" as XML), in UTF-8 or
//! UTF-16 with a byte order mark (what Windows PowerShell 5 writes with `>` or `Out-File`).
//!
//! The input is never held whole: [`chunks`] cuts it into one `<Event>...</Event>` at a time,
//! each parsed on its own ([`event`]), so a damaged event is one error and the next event
//! is read as usual. Fields are named exactly as the EVTX reader names them
//! (`EventID`, `Channel`, `Provider_Name`, `TimeCreated_SystemTime`, bare `EventData` names,
//! `UserData` children), so the same Sigma rules match. Each event's location is its index
//! (`record`), the line and the byte offset of its `<Event`; for UTF-16 input, offsets
//! count the bytes of its UTF-8 transcoding.

mod chunks;
mod event;

use vigil_event::{Event, Fields, Location, Origin};

use crate::error::{RecordError, RecordErrorKind, Result};
use crate::input::Input;
use crate::reader::{Emit, ReadOptions, Reader};
use crate::windows;

use chunks::{Chunk, Chunks, Encoding};

/// The namespace of Windows event XML.
const NAMESPACE: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

/// Reads Windows event XML exports.
pub(crate) struct WinXmlReader;

impl Reader for WinXmlReader {
    fn name(&self) -> &'static str {
        "winxml"
    }

    fn description(&self) -> &'static str {
        "Windows events exported as XML (wevtutil /f:xml, Get-WinEvent ToXml, Event Viewer), UTF-8 or UTF-16"
    }

    fn example(&self) -> &'static str {
        r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing"/><EventID>4624</EventID>...</System><EventData><Data Name="TargetUserName">alice</Data>...</EventData></Event>"#
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        let text = chunks::head_text(head);
        let Some(start) = first_element(&text) else {
            return 0;
        };
        let namespaced = text.contains(NAMESPACE);
        let is_event = |name: &str| {
            start
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with([' ', '\t', '\r', '\n', '>', '/']))
        };
        let events = is_event("<Event") || (is_event("<Events") && has_event_tag(&text));
        match (events, namespaced) {
            (true, true) => 95,
            (true, false) => 60,
            (false, _) => 0,
        }
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        let path = input.name().clone();
        let mut input = input;
        let encoding = input.head().map(Encoding::detect).unwrap_or(Encoding::Utf8);
        let mut chunks = Chunks::new(input.into_reader(), encoding, options.max_record_len);
        let mut index = 0u64;
        while let Some(chunk) = chunks.next_chunk() {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => {
                    let _ = emit(Err(RecordError::new(&path, chunks.position(), error)));
                    break;
                }
            };
            index += 1;
            let location = |line: u64, offset: u64| Location {
                record: Some(index),
                line: Some(line),
                offset: Some(offset),
                chunk: None,
            };
            let format_error = |location: Location, reason: String| {
                RecordError::format(&path, location, "winxml", reason)
            };
            let result = match chunk {
                Chunk::Event { text, line, offset } => {
                    let location = location(line, offset);
                    let mut fields = Fields::with_capacity(32);
                    match event::parse_event(&text, &mut fields) {
                        Ok(()) => {
                            let mut event = Event::with_fields(
                                Origin::new(path.clone(), location),
                                "winxml",
                                fields,
                            );
                            windows::set_time_and_host(&mut event, &options.timezone);
                            Ok(event)
                        }
                        Err(reason) => Err(format_error(location, reason)),
                    }
                }
                Chunk::TooLong { len, line, offset } => Err(RecordError::new(
                    &path,
                    location(line, offset),
                    RecordErrorKind::TooLong {
                        len,
                        limit: options.max_record_len,
                    },
                )),
                Chunk::Unterminated { line, offset } => Err(format_error(
                    location(line, offset),
                    "the input ends inside this <Event>".into(),
                )),
            };
            if emit(result).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// Whether `text` holds an `<Event` start tag (not `<Events` or `<EventData`).
fn has_event_tag(text: &str) -> bool {
    text.match_indices("<Event")
        .any(|(at, tag)| text[at + tag.len()..].starts_with([' ', '\t', '\r', '\n', '>', '/']))
}

/// The first element's start in `text` (`<Events ...`), past the XML declaration, comments,
/// processing instructions and whitespace.
fn first_element(text: &str) -> Option<&str> {
    let mut rest = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    loop {
        if let Some(after) = rest.strip_prefix("<?") {
            rest = &after[after.find("?>")? + 2..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if rest.starts_with('<') {
            return Some(rest);
        } else {
            return None;
        }
        rest = rest.trim_start_matches([' ', '\t', '\r', '\n']);
    }
}

#[cfg(test)]
mod tests;
