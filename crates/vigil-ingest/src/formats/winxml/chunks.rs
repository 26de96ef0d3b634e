//! Cutting an XML stream into `<Event>...</Event>` pieces without parsing all of it, so a
//! file of any size is read one event at a time and a broken event does not hide the next.

use std::io::{self, BufRead, BufReader, Read};

use memchr::memmem;
use vigil_event::Location;

/// How the input's text is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    /// Tells UTF-16 (by its byte order mark, or a `<` with a zero byte beside it) from UTF-8.
    pub(crate) fn detect(head: &[u8]) -> Encoding {
        match head {
            [0xFF, 0xFE, ..] | [b'<', 0, ..] => Encoding::Utf16Le,
            [0xFE, 0xFF, ..] | [0, b'<', ..] => Encoding::Utf16Be,
            _ => Encoding::Utf8,
        }
    }
}

/// The head of the input as text, whatever its encoding (for sniffing).
pub(crate) fn head_text(head: &[u8]) -> String {
    let head = &head[..head.len().min(16 * 1024)];
    match Encoding::detect(head) {
        Encoding::Utf8 => String::from_utf8_lossy(head).into_owned(),
        encoding => {
            let units = head.chunks_exact(2).map(|pair| match encoding {
                Encoding::Utf16Be => u16::from_be_bytes([pair[0], pair[1]]),
                _ => u16::from_le_bytes([pair[0], pair[1]]),
            });
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
    }
}

/// One piece of the input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Chunk {
    /// The text of one `<Event>` element, from `<Event` to `</Event>`.
    Event {
        text: String,
        line: u64,
        offset: u64,
    },
    /// An event longer than the limit; its bytes were skipped.
    TooLong { len: usize, line: u64, offset: u64 },
    /// An event the input ends inside.
    Unterminated { line: u64, offset: u64 },
}

const START: &[u8] = b"<Event";
const END: &[u8] = b"</Event";
const BLOCK: usize = 64 * 1024;

/// Splits a stream into [`Chunk`]s.
pub(crate) struct Chunks<'a> {
    reader: Box<dyn BufRead + 'a>,
    /// Bytes read; those before `head` have been handed out.
    buf: Vec<u8>,
    head: usize,
    /// The stream offset and line of `buf[head]`.
    offset: u64,
    line: u64,
    eof: bool,
    failed: bool,
    max_len: usize,
    start: memmem::Finder<'static>,
}

impl<'a> Chunks<'a> {
    pub(crate) fn new(reader: Box<dyn BufRead + 'a>, encoding: Encoding, max_len: usize) -> Self {
        let reader: Box<dyn BufRead + 'a> = match encoding {
            Encoding::Utf8 => reader,
            big_or_little => Box::new(BufReader::with_capacity(
                BLOCK,
                Utf16Reader::new(reader, big_or_little == Encoding::Utf16Be),
            )),
        };
        Chunks {
            reader,
            buf: Vec::with_capacity(BLOCK),
            head: 0,
            offset: 0,
            line: 1,
            eof: false,
            failed: false,
            max_len,
            start: memmem::Finder::new(START),
        }
    }

    /// Where reading has got to, for an error that stops it.
    pub(crate) fn position(&self) -> Location {
        Location::line(self.line, self.offset)
    }

    /// The next piece, `None` at the end, or the I/O error that ended reading.
    pub(crate) fn next_chunk(&mut self) -> Option<io::Result<Chunk>> {
        if self.failed {
            return None;
        }
        match self.next_inner() {
            Ok(chunk) => chunk.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }

    fn next_inner(&mut self) -> io::Result<Option<Chunk>> {
        // Find the start of the next event.
        let mut searched = 0;
        let start = loop {
            if let Some(at) = find_tag(&self.start, self.data(), searched) {
                break at;
            }
            // Keep a tail that might be the start of a cut `<Event`.
            let keep = START.len().min(self.data().len());
            self.drop_front(self.data().len() - keep);
            searched = 0;
            if self.eof {
                return Ok(None);
            }
            self.fill()?;
        };
        self.drop_front(start);
        let (line, offset) = (self.line, self.offset);
        // Find its end.
        let mut searched = START.len();
        let mut section = None;
        let mut too_long = false;
        loop {
            let found = find_end(self.data(), searched, &mut section);
            if let Ok(at) = found
                && let Some(close) = self.data()[at..].iter().position(|&b| b == b'>')
            {
                let end = at + close + 1;
                if too_long || end > self.max_len {
                    let len = end + (self.offset - offset) as usize;
                    self.drop_front(end);
                    return Ok(Some(Chunk::TooLong { len, line, offset }));
                }
                let text = String::from_utf8_lossy(&self.data()[..end]).into_owned();
                self.drop_front(end);
                return Ok(Some(Chunk::Event { text, line, offset }));
            }
            if self.eof {
                let rest = self.data().len();
                self.drop_front(rest);
                return Ok(Some(if too_long {
                    Chunk::TooLong {
                        len: (self.offset - offset) as usize,
                        line,
                        offset,
                    }
                } else {
                    Chunk::Unterminated { line, offset }
                }));
            }
            // An end tag may straddle the blocks: search again from where it may start.
            searched = match found {
                Ok(at) => at,
                Err(resume) => resume,
            };
            if self.data().len() > self.max_len {
                // Too long: keep only a tail in which the end tag can still be found.
                too_long = true;
                let cut = self.data().len().saturating_sub(END.len() + 64);
                self.drop_front(cut);
                searched = searched.saturating_sub(cut);
            }
            self.fill()?;
        }
    }

    /// Reads another block onto the buffer; sets `eof` when there is none.
    fn fill(&mut self) -> io::Result<()> {
        let block = loop {
            match self.reader.fill_buf() {
                Ok(block) => break block,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if block.is_empty() {
            self.eof = true;
            return Ok(());
        }
        let n = block.len().min(BLOCK);
        // Forget what was handed out once it is most of the buffer, so that moving the
        // rest down costs no more than reading it did.
        if self.head > 0 && self.head >= self.buf.len() / 2 {
            self.buf.drain(..self.head);
            self.head = 0;
        }
        self.buf.extend_from_slice(&block[..n]);
        self.reader.consume(n);
        Ok(())
    }

    /// Forgets the first `n` bytes of the buffer, counting their lines.
    fn drop_front(&mut self, n: usize) {
        let n = n.min(self.data().len());
        self.line += memchr::memchr_iter(b'\n', &self.data()[..n]).count() as u64;
        self.offset += n as u64;
        self.head += n;
    }

    /// The bytes read and not yet handed out.
    fn data(&self) -> &[u8] {
        &self.buf[self.head..]
    }
}

/// The first `<Event` (or `</Event`) in `buf` from `from` on that is the whole tag name:
/// followed by whitespace, `>` or `/`, not `<EventData` or `<Events`.
fn find_tag(finder: &memmem::Finder<'_>, buf: &[u8], from: usize) -> Option<usize> {
    let len = finder.needle().len();
    let mut at = from;
    while at < buf.len() {
        let found = at + finder.find(&buf[at..])?;
        match buf.get(found + len) {
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/') => return Some(found),
            // The tag may go on in the next block.
            None => return None,
            Some(_) => at = found + 1,
        }
    }
    None
}

/// Sections whose text is not markup, so that a `</Event>` in them does not end the event:
/// how each starts and ends. The longest start is `<![CDATA[`, 9 bytes.
const SECTIONS: [(&[u8], &[u8]); 2] = [(b"<![CDATA[", b"]]>"), (b"<!--", b"-->")];

/// Finds the event's end tag in `buf` from `from`, stepping over CDATA sections and
/// comments, whose text may hold `</Event>`. `section` is the end marker of the section
/// `from` is inside, if any, and is kept up to date. When the tag is not (wholly) in `buf`,
/// the error is where to search again once more has been read: a `<` that may be cut by
/// the end of `buf`, or the tail that may hold a cut end marker. Each `<` is looked at once
/// (and a few bytes again after each read), so the search is linear.
fn find_end(buf: &[u8], from: usize, section: &mut Option<&'static [u8]>) -> Result<usize, usize> {
    let mut at = from.min(buf.len());
    loop {
        if let Some(end) = *section {
            match memmem::find(&buf[at..], end) {
                Some(i) => {
                    at += i + end.len();
                    *section = None;
                }
                // The end marker may straddle the blocks.
                None => return Err(buf.len().saturating_sub(end.len() - 1).max(at)),
            }
        }
        let Some(i) = memchr::memchr(b'<', &buf[at..]) else {
            return Err(buf.len());
        };
        let lt = at + i;
        let rest = &buf[lt..];
        if let Some(&(start, end)) = SECTIONS.iter().find(|(start, _)| rest.starts_with(start)) {
            *section = Some(end);
            at = lt + start.len();
            continue;
        }
        if rest.starts_with(END) {
            match rest.get(END.len()) {
                Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/') => return Ok(lt),
                None => return Err(lt),
                Some(_) => {}
            }
        }
        // What this `<` opens may go on in the next block.
        let cut = |marker: &[u8]| rest.len() < marker.len() && marker.starts_with(rest);
        if cut(END) || SECTIONS.iter().any(|(start, _)| cut(start)) {
            return Err(lt);
        }
        at = lt + 1;
    }
}

/// Turns UTF-16 bytes into UTF-8 as they are read; a byte order mark is dropped and
/// unpaired surrogates become U+FFFD.
struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    /// UTF-8 bytes decoded and not yet read.
    out: Vec<u8>,
    at: usize,
    /// A byte of a code unit cut by a read, and a high surrogate waiting for its pair.
    odd: Option<u8>,
    high: Option<u16>,
    started: bool,
    done: bool,
}

impl<R: BufRead> Utf16Reader<R> {
    fn new(inner: R, big_endian: bool) -> Self {
        Utf16Reader {
            inner,
            big_endian,
            out: Vec::with_capacity(BLOCK),
            at: 0,
            odd: None,
            high: None,
            started: false,
            done: false,
        }
    }

    fn push_unit(&mut self, unit: u16) {
        if !self.started {
            self.started = true;
            if unit == 0xFEFF {
                return;
            }
        }
        let mut push = |c: char| {
            let mut tmp = [0u8; 4];
            self.out
                .extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
        };
        if let Some(high) = self.high.take() {
            if (0xDC00..0xE000).contains(&unit) {
                let c = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
                return;
            }
            push(char::REPLACEMENT_CHARACTER);
        }
        match unit {
            0xD800..0xDC00 => self.high = Some(unit),
            0xDC00..0xE000 => push(char::REPLACEMENT_CHARACTER),
            _ => push(char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER)),
        }
    }

    /// Decodes the next block of input into `out`.
    fn decode_more(&mut self) -> io::Result<()> {
        self.out.clear();
        self.at = 0;
        while self.out.is_empty() && !self.done {
            let block = self.inner.fill_buf()?;
            if block.is_empty() {
                self.done = true;
                if self.odd.take().is_some() || self.high.take().is_some() {
                    self.out
                        .extend_from_slice(char::REPLACEMENT_CHARACTER.to_string().as_bytes());
                }
                break;
            }
            let block = block.to_vec();
            self.inner.consume(block.len());
            let mut bytes = block.as_slice();
            if let Some(first) = self.odd.take() {
                if let Some((&second, rest)) = bytes.split_first() {
                    self.push_unit(self.unit([first, second]));
                    bytes = rest;
                } else {
                    self.odd = Some(first);
                }
            }
            let mut pairs = bytes.chunks_exact(2);
            for pair in pairs.by_ref() {
                self.push_unit(self.unit([pair[0], pair[1]]));
            }
            if let [last] = pairs.remainder() {
                self.odd = Some(*last);
            }
        }
        Ok(())
    }

    fn unit(&self, bytes: [u8; 2]) -> u16 {
        if self.big_endian {
            u16::from_be_bytes(bytes)
        } else {
            u16::from_le_bytes(bytes)
        }
    }
}

impl<R: BufRead> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at >= self.out.len() {
            self.decode_more()?;
        }
        let available = &self.out[self.at..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(bytes: &[u8], max_len: usize) -> Vec<Chunk> {
        let mut chunks = Chunks::new(Box::new(bytes), Encoding::detect(bytes), max_len);
        std::iter::from_fn(|| chunks.next_chunk())
            .map(Result::unwrap)
            .collect()
    }

    fn utf16le(text: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            out.extend_from_slice(&unit.to_le_bytes());
        }
        out
    }

    #[test]
    fn events_are_cut_with_their_lines_and_offsets() {
        let text = "<?xml version=\"1.0\"?>\n<Events>\n<Event><EventData/></Event>\n<Event xmlns=\"x\">a</Event ></Events>";
        assert_eq!(
            cut(text.as_bytes(), 1 << 20),
            [
                Chunk::Event {
                    text: "<Event><EventData/></Event>".into(),
                    line: 3,
                    offset: 31
                },
                Chunk::Event {
                    text: "<Event xmlns=\"x\">a</Event >".into(),
                    line: 4,
                    offset: 59
                },
            ]
        );
    }

    #[test]
    fn long_and_unterminated_events_are_reported() {
        let long = format!("<Event>{}</Event><Event>b</Event><Event>c", "x".repeat(300));
        assert_eq!(
            cut(long.as_bytes(), 100),
            [
                Chunk::TooLong {
                    len: 315,
                    line: 1,
                    offset: 0
                },
                Chunk::Event {
                    text: "<Event>b</Event>".into(),
                    line: 1,
                    offset: 315
                },
                Chunk::Unterminated {
                    line: 1,
                    offset: 331
                },
            ]
        );
    }

    #[test]
    fn utf16_is_read_as_text() {
        let bytes = utf16le("<Events><Event>\u{e9}\u{1F600}</Event></Events>");
        assert_eq!(Encoding::detect(&bytes), Encoding::Utf16Le);
        assert_eq!(
            cut(&bytes, 1 << 20),
            [Chunk::Event {
                text: "<Event>\u{e9}\u{1F600}</Event>".into(),
                line: 1,
                offset: 8
            }]
        );
        assert!(head_text(&bytes).starts_with("\u{feff}<Events>"));
        // An odd byte at the end and a lone surrogate are replaced, not fatal.
        let mut bad = utf16le("<Event>a</Event>");
        bad.extend_from_slice(&[0x00, 0xD8, 0x41]);
        let got = cut(&bad, 1 << 20);
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn an_end_tag_inside_cdata_does_not_end_the_event() {
        let text = "<Event><Data><![CDATA[echo </Event> ]]]]></Data></Event>\n<Event>b</Event>";
        let expected = [
            Chunk::Event {
                text: "<Event><Data><![CDATA[echo </Event> ]]]]></Data></Event>".into(),
                line: 1,
                offset: 0,
            },
            Chunk::Event {
                text: "<Event>b</Event>".into(),
                line: 2,
                offset: 57,
            },
        ];
        assert_eq!(cut(text.as_bytes(), 1 << 20), expected);
        // Read a few bytes at a time, so sections and tags straddle the blocks.
        for capacity in 1..12 {
            let reader = BufReader::with_capacity(capacity, text.as_bytes());
            let mut chunks = Chunks::new(Box::new(reader), Encoding::Utf8, 1 << 20);
            let got: Vec<_> = std::iter::from_fn(|| chunks.next_chunk())
                .map(Result::unwrap)
                .collect();
            assert_eq!(got, expected, "capacity {capacity}");
        }
    }

    #[test]
    fn an_end_tag_inside_a_comment_does_not_end_the_event() {
        // A comment may hold `<![CDATA[` and a section `<!--`; neither opens anything.
        let first =
            "<Event><!-- was: </Event> <![CDATA[ --><Data><![CDATA[<!-- ]]></Data><!----></Event>";
        let text = format!("{first}\n<Event>b<!-- -a- </Event --></Event>");
        let expected = [
            Chunk::Event {
                text: first.into(),
                line: 1,
                offset: 0,
            },
            Chunk::Event {
                text: "<Event>b<!-- -a- </Event --></Event>".into(),
                line: 2,
                offset: first.len() as u64 + 1,
            },
        ];
        assert_eq!(cut(text.as_bytes(), 1 << 20), expected);
        // Read a few bytes at a time, so `<!--` and `-->` straddle the blocks.
        for capacity in 1..12 {
            let reader = BufReader::with_capacity(capacity, text.as_bytes());
            let mut chunks = Chunks::new(Box::new(reader), Encoding::Utf8, 1 << 20);
            let got: Vec<_> = std::iter::from_fn(|| chunks.next_chunk())
                .map(Result::unwrap)
                .collect();
            assert_eq!(got, expected, "capacity {capacity}");
        }
        // A comment the input ends inside leaves the event unterminated.
        assert_eq!(
            cut(b"<Event><!-- </Event>", 1 << 20),
            [Chunk::Unterminated { line: 1, offset: 0 }]
        );
    }

    #[test]
    fn tags_that_only_start_like_event_are_not_events() {
        assert_eq!(cut(b"<EventData>x</EventData><Events/>", 1 << 20), []);
    }
}
