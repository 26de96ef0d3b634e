//! Server-sent events and JSON lines, read incrementally from a response body.

use std::io::BufRead;

use crate::ProviderError;

/// One server-sent event: its `event:` name (empty when none) and its joined `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` name, empty when none was sent.
    pub name: String,
    /// The `data:` lines, joined with line breaks.
    pub data: String,
}

/// The most one line of a stream may hold; a longer one is malformed, not a memory hazard.
const MAX_LINE: usize = 4 << 20;

/// Reads the next line without its line ending; `None` at the end of the stream.
pub fn next_line(reader: &mut dyn BufRead) -> Result<Option<String>, ProviderError> {
    let mut bytes = Vec::new();
    loop {
        let buffer = reader.fill_buf().map_err(crate::http::io_error)?;
        if buffer.is_empty() {
            if bytes.is_empty() {
                return Ok(None);
            }
            break;
        }
        if let Some(end) = memchr_newline(buffer) {
            bytes.extend_from_slice(&buffer[..end]);
            reader.consume(end + 1);
            break;
        }
        let taken = buffer.len();
        bytes.extend_from_slice(buffer);
        reader.consume(taken);
        if bytes.len() > MAX_LINE {
            return Err(ProviderError::Malformed(format!(
                "a stream line longer than {MAX_LINE} bytes"
            )));
        }
    }
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| ProviderError::Malformed("a stream line that is not UTF-8".to_owned()))
}

fn memchr_newline(buffer: &[u8]) -> Option<usize> {
    buffer.iter().position(|&b| b == b'\n')
}

/// Reads the next server-sent event (comments and `id:`/`retry:` fields skipped); `None` at
/// the end of the stream.
pub fn next_event(reader: &mut dyn BufRead) -> Result<Option<Event>, ProviderError> {
    let mut name = String::new();
    let mut data: Option<String> = None;
    while let Some(line) = next_line(reader)? {
        if line.is_empty() {
            if let Some(data) = data.take() {
                return Ok(Some(Event { name, data }));
            }
            name.clear();
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line.as_str(), ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => name = value.to_owned(),
            "data" => match &mut data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    Ok(data.map(|data| Event { name, data }))
}

#[cfg(test)]
mod tests {
    use std::io::BufReader;

    use super::*;

    #[test]
    fn events_are_read_across_cuts_comments_and_crlf() {
        let text = ": keep-alive\r\nevent: a\r\ndata: {\"x\":\r\ndata: 1}\r\n\r\ndata: [DONE]\n\n";
        // A one-byte buffer cuts the stream everywhere.
        let mut reader = BufReader::with_capacity(1, text.as_bytes());
        let first = next_event(&mut reader).unwrap().unwrap();
        assert_eq!(
            first,
            Event {
                name: "a".into(),
                data: "{\"x\":\n1}".into()
            }
        );
        let second = next_event(&mut reader).unwrap().unwrap();
        assert_eq!(second.data, "[DONE]");
        assert_eq!(second.name, "");
        assert_eq!(next_event(&mut reader).unwrap(), None);
    }

    #[test]
    fn a_stream_cut_mid_event_still_yields_its_data() {
        let mut reader = BufReader::new("data: {\"a\":1}".as_bytes());
        assert_eq!(next_event(&mut reader).unwrap().unwrap().data, "{\"a\":1}");
    }
}
