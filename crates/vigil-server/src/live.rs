//! Live hunting: one worker thread reads the events the ingestion endpoints stored, in
//! arrival order, through the same readers, rules, correlation and triage as `vigil hunt`
//! ([`vigil_engine::Engine`]), stores the detections and updates the incidents.
//!
//! The store is the queue. An event is acknowledged once it is stored, so nothing
//! acknowledged is lost when the server dies; on start the worker reads every stored
//! event again (detections are stored by content id, so none is duplicated) and writes
//! incidents only once it has caught up with what was stored before the start. Senders
//! are told to wait (HTTP 429, or a paused TCP read) when more than
//! [`LiveOptions::max_lag`] stored events wait for the worker: memory stays bounded
//! whatever the senders do.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use vigil_detect::Detection;
use vigil_engine::Engine;
use vigil_ingest::{Ingest, Input, ReadOptions};
use vigil_store::{IncidentQuery, Store};

use crate::Inner;

/// How live hunting reads and how far it may fall behind.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// How records are read (year for dates without one, time zone, record size limit).
    pub read: ReadOptions,
    /// Stored events the worker has not hunted yet beyond which senders are told to wait.
    pub max_lag: u64,
    /// Events the worker takes from the store at a time.
    pub batch: u64,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            read: ReadOptions::default(),
            max_lag: 200_000,
            batch: 20_000,
        }
    }
}

/// Where the events come from, for metrics.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Via {
    Bulk = 0,
    Hec = 1,
    SyslogUdp = 2,
    SyslogTcp = 3,
}

pub(crate) const VIA_NAMES: [&str; 4] = ["bulk", "hec", "syslog_udp", "syslog_tcp"];

/// What the endpoints and the worker share.
pub(crate) struct Live {
    /// The newest stored event's sequence number.
    stored: AtomicI64,
    /// The newest hunted event's sequence number.
    hunted: AtomicI64,
    /// Whether the worker has caught up with the events stored before the start.
    replayed: AtomicBool,
    max_lag: u64,
    stop: AtomicBool,
    wake: (Mutex<bool>, Condvar),
    pub(crate) events_in: [AtomicU64; 4],
    pub(crate) udp_dropped: AtomicU64,
    pub(crate) told_to_wait: AtomicU64,
    pub(crate) record_errors: AtomicU64,
    pub(crate) detections: AtomicU64,
    pub(crate) incident_updates: AtomicU64,
    pub(crate) batches: AtomicU64,
    pub(crate) batch_micros: AtomicU64,
}

impl Live {
    /// Stored events not yet hunted.
    pub(crate) fn lag(&self) -> u64 {
        (self.stored.load(Relaxed) - self.hunted.load(Relaxed)).max(0) as u64
    }

    /// Whether senders must wait.
    pub(crate) fn full(&self) -> bool {
        self.lag() > self.max_lag
    }

    /// Records that events up to `seq` are stored and wakes the worker.
    pub(crate) fn stored(&self, seq: i64, via: Via, count: usize) {
        self.stored.fetch_max(seq, Relaxed);
        self.events_in[via as usize].fetch_add(count as u64, Relaxed);
        self.notify();
    }

    fn notify(&self) {
        if let Ok(mut woken) = self.wake.0.lock() {
            *woken = true;
            self.wake.1.notify_one();
        }
    }

    /// Waits until woken or `timeout` passes.
    fn wait(&self, timeout: Duration) {
        if let Ok(mut woken) = self.wake.0.lock() {
            if !*woken {
                woken = match self.wake.1.wait_timeout(woken, timeout) {
                    Ok((guard, _)) => guard,
                    Err(_) => return,
                };
            }
            *woken = false;
        }
    }

    /// The status `/api/v1/ingest/status` shows.
    pub(crate) fn status(&self) -> Value {
        serde_json::json!({
            "stored": self.stored.load(Relaxed),
            "hunted": self.hunted.load(Relaxed),
            "lag": self.lag(),
            "max_lag": self.max_lag,
            "replayed": self.replayed.load(Relaxed),
        })
    }
}

/// The running worker; [`LiveWorker::stop`] ends it.
pub struct LiveWorker {
    live: Arc<Live>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LiveWorker {
    /// Hunts what is stored, then stops the worker and waits for it.
    pub fn stop(mut self) {
        self.live.stop.store(true, Relaxed);
        self.live.notify();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for LiveWorker {
    fn drop(&mut self) {
        self.live.stop.store(true, Relaxed);
        self.live.notify();
    }
}

/// Starts the worker over `inner`'s store.
pub(crate) fn start(
    inner: Arc<Inner>,
    options: LiveOptions,
) -> Result<(Arc<Live>, LiveWorker), vigil_store::Error> {
    // The worker has a connection of its own: its reads and writes do not wait behind
    // requests, nor requests behind it.
    let (last, identity, own) = {
        let mut store = inner.store.lock().map_err(|_| poisoned())?;
        (
            store.last_event_seq()?,
            Identity::load(&mut store)?,
            store.reopen()?,
        )
    };
    let live = Arc::new(Live {
        stored: AtomicI64::new(last),
        hunted: AtomicI64::new(0),
        replayed: AtomicBool::new(last == 0),
        max_lag: options.max_lag,
        stop: AtomicBool::new(false),
        wake: (Mutex::new(false), Condvar::new()),
        events_in: Default::default(),
        udp_dropped: AtomicU64::new(0),
        told_to_wait: AtomicU64::new(0),
        record_errors: AtomicU64::new(0),
        detections: AtomicU64::new(0),
        incident_updates: AtomicU64::new(0),
        batches: AtomicU64::new(0),
        batch_micros: AtomicU64::new(0),
    });
    let worker = Worker {
        inner,
        own: Mutex::new(own),
        live: live.clone(),
        options,
        replay_until: last,
        identity,
        known: Default::default(),
        dirty: false,
    };
    let thread = std::thread::Builder::new()
        .name("vigil-live".into())
        .spawn(move || worker.run())
        .map_err(|e| vigil_store::Error::Invalid(format!("cannot start the live worker: {e}")))?;
    Ok((
        live.clone(),
        LiveWorker {
            live,
            thread: Some(thread),
        },
    ))
}

fn poisoned() -> vigil_store::Error {
    vigil_store::Error::Invalid("the store's lock is poisoned".into())
}

struct Worker {
    inner: Arc<Inner>,
    /// The worker's own connection to the store.
    own: Mutex<Store>,
    live: Arc<Live>,
    options: LiveOptions,
    /// Incidents are written only once events up to this one are hunted again.
    replay_until: i64,
    identity: Identity,
    /// The ids of the detections kept.
    known: std::collections::HashSet<String>,
    /// Whether the detections kept changed since incidents were last written.
    dirty: bool,
}

impl Worker {
    /// The engine now and its generation.
    fn engine(&self) -> Option<(u64, Arc<Engine>)> {
        let generation = self.inner.generation.load(Relaxed);
        let hunting = self.inner.hunting.read().ok()?;
        hunting
            .as_ref()
            .map(|(_, engine)| (generation, engine.clone()))
    }

    fn run(mut self) {
        let ingest = Ingest::new(ReadOptions {
            threads: 1,
            ..self.options.read.clone()
        });
        let mut kept: Vec<Detection> = Vec::new();
        let mut cursor = 0;
        // A new engine (rules or suppressions changed) starts a new live hunt at the next
        // batch; what was hunted keeps its detections.
        while let Some((generation, engine)) = self.engine() {
            // New suppressions apply to the incidents at once.
            if !kept.is_empty()
                && self.live.replayed.load(Relaxed)
                && let Err(e) = self.write_incidents(&engine, &kept)
            {
                tracing::error!(error = %e, "live hunting cannot store its incidents");
            }
            let mut hunt = engine.live();
            loop {
                if self.inner.generation.load(Relaxed) != generation {
                    break;
                }
                let batch = match self.store(|s| s.event_texts(cursor, self.options.batch)) {
                    Ok(batch) => batch,
                    Err(e) => {
                        tracing::error!(error = %e, "live hunting cannot read events; retrying");
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                };
                let Some(last) = batch.last().map(|(seq, _, _)| *seq) else {
                    if self.live.stop.load(Relaxed) {
                        return;
                    }
                    self.live.wait(Duration::from_millis(500));
                    continue;
                };
                let started = Instant::now();
                let mut found = Vec::new();
                let mut retracted = Vec::new();
                for group in groups(&batch) {
                    let name = group.source.to_string();
                    let input = Input::from_bytes(name.as_str(), group.text)
                        .with_modified(Some(jiff::Timestamp::now()));
                    let live = &self.live;
                    hunt.read(&ingest, input, |error| {
                        live.record_errors.fetch_add(1, Relaxed);
                        tracing::warn!(source = %name, %error, "a record could not be read");
                    });
                    let taken = hunt.take();
                    found.retain(|(d, _): &(Detection, Option<Value>)| {
                        !taken.retracted.contains(&d.id)
                    });
                    retracted.extend(taken.retracted);
                    let mut new = taken.detections;
                    engine.annotate(&mut new);
                    for detection in new {
                        let evidence = (detection.source.record as usize)
                            .checked_sub(1)
                            .and_then(|i| group.rows.get(i))
                            .and_then(|&row| serde_json::from_str(&batch[row].2).ok());
                        found.push((detection, evidence));
                    }
                }
                // The batch is hunted once; storing its results is retried until it
                // works (reading the batch again would count its events twice).
                while let Err(e) = self.publish(&engine, &found, &retracted, &mut kept, last) {
                    tracing::error!(error = %e, "live hunting cannot store its results; retrying");
                    std::thread::sleep(Duration::from_secs(1));
                }
                cursor = last;
                self.live.hunted.store(last, Relaxed);
                self.live.batches.fetch_add(1, Relaxed);
                self.live.batch_micros.fetch_add(
                    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                    Relaxed,
                );
            }
        }
    }

    fn store<T>(
        &self,
        work: impl FnOnce(&mut Store) -> vigil_store::Result<T>,
    ) -> vigil_store::Result<T> {
        let mut store = self.own.lock().map_err(|_| poisoned())?;
        work(&mut store)
    }

    /// Stores new detections and, once replay is over, the incidents that changed.
    fn publish(
        &mut self,
        engine: &Engine,
        found: &[(Detection, Option<Value>)],
        retracted: &[String],
        kept: &mut Vec<Detection>,
        last: i64,
    ) -> Result<(), String> {
        // Correlations a later event undid leave the store and the incidents.
        let retracted: Vec<String> = retracted
            .iter()
            .filter(|id| self.known.contains(*id))
            .cloned()
            .collect();
        if !retracted.is_empty() {
            self.store(|s| s.delete_detections(&retracted))
                .map_err(|e| e.to_string())?;
            for id in &retracted {
                self.known.remove(id);
            }
            kept.retain(|d| !retracted.contains(&d.id));
            self.dirty = true;
        }
        // A detection seen before (same content id: the same event shipped again) is
        // stored, sent and folded once.
        let found: Vec<&(Detection, Option<Value>)> = found
            .iter()
            .filter(|(d, _)| !self.known.contains(&d.id))
            .collect();
        let rows: Vec<(Value, Option<Value>)> = found
            .iter()
            .map(|(d, e)| (serde_json::to_value(d).unwrap_or_default(), e.clone()))
            .collect();
        if !rows.is_empty() {
            let added = self
                .store(|s| s.put_detections(Some("live"), &rows))
                .map_err(|e| e.to_string())?;
            self.live.detections.fetch_add(added, Relaxed);
            for (detection, _) in &rows {
                let _ = self.inner.feeds.detections.send(detection.clone());
            }
            for (detection, _) in found {
                if self.known.insert(detection.id.clone()) {
                    kept.push(detection.clone());
                    self.dirty = true;
                }
            }
        }
        let replaying = last < self.replay_until;
        let caught_up_now = !replaying && !self.live.replayed.load(Relaxed);
        if replaying || (!self.dirty && !caught_up_now) {
            return Ok(());
        }
        self.write_incidents(engine, kept)?;
        self.dirty = false;
        self.live.replayed.store(true, Relaxed);
        Ok(())
    }

    /// Folds every detection kept into incidents and writes those that changed.
    fn write_incidents(&mut self, engine: &Engine, kept: &[Detection]) -> Result<(), String> {
        let folded = engine.fold(kept.to_vec()).map_err(|e| e.to_string())?;
        let (upserts, retired) = self.identity.assign(&folded.incidents);
        self.store(|s| {
            s.upsert_incidents(&upserts)?;
            for (id, into) in &retired {
                // The analysts' notes go with the incident it joined; then it goes.
                if let Some(old) = s.incident(id)? {
                    for note in old.notes {
                        let text = format!("[from {id}, {}] {}", note.at, note.text);
                        let update = vigil_store::CaseUpdate {
                            note: Some(text),
                            ..vigil_store::CaseUpdate::default()
                        };
                        s.update_case(into, &note.author, &update)?;
                    }
                }
                s.delete_incident(id)?;
                s.audit(
                    "system",
                    "incident.merge",
                    id,
                    &serde_json::json!({"into": into, "reason": "new detections joined it to another incident"}),
                )?;
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        self.live
            .incident_updates
            .fetch_add(upserts.len() as u64, Relaxed);
        for (id, into) in retired {
            let _ = self
                .inner
                .feeds
                .incidents
                .send(("merged".into(), serde_json::json!({"id": id, "into": into})));
        }
        for incident in upserts {
            let _ = self
                .inner
                .feeds
                .incidents
                .send(("incident".into(), incident));
        }
        Ok(())
    }
}

/// Consecutive events of one source, as one input: a JSON document per line, or the
/// text of a line-based record.
pub(crate) struct Group<'b> {
    pub(crate) source: &'b str,
    pub(crate) text: Vec<u8>,
    /// The position in the batch of each line's event.
    pub(crate) rows: Vec<usize>,
}

pub(crate) fn groups(batch: &[(i64, String, String)]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for (row, (_, source, body)) in batch.iter().enumerate() {
        if groups.last().is_none_or(|g| g.source != source) {
            groups.push(Group {
                source,
                text: Vec::new(),
                rows: Vec::new(),
            });
        }
        let Some(group) = groups.last_mut() else {
            continue;
        };
        // A line of text (syslog, a HEC string event) is stored as a JSON string: one
        // line, whatever it holds. A document is stored as compact JSON, already one line:
        // it is read as stored, not parsed and written again.
        let line = body
            .starts_with('"')
            .then(|| serde_json::from_str::<String>(body).ok())
            .flatten();
        match line {
            Some(line) => group
                .text
                .extend(line.replace(['\r', '\n'], " ").into_bytes()),
            // Compact JSON holds no raw line break.
            None => group.text.extend_from_slice(body.as_bytes()),
        }
        group.text.push(b'\n');
        group.rows.push(row);
    }
    groups
}

/// Which stored incident each detection belongs to, so an incident keeps its id (and its
/// case) as new detections join it, and two incidents that new detections join become the
/// older one.
#[derive(Default)]
struct Identity {
    owner: HashMap<String, String>,
    /// Each stored incident as last written.
    written: HashMap<String, String>,
}

impl Identity {
    fn load(store: &mut Store) -> vigil_store::Result<Identity> {
        let mut identity = Identity::default();
        let mut offset = 0;
        loop {
            let page = store.incidents(&IncidentQuery {
                limit: Some(1_000),
                offset,
                ..IncidentQuery::default()
            })?;
            if page.items.is_empty() {
                break;
            }
            offset += page.items.len() as u64;
            for stored in page.items {
                let id = stored.incident["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                for detection in stored.incident["detections"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    if let Some(d) = detection.as_str() {
                        identity.owner.insert(d.to_string(), id.clone());
                    }
                }
                identity.written.insert(id, stored.incident.to_string());
            }
        }
        Ok(identity)
    }

    /// The incidents to write (with their lasting ids) and the stored ids folded into
    /// another, with the id of that other.
    fn assign(
        &mut self,
        incidents: &[vigil_triage::TriagedIncident],
    ) -> (Vec<Value>, Vec<(String, String)>) {
        let mut upserts = Vec::new();
        let mut retired = Vec::new();
        for incident in incidents {
            let mut owners: Vec<&String> = Vec::new();
            for d in &incident.detections {
                if let Some(owner) = self.owner.get(d)
                    && !owners.contains(&owner)
                {
                    owners.push(owner);
                }
            }
            let id = owners
                .first()
                .map_or_else(|| incident.id.clone(), |o| (*o).clone());
            let others: Vec<String> = owners.iter().skip(1).map(|o| (*o).clone()).collect();
            for other in others {
                self.written.remove(&other);
                retired.push((other, id.clone()));
            }
            let mut body = serde_json::to_value(incident).unwrap_or_default();
            body["id"] = Value::String(id.clone());
            for d in &incident.detections {
                self.owner.insert(d.clone(), id.clone());
            }
            let text = body.to_string();
            if self.written.get(&id) != Some(&text) {
                self.written.insert(id, text);
                upserts.push(body);
            }
        }
        (upserts, retired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_events_of_a_source_form_one_input_a_line_each() {
        let batch = vec![
            (1, "syslog:tcp".to_string(), r#""a\nb""#.to_string()),
            (2, "syslog:tcp".to_string(), r#""c""#.to_string()),
            (3, "bulk:x".to_string(), r#"{"k":1}"#.to_string()),
            (4, "syslog:tcp".to_string(), r#""d""#.to_string()),
        ];
        let groups = groups(&batch);
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].text, b"a b\nc\n");
        assert_eq!(groups[0].rows, [0, 1]);
        assert_eq!(groups[1].text, b"{\"k\":1}\n");
        assert_eq!(groups[2].rows, [3]);
    }
}
