//! What the server asks of `vigil-agent`: questions in plain words answered over the
//! stored detections and incidents, incident narratives, and guided investigations whose
//! transcripts are stored.
//!
//! Without models ([`AppState::set_llm`]) questions are read by the built-in parser,
//! investigations follow the built-in plan, and narratives are refused (409). Models only
//! pick words and tools: answers are computed from the store, narratives are checked
//! against the incident's facts, and a model never changes anything.
//!
//! Questions and investigations read at most the newest [`MOST_DETECTIONS`] stored
//! detections and the [`MOST_INCIDENTS`] highest-scored incidents (an answer's notes say
//! when there were more). What the logs or a model wrote is never logged nor audited:
//! the audit log gets the query that ran, ids, counts and who asked.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use vigil_agent::ask::Plan;
use vigil_agent::investigate::Budget;
use vigil_agent::query::{Answer, Data, Target};
use vigil_llm::{Chain, StreamEvent};
use vigil_store::{DetectionQuery, IncidentQuery, Store};

use crate::{ApiError, AppState, Principal, Role};

/// The newest stored detections a question or an investigation reads at most.
pub(crate) const MOST_DETECTIONS: u64 = 20_000;
/// The highest-scored stored incidents a question or an investigation reads at most.
pub(crate) const MOST_INCIDENTS: u64 = 10_000;
/// Rows read from the store at a time (the store's page limit).
const PAGE: u64 = 1_000;
/// The most stored events a question about raw events searches (the newest).
pub(crate) const MOST_EVENTS: i64 = 50_000;
/// The longest question, in bytes.
const MOST_QUESTION_BYTES: usize = 2_000;
/// The stored investigations an incident's listing shows at most, newest first.
const MOST_INVESTIGATIONS: u64 = 100;

/// Why a narrative cannot be written here.
const NO_LLM: &str = "no LLM is configured on this server, so it cannot write narratives: \
                      start it with `vigil serve --llm FILE` (or $VIGIL_LLM_CONFIG)";

/// The body of `POST /api/v1/ask`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AskBody {
    /// The question in plain words ("SSH brute force from the last 3 days", "top 10
    /// source ips with failed logins"), at most 2,000 bytes.
    #[schemars(length(min = 1, max = 2000))]
    question: String,
    /// "Now" for relative windows such as "the last 3 days" (RFC 3339); default: the
    /// newest time among the rows that match the rest of the query.
    now: Option<String>,
}

/// The body of `POST /api/v1/incidents/{id}/investigations`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvestigationBody {
    /// Tool steps at most, 1 to 20 (default 8).
    #[schemars(range(min = 1, max = 20))]
    max_steps: Option<u32>,
    /// Prompt and answer tokens at most over all model calls, 1 to 1,000,000 (default
    /// 40,000).
    #[schemars(range(min = 1, max = 1_000_000))]
    max_tokens: Option<u64>,
}

/// An agent error as the API answers it.
fn refused(error: vigil_agent::Error) -> ApiError {
    match error {
        vigil_agent::Error::NotUnderstood { .. } => ApiError::unprocessable(error.to_string()),
        vigil_agent::Error::NoIncident(id) => ApiError::not_found(format!("no incident {id}")),
    }
}

/// Runs `work` off the async threads.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("{what} task failed: {e}")))?
}

/// The stored detections and incidents a question or an investigation reads.
struct Stored {
    detections: Vec<Value>,
    incidents: Vec<Value>,
    /// What was left out, in words.
    notes: Vec<String>,
}

/// Reads the newest [`MOST_DETECTIONS`] detections (in time order) and the
/// [`MOST_INCIDENTS`] highest-scored incidents, a page at a time so other requests get
/// the store in between. For blocking threads.
fn load(state: &AppState) -> Result<Stored, ApiError> {
    let mut notes = Vec::new();
    let count = DetectionQuery {
        limit: Some(0),
        ..DetectionQuery::default()
    };
    let total = state.store_now(|s| s.detections(&count))?.total;
    let first = total.saturating_sub(MOST_DETECTIONS);
    let mut detections = Vec::new();
    let mut seen = HashSet::new();
    let mut offset = first;
    while offset < total {
        let query = DetectionQuery {
            limit: Some(PAGE),
            offset,
            ..DetectionQuery::default()
        };
        let page = state.store_now(|s| s.detections(&query))?;
        if page.items.is_empty() {
            break;
        }
        offset += page.items.len() as u64;
        // Live hunting may store detections meanwhile and shift the pages: keep each once.
        for item in page.items {
            let id = item.detection["id"].as_str().unwrap_or_default().to_owned();
            if seen.insert(id) {
                detections.push(item.detection);
            }
        }
    }
    if first > 0 {
        notes.push(format!(
            "only the newest {} of {total} stored detections were searched",
            detections.len()
        ));
    }
    let mut incidents = Vec::new();
    let mut total = 0;
    loop {
        let query = IncidentQuery {
            limit: Some(PAGE),
            offset: incidents.len() as u64,
            ..IncidentQuery::default()
        };
        let page = state.store_now(|s| s.incidents(&query))?;
        total = total.max(page.total);
        let done = page.items.len() < PAGE as usize;
        incidents.extend(page.items.into_iter().map(|i| i.incident));
        if done || incidents.len() as u64 >= MOST_INCIDENTS {
            break;
        }
    }
    incidents.truncate(MOST_INCIDENTS as usize);
    if (incidents.len() as u64) < total {
        notes.push(format!(
            "only the {} highest-scored of {total} stored incidents were searched",
            incidents.len()
        ));
    }
    Ok(Stored {
        detections,
        incidents,
        notes,
    })
}

/// The newest [`MOST_EVENTS`] stored events, read back through the readers and normalized
/// as `vigil parse` prints them, and a note when older ones were left out. For blocking
/// threads.
fn load_events(state: &AppState) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let last = state.store_now(|s| s.last_event_seq())?;
    let mut cursor = (last - MOST_EVENTS).max(0);
    let note = (cursor > 0)
        .then(|| format!("only the newest {MOST_EVENTS} of {last} stored events were searched"));
    let ingest = vigil_ingest::Ingest::new(state.read_options());
    // The loaded engine's taxonomy; a server without rules has no engine, and loads the
    // built-in one for this request.
    let engine = state.engine();
    let builtin;
    let taxonomy = match &engine {
        Some(engine) => engine.taxonomy(),
        None => {
            builtin = vigil_normalize::Taxonomy::builtin()
                .map_err(|e| ApiError::internal(e.to_string()))?;
            &builtin
        }
    };
    let events = std::sync::Mutex::new(Vec::new());
    while cursor < last {
        let batch = state.store_now(|s| s.event_texts(cursor, 20_000))?;
        let Some(end) = batch.last().map(|(seq, _, _)| *seq) else {
            break;
        };
        for group in crate::live::groups(&batch) {
            let input = vigil_ingest::Input::from_bytes(group.source, group.text);
            ingest.read_input(input, |_| {
                let (events, taxonomy) = (&events, taxonomy);
                move |record: vigil_ingest::RecordResult| {
                    if let Ok(mut event) = record {
                        taxonomy.apply(&mut event);
                        if let (Ok(value), Ok(mut events)) =
                            (serde_json::to_value(&event), events.lock())
                        {
                            events.push(value);
                        }
                    }
                    std::ops::ControlFlow::Continue(())
                }
            });
        }
        cursor = end;
    }
    let events = events
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok((events, note))
}

/// What an `ask` sends while it works.
enum Said {
    /// A model starts writing the query.
    Start { provider: String, model: String },
    /// A piece of the query the model writes.
    Token(String),
    /// What the model wrote since the last start is void.
    Discard,
    /// The query that will run.
    Plan(Value),
    /// Its answer.
    Answer(Value),
    /// The ask failed.
    Failed(ApiError),
}

impl Said {
    /// The SSE event; `None` for nothing to send.
    fn event(self) -> Option<Event> {
        let event = match self {
            Said::Start { provider, model } => Event::default()
                .event("start")
                .data(json!({"provider": provider, "model": model}).to_string()),
            Said::Token(text) if text.is_empty() => return None,
            Said::Token(text) => Event::default().event("token").data(text),
            Said::Discard => Event::default().event("discard").data("{}"),
            Said::Plan(plan) => Event::default().event("plan").data(plan.to_string()),
            Said::Answer(answer) => Event::default().event("answer").data(answer.to_string()),
            Said::Failed(error) => Event::default()
                .event("error")
                .data(error.body().to_string()),
        };
        Some(event)
    }
}

/// Plans `question` (telling `on_plan`), runs the query over the store and audits it. For
/// blocking threads.
fn answer(
    state: &AppState,
    chain: Option<&Chain>,
    question: &str,
    now: Option<jiff::Timestamp>,
    actor: &str,
    on_token: &mut dyn FnMut(StreamEvent<'_>),
    on_plan: &mut dyn FnMut(&Plan),
) -> Result<(Plan, Answer), ApiError> {
    let plan = state
        .with_attack(|attack| vigil_agent::ask::plan(question, chain, attack, on_token))?
        .map_err(refused)?;
    on_plan(&plan);
    let mut stored = load(state)?;
    let events = if plan.query.target == Target::Events {
        let (events, note) = load_events(state)?;
        stored.notes.extend(note);
        Some(events)
    } else {
        None
    };
    let mut answer = vigil_agent::query::run(
        &plan.query,
        Data {
            detections: &stored.detections,
            incidents: &stored.incidents,
            events: events.as_deref(),
        },
        now,
    );
    answer.notes.extend(stored.notes);
    let target = match plan.query.target {
        Target::Detections => "detections",
        Target::Incidents => "incidents",
        Target::Events => "events",
    };
    let detail = json!({"query": plan.query, "by": plan.by, "total": answer.total});
    state.store_now(|s| s.audit(actor, "ask", target, &detail))?;
    Ok((plan, answer))
}

/// Whether the client asked for Server-Sent Events.
fn wants_events(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/event-stream"))
}

/// `POST /api/v1/ask`: a question in plain words, answered over the stored detections and
/// incidents (viewer). JSON `{plan, answer}`; with `Accept: text/event-stream`, SSE:
/// `start` and `token` events while a model writes the query (`discard` when what it wrote
/// is void), then `plan` and `answer`, or `error`. A question nothing can read is a 422
/// (in the stream: an `error` event once tokens were sent).
pub(crate) async fn ask(
    State(state): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    Json(body): Json<AskBody>,
) -> Result<Response, ApiError> {
    who.require(Role::Viewer)?;
    if body.question.len() > MOST_QUESTION_BYTES {
        return Err(ApiError::bad_request(format!(
            "a question has at most {MOST_QUESTION_BYTES} bytes"
        )));
    }
    let now = body
        .now
        .as_deref()
        .map(|t| {
            t.parse::<jiff::Timestamp>()
                .map_err(|e| ApiError::bad_request(format!("now: not an RFC 3339 time: {e}")))
        })
        .transpose()?;
    let chain = state.llm();
    let question = body.question;
    let actor = who.actor;
    if !wants_events(&headers) {
        let (plan, answer) = blocking("an ask", move || {
            answer(
                &state,
                chain.as_deref(),
                &question,
                now,
                &actor,
                &mut |_| {},
                &mut |_| {},
            )
        })
        .await?;
        return Ok(Json(json!({"plan": plan, "answer": answer})).into_response());
    }
    let (sender, mut receiver) = mpsc::unbounded_channel::<Said>();
    tokio::task::spawn_blocking(move || {
        let tokens = sender.clone();
        let plans = sender.clone();
        let result = answer(
            &state,
            chain.as_deref(),
            &question,
            now,
            &actor,
            &mut |event| {
                let said = match event {
                    StreamEvent::Start { provider, model } => Said::Start {
                        provider: provider.to_owned(),
                        model: model.to_owned(),
                    },
                    StreamEvent::Token(text) => Said::Token(text.to_owned()),
                    StreamEvent::Discard => Said::Discard,
                };
                // A client that left is no reason to stop: the ask is audited either way.
                let _ = tokens.send(said);
            },
            &mut |plan| {
                let _ = plans.send(Said::Plan(serde_json::to_value(plan).unwrap_or_default()));
            },
        );
        let last = match result {
            Ok((_, answer)) => Said::Answer(serde_json::to_value(answer).unwrap_or_default()),
            Err(error) => Said::Failed(error),
        };
        let _ = sender.send(last);
    });
    // Nothing streamed yet: a failure is an ordinary error answer (422 for a question
    // nothing can read).
    let first = match receiver.recv().await {
        Some(Said::Failed(error)) => return Err(error),
        Some(said) => said,
        None => return Err(ApiError::internal("an ask task ended without an answer")),
    };
    let events = futures_util::stream::unfold(
        (Some(first), receiver),
        |(mut pending, mut receiver)| async move {
            loop {
                let said = match pending.take() {
                    Some(said) => said,
                    None => receiver.recv().await?,
                };
                if let Some(event) = said.event() {
                    return Some((Ok::<Event, Infallible>(event), (None, receiver)));
                }
            }
        },
    );
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// A stored incident and its detections, or 404.
fn incident_with_detections(store: &mut Store, id: &str) -> Result<(Value, Vec<Value>), ApiError> {
    let incident = store
        .incident(id)?
        .ok_or_else(|| ApiError::not_found(format!("no incident {id}")))?
        .incident;
    let detections = crate::reports::detections_of(store, std::slice::from_ref(&incident))?;
    Ok((incident, detections))
}

/// `POST /api/v1/incidents/{id}/narrative`: a narrative of the incident written by the
/// models and checked against its facts (analyst): the outcome, `accepted`, `rejected`
/// (too much of it named what the incident does not hold) or `failed` (no model
/// answered). 409 when no model is configured.
pub(crate) async fn narrative(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Analyst)?;
    let target = id.clone();
    let (incident, detections) = state
        .with_store(move |store| incident_with_detections(store, &target))
        .await?;
    let chain = state.llm().ok_or_else(|| ApiError::conflict(NO_LLM))?;
    let worker = state.clone();
    let outcome = blocking("a narrative", move || {
        // Other incidents' hosts, users and addresses must not appear in this one's story.
        let others = load(&worker)?.incidents;
        let run = vigil_report::Run::new(
            json!({"source": "vigil server"}),
            vec![incident],
            detections,
        );
        let model = worker.with_attack(|attack| vigil_report::build(&run, attack))?;
        let enriched = &model["incidents"][0];
        Ok(vigil_agent::narrative::write(
            &chain,
            enriched,
            &others,
            &mut |_| {},
        ))
    })
    .await?;
    let answer = serde_json::to_value(&outcome).unwrap_or_default();
    let detail = json!({
        "outcome": answer["outcome"],
        "provider": answer["provider"],
        "model": answer["model"],
    });
    tracing::info!(incident = %id, outcome = %answer["outcome"], "Narrative asked for.");
    state
        .with_store(move |store| Ok(store.audit(&who.actor, "narrative", &id, &detail)?))
        .await?;
    Ok(Json(answer))
}

/// `POST /api/v1/incidents/{id}/investigations`: investigates the incident within the
/// budget (analyst): the models lead when configured, else the built-in plan runs. The
/// transcript is stored and returned (201).
pub(crate) async fn investigate(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    Json(body): Json<InvestigationBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    who.require(Role::Analyst)?;
    let defaults = Budget::default();
    let budget = Budget {
        max_steps: body.max_steps.unwrap_or(defaults.max_steps),
        max_tokens: body.max_tokens.unwrap_or(defaults.max_tokens),
    };
    if !(1..=20).contains(&budget.max_steps) {
        return Err(ApiError::bad_request("max_steps: from 1 to 20"));
    }
    if !(1..=1_000_000).contains(&budget.max_tokens) {
        return Err(ApiError::bad_request("max_tokens: from 1 to 1,000,000"));
    }
    let target = id.clone();
    let (incident, own) = state
        .with_store(move |store| incident_with_detections(store, &target))
        .await?;
    let chain = state.llm();
    let worker = state.clone();
    let actor = who.actor.clone();
    let stored = blocking("an investigation", move || {
        let mut stored = load(&worker)?;
        // The incident and its detections are in the data even when the caps left them out.
        if !stored.incidents.iter().any(|i| i["id"] == incident["id"]) {
            stored.incidents.push(incident);
        }
        let known: HashSet<String> = stored
            .detections
            .iter()
            .filter_map(|d| d["id"].as_str().map(str::to_owned))
            .collect();
        stored.detections.extend(
            own.into_iter()
                .filter(|d| d["id"].as_str().is_some_and(|d| !known.contains(d))),
        );
        let run = vigil_report::Run::new(
            json!({"source": "vigil server"}),
            stored.incidents,
            stored.detections,
        );
        let investigation = worker.with_attack(|attack| {
            let workspace = vigil_agent::tools::Workspace::new(&run, attack);
            vigil_agent::investigate::investigate(
                &workspace,
                &id,
                chain.as_deref(),
                budget,
                &mut |_| {},
                &mut |_| {},
            )
        })?;
        let investigation = investigation.map_err(refused)?;
        let record = format!("inv-{}", crate::auth::random_hex(8));
        let detail = json!({
            "investigation": record,
            "by": investigation.by,
            "steps": investigation.steps.len(),
            "stopped": investigation.stopped,
        });
        let body = serde_json::to_value(&investigation).unwrap_or_default();
        let stored = worker.store_now(|s| {
            let stored = s.put_investigation(&record, &id, Some(&actor), &body)?;
            s.audit(&actor, "investigate", &id, &detail)?;
            Ok(stored)
        })?;
        tracing::info!(
            incident = %id,
            investigation = %record,
            steps = investigation.steps.len(),
            "Investigation stored."
        );
        Ok(stored)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(stored).unwrap_or_default()),
    ))
}

/// `GET /api/v1/incidents/{id}/investigations`: the incident's stored investigations,
/// newest first (viewer); 404 when there is neither the incident nor any.
pub(crate) async fn investigations(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Viewer)?;
    let items = state
        .with_store(move |store| {
            let items = store.investigations(&id, MOST_INVESTIGATIONS)?;
            // Investigations outlive an incident folded into another.
            if items.is_empty() && store.incident(&id)?.is_none() {
                return Err(ApiError::not_found(format!("no incident {id}")));
            }
            store.audit(
                &who.actor,
                "query",
                &id,
                &json!({"investigations": items.len()}),
            )?;
            Ok(items)
        })
        .await?;
    Ok(Json(json!({"items": items})))
}
