//! Line-by-line reading for text formats, with positions, a length limit and tolerance for
//! text that is not UTF-8.

use std::io::{self, BufRead};

use vigil_event::Location;

/// One line of a text input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// The line's text, without its line ending. Bytes that are not UTF-8 are replaced with
    /// U+FFFD, so a stray Latin-1 byte costs a character, not the record.
    Text {
        text: String,
        /// 1-based line number.
        line: u64,
        /// Byte offset of the line's start.
        offset: u64,
    },
    /// A line longer than the limit; its bytes were skipped.
    TooLong { len: usize, line: u64, offset: u64 },
}

/// Splits a buffered reader into [`Line`]s.
pub(crate) struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
    offset: u64,
    max_len: usize,
    failed: bool,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(reader: R, max_len: usize) -> Self {
        Lines {
            reader,
            buf: Vec::with_capacity(256),
            line: 0,
            offset: 0,
            max_len,
            failed: false,
        }
    }

    /// Where reading has got to, for an error that stops it.
    pub(crate) fn position(&self) -> Location {
        Location::line(self.line + 1, self.offset)
    }

    /// The next line, `None` at the end, or the I/O error that ended reading.
    pub(crate) fn next_line(&mut self) -> Option<io::Result<Line>> {
        if self.failed {
            return None;
        }
        match self.read_line() {
            Ok(line) => line.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }

    fn read_line(&mut self) -> io::Result<Option<Line>> {
        self.buf.clear();
        let start = self.offset;
        let mut len = 0usize;
        let mut any = false;
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                break;
            }
            any = true;
            let (chunk, found) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..i], true),
                None => (available, false),
            };
            len += chunk.len();
            if len <= self.max_len {
                self.buf.extend_from_slice(chunk);
            }
            let consumed = chunk.len() + usize::from(found);
            self.reader.consume(consumed);
            self.offset += consumed as u64;
            if found {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line += 1;
        if len > self.max_len {
            return Ok(Some(Line::TooLong {
                len,
                line: self.line,
                offset: start,
            }));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        // A byte-order mark at the start of the input is not text.
        let bytes = match (start, self.buf.strip_prefix(b"\xEF\xBB\xBF")) {
            (0, Some(rest)) => rest,
            _ => &self.buf[..],
        };
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        };
        Ok(Some(Line::Text {
            text,
            line: self.line,
            offset: start,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &[u8], max: usize) -> Vec<Line> {
        let mut lines = Lines::new(text, max);
        std::iter::from_fn(|| lines.next_line().map(Result::unwrap)).collect()
    }

    fn text(t: &str, line: u64, offset: u64) -> Line {
        Line::Text {
            text: t.into(),
            line,
            offset,
        }
    }

    #[test]
    fn lines_carry_numbers_and_offsets_and_lose_their_endings() {
        assert_eq!(
            all(b"\xEF\xBB\xBFa\r\nbb\n\nccc", 100),
            vec![
                text("a", 1, 0),
                text("bb", 2, 6),
                text("", 3, 9),
                text("ccc", 4, 10)
            ]
        );
    }

    #[test]
    fn long_lines_are_reported_and_the_next_one_is_read() {
        assert_eq!(
            all(b"0123456789\nok\n", 5),
            vec![
                Line::TooLong {
                    len: 10,
                    line: 1,
                    offset: 0
                },
                text("ok", 2, 11)
            ]
        );
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(all(b"caf\xe9\n", 100), vec![text("caf\u{fffd}", 1, 0)]);
    }
}
