//! `vigil parse`: read logs, print normalized events or a per-file summary.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::ops::ControlFlow;
use std::sync::Mutex;

use anyhow::Context;
use jiff::tz::TimeZone;
use serde::Serialize;
use vigil_ingest::{
    Ingest, IngestError, Input, InputInfo, InputSummary, Plan, ReadOptions, RecordError,
    RecordResult,
};
use vigil_normalize::Taxonomy;

use crate::Outcome;
use crate::args::{GlobalArgs, ParseArgs, ReadArgs, UsageError};
use crate::output::{SharedOutput, finish_quietly, say, thousands};
use crate::progress::Progress;

/// Events are serialized into a block per worker and handed to the output when the block
/// reaches this size, so threads rarely contend for the output lock.
const BLOCK: usize = 64 * 1024;

pub(crate) fn run(global: &GlobalArgs, args: ParseArgs) -> anyhow::Result<Outcome> {
    let ingest = args.read.ingest(global)?;
    // `-` reads standard input, after the paths.
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let files: Vec<_> = args
        .paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    let mut plan = Plan::new(&files);
    // The output must not be read as input (`vigil parse case/ -o case/events.jsonl` run
    // twice would otherwise read its own growing output).
    for written in [args.output.as_deref(), args.errors.as_deref()]
        .into_iter()
        .flatten()
    {
        if let Ok(written) = written.canonicalize() {
            let before = plan.files.len();
            plan.files
                .retain(|f| f.path.canonicalize().map_or(true, |p| p != written));
            if plan.files.len() < before && !global.quiet {
                say!(
                    "note: not reading {}: it is this run's output",
                    written.display()
                );
            }
        }
    }
    let progress = Progress::new(plan.total_bytes(), !global.quiet && !global.no_progress);
    let ingest = ingest.progress(progress.counter());

    let events_out = if args.stats {
        None
    } else {
        Some(SharedOutput::create(args.output.as_deref())?)
    };
    let errors_out = args
        .errors
        .as_deref()
        .map(|p| SharedOutput::create(Some(p)))
        .transpose()?;
    let hidden_errors = Mutex::new(Vec::<(String, u64)>::new());
    let variants_seen = Mutex::new(HashMap::<String, BTreeMap<&'static str, u64>>::new());
    // Statistics count records; only events written out need the taxonomy's names.
    let taxonomy = if args.no_taxonomy || args.stats {
        None
    } else {
        Some(Taxonomy::builtin()?)
    };

    let handler = |info: InputInfo<'_>| {
        let mut block = Block::new(events_out.as_ref());
        let mut error_block = Block::new(errors_out.as_ref());
        let mut tally = InputTally {
            path: info.path.to_string(),
            shown: 0,
            hidden: 0,
            hidden_errors: &hidden_errors,
            variants: BTreeMap::new(),
            variants_seen: &variants_seen,
        };
        let (progress, quiet, limit) = (&progress, global.quiet, args.read.show_errors);
        let taxonomy = taxonomy.as_ref();
        move |record: RecordResult| {
            // Captures the whole tally, so its count is what the drop sees.
            let tally = &mut tally;
            match record {
                Ok(mut event) => {
                    if let Some(variant) = event.variant {
                        *tally.variants.entry(variant).or_default() += 1;
                    }
                    if let Some(taxonomy) = taxonomy {
                        taxonomy.apply(&mut event);
                    }
                    block.push_json(&event)
                }
                Err(error) => {
                    if tally.shown < limit && !quiet {
                        tally.shown += 1;
                        progress.suspend(|| say!("warning: {error}"));
                    } else {
                        tally.hidden += 1;
                    }
                    error_block.push_json(&ErrorLine::from(&error))
                }
            }
        }
    };
    let mut summaries = ingest.run(plan, handler);
    if stdin {
        let input = Input::from_reader("-", std::io::stdin().lock());
        summaries.extend(ingest.read_input(input, handler));
    }
    progress.finish();

    let mut hidden = hidden_errors.into_inner().unwrap_or_default();
    hidden.sort();
    for (path, count) in hidden {
        if !global.quiet {
            say!(
                "warning: {path}: {count} more record error(s) not shown (see --show-errors, --errors FILE)"
            );
        }
    }
    let skipped = summaries.iter().filter(|s| s.skipped).count();
    if skipped > 0 && !global.quiet && !args.stats {
        say!("note: skipped {skipped} file(s) in no format vigil reads (`--stats` lists them)");
    }
    let outcome = super::account_inputs(&summaries);

    if let Some(out) = events_out {
        finish_quietly(out).context("cannot write events")?;
    }
    if let Some(out) = errors_out {
        finish_quietly(out).context("cannot write the error file")?;
    }
    let variants = variants_seen.into_inner().unwrap_or_default();
    let report = Report::new(&summaries, &variants);
    if args.stats {
        let out = SharedOutput::create(args.output.as_deref())?;
        let mut text = Vec::new();
        if args.json {
            serde_json::to_writer(&mut text, &report)?;
            text.push(b'\n');
        } else {
            report.write_table(&mut text)?;
        }
        out.write_block(&text);
        finish_quietly(out).context("cannot write the summary")?;
    } else if !global.quiet {
        let t = &report.total;
        say!(
            "vigil: {} input(s): {} records, {} events, {} errors{}",
            thousands(t.files),
            thousands(t.records),
            thousands(t.events),
            thousands(t.errors),
            if t.failed_files > 0 {
                format!(", {} unreadable", t.failed_files)
            } else {
                String::new()
            },
        );
    }
    Ok(outcome)
}

/// What is counted of one input while it is read: the record errors printed and not printed,
/// and the events of each variant. The counts are handed over when the input ends (the
/// handler holding the tally is dropped).
struct InputTally<'a> {
    path: String,
    shown: usize,
    hidden: u64,
    hidden_errors: &'a Mutex<Vec<(String, u64)>>,
    variants: BTreeMap<&'static str, u64>,
    variants_seen: &'a Mutex<HashMap<String, BTreeMap<&'static str, u64>>>,
}

impl Drop for InputTally<'_> {
    fn drop(&mut self) {
        if self.hidden > 0
            && let Ok(mut list) = self.hidden_errors.lock()
        {
            list.push((self.path.clone(), self.hidden));
        }
        if !self.variants.is_empty()
            && let Ok(mut seen) = self.variants_seen.lock()
        {
            let counts = seen.entry(std::mem::take(&mut self.path)).or_default();
            for (variant, n) in std::mem::take(&mut self.variants) {
                *counts.entry(variant).or_default() += n;
            }
        }
    }
}

pub(crate) fn time_zone(name: &str) -> anyhow::Result<TimeZone> {
    if name.eq_ignore_ascii_case("utc") || name == "Z" {
        return Ok(TimeZone::UTC);
    }
    if let Some(sign) = name.chars().next().filter(|c| *c == '+' || *c == '-') {
        let digits: String = name[1..].chars().filter(char::is_ascii_digit).collect();
        if digits.len() == 4 || digits.len() == 2 {
            let hours: i32 = digits[..2].parse().unwrap_or(0);
            let minutes: i32 = digits.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
            let seconds = (hours * 3600 + minutes * 60) * if sign == '-' { -1 } else { 1 };
            if let Ok(offset) = jiff::tz::Offset::from_seconds(seconds) {
                return Ok(TimeZone::fixed(offset));
            }
        }
    }
    TimeZone::get(name)
        .map_err(|e| UsageError(format!("unknown time zone '{name}': {e} (use an IANA name such as Europe/Berlin, UTC, or +02:00)")).into())
}

impl ReadArgs {
    /// The reader setup these options and the global thread count ask for.
    pub(crate) fn ingest(&self, global: &GlobalArgs) -> anyhow::Result<Ingest> {
        let threads = global
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        let options = ReadOptions {
            threads,
            year: self.year,
            timezone: time_zone(&self.timezone)?,
            ..ReadOptions::default()
        };
        let mut ingest = Ingest::new(options);
        if let Some(format) = &self.format {
            ingest = ingest
                .force_format(format)
                .map_err(|e| UsageError(e.to_string()))?;
        }
        Ok(ingest)
    }
}

/// A worker's block of JSON lines, handed to the shared output when full and at the end.
struct Block<'o> {
    out: Option<&'o SharedOutput>,
    buf: Vec<u8>,
}

impl<'o> Block<'o> {
    fn new(out: Option<&'o SharedOutput>) -> Self {
        Block {
            out,
            buf: Vec::new(),
        }
    }

    fn push_json(&mut self, value: &impl Serialize) -> ControlFlow<()> {
        let Some(out) = self.out else {
            return ControlFlow::Continue(());
        };
        if out.is_closed() {
            // The reader of the output has gone away: stop reading.
            return ControlFlow::Break(());
        }
        if serde_json::to_writer(&mut self.buf, value).is_ok() {
            self.buf.push(b'\n');
        }
        if self.buf.len() >= BLOCK {
            let ok = out.write_block(&self.buf);
            self.buf.clear();
            if !ok {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}

impl Drop for Block<'_> {
    fn drop(&mut self) {
        if let Some(out) = self.out {
            out.write_block(&self.buf);
        }
    }
}

/// A record error as a JSON line of `--errors FILE`.
#[derive(Serialize)]
struct ErrorLine<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chunk: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    /// How many records the error stands for.
    records: u64,
    error: String,
}

impl<'a> From<&'a RecordError> for ErrorLine<'a> {
    fn from(e: &'a RecordError) -> Self {
        let l = e.origin.location;
        ErrorLine {
            path: &e.origin.path,
            record: l.record,
            chunk: l.chunk,
            line: l.line,
            offset: l.offset,
            records: e.records,
            error: e.kind.to_string(),
        }
    }
}

fn is_empty(variants: &Option<&BTreeMap<&'static str, u64>>) -> bool {
    variants.is_none_or(|v| v.is_empty())
}

/// The `--stats` summary: `{"files":[...],"total":{...}}`.
#[derive(Serialize)]
struct Report<'a> {
    files: Vec<FileLine<'a>>,
    total: Total,
}

#[derive(Serialize)]
struct FileLine<'a> {
    path: &'a str,
    format: Option<&'static str>,
    /// Events by the reader's variant (`cloudtrail`, `zeek`), when it tells some apart.
    #[serde(skip_serializing_if = "is_empty")]
    variants: Option<&'a BTreeMap<&'static str, u64>>,
    records: u64,
    events: u64,
    errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    skipped: bool,
}

#[derive(Serialize, Default)]
struct Total {
    records: u64,
    events: u64,
    errors: u64,
    /// Inputs read (archive members count one each).
    files: u64,
    /// Inputs that could not be read, or stopped being read, as a whole.
    failed_files: u64,
    /// Inputs skipped as not a log format vigil reads.
    skipped_files: u64,
}

impl<'a> Report<'a> {
    fn new(
        summaries: &'a [InputSummary],
        variants: &'a HashMap<String, BTreeMap<&'static str, u64>>,
    ) -> Self {
        let mut total = Total::default();
        let files = summaries
            .iter()
            .map(|s| {
                total.records += s.records;
                total.events += s.events;
                total.errors += s.errors;
                total.files += 1;
                if s.skipped {
                    total.skipped_files += 1;
                } else if s.failure.is_some() {
                    total.failed_files += 1;
                }
                FileLine {
                    path: &s.path,
                    format: s.format,
                    variants: variants.get(&s.path.to_string()),
                    records: s.records,
                    events: s.events,
                    errors: s.errors,
                    error: s.failure.as_ref().map(IngestError::detail),
                    skipped: s.skipped,
                }
            })
            .collect();
        Report { files, total }
    }

    fn write_table(&self, out: &mut impl Write) -> std::io::Result<()> {
        let rows: Vec<[String; 5]> = self
            .files
            .iter()
            .map(|f| {
                let format = match (f.format, f.skipped, &f.error) {
                    // `json (cloudtrail)`, or how many variants a file mixes.
                    (Some(format), _, _) => match f.variants.map(|v| (v.len(), v.keys().next())) {
                        Some((1, Some(variant))) if *variant != format => {
                            format!("{format} ({variant})")
                        }
                        Some((n, _)) if n > 1 => format!("{format} ({n} variants)"),
                        _ => format.to_string(),
                    },
                    (None, true, _) => "skipped".to_string(),
                    (None, false, _) => "FAILED".to_string(),
                };
                [
                    format,
                    thousands(f.records),
                    thousands(f.events),
                    thousands(f.errors),
                    f.path.to_string(),
                ]
            })
            .collect();
        let t = &self.total;
        let total = [
            "total".to_string(),
            thousands(t.records),
            thousands(t.events),
            thousands(t.errors),
            format!(
                "{} input(s){}{}",
                thousands(t.files),
                if t.failed_files > 0 {
                    format!(", {} failed", t.failed_files)
                } else {
                    String::new()
                },
                if t.skipped_files > 0 {
                    format!(", {} skipped", t.skipped_files)
                } else {
                    String::new()
                },
            ),
        ];
        let header = ["FORMAT", "RECORDS", "EVENTS", "ERRORS", "PATH"].map(String::from);
        let mut widths = [0usize; 4];
        for row in std::iter::once(&header)
            .chain(&rows)
            .chain(std::iter::once(&total))
        {
            for (w, cell) in widths.iter_mut().zip(row.iter()) {
                *w = (*w).max(cell.len());
            }
        }
        let line = |out: &mut dyn Write, row: &[String; 5]| {
            writeln!(
                out,
                "{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {}",
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            )
        };
        line(out, &header)?;
        for row in &rows {
            line(out, row)?;
        }
        line(out, &total)?;
        for f in self.files.iter().filter(|f| !f.skipped) {
            if let Some(error) = &f.error {
                writeln!(out, "failed: {error}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_by_name_and_offset() {
        assert_eq!(time_zone("UTC").unwrap(), TimeZone::UTC);
        let plus2 = time_zone("+02:00").unwrap();
        assert_eq!(plus2.to_fixed_offset().unwrap().seconds(), 7200);
        assert_eq!(
            time_zone("-0530")
                .unwrap()
                .to_fixed_offset()
                .unwrap()
                .seconds(),
            -19800
        );
        assert!(time_zone("Mars/Olympus").is_err());
    }
}
