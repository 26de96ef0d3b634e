//! Live feeds: Server-Sent Events of new and updated incidents and of hunt progress, and a
//! WebSocket feed of new detections. Browsers cannot set headers on these, so the access
//! token may come as `?access_token=` (only on `/api/v1/stream/...` paths).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::{ApiError, AppState, Principal, Role};

/// What the feeds carry, as it happens.
pub(crate) struct Feeds {
    /// Incidents written by live hunting (new or changed), and hunt run progress.
    pub(crate) incidents: broadcast::Sender<(String, Value)>,
    /// Detections stored by live hunting.
    pub(crate) detections: broadcast::Sender<Value>,
}

impl Feeds {
    pub(crate) fn new() -> Feeds {
        Feeds {
            incidents: broadcast::channel(1_024).0,
            detections: broadcast::channel(4_096).0,
        }
    }
}

/// The events of `receiver` as SSE events named as sent; a `lagged` event says how many a
/// slow reader missed.
fn sse_of(
    receiver: broadcast::Receiver<(String, Value)>,
    only: Option<&'static str>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(receiver, move |mut receiver| async move {
        loop {
            let event = match receiver.recv().await {
                Ok((name, _)) if only.is_some_and(|o| !name.starts_with(o)) => continue,
                Ok((name, data)) => Event::default().event(name).data(data.to_string()),
                Err(broadcast::error::RecvError::Lagged(missed)) => Event::default()
                    .event("lagged")
                    .data(json!({"missed": missed}).to_string()),
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            return Some((Ok(event), receiver));
        }
    })
}

/// `GET /api/v1/stream/incidents`: SSE, an `incident` event (the incident) each time live
/// hunting writes one, a `merged` event when one is folded into another.
pub(crate) async fn incidents(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    who.require(Role::Viewer)?;
    let receiver = state.inner.feeds.incidents.subscribe();
    Ok(Sse::new(sse_of(receiver, None))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// `GET /api/v1/stream/hunts`: SSE, `hunt` events with each hunt run's progress.
pub(crate) async fn hunts(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    who.require(Role::Viewer)?;
    let receiver = state.inner.feeds.incidents.subscribe();
    Ok(Sse::new(sse_of(receiver, Some("hunt")))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// `GET /api/v1/stream/detections`: a WebSocket; each new detection is a text message
/// (the detection as JSON). The feed is one way: what the client sends is ignored.
pub(crate) async fn detections(
    State(state): State<AppState>,
    who: Principal,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    who.require(Role::Viewer)?;
    let receiver = state.inner.feeds.detections.subscribe();
    Ok(upgrade
        .on_upgrade(move |socket| feed(socket, receiver))
        .into_response())
}

async fn feed(mut socket: WebSocket, mut receiver: broadcast::Receiver<Value>) {
    loop {
        tokio::select! {
            next = receiver.recv() => {
                let text = match next {
                    Ok(detection) => detection.to_string(),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        json!({"lagged": missed}).to_string()
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
