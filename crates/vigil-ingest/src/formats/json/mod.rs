//! JSON events: JSON Lines, JSON arrays, streams of (pretty-printed) objects and AWS
//! `{"Records":[...]}` files, with the shape of each record detected ([`shape::Shape`]):
//! Windows events from `evtx_dump`, Winlogbeat, Wazuh, Splunk exports, NXLog-style flat
//! Windows JSON; the SIEM sources Zeek, Suricata EVE, AWS CloudTrail, Entra ID sign-in and
//! audit logs, Okta, Google Cloud audit logs, CrowdStrike Falcon and Sentinel `Syslog`
//! rows; Elastic ECS documents; and any other object kept as flat fields. The shape is the
//! event's variant.

mod azure;
mod sentinel;
mod shape;
mod split;
mod zeek;

use vigil_event::{Event, Fields, Location, Origin};

use crate::error::{RecordError, RecordErrorKind, Result};
use crate::flatten::json_kind;
use crate::input::Input;
use crate::reader::{Emit, ReadOptions, Reader, RecordResult};
use shape::Shape;
use split::{Piece, Raw, Splitter, is_record_separator};

/// Reads JSON Lines, JSON arrays and object streams.
pub(crate) struct JsonReader;

impl Reader for JsonReader {
    fn name(&self) -> &'static str {
        "json"
    }

    fn description(&self) -> &'static str {
        "JSON Lines or arrays of events: Windows (evtx_dump, Winlogbeat, NXLog), Zeek, Suricata EVE, CloudTrail, Entra ID, Okta, GCP audit, CrowdStrike Falcon, Sentinel Syslog, Wazuh, Splunk, Elastic ECS, any object"
    }

    fn example(&self) -> &'static str {
        r#"{"@timestamp":"2024-05-01T10:00:00Z","winlog":{"event_id":"4625","channel":"Security"}}"#
    }

    fn sniff(&self, head: &[u8]) -> u8 {
        let text = head
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(head)
            .trim_ascii_start();
        match text.first() {
            Some(b'{') => 70,
            Some(b'[') if text[1..].trim_ascii_start().first() == Some(&b'{') => 70,
            // `evtx_dump` without `-o jsonl` writes `Record N` before each record.
            _ if text.starts_with(b"Record ") && text.contains(&b'{') => 60,
            _ => 0,
        }
    }

    fn read(&self, input: Input<'_>, options: &ReadOptions, emit: &mut Emit<'_>) -> Result<()> {
        let path = input.name().clone();
        let mut index = 0u64;
        let mut splitter = Splitter::new(input.into_reader(), options.max_record_len);
        while let Some(piece) = splitter.next() {
            let piece = match piece {
                Ok(piece) => piece,
                Err(e) => {
                    // The rest of the input cannot be read (a truncated archive member, a
                    // failing disk): one error says where reading stopped.
                    let _ = emit(Err(RecordError::new(&path, splitter.position(), e)));
                    break;
                }
            };
            let result = match piece {
                Piece::Record(raw) => {
                    index += 1;
                    to_event(&raw, index, &path, options)
                }
                Piece::Error(raw, _) if is_record_separator(&raw.bytes) => continue,
                Piece::Error(raw, kind) => {
                    index += 1;
                    Err(RecordError::new(&path, location(&raw, index), kind))
                }
            };
            if emit(result).is_break() {
                break;
            }
        }
        Ok(())
    }
}

fn location(raw: &Raw, index: u64) -> Location {
    Location {
        record: Some(index),
        line: Some(raw.line),
        offset: Some(raw.offset),
        chunk: None,
    }
}

fn to_event(
    raw: &Raw,
    index: u64,
    path: &vigil_event::SourcePath,
    options: &ReadOptions,
) -> RecordResult {
    let location = location(raw, index);
    let shape = Shape::detect(&raw.bytes);
    let mut fields = Fields::with_capacity(32);
    if let Err(error) = shape.flatten(&raw.bytes, &mut fields) {
        let kind = match json_kind(&raw.bytes) {
            "an object" => RecordErrorKind::Json(error),
            other => RecordErrorKind::NotAnObject(other),
        };
        return Err(RecordError::new(path, location, kind));
    }
    let mut event = Event::with_fields(Origin::new(path.clone(), location), "json", fields);
    event.variant = Some(shape.name());
    shape.finish(&mut event, &options.timezone);
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::read_all;
    use vigil_event::Value;

    fn read(text: &str) -> Vec<RecordResult> {
        read_all(
            &JsonReader,
            Input::from_slice("t.json", text.as_bytes()),
            &ReadOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn every_record_is_an_event_or_an_error_naming_its_line() {
        let got = read("{\"a\":1}\n[1]\n{\"b\":\n{\"c\":true}\n");
        assert_eq!(got.len(), 4);
        assert!(got[0].is_ok());
        let e1 = got[1].as_ref().unwrap_err().to_string();
        assert_eq!(
            e1,
            "t.json: record 2, line 2, offset 0x00000008: expected a JSON object, found an array"
        );
        let e2 = got[2].as_ref().unwrap_err().to_string();
        assert!(
            e2.starts_with("t.json: record 3, line 3, offset 0x0000000c: invalid JSON: EOF"),
            "{e2}"
        );
        assert_eq!(got[3].as_ref().unwrap().get("c"), Some(&Value::Bool(true)));
    }

    #[test]
    fn a_broken_record_in_a_records_file_costs_that_record_only() {
        let text = "{\"Records\": [\n  {\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\",\"eventID\":\"a\",\"eventTime\":\"2024-03-12T10:00:00Z\"},\n  {\"eventVersion\": tru},\n  {\"eventVersion\":\"1.08\",\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"CreateUser\",\"eventID\":\"b\"}\n]}\n";
        let got = read(text);
        assert_eq!(got.len(), 3);
        let first = got[0].as_ref().unwrap();
        assert_eq!(first.variant, Some("cloudtrail"));
        assert_eq!(first.timestamp.unwrap().to_string(), "2024-03-12T10:00:00Z");
        let error = got[1].as_ref().unwrap_err().to_string();
        assert!(
            error.starts_with("t.json: record 2, line 3, offset 0x00000095: invalid JSON"),
            "{error}"
        );
        let third = got[2].as_ref().unwrap();
        assert_eq!(third.get_str("eventName"), Some("CreateUser"));
        assert_eq!(third.origin.location.record, Some(3));
        assert_eq!(third.origin.location.line, Some(4));
    }

    /// Reads `text`, a JSON array (or `Records` wrapper) of two records whose closing bracket
    /// is missing: both records come out, then an error at `end` saying `unclosed`; with a
    /// third record cut mid-way, that record's error at `cut` comes before it.
    fn assert_cut_array(text: &str, end: &str, cut: &str, unclosed: &str) {
        let got = read(text);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(
            got[0].as_ref().unwrap().get_str("eventName"),
            Some("GetObject")
        );
        assert_eq!(
            got[1].as_ref().unwrap().get_str("eventName"),
            Some("CreateUser")
        );
        let error = got[2].as_ref().unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "t.json: record 3, line 3, offset {end}: incomplete JSON value: {unclosed}: the input ends inside it (truncated?)"
            )
        );
        let got = read(&format!("{text},\n  {{\"eventName\":\"Del"));
        assert_eq!(got.len(), 4, "{got:?}");
        let error = got[2].as_ref().unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("t.json: record 3, line 4, offset {cut}: incomplete JSON value: the input ends inside the record")),
            "{error}"
        );
        assert!(got[3].as_ref().unwrap_err().to_string().contains(unclosed));
    }

    #[test]
    fn a_truncated_records_file_keeps_its_records_and_says_it_is_cut() {
        assert_cut_array(
            "{\"Records\": [\n  {\"eventName\":\"GetObject\",\"eventSource\":\"s3.amazonaws.com\"},\n  {\"eventName\":\"CreateUser\",\"eventSource\":\"iam.amazonaws.com\"}",
            "0x0000008a",
            "0x0000008e",
            "the Records array is not closed",
        );
    }

    #[test]
    fn a_truncated_array_keeps_its_records_and_says_it_is_cut() {
        let text = "[\n  {\"eventName\":\"GetObject\"},\n  {\"eventName\":\"CreateUser\"}";
        assert_cut_array(text, "0x0000003b", "0x0000003f", "the array is not closed");
        // Closed, it has no such error.
        let got = read(&format!("{text}\n]\n"));
        assert!(got.iter().all(|r| r.is_ok()), "{got:?}");
    }

    #[test]
    fn generic_records_find_their_time_and_host() {
        let got = read(r#"[{"ts":1600000000.25,"host":{"name":"web1"},"msg":"x"}]"#);
        let e = got[0].as_ref().unwrap();
        assert_eq!(e.variant, Some("generic"));
        assert_eq!(e.timestamp.unwrap().to_string(), "2020-09-13T12:26:40.25Z");
        assert_eq!(e.host.as_deref(), Some("web1"));
    }

    #[test]
    fn sniffing_wants_an_object_first() {
        assert_eq!(JsonReader.sniff(b"  {\"a\":1}"), 70);
        assert_eq!(JsonReader.sniff(b"\xEF\xBB\xBF[\n {\"a\":1}]"), 70);
        assert_eq!(JsonReader.sniff(b"[1,2]"), 0);
        assert_eq!(JsonReader.sniff(b"Dec 10 06:55:46 host sshd[1]: x"), 0);
        assert_eq!(JsonReader.sniff(b"Record 1\n{\"Event\":{}}"), 60);
    }
}
