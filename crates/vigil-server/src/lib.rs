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
//! | `GET`/`POST /api/v1/users`, `GET`/`POST /api/v1/api-keys`, `DELETE /api/v1/api-keys/{id}`, `GET /api/v1/audit/verify` | no | no | yes |
//!
//! Callers authenticate with `Authorization: Bearer <token>`: an access token from
//! `/auth/login` (15 minutes; `/auth/refresh` trades a refresh token for a new one) or an
//! API key `vk_<id>.<secret>` (shown once when created; only its hash is stored).

mod auth;
mod error;

use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_store::{CaseStatus, CaseUpdate, IncidentQuery, IncidentSort, Store};

pub use auth::{Principal, Role, Tokens, hash_password};
pub use error::ApiError;

/// What every request shares: the store and the token keys.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Mutex<Store>,
    tokens: Tokens,
    metrics: Metrics,
}

/// Counters `/metrics` shows (Prometheus text format).
#[derive(Default)]
struct Metrics {
    /// Answers by status class: 2xx, 3xx, 4xx, 5xx.
    responses: [std::sync::atomic::AtomicU64; 4],
    logins: std::sync::atomic::AtomicU64,
    failed_logins: std::sync::atomic::AtomicU64,
}

impl AppState {
    /// A state over `store`, signing tokens with `secret` (keep it: tokens outlive
    /// restarts only when the secret does).
    pub fn new(store: Store, secret: &[u8]) -> Result<AppState, ApiError> {
        Ok(AppState {
            inner: Arc::new(Inner {
                store: Mutex::new(store),
                tokens: Tokens::new(secret)?,
                metrics: Metrics::default(),
            }),
        })
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
    axum::serve(listener, app(state))
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
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/incidents", get(list_incidents))
        .route(
            "/api/v1/incidents/{id}",
            get(get_incident).patch(update_incident),
        )
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/api-keys", get(list_keys).post(create_key))
        .route("/api/v1/api-keys/{id}", delete(revoke_key))
        .route("/api/v1/audit/verify", get(verify_audit))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            count_response,
        ))
        .with_state(state)
}

async fn count_response(
    State(state): State<AppState>,
    response: axum::response::Response,
) -> axum::response::Response {
    let class = (response.status().as_u16() / 100).clamp(2, 5) as usize - 2;
    state.inner.metrics.responses[class].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
    text.push_str(
        "# HELP vigil_logins_total Logins by result.\n# TYPE vigil_logins_total counter\n",
    );
    text.push_str(&format!(
        "vigil_logins_total{{result=\"ok\"}} {}\nvigil_logins_total{{result=\"failed\"}} {}\n",
        m.logins.load(Relaxed),
        m.failed_logins.load(Relaxed)
    ));
    text.push_str(&format!(
        "# HELP vigil_events_stored Events in the store.\n# TYPE vigil_events_stored gauge\nvigil_events_stored {events}\n"
    ));
    text.push_str(&format!(
        "# HELP vigil_incidents Incidents in the store.\n# TYPE vigil_incidents gauge\nvigil_incidents {incidents}\n"
    ));
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
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
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("log in: send Authorization: Bearer <token>"))?
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer <token>"))?
            .trim();
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

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[derive(Deserialize)]
struct Login {
    username: String,
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

#[derive(Deserialize)]
struct Refresh {
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

#[derive(Deserialize, serde::Serialize, Default)]
struct IncidentParams {
    status: Option<String>,
    severity: Option<String>,
    min_score: Option<i64>,
    host: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    limit: Option<u64>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CasePatch {
    status: Option<String>,
    /// `null` clears the assignee; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    assignee: Option<Option<String>>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    role: String,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
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
