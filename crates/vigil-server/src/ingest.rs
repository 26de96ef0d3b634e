//! The HTTP ingestion endpoints, in the wire formats shippers already speak:
//! Elasticsearch's `_bulk` (Filebeat, Winlogbeat, Logstash, Fluent Bit, Vector) and
//! Splunk's HTTP Event Collector (`/services/collector/event`). Events are stored in
//! one transaction before the answer: a 2xx means they are durable.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use vigil_ingest::wire::{BulkItem, read_bulk, read_hec};

use crate::live::{Live, Via};
use crate::{ApiError, AppState, Principal, Role};

/// At most this many bytes per ingestion request.
pub(crate) const MAX_BODY: usize = 64 * 1024 * 1024;

/// The live pipeline, or 503 when the server runs without one.
fn live(state: &AppState) -> Result<std::sync::Arc<Live>, ApiError> {
    state
        .inner
        .live
        .get()
        .cloned()
        .ok_or_else(|| ApiError::unavailable("live ingestion is not running on this server"))
}

/// The live pipeline when the caller may ship (analyst or admin) and it has room; a 429
/// answer with `Retry-After` (the `Err` inside) when the worker is too far behind.
fn admit(
    state: &AppState,
    who: &Principal,
) -> Result<Result<std::sync::Arc<Live>, Response>, ApiError> {
    who.require(Role::Analyst)?;
    let live = live(state)?;
    if !live.full() {
        return Ok(Ok(live));
    }
    live.told_to_wait
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut response = ApiError::too_many(format!(
        "{} events wait to be hunted; retry shortly",
        live.lag()
    ))
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    Ok(Err(response))
}

/// Stores `events` in one transaction, then tells the worker. A shipment by an
/// authenticated caller (`who`) is audited: who, how, how many, which sequence numbers.
pub(crate) async fn store(
    state: &AppState,
    live: &Live,
    via: Via,
    events: Vec<Sourced>,
    who: Option<&Principal>,
) -> Result<Vec<i64>, ApiError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let count = events.len();
    let actor = who.map(|w| w.actor.clone());
    let seqs = state
        .with_store(move |store| {
            let refs: Vec<(&str, &Value)> = events.iter().map(|(s, v)| (s.as_str(), v)).collect();
            let seqs = store.append_sourced_events(&refs)?;
            if let (Some(actor), Some(first), Some(last)) = (actor, seqs.first(), seqs.last()) {
                store.audit(
                    &actor,
                    "ingest",
                    crate::live::VIA_NAMES[via as usize],
                    &serde_json::json!({"events": count, "first_seq": first, "last_seq": last}),
                )?;
            }
            Ok(seqs)
        })
        .await?;
    if let Some(last) = seqs.last() {
        live.stored(*last, via, count);
    }
    Ok(seqs)
}

/// An event to store and its source (`bulk:<index>`, `hec:<sourcetype>`, `syslog:tcp`).
pub(crate) type Sourced = (String, Value);

/// `POST /_bulk`, `POST /{index}/_bulk`, `POST /api/v1/ingest/bulk`: Elasticsearch bulk
/// NDJSON. `index` and `create` actions store the document that follows; `delete` and
/// `update` are refused item by item, as Elasticsearch does with a failed item.
pub(crate) async fn bulk(
    State(state): State<AppState>,
    who: Principal,
    index: Option<Path<String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let live = match admit(&state, &who)? {
        Ok(live) => live,
        Err(wait) => return Ok(wait),
    };
    let started = std::time::Instant::now();
    let default_index = index.map_or_else(|| "default".to_string(), |Path(i)| i);
    let items = read_bulk(&body, &default_index).map_err(ApiError::bad_request)?;
    let events = items
        .iter()
        .filter_map(|item| match item {
            BulkItem::Document {
                index, document, ..
            } => Some((format!("bulk:{index}"), document.clone())),
            BulkItem::Refused { .. } => None,
        })
        .collect();
    let mut seqs = store(&state, &live, Via::Bulk, events, Some(&who))
        .await?
        .into_iter();
    let mut errors = false;
    let answers: Vec<Value> = items
        .into_iter()
        .map(|item| match item {
            BulkItem::Document { action, index, .. } => {
                let seq = seqs.next().unwrap_or_default();
                json!({ action: {
                    "_index": index, "_id": seq.to_string(), "status": 201,
                    "result": "created", "_seq_no": seq, "_primary_term": 1,
                }})
            }
            BulkItem::Refused {
                action,
                index,
                reason,
            } => {
                errors = true;
                json!({ action: {
                    "_index": index, "status": 400,
                    "error": {"type": "illegal_argument_exception", "reason": reason},
                }})
            }
        })
        .collect();
    Ok(Json(json!({
        "took": started.elapsed().as_millis() as u64,
        "errors": errors,
        "items": answers,
    }))
    .into_response())
}

/// A Splunk HEC answer: `{"text", "code"}` with the status Splunk uses.
fn hec_answer(status: StatusCode, code: u32, text: &str, event: Option<usize>) -> Response {
    let mut body = json!({"text": text, "code": code});
    if let Some(n) = event {
        body["invalid-event-number"] = n.into();
    }
    (status, Json(body)).into_response()
}

/// `POST /services/collector/event` (and `/services/collector`,
/// `/api/v1/ingest/hec`): Splunk HEC events, JSON objects one after another, each with an
/// `event` (an object, stored as the record, or a string, stored as a line of text).
/// Authenticated as `Authorization: Splunk <API key>`.
pub(crate) async fn hec(
    State(state): State<AppState>,
    who: Principal,
    body: Bytes,
) -> Result<Response, ApiError> {
    let live = match admit(&state, &who)? {
        Ok(live) => live,
        Err(wait) => return Ok(wait),
    };
    let events = match read_hec(&body) {
        Ok(events) => events
            .into_iter()
            .map(|(kind, event)| (format!("hec:{kind}"), event))
            .collect(),
        Err(e) => {
            return Ok(hec_answer(
                StatusCode::BAD_REQUEST,
                e.code,
                &e.text,
                e.event,
            ));
        }
    };
    store(&state, &live, Via::Hec, events, Some(&who)).await?;
    Ok(hec_answer(StatusCode::OK, 0, "Success", None))
}

/// `GET /api/v1/ingest/status`: stored, hunted, lag.
pub(crate) async fn status(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Viewer)?;
    Ok(Json(live(&state)?.status()))
}
