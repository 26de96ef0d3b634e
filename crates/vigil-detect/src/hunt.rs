//! The hunt loop.

use std::ops::ControlFlow;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::json;
use vigil_event::Event;
use vigil_ingest::{Ingest, InputInfo, InputSummary, Plan, RecordError, RecordResult};
use vigil_normalize::Taxonomy;
use vigil_sigma::{Detector, Match};

use vigil_sigma::Level;

use crate::detection::{Detection, Summary};

/// What a hunt keeps and drops.
#[derive(Debug, Clone, Copy)]
pub struct HuntOptions {
    /// Detections of rules below this level are not reported (correlations still count
    /// them).
    pub min_level: Level,
}

impl Default for HuntOptions {
    fn default() -> Self {
        HuntOptions {
            min_level: Level::Informational,
        }
    }
}

/// What a hunt found.
#[derive(Debug)]
pub struct HuntReport {
    /// Detections, by time, then input, then record, then rule.
    pub detections: Vec<Detection>,
    /// The counts; `rules_loaded`, `rules_failed` and `elapsed_ms` are for the caller to
    /// complete (it knows how rules were loaded and when it started).
    pub summary: Summary,
    /// One account per input, in plan order.
    pub inputs: Vec<InputSummary>,
}

/// A match of a rule that correlations count, kept with its event until every input is
/// read, so correlations see matches in time order whatever order inputs were read in.
struct Pending<'d> {
    at: i64,
    /// The order the event arrived in (a live hunt's tie-break for events of one second).
    arrival: u64,
    event: Event,
    matches: Vec<Match<'d>>,
}

#[derive(Default)]
struct Found<'d> {
    detections: Vec<Detection>,
    pending: Vec<Pending<'d>>,
    /// Events kept for correlation so far (the next one's arrival number).
    arrived: u64,
}

/// One input's findings, handed to the shared pile when the input ends.
struct Local<'s, 'd> {
    shared: &'s Mutex<Found<'d>>,
    found: Found<'d>,
}

impl Drop for Local<'_, '_> {
    fn drop(&mut self) {
        let found = std::mem::take(&mut self.found);
        if let Ok(mut shared) = self.shared.lock() {
            shared.detections.extend(found.detections);
            shared.pending.extend(found.pending);
        }
    }
}

/// Reads every input of `plan` with `ingest`, places events with `taxonomy`, and matches
/// them with `detector`. `on_error` hears of every record that could not be read, on the
/// thread that read it.
pub fn hunt<E>(
    detector: &Detector,
    taxonomy: &Taxonomy,
    ingest: &Ingest,
    plan: Plan,
    options: HuntOptions,
    on_error: E,
) -> HuntReport
where
    E: Fn(&RecordError) + Sync,
{
    let started = Instant::now();
    let shared = Mutex::new(Found::default());
    let handler = |_: InputInfo<'_>| {
        let mut local = Local {
            shared: &shared,
            found: Found::default(),
        };
        let mut matcher = detector.matcher();
        let on_error = &on_error;
        move |record: RecordResult| {
            let local = &mut local;
            match record {
                Ok(mut event) => {
                    taxonomy.apply(&mut event);
                    let matches = matcher.detect(&event);
                    if !matches.is_empty() {
                        keep(&mut local.found, event, matches, options);
                    }
                }
                Err(error) => on_error(&error),
            }
            ControlFlow::Continue(())
        }
    };
    let inputs = ingest.run(plan, handler);
    let Found {
        mut detections,
        mut pending,
        ..
    } = shared.into_inner().unwrap_or_else(|e| e.into_inner());

    let fired = correlate(detector, &mut pending, options, Order::Input);
    let correlations = fired.len() as u64;
    detections.extend(fired);
    detections.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));

    let mut summary = Summary {
        correlations,
        detections: detections.len() as u64,
        ..Summary::default()
    };
    for input in &inputs {
        summary.records += input.records;
        summary.events += input.events;
        summary.parse_errors += input.errors;
        if input.skipped {
            summary.files_skipped += 1;
        } else if input.failure.is_some() {
            summary.files_failed += 1;
        } else {
            summary.files += 1;
        }
    }
    for d in &detections {
        *summary.by_level.entry(d.level).or_default() += 1;
    }
    summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    HuntReport {
        detections,
        summary,
        inputs,
    }
}

/// How events of the same second are ordered for correlation rules.
#[derive(Clone, Copy)]
enum Order {
    /// By input, then record: the same whatever order files were read in.
    Input,
    /// In arrival order: a stream's inputs are pieces of it whose record numbers restart.
    Arrival,
}

/// Runs `detector`'s correlation rules over `pending` (sorted here by time, then `order`)
/// and returns the detections they produce.
fn correlate<'d>(
    detector: &'d Detector,
    pending: &mut [Pending<'d>],
    options: HuntOptions,
    order: Order,
) -> Vec<Detection> {
    let Some(mut correlator) = detector.correlator() else {
        return Vec::new();
    };
    match order {
        Order::Input => pending.sort_by(|a, b| {
            (a.at, &a.event.origin.path, a.event.origin.location.record).cmp(&(
                b.at,
                &b.event.origin.path,
                b.event.origin.location.record,
            ))
        }),
        Order::Arrival => pending.sort_by_key(|p| (p.at, p.arrival)),
    }
    let mut detections = Vec::new();
    for p in pending.iter() {
        for fired in correlator.feed(&p.event, &p.matches, p.at) {
            let level = fired.rule.reported_level();
            if level < options.min_level {
                continue;
            }
            let mut detection = Detection::new(fired.rule, &p.event, Vec::new());
            let group: serde_json::Map<_, _> = fired
                .group
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            detection.correlation = Some(json!({
                "type": fired.kind,
                "group": group,
                "value": fired.value,
                "timespan_secs": fired.timespan_secs,
            }));
            detection.id = detection.content_id();
            detections.push(detection);
        }
    }
    detections
}

/// What [`LiveHunt::take`] returns.
#[derive(Debug, Default)]
pub struct Taken {
    /// Detections not returned before.
    pub detections: Vec<Detection>,
    /// Correlation detections returned before that no longer hold: an event read since,
    /// earlier in time than those it completed, moved where the correlation fires (the
    /// same correlation then comes back under another id among `detections`).
    pub retracted: Vec<String>,
}

/// A hunt over inputs that arrive one after another, as the server's live stream does:
/// each [`LiveHunt::read`] matches one input's records, and [`LiveHunt::take`] returns
/// the detections found since the last take. Correlation rules see every event read so
/// far in time order (each take reruns them over the matches they count, returns the
/// correlations not returned before and retracts those that no longer fire; events of one
/// second in arrival order), so the detections of a stream, less those retracted, equal
/// those of [`hunt`] over the same records.
pub struct LiveHunt<'d> {
    detector: &'d Detector,
    taxonomy: &'d Taxonomy,
    options: HuntOptions,
    found: Found<'d>,
    /// Whether `found.pending` grew since the last correlation pass.
    pending_grew: bool,
    /// The ids of correlations already returned.
    correlated: std::collections::HashSet<String>,
}

impl<'d> LiveHunt<'d> {
    /// A live hunt with `detector`, placing events with `taxonomy`.
    pub fn new(detector: &'d Detector, taxonomy: &'d Taxonomy, options: HuntOptions) -> Self {
        LiveHunt {
            detector,
            taxonomy,
            options,
            found: Found::default(),
            pending_grew: false,
            correlated: Default::default(),
        }
    }

    /// Reads `input` with `ingest` and matches its records; `on_error` hears of every
    /// record that could not be read.
    pub fn read(
        &mut self,
        ingest: &Ingest,
        input: vigil_ingest::Input<'_>,
        mut on_error: impl FnMut(&RecordError),
    ) -> Vec<InputSummary> {
        let (detector, taxonomy, options) = (self.detector, self.taxonomy, self.options);
        let found = std::cell::RefCell::new(&mut self.found);
        let grew = std::cell::Cell::new(false);
        let on_error = std::cell::RefCell::new(&mut on_error);
        let handler = |_: InputInfo<'_>| {
            let mut matcher = detector.matcher();
            let (found, grew, on_error) = (&found, &grew, &on_error);
            move |record: RecordResult| {
                match record {
                    Ok(mut event) => {
                        taxonomy.apply(&mut event);
                        let matches = matcher.detect(&event);
                        if !matches.is_empty() {
                            let mut found = found.borrow_mut();
                            let before = found.pending.len();
                            keep(&mut found, event, matches, options);
                            grew.set(grew.get() || found.pending.len() > before);
                        }
                    }
                    Err(error) => (on_error.borrow_mut())(&error),
                }
                ControlFlow::Continue(())
            }
        };
        let inputs = ingest.read_input(input, handler);
        self.pending_grew |= grew.get();
        inputs
    }

    /// The detections found since the last take, in [`hunt`]'s order, and the ids of
    /// correlation detections returned before that the events read since undo.
    pub fn take(&mut self) -> Taken {
        let mut detections = std::mem::take(&mut self.found.detections);
        let mut retracted = Vec::new();
        if std::mem::take(&mut self.pending_grew) {
            let fired = correlate(
                self.detector,
                &mut self.found.pending,
                self.options,
                Order::Arrival,
            );
            let now: std::collections::HashSet<String> =
                fired.iter().map(|d| d.id.clone()).collect();
            retracted = self
                .correlated
                .iter()
                .filter(|id| !now.contains(*id))
                .cloned()
                .collect();
            retracted.sort();
            detections.extend(
                fired
                    .into_iter()
                    .filter(|d| !self.correlated.contains(&d.id)),
            );
            self.correlated = now;
        }
        detections.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        Taken {
            detections,
            retracted,
        }
    }

    /// How many matched events the correlation rules hold (they are kept for the life
    /// of the hunt).
    pub fn held(&self) -> usize {
        self.found.pending.len()
    }
}

/// Records an event's matches: reported ones as detections, correlated ones kept for the
/// correlation pass.
fn keep<'d>(found: &mut Found<'d>, event: Event, matches: Vec<Match<'d>>, options: HuntOptions) {
    let mut correlated = Vec::new();
    for m in matches {
        if m.rule.generate && m.rule.reported_level() >= options.min_level {
            found
                .detections
                .push(Detection::new(m.rule, &event, m.selections.clone()));
        }
        if m.rule.correlated {
            correlated.push(m);
        }
    }
    if !correlated.is_empty()
        && let Some(at) = event.timestamp
    {
        found.arrived += 1;
        found.pending.push(Pending {
            at: at.as_second(),
            arrival: found.arrived,
            event,
            matches: correlated,
        });
    }
}
