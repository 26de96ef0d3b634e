//! vigil's team server (first slice): the REST API under `/api/v1` over [`vigil_store`],
//! with authentication and roles on every endpoint but `/healthz`, and an audit record of
//! every login, change and query.
//!
//! Permission matrix (each role includes the rights of the roles above it):
//!
//! | endpoint | viewer | analyst | admin |
//! |---|---|---|---|
//! | `GET /healthz`, `GET /readyz` (the store answers) | no login needed | | |
//! | `GET /metrics` (Prometheus text) | yes | yes | yes |
//! | `POST /api/v1/auth/login`, `/auth/refresh` | no token needed (credentials) | | |
//! | `GET /api/v1/incidents`, `GET /api/v1/incidents/{id}` | yes | yes | yes |
//! | `PATCH /api/v1/incidents/{id}` (status, assignee, note) | no | yes | yes |
//! | `GET /api/v1/detections`, `GET /api/v1/detections/{id}`, `GET /api/v1/ingest/status` | yes | yes | yes |
//! | `POST /_bulk`, `/{index}/_bulk`, `/api/v1/ingest/bulk` (Elasticsearch bulk), `POST /services/collector[/event]`, `/api/v1/ingest/hec` (Splunk HEC) | no | yes | yes |
//! | `GET /api/v1/incidents/{id}/report`, `GET /api/v1/report`, `GET /api/v1/coverage`, `GET /api/v1/coverage/detections`, `GET /api/v1/rules`, `GET /api/v1/suppressions`, `GET /api/v1/hunts`, `GET /api/v1/hunts/{id}`, `GET /api/v1/stream/incidents`, `/stream/hunts` (SSE), `/stream/detections` (WebSocket) | yes | yes | yes |
//! | `POST /api/v1/rules`, `POST /api/v1/rules/lint`, `PATCH`/`DELETE /api/v1/rules/{id}`, `POST /api/v1/suppressions`, `DELETE /api/v1/suppressions/{id}`, `POST /api/v1/hunts`, `POST /api/v1/hunts/upload` | no | yes | yes |
//! | `POST /api/v1/ask` (a question in plain words; JSON or SSE), `GET /api/v1/incidents/{id}/investigations` | yes | yes | yes |
//! | `POST /api/v1/incidents/{id}/narrative`, `POST /api/v1/incidents/{id}/investigations` | no | yes | yes |
//! | `GET /api/v1/openapi.json` (the API's OpenAPI 3.1 document) | yes | yes | yes |
//! | `GET`/`POST /api/v1/users`, `GET`/`POST /api/v1/api-keys`, `DELETE /api/v1/api-keys/{id}`, `GET /api/v1/audit/verify` | no | no | yes |
//!
//! Callers authenticate with `Authorization: Bearer <token>`: an access token from
//! `/auth/login` (15 minutes; `/auth/refresh` trades a refresh token for a new one) or an
//! API key `vk_<id>.<secret>` (shown once when created; only its hash is stored). Shippers
//! may send the key as `Authorization: Splunk <key>` (HEC) or `Authorization: ApiKey
//! <base64 of id:secret>` (Elasticsearch clients).
//!
//! With models set ([`AppState::set_llm`]) questions, narratives and investigations ask
//! them; see `agent`.
//!
//! Live ingestion ([`AppState::start_live`]) hunts what the bulk and HEC endpoints and the
//! syslog listeners ([`syslog::serve_udp`], [`syslog::serve_tcp`]) store; see [`live`].

mod agent;
mod auth;
mod error;
mod hunts;
mod ingest;
mod limit;
pub mod live;
mod openapi;
mod reports;
mod rules;
mod stream;
pub mod syslog;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_store::{CaseStatus, CaseUpdate, DetectionQuery, IncidentQuery, IncidentSort, Store};

pub use auth::{Principal, Role, Tokens, hash_password};
pub use error::ApiError;
pub use limit::RateLimit;
pub use live::{LiveOptions, LiveWorker};
pub use rules::EngineSetup;

/// What every request shares: the store and the token keys.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// The store, for requests (the live worker has a connection of its own). One
    /// connection: every request also appends to the audit log, and SQLite writers on
    /// several connections wait on each other by sleeping, which costs more than queueing.
    store: Mutex<Store>,
    tokens: Tokens,
    metrics: Metrics,
    limiter: limit::Limiter,
    feeds: stream::Feeds,
    /// Live ingestion, once started.
    live: OnceLock<Arc<live::Live>>,
    /// What the server hunts with, once set, and what it was built from.
    hunting: RwLock<Option<(Arc<EngineSetup>, Arc<vigil_engine::Engine>)>>,
    /// Bumped each time the engine is replaced.
    generation: AtomicU64,
    /// How records are read, once live ingestion starts.
    read: OnceLock<vigil_ingest::ReadOptions>,
    /// The models questions, narratives and investigations ask, once set.
    llm: RwLock<Option<Arc<vigil_llm::Chain>>>,
}

/// Counters `/metrics` shows (Prometheus text format).
#[derive(Default)]
struct Metrics {
    /// Answers by status class: 2xx, 3xx, 4xx, 5xx.
    responses: [std::sync::atomic::AtomicU64; 4],
    logins: std::sync::atomic::AtomicU64,
    failed_logins: std::sync::atomic::AtomicU64,
    rate_limited: std::sync::atomic::AtomicU64,
    /// Answers by latency bucket (see `LATENCY_BUCKETS`; the last: slower than all).
    latency: [std::sync::atomic::AtomicU64; 11],
    latency_micros: std::sync::atomic::AtomicU64,
}

impl AppState {
    /// A state over `store`, signing tokens with `secret` (keep it: tokens outlive
    /// restarts only when the secret does), with the default rate limit.
    pub fn new(store: Store, secret: &[u8]) -> Result<AppState, ApiError> {
        AppState::with_rate_limit(store, secret, RateLimit::default())
    }

    /// [`AppState::new`] with `limit` per client.
    pub fn with_rate_limit(
        store: Store,
        secret: &[u8],
        limit: RateLimit,
    ) -> Result<AppState, ApiError> {
        Ok(AppState {
            inner: Arc::new(Inner {
                store: Mutex::new(store),
                tokens: Tokens::new(secret)?,
                metrics: Metrics::default(),
                limiter: limit::Limiter::new(limit),
                feeds: stream::Feeds::new(),
                live: OnceLock::new(),
                hunting: RwLock::new(None),
                generation: AtomicU64::new(0),
                read: OnceLock::new(),
                llm: RwLock::new(None),
            }),
        })
    }

    /// Loads the rules the server hunts with: `setup`'s, plus the rules and suppressions
    /// stored through the API, mapped to `attack`. What the load reported (rules loaded,
    /// rules that failed). It blocks on the store: call it before the async runtime runs
    /// the server, or off its threads.
    pub fn set_engine(
        &self,
        setup: EngineSetup,
        attack: vigil_attack::Attack,
    ) -> Result<vigil_sigma::LoadReport, ApiError> {
        let (engine, report) = {
            let mut store = self
                .inner
                .store
                .lock()
                .map_err(|_| ApiError::internal("the store's lock is poisoned"))?;
            rules::build(&mut store, &setup, rules::Either::Attack(Box::new(attack)))?
        };
        if let Ok(mut hunting) = self.inner.hunting.write() {
            *hunting = Some((Arc::new(setup), Arc::new(engine)));
        }
        self.inner
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(report)
    }

    /// Sets the models that write hunting queries, narratives and investigations (`None`
    /// or an empty chain: none; questions are then read by the built-in parser,
    /// investigations follow the built-in plan and narratives are refused with 409).
    pub fn set_llm(&self, chain: Option<vigil_llm::Chain>) {
        if let Ok(mut llm) = self.inner.llm.write() {
            *llm = chain.filter(|c| !c.is_empty()).map(Arc::new);
        }
    }

    /// The models, when set.
    fn llm(&self) -> Option<Arc<vigil_llm::Chain>> {
        self.inner.llm.read().ok()?.clone()
    }

    /// The engine the server hunts with, once set.
    pub fn engine(&self) -> Option<Arc<vigil_engine::Engine>> {
        self.hunting().map(|(_, engine)| engine)
    }

    /// The engine, or 503 when none is set (a server without rules).
    fn loaded_engine(&self) -> Result<Arc<vigil_engine::Engine>, ApiError> {
        self.engine()
            .ok_or_else(|| ApiError::unavailable("no rules are loaded on this server"))
    }

    /// Runs `work` with the engine's ATT&CK, or the embedded release when there is no
    /// engine.
    fn with_attack<T>(&self, work: impl FnOnce(&vigil_attack::Attack) -> T) -> Result<T, ApiError> {
        match self.engine() {
            Some(engine) => Ok(work(engine.attack())),
            None => vigil_attack::Attack::embedded()
                .map(|attack| work(&attack))
                .map_err(|e| ApiError::internal(format!("the embedded ATT&CK table: {e}"))),
        }
    }

    fn hunting(&self) -> Option<(Arc<EngineSetup>, Arc<vigil_engine::Engine>)> {
        self.inner.hunting.read().ok()?.clone()
    }

    /// Replaces the engine (rules or suppressions changed).
    fn replace_engine(&self, engine: Arc<vigil_engine::Engine>) {
        if let Ok(mut hunting) = self.inner.hunting.write()
            && let Some((_, current)) = hunting.as_mut()
        {
            *current = engine;
        }
        self.inner
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// How records are read.
    fn read_options(&self) -> vigil_ingest::ReadOptions {
        self.inner.read.get().cloned().unwrap_or_default()
    }

    /// Runs `work` on the store on this thread (for blocking threads).
    fn store_now<T>(
        &self,
        work: impl FnOnce(&mut Store) -> vigil_store::Result<T>,
    ) -> vigil_store::Result<T> {
        let mut store = self
            .inner
            .store
            .lock()
            .map_err(|_| vigil_store::Error::Invalid("the store's lock is poisoned".into()))?;
        work(&mut store)
    }

    /// Starts live ingestion: the ingestion endpoints and syslog listeners store events
    /// and a worker hunts them with the engine ([`AppState::set_engine`] first). Call
    /// once (it blocks on the store, as [`AppState::set_engine`] does); stop the returned
    /// worker after the server and the listeners stopped, so it hunts everything they
    /// stored.
    pub fn start_live(&self, options: LiveOptions) -> Result<LiveWorker, ApiError> {
        if self.inner.live.get().is_some() {
            return Err(ApiError::internal("live ingestion started twice"));
        }
        if self.engine().is_none() {
            return Err(ApiError::internal("set the engine before live ingestion"));
        }
        let _ = self.inner.read.set(options.read.clone());
        let (live, worker) = live::start(self.inner.clone(), options)?;
        let _ = self.inner.live.set(live);
        Ok(worker)
    }

    /// Runs `work` on the store off the async threads.
    async fn with_store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = inner
                .store
                .lock()
                .map_err(|_| ApiError::internal("the store's lock is poisoned"))?;
            work(&mut store)
        })
        .await
        .map_err(|e| ApiError::internal(format!("a store task failed: {e}")))?
    }
}

/// A new random secret for signing tokens (32 bytes, as 64 hex digits).
pub fn new_secret() -> String {
    auth::random_hex(32)
}

/// Serves the API on `listener` until `shutdown` completes, then finishes the requests
/// in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The first start: when there is no user, creates `admin` with `password`, or with a
/// random one that is returned (to print once).
pub fn ensure_admin(store: &mut Store, password: Option<&str>) -> Result<Option<String>, ApiError> {
    if !store.users()?.is_empty() {
        return Ok(None);
    }
    let (password, generated) = match password {
        Some(p) => {
            auth::check_password(p).map_err(|e| {
                ApiError::bad_request(format!("VIGIL_ADMIN_PASSWORD: {}", e.message))
            })?;
            (p.to_string(), false)
        }
        None => (auth::random_hex(12), true),
    };
    store.create_user("admin", Role::Admin.as_str(), &hash_password(&password)?)?;
    store.audit("system", "user.create", "admin", &json!({"role": "admin"}))?;
    Ok(generated.then_some(password))
}

/// The API's routes over `state`.
pub fn app(state: AppState) -> Router {
    // One table gives the routes and the OpenAPI document (see `openapi.rs`).
    let mut routes: std::collections::BTreeMap<&str, axum::routing::MethodRouter<AppState>> =
        std::collections::BTreeMap::new();
    for endpoint in openapi::endpoints() {
        let handler = match routes.remove(endpoint.path) {
            Some(other) => other.merge(endpoint.handler),
            None => endpoint.handler,
        };
        routes.insert(endpoint.path, handler);
    }
    let mut router = Router::new();
    for (path, handler) in routes {
        router = router.route(path, handler);
    }
    router
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit::rate_limit,
        ))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            log_request,
        ))
        .with_state(state)
}

/// Upper bounds (seconds) of the request latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// A span per request (id, method, path: never the query, which may carry a token), an
/// `answered` log line with status and milliseconds, and the answer counted and timed.
async fn log_request(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use std::sync::atomic::Ordering::Relaxed;
    use tracing::Instrument;
    static IDS: AtomicU64 = AtomicU64::new(1);
    let started = std::time::Instant::now();
    let span = tracing::info_span!(
        "request",
        id = IDS.fetch_add(1, Relaxed),
        method = %request.method(),
        path = %request.uri().path(),
    );
    let response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    span.in_scope(|| tracing::info!(status, ms = elapsed * 1000.0, "answered"));
    let m = &state.inner.metrics;
    m.responses[(status / 100).clamp(2, 5) as usize - 2].fetch_add(1, Relaxed);
    let bucket = LATENCY_BUCKETS
        .iter()
        .position(|le| elapsed <= *le)
        .unwrap_or(LATENCY_BUCKETS.len());
    m.latency[bucket].fetch_add(1, Relaxed);
    m.latency_micros.fetch_add((elapsed * 1e6) as u64, Relaxed);
    response
}

/// Ready when the store answers.
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let version = state
        .with_store(|store| Ok(store.schema_version()?))
        .await
        .map_err(|_| ApiError::unavailable("the store does not answer"))?;
    Ok(Json(json!({"status": "ready", "schema_version": version})))
}

/// Prometheus metrics (any role).
async fn metrics(
    State(state): State<AppState>,
    who: Principal,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), ApiError> {
    who.require(Role::Viewer)?;
    use std::sync::atomic::Ordering::Relaxed;
    let m = &state.inner.metrics;
    let (events, incidents) = state
        .with_store(|store| Ok((store.event_count()?, store.incident_count()?)))
        .await?;
    let mut text = String::new();
    text.push_str("# HELP vigil_http_responses_total HTTP answers by status class.\n");
    text.push_str("# TYPE vigil_http_responses_total counter\n");
    for (i, class) in ["2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
        text.push_str(&format!(
            "vigil_http_responses_total{{class=\"{class}\"}} {}\n",
            m.responses[i].load(Relaxed)
        ));
    }
    text.push_str("# HELP vigil_http_request_duration_seconds Time to answer a request.\n# TYPE vigil_http_request_duration_seconds histogram\n");
    let mut cumulative = 0;
    for (i, count) in m.latency.iter().enumerate() {
        cumulative += count.load(Relaxed);
        let le = LATENCY_BUCKETS
            .get(i)
            .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
        text.push_str(&format!(
            "vigil_http_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}\n"
        ));
    }
    text.push_str(&format!(
        "vigil_http_request_duration_seconds_sum {:.6}\nvigil_http_request_duration_seconds_count {cumulative}\n",
        m.latency_micros.load(Relaxed) as f64 / 1e6
    ));
    text.push_str(
        "# HELP vigil_logins_total Logins by result.\n# TYPE vigil_logins_total counter\n",
    );
    text.push_str(&format!(
        "vigil_logins_total{{result=\"ok\"}} {}\nvigil_logins_total{{result=\"failed\"}} {}\n",
        m.logins.load(Relaxed),
        m.failed_logins.load(Relaxed)
    ));
    text.push_str(&format!(
        "# HELP vigil_rate_limited_total Requests refused by the per-client rate limit.\n# TYPE vigil_rate_limited_total counter\nvigil_rate_limited_total {}\n",
        m.rate_limited.load(Relaxed)
    ));
    text.push_str(&format!(
        "# HELP vigil_events_stored Events in the store.\n# TYPE vigil_events_stored gauge\nvigil_events_stored {events}\n"
    ));
    text.push_str(&format!(
        "# HELP vigil_incidents Incidents in the store.\n# TYPE vigil_incidents gauge\nvigil_incidents {incidents}\n"
    ));
    if let Some(live) = state.inner.live.get() {
        live_metrics(live, &mut text);
    }
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}

/// The live pipeline's metrics.
fn live_metrics(live: &live::Live, text: &mut String) {
    use std::fmt::Write as _;
    use std::sync::atomic::Ordering::Relaxed;
    let _ = writeln!(
        text,
        "# HELP vigil_events_received_total Events stored, by how they came.\n# TYPE vigil_events_received_total counter"
    );
    for (i, via) in live::VIA_NAMES.iter().enumerate() {
        let _ = writeln!(
            text,
            "vigil_events_received_total{{via=\"{via}\"}} {}",
            live.events_in[i].load(Relaxed)
        );
    }
    let batches = live.batches.load(Relaxed);
    let seconds = live.batch_micros.load(Relaxed) as f64 / 1e6;
    for (name, kind, help, value) in [
        (
            "vigil_queue_depth",
            "gauge",
            "Stored events not hunted yet.",
            live.lag().to_string(),
        ),
        (
            "vigil_ingest_refused_total",
            "counter",
            "Requests told to wait (429) because the queue was full.",
            live.told_to_wait.load(Relaxed).to_string(),
        ),
        (
            "vigil_syslog_udp_dropped_total",
            "counter",
            "Syslog datagrams dropped because the queue was full.",
            live.udp_dropped.load(Relaxed).to_string(),
        ),
        (
            "vigil_record_errors_total",
            "counter",
            "Received records no reader could read.",
            live.record_errors.load(Relaxed).to_string(),
        ),
        (
            "vigil_detections_total",
            "counter",
            "Detections found by live hunting.",
            live.detections.load(Relaxed).to_string(),
        ),
        (
            "vigil_incident_updates_total",
            "counter",
            "Incidents written (new or changed) by live hunting.",
            live.incident_updates.load(Relaxed).to_string(),
        ),
        (
            "vigil_hunt_batches_total",
            "counter",
            "Batches of events hunted.",
            batches.to_string(),
        ),
        (
            "vigil_hunt_batch_seconds_total",
            "counter",
            "Time spent hunting batches (with vigil_hunt_batches_total: the mean latency).",
            format!("{seconds:.6}"),
        ),
    ] {
        let _ = writeln!(
            text,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
}

/// Headers on every answer: nothing is cached, sniffed, framed or allowed to load.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::header::{self, HeaderValue};
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token =
            match parts.headers.get(axum::http::header::AUTHORIZATION) {
                Some(header) => credential(header.to_str().map_err(|_| {
                    ApiError::unauthorized("the Authorization header is not text")
                })?)?,
                // Browsers cannot set headers on EventSource and WebSocket requests.
                None if parts.uri.path().starts_with("/api/v1/stream/") => parts
                    .uri
                    .query()
                    .into_iter()
                    .flat_map(|q| q.split('&'))
                    .find_map(|pair| pair.strip_prefix("access_token="))
                    .map(str::to_string)
                    .ok_or_else(|| {
                        ApiError::unauthorized(
                            "log in: send Authorization: Bearer <token> or ?access_token=",
                        )
                    })?,
                None => {
                    return Err(ApiError::unauthorized(
                        "log in: send Authorization: Bearer <token>",
                    ));
                }
            };
        let token = token.as_str();
        if let Some((id, secret)) = token
            .split_once('.')
            .filter(|(id, _)| id.starts_with("vk_"))
        {
            let (id, secret) = (id.to_string(), secret.to_string());
            return state
                .with_store(move |store| {
                    let key = store
                        .api_key(&id)?
                        .filter(|k| k.revoked_at.is_none())
                        .filter(|k| auth::api_key_matches(&secret, &k.secret_hash))
                        .ok_or_else(|| ApiError::unauthorized("unknown or revoked API key"))?;
                    Ok(Principal {
                        actor: format!("key:{}", key.id),
                        role: Role::parse(&key.role)?,
                    })
                })
                .await;
        }
        let claims = state.inner.tokens.check(token, "access")?;
        Ok(Principal {
            actor: claims.sub,
            role: claims.role,
        })
    }
}

/// The token of an `Authorization` header: `Bearer <token>`, `Splunk <API key>` (HEC
/// senders) or `ApiKey <base64 of id:secret>` (Elasticsearch clients).
fn credential(header: &str) -> Result<String, ApiError> {
    let (scheme, value) = header
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer <token>"))?;
    let value = value.trim();
    match scheme {
        "Bearer" | "Splunk" => Ok(value.to_string()),
        "ApiKey" => {
            use base64::Engine as _;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(value)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::unauthorized("ApiKey: expected base64 of id:secret"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| ApiError::unauthorized("ApiKey: expected base64 of id:secret"))?;
            Ok(format!("{id}.{secret}"))
        }
        _ => Err(ApiError::unauthorized(
            "expected Authorization: Bearer <token> (or Splunk / ApiKey with an API key)",
        )),
    }
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Login {
    /// The user's name.
    username: String,
    /// The user's password.
    password: String,
}

async fn login(
    State(state): State<AppState>,
    Json(body): Json<Login>,
) -> Result<Json<Value>, ApiError> {
    let user = body.username.clone();
    let role = state
        .with_store(move |store| {
            let found = store
                .user(&body.username)?
                .filter(|u| !u.disabled)
                .filter(|u| auth::verify_password(&body.password, &u.password_hash));
            match found {
                Some(user) => {
                    store.audit(&user.name, "login", &user.name, &json!({}))?;
                    Ok(Role::parse(&user.role)?)
                }
                None => {
                    store.audit(&body.username, "login.failed", &body.username, &json!({}))?;
                    Err(ApiError::unauthorized("wrong user name or password"))
                }
            }
        })
        .await;
    let counter = match &role {
        Ok(_) => &state.inner.metrics.logins,
        Err(_) => &state.inner.metrics.failed_logins,
    };
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tokens_for(&state, &user, role?)
}

fn tokens_for(state: &AppState, user: &str, role: Role) -> Result<Json<Value>, ApiError> {
    let tokens = &state.inner.tokens;
    Ok(Json(json!({
        "access_token": tokens.issue(user, role, "access")?,
        "refresh_token": tokens.issue(user, role, "refresh")?,
        "token_type": "Bearer",
        "expires_in": auth::ACCESS_SECONDS,
        "role": role,
    })))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Refresh {
    /// A refresh token from `/auth/login`.
    refresh_token: String,
}

async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<Refresh>,
) -> Result<Json<Value>, ApiError> {
    let claims = state.inner.tokens.check(&body.refresh_token, "refresh")?;
    let name = claims.sub.clone();
    // The user's current role and state, not the token's.
    let role = state
        .with_store(move |store| {
            let user = store.user(&name)?.filter(|u| !u.disabled).ok_or_else(|| {
                ApiError::unauthorized("the user no longer exists or is disabled")
            })?;
            Role::parse(&user.role)
        })
        .await?;
    tokens_for(&state, &claims.sub, role)
}

#[derive(Deserialize, serde::Serialize, Default, schemars::JsonSchema)]
struct IncidentParams {
    /// Only this case status: open, investigating, resolved, false_positive.
    status: Option<String>,
    /// Only this severity: critical, high, medium, low.
    severity: Option<String>,
    /// Only scores at least this.
    min_score: Option<i64>,
    /// Only incidents involving this host.
    host: Option<String>,
    /// Only titles containing this (case-insensitive).
    q: Option<String>,
    /// score (default), last_seen or first_seen.
    sort: Option<String>,
    /// At most this many (default 50, at most 1,000).
    limit: Option<u64>,
    /// Skip this many.
    offset: Option<u64>,
}

async fn list_incidents(
    State(state): State<AppState>,
    who: Principal,
    Query(params): Query<IncidentParams>,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Viewer)?;
    let query = IncidentQuery {
        status: params
            .status
            .as_deref()
            .map(CaseStatus::parse)
            .transpose()?,
        severity: params.severity.clone(),
        min_score: params.min_score,
        host: params.host.clone(),
        text: params.q.clone(),
        sort: match params.sort.as_deref() {
            None | Some("score") => IncidentSort::Score,
            Some("last_seen") => IncidentSort::LastSeen,
            Some("first_seen") => IncidentSort::FirstSeen,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "unknown sort {other:?}; sorts: score, last_seen, first_seen"
                )));
            }
        },
        limit: params.limit,
        offset: params.offset.unwrap_or(0),
    };
    let detail = serde_json::to_value(&params).unwrap_or_default();
    let page = state
        .with_store(move |store| {
            let page = store.incidents(&query)?;
            store.audit(&who.actor, "query", "incidents", &detail)?;
            Ok(page)
        })
        .await?;
    Ok(Json(serde_json::to_value(page).unwrap_or_default()))
}

async fn get_incident(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Viewer)?;
    let incident = state
        .with_store(move |store| {
            store.audit(&who.actor, "query", &id, &json!({}))?;
            store
                .incident(&id)?
                .ok_or_else(|| ApiError::not_found(format!("no incident {id}")))
        })
        .await?;
    Ok(Json(serde_json::to_value(incident).unwrap_or_default()))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CasePatch {
    /// open, investigating, resolved or false_positive.
    status: Option<String>,
    /// `null` clears the assignee; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<String>")]
    assignee: Option<Option<String>>,
    /// A note to append (at most 10,000 bytes).
    note: Option<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

async fn update_incident(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    Json(patch): Json<CasePatch>,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Analyst)?;
    if patch.note.as_ref().is_some_and(|n| n.len() > 10_000) {
        return Err(ApiError::bad_request("a note has at most 10,000 bytes"));
    }
    let update = CaseUpdate {
        status: patch.status.as_deref().map(CaseStatus::parse).transpose()?,
        assignee: patch.assignee.clone(),
        note: patch.note.clone(),
    };
    let detail =
        json!({"status": patch.status, "assignee": patch.assignee, "note": patch.note.is_some()});
    let incident = state
        .with_store(move |store| {
            let updated = store
                .update_case(&id, &who.actor, &update)?
                .ok_or_else(|| ApiError::not_found(format!("no incident {id}")))?;
            store.audit(&who.actor, "incident.update", &id, &detail)?;
            Ok(updated)
        })
        .await?;
    Ok(Json(serde_json::to_value(incident).unwrap_or_default()))
}

#[derive(Deserialize, serde::Serialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct DetectionParams {
    /// Only this rule's detections (its id).
    rule: Option<String>,
    /// Only this host's.
    host: Option<String>,
    /// Only this hunt run's (`live` for live hunting).
    run: Option<String>,
    /// Only at or after this time (RFC 3339).
    since: Option<String>,
    /// Only before this time (RFC 3339).
    until: Option<String>,
    /// At most this many (default 100, at most 1,000).
    limit: Option<u64>,
    /// Skip this many.
    offset: Option<u64>,
}

/// Checks an RFC 3339 time given as a filter.
pub(crate) fn time_param(name: &str, value: Option<&String>) -> Result<Option<String>, ApiError> {
    value
        .map(|v| {
            v.parse::<jiff::Timestamp>()
                .map(|t| t.to_string())
                .map_err(|e| ApiError::bad_request(format!("{name}: not an RFC 3339 time: {e}")))
        })
        .transpose()
}

async fn list_detections(
    State(state): State<AppState>,
    who: Principal,
    Query(params): Query<DetectionParams>,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Viewer)?;
    let query = DetectionQuery {
        rule_id: params.rule.clone(),
        host: params.host.clone(),
        run_id: params.run.clone(),
        since: time_param("since", params.since.as_ref())?,
        until: time_param("until", params.until.as_ref())?,
        limit: params.limit,
        offset: params.offset.unwrap_or(0),
    };
    let detail = serde_json::to_value(&params).unwrap_or_default();
    let page = state
        .with_store(move |store| {
            let page = store.detections(&query)?;
            store.audit(&who.actor, "query", "detections", &detail)?;
            Ok(page)
        })
        .await?;
    Ok(Json(serde_json::to_value(page).unwrap_or_default()))
}

async fn get_detection(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Viewer)?;
    let detection = state
        .with_store(move |store| {
            store.audit(&who.actor, "query", &id, &json!({}))?;
            store
                .detection(&id)?
                .ok_or_else(|| ApiError::not_found(format!("no detection {id}")))
        })
        .await?;
    Ok(Json(serde_json::to_value(detection).unwrap_or_default()))
}

/// An admin's listing of `target`, audited as a query.
async fn admin_list<T: serde::Serialize + Send + 'static>(
    state: &AppState,
    who: Principal,
    target: &'static str,
    fetch: fn(&mut Store) -> vigil_store::Result<Vec<T>>,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Admin)?;
    let items = state
        .with_store(move |store| {
            store.audit(&who.actor, "query", target, &json!({}))?;
            Ok(fetch(store)?)
        })
        .await?;
    Ok(Json(json!({"items": items})))
}

async fn list_users(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Value>, ApiError> {
    admin_list(&state, who, "users", Store::users).await
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewUser {
    /// 1 to 64 letters, digits, `.`, `_`, `-`, `@`.
    name: String,
    /// admin, analyst or viewer.
    role: String,
    /// At least 12 characters.
    password: String,
}

async fn create_user(
    State(state): State<AppState>,
    who: Principal,
    Json(body): Json<NewUser>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    who.require(Role::Admin)?;
    let role = Role::parse(&body.role)?;
    auth::check_password(&body.password)?;
    let valid_name = !body.name.is_empty()
        && body.name.len() <= 64
        && body
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if !valid_name {
        return Err(ApiError::bad_request(
            "a user name has 1 to 64 characters: letters, digits, . _ - @",
        ));
    }
    let hash = hash_password(&body.password)?;
    let user = state
        .with_store(move |store| {
            let user = store.create_user(&body.name, role.as_str(), &hash)?;
            store.audit(
                &who.actor,
                "user.create",
                &body.name,
                &json!({"role": role}),
            )?;
            Ok(user)
        })
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(serde_json::to_value(user).unwrap_or_default()),
    ))
}

async fn list_keys(State(state): State<AppState>, who: Principal) -> Result<Json<Value>, ApiError> {
    admin_list(&state, who, "api-keys", Store::api_keys).await
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewKey {
    /// What the key is for.
    name: String,
    /// admin, analyst or viewer.
    role: String,
}

async fn create_key(
    State(state): State<AppState>,
    who: Principal,
    Json(body): Json<NewKey>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    who.require(Role::Admin)?;
    let role = Role::parse(&body.role)?;
    let (id, full, hash) = auth::new_api_key();
    let key = vigil_store::ApiKey {
        id: id.clone(),
        name: body.name,
        owner: who.actor.clone(),
        role: role.as_str().to_string(),
        secret_hash: hash,
        created_at: jiff::Timestamp::now().to_string(),
        revoked_at: None,
    };
    let stored = key.clone();
    state
        .with_store(move |store| {
            store.create_api_key(&stored)?;
            store.audit(
                &who.actor,
                "api-key.create",
                &stored.id,
                &json!({"role": role}),
            )?;
            Ok(())
        })
        .await?;
    let mut out = serde_json::to_value(key).unwrap_or_default();
    // The only time the secret is shown.
    out["key"] = full.into();
    Ok((axum::http::StatusCode::CREATED, Json(out)))
}

async fn revoke_key(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    who.require(Role::Admin)?;
    state
        .with_store(move |store| {
            if !store.revoke_api_key(&id)? {
                return Err(ApiError::not_found(format!("no live API key {id}")));
            }
            store.audit(&who.actor, "api-key.revoke", &id, &json!({}))?;
            Ok(())
        })
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

async fn verify_audit(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Admin)?;
    let verdict = state
        .with_store(move |store| {
            let verdict = store.verify_audit()?;
            store.audit(
                &who.actor,
                "audit.verify",
                "audit_log",
                &json!({"records": verdict.records}),
            )?;
            Ok(verdict)
        })
        .await?;
    Ok(Json(serde_json::to_value(verdict).unwrap_or_default()))
}
