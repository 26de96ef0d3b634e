//! Running readers over many inputs: format detection, archives, worker threads and the
//! per-input accounting (`records = events + errors`).

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use vigil_event::SourcePath;

use crate::archive::{self, ArchiveKind, MAX_DEPTH};
use crate::error::{IngestError, Result};
use crate::formats::READERS;
use crate::input::Input;
use crate::reader::{ReadOptions, Reader, RecordResult};
use crate::walk::{Plan, PlannedFile};

/// Every reader vigil has, in the order ties in format detection are broken.
pub fn readers() -> &'static [&'static dyn Reader] {
    READERS
}

/// The reader called `name`.
pub fn reader_named(name: &str) -> Result<&'static dyn Reader> {
    READERS
        .iter()
        .copied()
        .find(|r| r.name() == name)
        .ok_or_else(|| IngestError::UnknownReader {
            name: name.to_string(),
            known: READERS
                .iter()
                .map(|r| r.name())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The reader most sure that `head` is in its format; ties go to the reader listed first.
pub fn detect(head: &[u8]) -> Option<&'static dyn Reader> {
    let mut best: Option<(&'static dyn Reader, u8)> = None;
    for reader in READERS {
        let score = reader.sniff(head);
        if score > 0 && best.is_none_or(|(_, s)| score > s) {
            best = Some((*reader, score));
        }
        if score == 100 {
            break;
        }
    }
    best.map(|(r, _)| r)
}

/// What a handler is told about an input before its records arrive.
#[derive(Debug, Clone, Copy)]
pub struct InputInfo<'a> {
    /// The input's display path.
    pub path: &'a SourcePath,
    /// The reader reading it.
    pub format: &'static str,
}

/// The account of one input: what it was read as and what came of its records.
#[derive(Debug)]
pub struct InputSummary {
    /// The display path (`archive.zip!member` for archive members).
    pub path: SourcePath,
    /// The reader that read it; `None` when no reader took it.
    pub format: Option<&'static str>,
    /// Records found: `events + errors`.
    pub records: u64,
    /// Records that became events.
    pub events: u64,
    /// Records that could not be read.
    pub errors: u64,
    /// Why the input could not be read, or stopped being read, as a whole.
    pub failure: Option<IngestError>,
    /// Whether the input was skipped as not a log: a file of unknown format found inside a
    /// directory or archive (one named on the command line is a failure instead).
    pub skipped: bool,
}

impl InputSummary {
    fn new(path: SourcePath, format: Option<&'static str>) -> Self {
        InputSummary {
            path,
            format,
            records: 0,
            events: 0,
            errors: 0,
            failure: None,
            skipped: false,
        }
    }

    fn failed(path: SourcePath, failure: IngestError) -> Self {
        InputSummary {
            failure: Some(failure),
            ..InputSummary::new(path, None)
        }
    }

    /// Whether every record of the input was read and the input read to its end.
    pub fn is_clean(&self) -> bool {
        self.errors == 0 && self.failure.is_none()
    }
}

/// Reads many inputs, detecting each one's format, on worker threads.
///
/// ```
/// use std::ops::ControlFlow;
/// use vigil_ingest::{Ingest, Input, ReadOptions};
///
/// let ingest = Ingest::new(ReadOptions::default());
/// let text = b"Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user admin from 10.1.2.3\n";
/// let events = std::cell::RefCell::new(Vec::new());
/// let summaries = ingest.read_input(Input::from_slice("auth.log", text), |_| {
///     |record: vigil_ingest::RecordResult| {
///         events.borrow_mut().push(record.unwrap());
///         ControlFlow::Continue(())
///     }
/// });
/// assert_eq!(summaries[0].format, Some("syslog"));
/// assert_eq!(events.borrow()[0].get_str("source.ip"), Some("10.1.2.3"));
/// ```
pub struct Ingest {
    options: ReadOptions,
    forced: Option<&'static dyn Reader>,
    threads: usize,
    progress: Option<Arc<AtomicU64>>,
    /// Set when a handler asks to stop (its consumer has gone away): no further input is
    /// opened.
    stopped: AtomicBool,
}

impl Ingest {
    /// Reads with `options`, one worker thread, formats detected.
    pub fn new(options: ReadOptions) -> Self {
        Ingest {
            threads: options.threads.max(1),
            options,
            forced: None,
            progress: None,
            stopped: AtomicBool::new(false),
        }
    }

    /// Reads every input with the reader called `name` instead of detecting it (archives
    /// are still opened).
    pub fn force_format(mut self, name: &str) -> Result<Self> {
        self.forced = Some(reader_named(name)?);
        Ok(self)
    }

    /// Counts bytes read from files into `progress`.
    pub fn progress(mut self, progress: Arc<AtomicU64>) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Whether a handler asked to stop, so some inputs were not read.
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Reads every file of `plan`, several at once when the options allow more than one
    /// thread. `handler` is asked, per input, for the function that receives its records;
    /// those functions run on the worker threads. When one returns
    /// [`ControlFlow::Break`], the run stops opening inputs. Summaries come back in plan
    /// order, one per input read (an archive gives one per member), then one per path that
    /// could not be walked.
    ///
    /// Threads go to files first: with many files each reads its EVTX chunks inline; a
    /// lone big file gets every thread for its chunks. That keeps the chunks in flight, and
    /// so memory, proportional to the thread count.
    pub fn run<F, H>(&self, plan: Plan, handler: F) -> Vec<InputSummary>
    where
        F: Fn(InputInfo<'_>) -> H + Sync,
        H: FnMut(RecordResult) -> ControlFlow<()>,
    {
        let files = &plan.files;
        let next = AtomicUsize::new(0);
        let done: Mutex<Vec<(usize, Vec<InputSummary>)>> =
            Mutex::new(Vec::with_capacity(files.len()));
        let workers = self.threads.min(files.len()).max(1);
        let options = ReadOptions {
            threads: (self.threads / workers).max(1),
            ..self.options.clone()
        };
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        if self.stopped() {
                            break;
                        }
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(index) else { break };
                        let summaries = self.read_file(file, &options, &handler);
                        if let Ok(mut done) = done.lock() {
                            done.push((index, summaries));
                        }
                    }
                });
            }
        });
        let mut done = done
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        done.sort_by_key(|(index, _)| *index);
        let mut summaries: Vec<InputSummary> = done.into_iter().flat_map(|(_, s)| s).collect();
        for failure in plan.failures {
            let path = failure.path().unwrap_or_default().into();
            summaries.push(InputSummary::failed(path, failure));
        }
        summaries
    }

    fn read_file<F, H>(
        &self,
        file: &PlannedFile,
        options: &ReadOptions,
        handler: &F,
    ) -> Vec<InputSummary>
    where
        F: Fn(InputInfo<'_>) -> H + Sync,
        H: FnMut(RecordResult) -> ControlFlow<()>,
    {
        let span = tracing::debug_span!("input", path = %file.path.display());
        let _entered = span.enter();
        let mut summaries = Vec::new();
        match Input::open(&file.path, self.progress.clone()) {
            Ok(input) => self.dispatch(input, 0, file.named, options, handler, &mut summaries),
            Err(e) => {
                let path = file.path.display().to_string().into();
                summaries.push(InputSummary::failed(path, e));
            }
        }
        summaries
    }

    /// Reads one input (a stream, bytes, or an opened file) on the calling thread, opening
    /// it as an archive when it is one.
    pub fn read_input<F, H>(&self, input: Input<'_>, handler: F) -> Vec<InputSummary>
    where
        F: Fn(InputInfo<'_>) -> H,
        H: FnMut(RecordResult) -> ControlFlow<()>,
    {
        let mut summaries = Vec::new();
        self.dispatch(input, 0, true, &self.options, &handler, &mut summaries);
        summaries
    }

    fn dispatch<F, H>(
        &self,
        mut input: Input<'_>,
        depth: u32,
        named: bool,
        options: &ReadOptions,
        handler: &F,
        out: &mut Vec<InputSummary>,
    ) where
        F: Fn(InputInfo<'_>) -> H,
        H: FnMut(RecordResult) -> ControlFlow<()>,
    {
        if self.stopped() {
            return;
        }
        let path = input.name().clone();
        let head = match input.head() {
            Ok(head) => head,
            Err(e) => {
                return out.push(InputSummary::failed(
                    path.clone(),
                    IngestError::io(&path, e),
                ));
            }
        };
        if head.is_empty() {
            return out.push(InputSummary::new(path, Some("empty")));
        }
        if let Some(kind) = ArchiveKind::sniff(head) {
            if depth >= MAX_DEPTH {
                let failure = IngestError::Archive {
                    path: path.clone(),
                    kind: kind.name(),
                    reason: format!("archives nested more than {MAX_DEPTH} deep are not opened"),
                };
                return out.push(InputSummary::failed(path, failure));
            }
            // A gzip file is the file it compresses: named if the gzip was.
            let members_named = named && kind == ArchiveKind::Gzip;
            let before = out.len();
            archive::for_each_member(input, kind, self.options.max_in_memory, &mut |member| {
                match member {
                    Ok(member) => {
                        self.dispatch(member, depth + 1, members_named, options, handler, out)
                    }
                    Err(failure) => {
                        let at = failure
                            .path()
                            .map_or_else(|| path.clone(), SourcePath::from);
                        out.push(InputSummary::failed(at, failure));
                    }
                }
            });
            if out.len() == before && !self.stopped() {
                out.push(InputSummary::new(path, Some(kind.name())));
            }
            return;
        }
        let Some(reader) = self.forced.or_else(|| detect(head)) else {
            let mut summary =
                InputSummary::failed(path.clone(), IngestError::UnknownFormat { path });
            summary.skipped = !named;
            return out.push(summary);
        };
        let mut summary = InputSummary::new(path.clone(), Some(reader.name()));
        let mut sink = handler(InputInfo {
            path: &path,
            format: reader.name(),
        });
        // A panic in a reader would be a bug; it abandons this input only, and what was
        // read before it stays counted.
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            reader.read(input, options, &mut |record| {
                match &record {
                    Ok(_) => summary.events += 1,
                    Err(e) => summary.errors += e.records,
                }
                let flow = sink(record);
                if flow.is_break() {
                    self.stopped.store(true, Ordering::Relaxed);
                }
                flow
            })
        }));
        summary.records = summary.events + summary.errors;
        match read {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => summary.failure = Some(failure),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a reader panicked".to_string());
                tracing::error!(path = %path, %message, "Reader failed; the input was abandoned.");
                summary.failure = Some(IngestError::Internal { path, message });
            }
        }
        out.push(summary);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn collect(ingest: &Ingest, plan: Plan) -> (Vec<InputSummary>, Vec<String>) {
        let seen = Mutex::new(Vec::new());
        let summaries = ingest.run(plan, |info| {
            let path = info.path.clone();
            let seen = &seen;
            move |record: RecordResult| {
                let line = match record {
                    Ok(e) => format!("{path}: {}", e.get_str("message").unwrap_or("-")),
                    Err(e) => format!("error {e}"),
                };
                seen.lock().unwrap().push(line);
                ControlFlow::Continue(())
            }
        });
        (summaries, seen.into_inner().unwrap())
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn archives_are_read_in_place_member_by_member() {
        let dir = tempfile::tempdir().unwrap();
        let log = b"Dec 10 06:55:46 h sshd[1]: one\nDec 10 06:55:47 h sshd[1]: two\n";
        // tar.gz with a log, a JSON file and a README.
        let mut tar = tar::Builder::new(Vec::new());
        for (name, data) in [
            ("var/log/auth.log", &log[..]),
            ("events.json", b"{\"message\":\"three\"}\n"),
            ("README", b"not a log"),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, data).unwrap();
        }
        std::fs::write(
            dir.path().join("case.tar.gz"),
            gzip(&tar.into_inner().unwrap()),
        )
        .unwrap();
        // zip with a gzipped log inside.
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file("logs/auth.log.gz", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&gzip(log)).unwrap();
        std::fs::write(
            dir.path().join("more.zip"),
            zip.finish().unwrap().into_inner(),
        )
        .unwrap();

        let ingest = Ingest::new(ReadOptions {
            year: Some(2024),
            ..ReadOptions::default()
        });
        let (summaries, seen) = collect(&ingest, Plan::new(&[dir.path().to_path_buf()]));
        let base = dir.path().display().to_string();
        let got: Vec<_> = summaries
            .iter()
            .map(|s| (s.path.replace(&base, ""), s.format, s.records, s.skipped))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "/case.tar.gz!var/log/auth.log".to_string(),
                    Some("syslog"),
                    2,
                    false
                ),
                (
                    "/case.tar.gz!events.json".to_string(),
                    Some("json"),
                    1,
                    false
                ),
                ("/case.tar.gz!README".to_string(), None, 0, true),
                (
                    "/more.zip!logs/auth.log.gz".to_string(),
                    Some("syslog"),
                    2,
                    false
                ),
            ]
        );
        assert_eq!(seen.len(), 5);
        assert!(
            seen.iter()
                .any(|l| l.ends_with("more.zip!logs/auth.log.gz: two")),
            "{seen:?}"
        );
    }

    #[test]
    fn a_named_file_of_unknown_format_is_a_failure_and_a_forced_format_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "hello\nworld\n").unwrap();
        let ingest = Ingest::new(ReadOptions::default());
        let (summaries, _) = collect(&ingest, Plan::new(std::slice::from_ref(&path)));
        assert!(!summaries[0].skipped);
        assert!(
            summaries[0]
                .failure
                .as_ref()
                .unwrap()
                .to_string()
                .contains("unknown format")
        );

        let forced = Ingest::new(ReadOptions::default())
            .force_format("syslog")
            .unwrap();
        let (summaries, seen) = collect(&forced, Plan::new(&[path]));
        assert_eq!((summaries[0].records, summaries[0].errors), (2, 2));
        assert!(seen[0].contains("not a syslog line"));
        assert!(
            Ingest::new(ReadOptions::default())
                .force_format("nope")
                .is_err()
        );
    }

    #[test]
    fn several_threads_give_the_same_summaries_in_the_same_order() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..12 {
            let body = format!("{{\"n\":{i}}}\n").repeat(i + 1);
            std::fs::write(dir.path().join(format!("{i:02}.json")), body).unwrap();
        }
        let one = Ingest::new(ReadOptions::default());
        let two = Ingest::new(ReadOptions {
            threads: 2,
            ..ReadOptions::default()
        });
        let (a, _) = collect(&one, Plan::new(&[dir.path().to_path_buf()]));
        let (b, _) = collect(&two, Plan::new(&[dir.path().to_path_buf()]));
        let key = |s: &Vec<InputSummary>| {
            s.iter()
                .map(|s| (s.path.clone(), s.records))
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&a), key(&b));
        assert_eq!(a.iter().map(|s| s.events).sum::<u64>(), 78);
    }

    #[test]
    fn a_handler_that_stops_ends_the_run() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            std::fs::write(
                dir.path().join(format!("{i}.json")),
                "{\"a\":1}\n{\"a\":2}\n",
            )
            .unwrap();
        }
        let ingest = Ingest::new(ReadOptions::default());
        let summaries = ingest.run(Plan::new(&[dir.path().to_path_buf()]), |_| {
            |_: RecordResult| ControlFlow::Break(())
        });
        assert!(ingest.stopped());
        assert_eq!(summaries.len(), 1, "no file is opened after the stop");
        assert_eq!(summaries[0].records, 1);
    }

    #[test]
    fn a_named_gzip_of_unknown_content_is_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt.gz");
        std::fs::write(&path, gzip(b"just some notes\n")).unwrap();
        let (summaries, _) = collect(&Ingest::new(ReadOptions::default()), Plan::new(&[path]));
        assert!(!summaries[0].skipped && summaries[0].failure.is_some());
    }

    #[test]
    fn detection_prefers_the_surest_reader() {
        assert_eq!(detect(b"ElfFile\0").map(|r| r.name()), Some("evtx"));
        assert_eq!(detect(b"{\"a\":1}\n").map(|r| r.name()), Some("json"));
        assert_eq!(
            detect(b"Dec 10 06:55:46 h a: b\n").map(|r| r.name()),
            Some("syslog")
        );
        assert!(detect(b"\x00\x01binary").is_none());
    }
}
