//! [`Input`]: the bytes of one file, archive member or stream, with its display name.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use vigil_event::{SourcePath, Timestamp};

use crate::error::{IngestError, Result};

/// How many leading bytes format detection looks at.
pub(crate) const HEAD_LEN: usize = 64 * 1024;

/// One input for a reader: a file, a member of an archive, or a stream.
///
/// Inputs are read once, front to back, except that a reader that needs to seek (EVTX) gets a
/// seekable view: the file itself, or the bytes in memory.
pub struct Input<'a> {
    name: SourcePath,
    data: Data<'a>,
    head: Option<Vec<u8>>,
    modified: Option<Timestamp>,
}

enum Data<'a> {
    File(CountingFile),
    Owned(Vec<u8>),
    Borrowed(&'a [u8]),
    Stream(Box<dyn Read + 'a>),
}

impl<'a> Input<'a> {
    /// Opens the file at `path`. `progress`, when given, receives the number of bytes of the
    /// file read so far (its furthest position), for a progress bar.
    pub fn open(path: &Path, progress: Option<Arc<AtomicU64>>) -> Result<Input<'static>> {
        let name: SourcePath = path.display().to_string().into();
        let file = File::open(path).map_err(|e| IngestError::io(&name, e))?;
        let modified = file
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| Timestamp::try_from(t).ok());
        Ok(Input {
            name,
            data: Data::File(CountingFile::new(file, progress)),
            head: None,
            modified,
        })
    }

    /// An input over bytes held in memory.
    pub fn from_bytes(name: impl Into<SourcePath>, bytes: Vec<u8>) -> Input<'static> {
        Input::with_data(name.into(), Data::Owned(bytes))
    }

    /// An input over borrowed bytes.
    pub fn from_slice(name: impl Into<SourcePath>, bytes: &'a [u8]) -> Input<'a> {
        Input::with_data(name.into(), Data::Borrowed(bytes))
    }

    /// An input over a stream that can only be read forward.
    pub fn from_reader(name: impl Into<SourcePath>, reader: impl Read + 'a) -> Input<'a> {
        Input::with_data(name.into(), Data::Stream(Box::new(reader)))
    }

    fn with_data(name: SourcePath, data: Data<'a>) -> Self {
        Input {
            name,
            data,
            head: None,
            modified: None,
        }
    }

    /// Sets when the input was last modified (syslog uses it to guess missing years).
    pub fn with_modified(mut self, modified: Option<Timestamp>) -> Self {
        self.modified = modified;
        self
    }

    /// The display name: a path, or `archive!member`.
    pub fn name(&self) -> &SourcePath {
        &self.name
    }

    /// When the input was last modified, if known.
    pub fn modified(&self) -> Option<Timestamp> {
        self.modified
    }

    /// The first bytes (up to 64 KiB) of the input, without consuming them.
    pub fn head(&mut self) -> io::Result<&[u8]> {
        if self.head.is_none() {
            let head = match &mut self.data {
                Data::File(file) => {
                    let mut head = Vec::with_capacity(4096);
                    (&mut *file).take(HEAD_LEN as u64).read_to_end(&mut head)?;
                    file.seek(SeekFrom::Start(0))?;
                    head
                }
                Data::Owned(bytes) => bytes[..bytes.len().min(HEAD_LEN)].to_vec(),
                Data::Borrowed(bytes) => bytes[..bytes.len().min(HEAD_LEN)].to_vec(),
                Data::Stream(stream) => {
                    let mut head = Vec::with_capacity(4096);
                    stream.take(HEAD_LEN as u64).read_to_end(&mut head)?;
                    let rest = std::mem::replace(stream, Box::new(io::empty()));
                    *stream = Box::new(Cursor::new(head.clone()).chain(rest));
                    head
                }
            };
            self.head = Some(head);
        }
        Ok(self.head.as_deref().unwrap_or_default())
    }

    /// The input as a buffered reader from its first byte.
    pub fn into_reader(self) -> Box<dyn BufRead + 'a> {
        const CAPACITY: usize = 64 * 1024;
        match self.data {
            Data::File(file) => Box::new(BufReader::with_capacity(CAPACITY, file)),
            Data::Owned(bytes) => Box::new(Cursor::new(bytes)),
            Data::Borrowed(bytes) => Box::new(bytes),
            Data::Stream(stream) => Box::new(BufReader::with_capacity(CAPACITY, stream)),
        }
    }

    /// The input as a seekable reader; a stream is read into memory first, up to `limit`
    /// bytes (a larger one is an error).
    pub fn into_seekable(self, limit: u64) -> io::Result<Seekable<'a>> {
        Ok(match self.data {
            Data::File(file) => Seekable::File(file),
            Data::Owned(bytes) => Seekable::Owned(Cursor::new(bytes)),
            Data::Borrowed(bytes) => Seekable::Borrowed(Cursor::new(bytes)),
            Data::Stream(stream) => {
                let mut bytes = Vec::new();
                stream
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut bytes)?;
                if bytes.len() as u64 > limit {
                    return Err(io::Error::other(format!(
                        "the input must be held in memory to be read and is larger than the limit of {limit} bytes"
                    )));
                }
                Seekable::Owned(Cursor::new(bytes))
            }
        })
    }
}

/// A seekable view of an [`Input`].
pub enum Seekable<'a> {
    /// A file.
    File(CountingFile),
    /// Bytes owned in memory.
    Owned(Cursor<Vec<u8>>),
    /// Borrowed bytes.
    Borrowed(Cursor<&'a [u8]>),
}

impl Read for Seekable<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Seekable::File(f) => f.read(buf),
            Seekable::Owned(c) => c.read(buf),
            Seekable::Borrowed(c) => c.read(buf),
        }
    }
}

impl Seekable<'_> {
    /// Whether reads count as progress through the input (a reader that first skims its
    /// input, as the EVTX reader reads chunk headers, turns counting off meanwhile).
    pub fn count_progress(&mut self, on: bool) {
        if let Seekable::File(file) = self {
            file.counting = on;
        }
    }
}

impl Seek for Seekable<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Seekable::File(f) => f.seek(pos),
            Seekable::Owned(c) => c.seek(pos),
            Seekable::Borrowed(c) => c.seek(pos),
        }
    }
}

/// A file that reports how far into it reading has got, for progress bars. It counts the
/// furthest position reached, so seeking back and reading again is not counted twice.
pub struct CountingFile {
    file: File,
    position: u64,
    furthest: u64,
    progress: Option<Arc<AtomicU64>>,
    counting: bool,
}

impl CountingFile {
    fn new(file: File, progress: Option<Arc<AtomicU64>>) -> Self {
        CountingFile {
            file,
            position: 0,
            furthest: 0,
            progress,
            counting: true,
        }
    }

    fn advance(&mut self, n: u64) {
        self.position += n;
        if self.counting && self.position > self.furthest {
            if let Some(progress) = &self.progress {
                progress.fetch_add(self.position - self.furthest, Ordering::Relaxed);
            }
            self.furthest = self.position;
        }
    }
}

impl Read for CountingFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.advance(n as u64);
        Ok(n)
    }
}

impl Seek for CountingFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let position = self.file.seek(pos)?;
        self.position = position;
        Ok(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_does_not_consume_a_stream() {
        let text = b"line one\nline two\n".to_vec();
        let mut input = Input::from_reader("s", Cursor::new(text.clone()));
        assert_eq!(input.head().unwrap(), &text[..]);
        let mut all = Vec::new();
        input.into_reader().read_to_end(&mut all).unwrap();
        assert_eq!(all, text);
    }

    #[test]
    fn head_does_not_consume_a_file_and_progress_counts_each_byte_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.log");
        std::fs::write(&path, vec![b'x'; 100_000]).unwrap();
        let progress = Arc::new(AtomicU64::new(0));
        let mut input = Input::open(&path, Some(progress.clone())).unwrap();
        assert_eq!(input.head().unwrap().len(), HEAD_LEN);
        let mut all = Vec::new();
        input.into_reader().read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 100_000);
        assert_eq!(progress.load(Ordering::Relaxed), 100_000);
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let err = Input::open(Path::new("/nonexistent/x.evtx"), None)
            .err()
            .unwrap();
        assert!(
            err.to_string().starts_with("/nonexistent/x.evtx: "),
            "{err}"
        );
    }
}
