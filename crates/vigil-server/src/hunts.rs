//! Hunt runs: a hunt over the stored events (after a rule change, say) or over an
//! uploaded file or archive, with the same engine as live hunting, on a blocking thread.
//! Progress is stored and sent as `hunt` events on `/api/v1/stream/hunts`; the result
//! (counts and the run's ranked incidents) is the run's summary. An upload's incidents are
//! also stored as incidents for analysts to work; a hunt of stored events only reports
//! (live hunting already made its incidents).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_detect::Detection;
use vigil_engine::Engine;
use vigil_ingest::{Ingest, Input};

use crate::{ApiError, AppState, Principal, Role};

/// At most this many bytes per upload.
pub(crate) const MAX_UPLOAD: usize = 512 * 1024 * 1024;

/// What a run hunts.
enum Source {
    /// The stored events with sequence numbers in `from..=to`.
    Stored { from: i64, to: i64 },
    /// An uploaded file or archive.
    Upload { name: String, bytes: Bytes },
}

/// The body of `POST /api/v1/hunts`.
#[derive(Deserialize, serde::Serialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredHunt {
    /// The first event's sequence number (default: the first stored).
    from: Option<i64>,
    /// The last event's sequence number (default: the newest stored).
    to: Option<i64>,
}

/// The query of `POST /api/v1/hunts/upload`.
#[derive(Deserialize, serde::Serialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadParams {
    /// The file's name (its extension can help tell the format).
    name: Option<String>,
}

/// `POST /api/v1/hunts`: hunts the stored events (analyst).
pub(crate) async fn start_stored(
    State(state): State<AppState>,
    who: Principal,
    Json(body): Json<StoredHunt>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    who.require(Role::Analyst)?;
    let last = state.with_store(|s| Ok(s.last_event_seq()?)).await?;
    let from = body.from.unwrap_or(1).max(1);
    let to = body.to.unwrap_or(last).min(last);
    if from > to {
        return Err(ApiError::bad_request(format!(
            "no stored events in {from}..={to} (the newest is {last})"
        )));
    }
    start(state, who, Source::Stored { from, to }).await
}

/// `POST /api/v1/hunts/upload?name=`: hunts the body, a log file or an archive (analyst).
pub(crate) async fn start_upload(
    State(state): State<AppState>,
    who: Principal,
    Query(params): Query<UploadParams>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    who.require(Role::Analyst)?;
    if body.is_empty() {
        return Err(ApiError::bad_request("the upload is empty"));
    }
    let name = params
        .name
        .filter(|n| !n.is_empty() && n.len() <= 255 && !n.contains(['/', '\\', '\0']))
        .unwrap_or_else(|| "upload".into());
    start(state, who, Source::Upload { name, bytes: body }).await
}

async fn start(
    state: AppState,
    who: Principal,
    source: Source,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let engine = state.loaded_engine()?;
    let id = format!("run-{}", crate::auth::random_hex(8));
    let (kind, detail) = match &source {
        Source::Stored { from, to } => ("stored", json!({"from": from, "to": to})),
        Source::Upload { name, bytes } => ("upload", json!({"name": name, "bytes": bytes.len()})),
    };
    let run_id = id.clone();
    let run = state
        .with_store(move |store| {
            let run = store.create_run(&run_id, kind, Some(&who.actor))?;
            store.audit(&who.actor, "hunt.start", &run_id, &detail)?;
            Ok(run)
        })
        .await?;
    let worker = state.clone();
    tokio::task::spawn_blocking(move || {
        let outcome = hunt(&worker, &engine, &id, source);
        let result = match &outcome {
            Ok(summary) => Ok(summary),
            Err(reason) => Err(reason.as_str()),
        };
        let stored = worker.store_now(|s| s.finish_run(&id, result));
        if let Err(e) = stored {
            tracing::error!(run = %id, error = %e, "cannot record the end of a hunt run");
        }
        let status = if outcome.is_ok() { "done" } else { "failed" };
        let _ = worker.inner.feeds.incidents.send((
            "hunt".into(),
            json!({"id": id, "status": status, "progress": 1.0}),
        ));
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::to_value(run).unwrap_or_default()),
    ))
}

/// Runs a hunt; its summary.
fn hunt(state: &AppState, engine: &Engine, id: &str, source: Source) -> Result<Value, String> {
    let ingest = Ingest::new(state.read_options());
    let mut live = engine.live();
    let mut detections: Vec<Detection> = Vec::new();
    let mut errors = 0u64;
    let mut records = 0u64;
    let progress = |done: f64| {
        let _ = state.store_now(|s| s.run_progress(id, done));
        let _ = state.inner.feeds.incidents.send((
            "hunt".into(),
            json!({"id": id, "status": "running", "progress": done}),
        ));
    };
    let kind = match source {
        Source::Stored { from, to } => {
            let mut cursor = from - 1;
            while cursor < to {
                let batch = state
                    .store_now(|s| s.event_texts(cursor, 20_000))
                    .map_err(|e| e.to_string())?;
                let batch: Vec<_> = batch
                    .into_iter()
                    .take_while(|(seq, _, _)| *seq <= to)
                    .collect();
                let Some(last) = batch.last().map(|(seq, _, _)| *seq) else {
                    break;
                };
                for group in crate::live::groups(&batch) {
                    for input in
                        live.read(&ingest, Input::from_bytes(group.source, group.text), |_| {
                            errors += 1
                        })
                    {
                        records += input.records;
                    }
                }
                cursor = last;
                progress((cursor - from + 1) as f64 / (to - from + 1) as f64);
            }
            "stored"
        }
        Source::Upload { name, bytes } => {
            progress(0.0);
            for input in live.read(
                &ingest,
                Input::from_bytes(name.as_str(), bytes.to_vec()),
                |_| errors += 1,
            ) {
                records += input.records;
            }
            "upload"
        }
    };
    // One take at the end: correlations see every event at once, as in `vigil hunt`.
    detections.extend(live.take().detections);
    engine.annotate(&mut detections);
    let rows: Vec<(Value, Option<Value>)> = detections
        .iter()
        .map(|d| (serde_json::to_value(d).unwrap_or_default(), None))
        .collect();
    state
        .store_now(|s| s.put_detections(Some(id), &rows))
        .map_err(|e| e.to_string())?;
    let folded = engine.fold(detections).map_err(|e| e.to_string())?;
    let incidents: Vec<Value> = folded
        .incidents
        .iter()
        .map(|i| serde_json::to_value(i).unwrap_or_default())
        .collect();
    if kind == "upload" && !incidents.is_empty() {
        state
            .store_now(|s| s.upsert_incidents(&incidents))
            .map_err(|e| e.to_string())?;
        for incident in &incidents {
            let _ = state
                .inner
                .feeds
                .incidents
                .send(("incident".into(), incident.clone()));
        }
    }
    Ok(json!({
        "records": records,
        "record_errors": errors,
        "detections": folded.detections.len(),
        "suppressed": folded.suppressed.len(),
        "incidents": incidents,
    }))
}

/// `GET /api/v1/hunts`: the latest runs (viewer).
pub(crate) async fn list(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Viewer)?;
    let runs = state
        .with_store(move |store| {
            let runs = store.runs(100)?;
            store.audit(&who.actor, "query", "hunts", &json!({}))?;
            Ok(runs)
        })
        .await?;
    Ok(Json(json!({"items": runs})))
}

/// `GET /api/v1/hunts/{id}`: a run, its progress and, when done, its result (viewer).
pub(crate) async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Viewer)?;
    let run = state
        .with_store(move |store| {
            store.audit(&who.actor, "query", &id, &json!({}))?;
            store
                .run(&id)?
                .ok_or_else(|| ApiError::not_found(format!("no hunt run {id}")))
        })
        .await?;
    Ok(Json(serde_json::to_value(run).unwrap_or_default()))
}
