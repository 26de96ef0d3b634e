//! Archives read in place: gzip, zip, tar and tar.gz, nested up to [`MAX_DEPTH`] deep.
//!
//! Every member becomes an [`Input`] named `archive!member`. Members are streamed where the
//! archive allows it; a member that must be held in memory (a zip member, an EVTX file
//! inside a gzip or tar stream, which its reader must seek in, or a zip inside an archive)
//! is refused beyond [`ReadOptions::max_in_memory`](crate::ReadOptions::max_in_memory)
//! (4 GiB by default), so a small archive that inflates without end fails instead of
//! exhausting memory. The limit is per input: nested archives and worker threads each hold
//! their own.

use std::io::{self, BufRead, BufReader, Read};

use flate2::read::MultiGzDecoder;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use vigil_event::{SourcePath, Timestamp};

use crate::error::IngestError;
use crate::input::Input;

/// How deep archives inside archives are opened.
pub(crate) const MAX_DEPTH: u32 = 4;

/// A kind of archive, told from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArchiveKind {
    Gzip,
    Zip,
    Tar,
}

impl ArchiveKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ArchiveKind::Gzip => "gzip",
            ArchiveKind::Zip => "zip",
            ArchiveKind::Tar => "tar",
        }
    }

    /// The kind of archive `head` starts, if any.
    pub(crate) fn sniff(head: &[u8]) -> Option<ArchiveKind> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(ArchiveKind::Gzip)
        } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            Some(ArchiveKind::Zip)
        } else if head.len() >= 262 && &head[257..262] == b"ustar" {
            Some(ArchiveKind::Tar)
        } else {
            None
        }
    }
}

/// Calls `visit` with every member of the archive `input`, in archive order. A member that
/// cannot be read is passed as an error and the next member is tried; an archive that
/// cannot be read at all is one error.
pub(crate) fn for_each_member(
    input: Input<'_>,
    kind: ArchiveKind,
    max_in_memory: u64,
    visit: &mut dyn FnMut(Result<Input<'_>, IngestError>),
) {
    let name = input.name().clone();
    let modified = input.modified();
    match kind {
        ArchiveKind::Gzip => {
            // A gzip file holds one stream: the file itself, decompressed. `auth.log.gz` is
            // read as `auth.log.gz`.
            let decoder = MultiGzDecoder::new(input.into_reader());
            let member = Input::from_reader(
                name.clone(),
                GzipErrors {
                    inner: decoder,
                    name,
                },
            )
            .with_modified(modified);
            visit(Ok(member));
        }
        ArchiveKind::Zip => read_zip(input, &name, max_in_memory, visit),
        ArchiveKind::Tar => read_tar(input.into_reader(), &name, visit),
    }
}

/// Names gzip failures as such, since they surface as I/O errors of the member.
struct GzipErrors<R> {
    inner: R,
    name: SourcePath,
}

impl<R: Read> Read for GzipErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("gzip stream of {} is damaged: {e}", self.name),
            )
        })
    }
}

fn archive_error(name: &SourcePath, kind: &'static str, reason: impl ToString) -> IngestError {
    IngestError::Archive {
        path: name.clone(),
        kind,
        reason: reason.to_string(),
    }
}

fn member_name(archive: &SourcePath, member: &str) -> SourcePath {
    format!("{archive}!{member}").into()
}

fn read_zip(
    input: Input<'_>,
    name: &SourcePath,
    max_in_memory: u64,
    visit: &mut dyn FnMut(Result<Input<'_>, IngestError>),
) {
    let seekable = match input.into_seekable(max_in_memory) {
        Ok(s) => s,
        Err(e) => return visit(Err(IngestError::io(name, e))),
    };
    let mut archive = match zip::ZipArchive::new(seekable) {
        Ok(a) => a,
        Err(e) => return visit(Err(archive_error(name, "zip", e))),
    };
    for index in 0..archive.len() {
        let mut file = match archive.by_index(index) {
            Ok(f) => f,
            Err(e) => {
                visit(Err(archive_error(
                    name,
                    "zip",
                    format!("member {index}: {e}"),
                )));
                continue;
            }
        };
        if !file.is_file() {
            continue;
        }
        let member = member_name(name, &String::from_utf8_lossy(file.name_raw()));
        if file.encrypted() {
            visit(Err(archive_error(
                &member,
                "zip",
                "the member is encrypted",
            )));
            continue;
        }
        let modified = file.last_modified().and_then(|t| {
            DateTime::new(
                t.year() as i16,
                t.month() as i8,
                t.day() as i8,
                t.hour() as i8,
                t.minute() as i8,
                t.second().min(59) as i8,
                0,
            )
            .ok()
            .and_then(|dt| dt.to_zoned(TimeZone::UTC).ok())
            .map(|z| z.timestamp())
        });
        if file.size() > max_in_memory {
            // Streamed: formats that need to seek will say so.
            visit(Ok(
                Input::from_reader(member, &mut file).with_modified(modified)
            ));
            continue;
        }
        let mut bytes = Vec::with_capacity(file.size().min(64 << 20) as usize);
        match (&mut file).take(max_in_memory + 1).read_to_end(&mut bytes) {
            Ok(_) if bytes.len() as u64 > max_in_memory => visit(Err(archive_error(
                &member,
                "zip",
                format!(
                    "the member inflates beyond the limit of {} bytes",
                    max_in_memory
                ),
            ))),
            Ok(_) => visit(Ok(Input::from_bytes(member, bytes).with_modified(modified))),
            Err(e) => visit(Err(archive_error(&member, "zip", e))),
        }
    }
}

fn read_tar(
    reader: Box<dyn BufRead + '_>,
    name: &SourcePath,
    visit: &mut dyn FnMut(Result<Input<'_>, IngestError>),
) {
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => return visit(Err(archive_error(name, "tar", e))),
    };
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // The stream is out of step; nothing after this can be trusted.
                visit(Err(archive_error(name, "tar", e)));
                return;
            }
        };
        // EVTX files are often sparse on disk, and GNU tar stores them as sparse entries;
        // the tar crate fills their holes back in.
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_gnu_sparse() || kind.is_contiguous()) {
            continue;
        }
        let member = member_name(name, &String::from_utf8_lossy(&entry.path_bytes()));
        let modified = entry
            .header()
            .mtime()
            .ok()
            .and_then(|t| Timestamp::from_second(t as i64).ok());
        visit(Ok(
            Input::from_reader(member, BufReader::new(&mut entry)).with_modified(modified)
        ));
    }
}
