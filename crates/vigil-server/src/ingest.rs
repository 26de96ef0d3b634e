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

/// Stores `events` in one transaction, then tells the worker.
pub(crate) async fn store(
    state: &AppState,
    live: &Live,
    via: Via,
    events: Vec<Sourced>,
) -> Result<Vec<i64>, ApiError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let count = events.len();
    let seqs = state
        .with_store(move |store| {
            let refs: Vec<(&str, &Value)> = events.iter().map(|(s, v)| (s.as_str(), v)).collect();
            Ok(store.append_sourced_events(&refs)?)
        })
        .await?;
    if let Some(last) = seqs.last() {
        live.stored(*last, via, count);
    }
    Ok(seqs)
}

/// An event to store and its source (`bulk:<index>`, `hec:<sourcetype>`, `syslog:tcp`).
pub(crate) type Sourced = (String, Value);

/// One item of a bulk request, as read.
enum BulkItem {
    /// A document to store, in `index`.
    Store { action: String, index: String },
    /// An action vigil does not take (delete, update), or a document that is not an
    /// object: answered with an error for this item only.
    Refused {
        action: String,
        index: String,
        reason: String,
    },
}

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
    let (items, events) = read_bulk(&body, &default_index)?;
    let mut seqs = store(&state, &live, Via::Bulk, events).await?.into_iter();
    let mut errors = false;
    let answers: Vec<Value> = items
        .into_iter()
        .map(|item| match item {
            BulkItem::Store { action, index } => {
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

/// Reads bulk NDJSON: the items in order and the documents to store (source
/// `bulk:<index>`). A line that is not JSON where an action is expected fails the whole
/// request, naming the line, as Elasticsearch does.
fn read_bulk(body: &[u8], default_index: &str) -> Result<(Vec<BulkItem>, Vec<Sourced>), ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::bad_request(format!("the bulk body is not UTF-8: {e}")))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let mut items = Vec::new();
    let mut events = Vec::new();
    while let Some((n, line)) = lines.next() {
        let action: Value = serde_json::from_str(line).map_err(|e| {
            ApiError::bad_request(format!("bulk line {}: not a JSON action: {e}", n + 1))
        })?;
        let Some((name, meta)) = action
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        else {
            return Err(ApiError::bad_request(format!(
                "bulk line {}: an action is an object with one key (index, create, update, delete)",
                n + 1
            )));
        };
        let index = meta["_index"].as_str().unwrap_or(default_index).to_string();
        let action = name.clone();
        match action.as_str() {
            "index" | "create" => {
                let Some((m, doc)) = lines.next() else {
                    return Err(ApiError::bad_request(format!(
                        "bulk line {}: the {action} action has no document after it",
                        n + 1
                    )));
                };
                match serde_json::from_str::<Value>(doc) {
                    Ok(doc @ Value::Object(_)) => {
                        events.push((format!("bulk:{index}"), doc));
                        items.push(BulkItem::Store { action, index });
                    }
                    Ok(_) => items.push(BulkItem::Refused {
                        action,
                        index,
                        reason: format!("bulk line {}: a document is a JSON object", m + 1),
                    }),
                    Err(e) => items.push(BulkItem::Refused {
                        action,
                        index,
                        reason: format!("bulk line {}: the document is not JSON: {e}", m + 1),
                    }),
                }
            }
            "update" | "delete" => {
                if action == "update" {
                    lines.next();
                }
                items.push(BulkItem::Refused {
                    reason: format!(
                        "bulk line {}: vigil keeps events as received; {action} is not supported",
                        n + 1
                    ),
                    action,
                    index,
                });
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "bulk line {}: unknown action {other:?} (index, create, update, delete)",
                    n + 1
                )));
            }
        }
    }
    Ok((items, events))
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
    let mut events = Vec::new();
    for (n, item) in serde_json::Deserializer::from_slice(&body)
        .into_iter::<Value>()
        .enumerate()
    {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                return Ok(hec_answer(
                    StatusCode::BAD_REQUEST,
                    6,
                    &format!("Invalid data format: {e}"),
                    Some(n),
                ));
            }
        };
        let event = match item.get("event") {
            None => {
                return Ok(hec_answer(
                    StatusCode::BAD_REQUEST,
                    12,
                    "Event field is required",
                    Some(n),
                ));
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Ok(hec_answer(
                    StatusCode::BAD_REQUEST,
                    13,
                    "Event field cannot be blank",
                    Some(n),
                ));
            }
            Some(event @ (Value::String(_) | Value::Object(_))) => event.clone(),
            Some(_) => {
                return Ok(hec_answer(
                    StatusCode::BAD_REQUEST,
                    6,
                    "Invalid data format: event is a string or an object",
                    Some(n),
                ));
            }
        };
        let kind = item["sourcetype"].as_str().unwrap_or("event");
        events.push((format!("hec:{kind}"), event));
    }
    if events.is_empty() {
        return Ok(hec_answer(StatusCode::BAD_REQUEST, 5, "No data", None));
    }
    store(&state, &live, Via::Hec, events).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_items_answer_in_order_and_only_objects_are_stored() {
        let body = concat!(
            "{\"index\":{\"_index\":\"winlogbeat\"}}\n{\"a\":1}\n",
            "{\"create\":{}}\n{\"b\":2}\n",
            "{\"delete\":{\"_id\":\"1\"}}\n",
            "{\"update\":{\"_id\":\"1\"}}\n{\"doc\":{}}\n",
            "{\"index\":{}}\n[1]\n",
            "\n"
        );
        let (items, events) = read_bulk(body.as_bytes(), "logs").unwrap();
        assert_eq!(items.len(), 5);
        assert_eq!(
            events,
            vec![
                ("bulk:winlogbeat".to_string(), json!({"a": 1})),
                ("bulk:logs".to_string(), json!({"b": 2}))
            ]
        );
        let refused: Vec<&str> = items
            .iter()
            .filter_map(|i| match i {
                BulkItem::Refused { reason, .. } => Some(reason.as_str()),
                BulkItem::Store { .. } => None,
            })
            .collect();
        assert_eq!(refused.len(), 3);
        assert!(refused[2].contains("line 9"), "{}", refused[2]);
    }

    #[test]
    fn a_broken_action_line_fails_the_request_naming_the_line() {
        let error = read_bulk(b"{\"index\":{}}\n{}\nnot json\n", "x")
            .err()
            .unwrap();
        assert!(error.message.contains("bulk line 3"), "{}", error.message);
        let error = read_bulk(b"{\"index\":{}}\n", "x").err().unwrap();
        assert!(error.message.contains("no document"), "{}", error.message);
        let error = read_bulk(b"{\"upsert\":{}}\n", "x").err().unwrap();
        assert!(
            error.message.contains("unknown action"),
            "{}",
            error.message
        );
    }
}
