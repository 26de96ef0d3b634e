//! The wire formats shippers send to a collector, split into records before any reader
//! sees them: Elasticsearch bulk NDJSON, Splunk HTTP Event Collector events, and syslog
//! over TCP framed by octet counting or by newlines (RFC 6587). Every function here takes
//! untrusted bytes: none panics, each error names the line or the event.

use serde_json::Value;

/// One item of a bulk request, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkItem {
    /// A document to keep (an `index` or `create` action and the object after it).
    Document {
        /// `index` or `create`.
        action: String,
        /// The action's `_index`, else the request's.
        index: String,
        /// The document.
        document: Value,
    },
    /// An item refused alone (an `update` or `delete`, or a document that is not a JSON
    /// object), as Elasticsearch answers a failed item.
    Refused {
        /// The action.
        action: String,
        /// The index.
        index: String,
        /// Why, naming the line.
        reason: String,
    },
}

/// Reads Elasticsearch bulk NDJSON. A line that is not a JSON action where one is expected
/// fails the whole request, naming the line (1-based), as Elasticsearch does.
pub fn read_bulk(body: &[u8], default_index: &str) -> Result<Vec<BulkItem>, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("the bulk body is not UTF-8: {e}"))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let mut items = Vec::new();
    while let Some((n, line)) = lines.next() {
        let action: Value = serde_json::from_str(line)
            .map_err(|e| format!("bulk line {}: not a JSON action: {e}", n + 1))?;
        let Some((name, meta)) = action
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        else {
            return Err(format!(
                "bulk line {}: an action is an object with one key (index, create, update, delete)",
                n + 1
            ));
        };
        let index = meta["_index"].as_str().unwrap_or(default_index).to_string();
        let action = name.clone();
        match action.as_str() {
            "index" | "create" => {
                let Some((m, line)) = lines.next() else {
                    return Err(format!(
                        "bulk line {}: the {action} action has no document after it",
                        n + 1
                    ));
                };
                items.push(match serde_json::from_str::<Value>(line) {
                    Ok(document @ Value::Object(_)) => BulkItem::Document {
                        action,
                        index,
                        document,
                    },
                    Ok(_) => BulkItem::Refused {
                        action,
                        index,
                        reason: format!("bulk line {}: a document is a JSON object", m + 1),
                    },
                    Err(e) => BulkItem::Refused {
                        action,
                        index,
                        reason: format!("bulk line {}: the document is not JSON: {e}", m + 1),
                    },
                });
            }
            "update" | "delete" => {
                if action == "update" {
                    lines.next();
                }
                items.push(BulkItem::Refused {
                    reason: format!(
                        "bulk line {}: vigil keeps events as received; {action} is not supported",
                        n + 1
                    ),
                    action,
                    index,
                });
            }
            other => {
                return Err(format!(
                    "bulk line {}: unknown action {other:?} (index, create, update, delete)",
                    n + 1
                ));
            }
        }
    }
    Ok(items)
}

/// Why a HEC request is refused: Splunk's code, its text, and the 0-based event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HecError {
    /// Splunk's error code (5 no data, 6 invalid data format, 12 event field is required,
    /// 13 event field cannot be blank).
    pub code: u32,
    /// Splunk's text, with the detail.
    pub text: String,
    /// The event at fault, counted from 0, when one is.
    pub event: Option<usize>,
}

/// A HEC event: its `sourcetype` (or `event`) and the event itself, an object or a line
/// of text.
pub type HecEvent = (String, Value);

/// Reads Splunk HTTP Event Collector events: JSON objects one after another, each with an
/// `event` (an object, or a string of text).
pub fn read_hec(body: &[u8]) -> Result<Vec<HecEvent>, HecError> {
    let refuse = |code, text: String, event| HecError { code, text, event };
    let mut events = Vec::new();
    for (n, item) in serde_json::Deserializer::from_slice(body)
        .into_iter::<Value>()
        .enumerate()
    {
        let item = item.map_err(|e| refuse(6, format!("Invalid data format: {e}"), Some(n)))?;
        let event = match item.get("event") {
            None => return Err(refuse(12, "Event field is required".into(), Some(n))),
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(refuse(13, "Event field cannot be blank".into(), Some(n)));
            }
            Some(event @ (Value::String(_) | Value::Object(_))) => event.clone(),
            Some(_) => {
                return Err(refuse(
                    6,
                    "Invalid data format: event is a string or an object".into(),
                    Some(n),
                ));
            }
        };
        let kind = item["sourcetype"].as_str().unwrap_or("event").to_string();
        events.push((kind, event));
    }
    if events.is_empty() {
        return Err(refuse(5, "No data".into(), None));
    }
    Ok(events)
}

/// Splits a syslog TCP stream into messages (RFC 6587): a frame starting with a digit is
/// octet-counted (`LEN SP MSG`), any other ends at a newline. Messages longer than the
/// limit are cut to it (the rest is skipped), so memory stays bounded whatever is sent.
#[derive(Debug)]
pub struct SyslogFramer {
    buffer: Vec<u8>,
    limit: usize,
    /// Bytes of an over-long message still to skip (octet counting), or `usize::MAX`
    /// while skipping to the end of an over-long line.
    skip: usize,
}

impl SyslogFramer {
    /// A framer keeping at most `limit` bytes of a message.
    pub fn new(limit: usize) -> SyslogFramer {
        SyslogFramer {
            buffer: Vec::new(),
            limit: limit.max(1),
            skip: 0,
        }
    }

    /// Adds bytes received; the messages they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.buffer.extend_from_slice(bytes);
        let mut messages = Vec::new();
        while let Some(message) = self.next() {
            messages.extend(message);
        }
        messages
    }

    /// The end of the stream: a last line without its newline.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let rest = std::mem::take(&mut self.buffer);
        let skipping = std::mem::take(&mut self.skip) != 0;
        (!skipping && !rest.is_empty()).then(|| rest[..rest.len().min(self.limit)].to_vec())
    }

    /// The next step: `Some(Some(message))`, `Some(None)` when bytes were skipped, `None`
    /// when more bytes are needed.
    fn next(&mut self) -> Option<Option<Vec<u8>>> {
        if self.skip == usize::MAX {
            let end = self.buffer.iter().position(|&b| b == b'\n');
            let used = end.map_or(self.buffer.len(), |at| at + 1);
            self.buffer.drain(..used);
            if end.is_some() {
                self.skip = 0;
                return Some(None);
            }
            return None;
        }
        if self.skip > 0 {
            let used = self.skip.min(self.buffer.len());
            self.buffer.drain(..used);
            self.skip -= used;
            return (self.skip == 0).then_some(None);
        }
        let first = *self.buffer.first()?;
        if first.is_ascii_digit() {
            let digits = self
                .buffer
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits == self.buffer.len() {
                // A count not complete yet, or a line of digits.
                return if digits <= 9 { None } else { self.line() };
            }
            if digits <= 9 && self.buffer[digits] == b' ' {
                let length: usize = std::str::from_utf8(&self.buffer[..digits])
                    .ok()?
                    .parse()
                    .ok()?;
                let start = digits + 1;
                let kept = length.min(self.limit);
                if self.buffer.len() < start + kept {
                    return None;
                }
                let message = self.buffer[start..start + kept].to_vec();
                self.buffer.drain(..start + kept);
                self.skip = length - kept;
                return Some(Some(message));
            }
        }
        self.line()
    }

    /// A newline-framed message, when its newline has arrived or it is past the limit.
    /// A message is the line's first `limit` bytes; a line that fits loses a `\r` before
    /// its newline. The same whether the line came whole or in pieces.
    fn line(&mut self) -> Option<Option<Vec<u8>>> {
        match self.buffer.iter().position(|&b| b == b'\n') {
            Some(at) => {
                let mut message: Vec<u8> = self.buffer.drain(..=at).collect();
                message.pop();
                if message.len() > self.limit {
                    message.truncate(self.limit);
                } else if message.last() == Some(&b'\r') {
                    message.pop();
                }
                Some(Some(message))
            }
            None if self.buffer.len() > self.limit => {
                let message = self.buffer[..self.limit].to_vec();
                self.buffer.clear();
                self.skip = usize::MAX;
                Some(Some(message))
            }
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bulk_items_answer_in_order_and_only_objects_are_kept() {
        let body = concat!(
            "{\"index\":{\"_index\":\"winlogbeat\"}}\n{\"a\":1}\n",
            "{\"create\":{}}\n{\"b\":2}\n",
            "{\"delete\":{\"_id\":\"1\"}}\n",
            "{\"update\":{\"_id\":\"1\"}}\n{\"doc\":{}}\n",
            "{\"index\":{}}\n[1]\n",
            "\n"
        );
        let items = read_bulk(body.as_bytes(), "logs").unwrap();
        assert_eq!(items.len(), 5);
        assert_eq!(
            items[0],
            BulkItem::Document {
                action: "index".into(),
                index: "winlogbeat".into(),
                document: json!({"a": 1})
            }
        );
        assert!(matches!(&items[1], BulkItem::Document { index, .. } if index == "logs"));
        let BulkItem::Refused { reason, .. } = &items[4] else {
            panic!("{:?}", items[4]);
        };
        assert!(reason.contains("line 9"), "{reason}");
    }

    #[test]
    fn a_broken_action_line_fails_the_request_naming_the_line() {
        let error = read_bulk(b"{\"index\":{}}\n{}\nnot json\n", "x").unwrap_err();
        assert!(error.contains("bulk line 3"), "{error}");
        let error = read_bulk(b"{\"index\":{}}\n", "x").unwrap_err();
        assert!(error.contains("no document"), "{error}");
        let error = read_bulk(b"{\"upsert\":{}}\n", "x").unwrap_err();
        assert!(error.contains("unknown action"), "{error}");
    }

    #[test]
    fn hec_events_are_objects_or_text_and_errors_use_splunk_codes() {
        let events =
            read_hec(br#"{"event":"a line","sourcetype":"linux_secure"} {"event":{"k":1}}"#)
                .unwrap();
        assert_eq!(
            events,
            vec![
                ("linux_secure".into(), json!("a line")),
                ("event".into(), json!({"k": 1}))
            ]
        );
        assert_eq!(read_hec(br#"{"time":1}"#).unwrap_err().code, 12);
        assert_eq!(read_hec(br#"{"event":" "}"#).unwrap_err().code, 13);
        assert_eq!(read_hec(br#"{"event":1}"#).unwrap_err().code, 6);
        assert_eq!(read_hec(br#"{"event":"x"} {"#).unwrap_err().event, Some(1));
        assert_eq!(read_hec(b" ").unwrap_err().code, 5);
    }

    fn frames(chunks: &[&[u8]], limit: usize) -> Vec<String> {
        let mut framer = SyslogFramer::new(limit);
        let mut out: Vec<Vec<u8>> = Vec::new();
        for chunk in chunks {
            out.extend(framer.push(chunk));
        }
        out.extend(framer.finish());
        out.iter()
            .map(|m| String::from_utf8_lossy(m).to_string())
            .collect()
    }

    #[test]
    fn octet_counted_and_newline_framed_messages_mix_across_reads() {
        let input: &[u8] =
            b"<34>1 2003 a b\n11 <13>Oct 11 <13>two\r\n14 <13>three\nfour<13>five\nlast";
        let whole = frames(&[input], 1024);
        assert_eq!(
            whole,
            [
                "<34>1 2003 a b",
                "<13>Oct 11 ",
                "<13>two",
                "<13>three\nfour",
                "<13>five",
                "last"
            ]
        );
        // Byte by byte, the same messages.
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(frames(&bytes, 1024), whole);
    }

    #[test]
    fn a_line_at_the_limit_is_cut_the_same_whole_or_in_pieces() {
        // Found by fuzzing: 9 bytes, then CR LF, with a limit of 10.
        let input: &[u8] = b"123456789\r\r\nnext\n";
        let whole = frames(&[input], 10);
        assert_eq!(whole, ["123456789\r", "next"]);
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(frames(&bytes, 10), whole);
        let input: &[u8] = b"1234567890\r\nnext\n";
        assert_eq!(frames(&[input], 10), ["1234567890", "next"]);
        let bytes: Vec<&[u8]> = input.chunks(3).collect();
        assert_eq!(frames(&bytes, 10), ["1234567890", "next"]);
    }

    #[test]
    fn long_messages_are_cut_and_memory_stays_bounded() {
        let mut input = vec![b'a'; 100];
        input.extend_from_slice(b"\nnext\n30 ");
        input.extend_from_slice(&[b'b'; 30]);
        input.extend_from_slice(b"\n");
        assert_eq!(
            frames(&[&input], 10),
            ["aaaaaaaaaa", "next", "bbbbbbbbbb", ""]
        );
        let mut framer = SyslogFramer::new(10);
        for _ in 0..1000 {
            framer.push(&[b'c'; 100]);
            assert!(framer.buffer.len() <= 100, "{}", framer.buffer.len());
        }
    }
}
