//! Rules and suppressions over the API. The engine the server hunts with is built from
//! what it was started with ([`EngineSetup`]: rule files, the built-in pack, settings)
//! plus what the store holds: uploaded rules, the enabled state of any rule, suppression
//! entries. Every change rebuilds the engine; live hunting takes the new one at its next
//! batch (events already hunted keep their detections; a hunt run of the stored events
//! applies the new rules to the past).

use std::collections::HashSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_engine::{Engine, Settings};
use vigil_sigma::{Detector, LoadReport, Routing, RuleSet, RuleSource};
use vigil_store::{Store, StoredRule};
use vigil_triage::Suppressions;

use crate::{ApiError, AppState, Principal, Role};

/// What the server's engine is built from besides the store.
#[derive(Clone)]
pub struct EngineSetup {
    /// Rule files and directories given at start, and the built-in pack.
    pub rules: Vec<RuleSource>,
    /// Values for `|expand` placeholders.
    pub placeholders: Option<vigil_sigma::Placeholders>,
    /// Minimum level, suppressions given at start, triage settings, correlation window.
    pub settings: Settings,
}

impl EngineSetup {
    /// The built-in rule pack and default settings.
    pub fn builtin() -> EngineSetup {
        EngineSetup {
            rules: vigil_sigma::builtin::sources(),
            placeholders: None,
            settings: Settings::default(),
        }
    }
}

/// The engine `setup` and the store's rules and suppressions make; `base` lends its
/// taxonomy and ATT&CK (else `attack` is used).
pub(crate) fn build(
    store: &mut Store,
    setup: &EngineSetup,
    base: Either<'_>,
) -> Result<(Engine, LoadReport), ApiError> {
    let stored = store.rules()?;
    let mut sources = setup.rules.clone();
    for rule in stored.iter().filter(|r| r.enabled && !r.source.is_empty()) {
        sources.push(RuleSource::Text {
            name: format!("stored rule {}", rule.id),
            yaml: rule.source.clone(),
        });
    }
    let disabled: HashSet<String> = stored
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.id.clone())
        .collect();
    let (rules, report) = RuleSet::load(&sources, setup.placeholders.as_ref());
    let (rules, _) = rules.without(&disabled);
    let mut settings = setup.settings.clone();
    for entry in store.suppressions()? {
        let more = Suppressions::from_toml(&entry.body, &format!("suppression {}", entry.id))
            .map_err(|e| {
                ApiError::internal(format!("a stored suppression no longer reads: {e}"))
            })?;
        settings.suppressions = settings.suppressions.and(more);
    }
    let routing = Routing::builtin().map_err(|e| ApiError::internal(e.to_string()))?;
    let detector = Detector::new(rules, routing);
    let engine = match base {
        Either::Engine(engine) => engine.with(detector, settings),
        Either::Attack(attack) => Engine::new(detector, *attack, settings)
            .map_err(|e| ApiError::internal(e.to_string()))?,
    };
    Ok((engine, report))
}

/// Where a new engine's ATT&CK comes from.
pub(crate) enum Either<'a> {
    /// The engine it replaces.
    Engine(&'a Engine),
    /// A first engine's.
    Attack(Box<vigil_attack::Attack>),
}

/// Rebuilds the engine after a change to the stored rules or suppressions.
async fn rebuild(state: &AppState) -> Result<LoadReport, ApiError> {
    let hunting = state
        .hunting()
        .ok_or_else(|| ApiError::unavailable("no rules are loaded on this server"))?;
    let (engine, report) = state
        .with_store(move |store| build(store, &hunting.0, Either::Engine(&hunting.1)))
        .await?;
    state.replace_engine(Arc::new(engine));
    Ok(report)
}

/// The query of `GET /api/v1/rules`.
#[derive(Deserialize, serde::Serialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleParams {
    /// Only rules whose title or id contains this (case-insensitive).
    q: Option<String>,
    /// At most this many (default 100, at most 1,000).
    limit: Option<u64>,
    /// Skip this many.
    offset: Option<u64>,
}

/// `GET /api/v1/rules`: the rules the server hunts with, and the disabled ones (viewer).
pub(crate) async fn list(
    State(state): State<AppState>,
    who: Principal,
    Query(params): Query<RuleParams>,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Viewer)?;
    let engine = state.loaded_engine()?;
    let detail = serde_json::to_value(&params).unwrap_or_default();
    let stored = state
        .with_store(move |store| {
            store.audit(&who.actor, "query", "rules", &detail)?;
            Ok(store.rules()?)
        })
        .await?;
    let needle = params.q.as_deref().map(str::to_lowercase);
    let matches = |id: &str, title: &str| {
        needle
            .as_deref()
            .is_none_or(|n| id.to_lowercase().contains(n) || title.to_lowercase().contains(n))
    };
    let mut items: Vec<Value> = engine
        .detector()
        .rules()
        .rules()
        .filter(|r| matches(r.key(), &r.title))
        .map(|r| {
            json!({
                "id": r.key(), "title": r.title, "level": r.level, "status": r.status,
                "tags": r.tags, "origin": r.path, "enabled": true,
            })
        })
        .collect();
    items.extend(
        stored
            .iter()
            .filter(|r| !r.enabled && matches(&r.id, &r.title))
            .map(|r| json!({"id": r.id, "title": r.title, "level": r.level, "enabled": false})),
    );
    let total = items.len();
    let offset = params.offset.unwrap_or(0) as usize;
    let limit = params.limit.unwrap_or(100).min(1_000) as usize;
    let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    Ok(Json(json!({"items": page, "total": total})))
}

/// Loads `yaml` as rules, without keeping them.
fn lint_text(yaml: &str) -> (RuleSet, LoadReport) {
    RuleSet::load(
        &[RuleSource::Text {
            name: "the uploaded rule".into(),
            yaml: yaml.to_string(),
        }],
        None,
    )
}

/// `POST /api/v1/rules/lint`: loads the body (Sigma YAML) and says what failed (analyst).
pub(crate) async fn lint(who: Principal, body: String) -> Result<Json<Value>, ApiError> {
    who.require(Role::Analyst)?;
    let (_, report) = lint_text(&body);
    Ok(Json(
        json!({"loaded": report.loaded, "failed": report.failed}),
    ))
}

/// `POST /api/v1/rules`: adds (or replaces) one Sigma rule, the body, after linting it
/// (analyst). The engine is rebuilt.
pub(crate) async fn upload(
    State(state): State<AppState>,
    who: Principal,
    body: String,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    who.require(Role::Analyst)?;
    let (rules, report) = lint_text(&body);
    if !report.failed.is_empty() {
        return Err(ApiError::bad_request(format!(
            "the rule does not load: {}",
            report
                .failed
                .iter()
                .map(|f| f.reason.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let infos: Vec<_> = rules.rules().collect();
    let [info] = infos.as_slice() else {
        return Err(ApiError::bad_request(format!(
            "upload one rule at a time (the body holds {})",
            infos.len()
        )));
    };
    if info.id.is_none() {
        return Err(ApiError::bad_request(
            "the rule needs an `id` to be managed",
        ));
    }
    let rule = StoredRule {
        id: info.key().to_string(),
        title: info.title.clone(),
        level: info
            .level
            .map(|l| l.as_str().to_string())
            .unwrap_or_default(),
        source: body,
        enabled: true,
        updated_at: jiff::Timestamp::now().to_string(),
        updated_by: Some(who.actor.clone()),
    };
    let answer = json!({"id": rule.id, "title": rule.title, "level": rule.level, "enabled": true});
    state
        .with_store(move |store| {
            store.put_rule(&rule)?;
            store.audit(
                &who.actor,
                "rule.upload",
                &rule.id,
                &json!({"title": rule.title}),
            )?;
            Ok(())
        })
        .await?;
    let report = rebuild(&state).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"rule": answer, "rules_loaded": report.loaded})),
    ))
}

/// The body of `PATCH /api/v1/rules/{id}`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulePatch {
    /// Whether hunts use the rule.
    enabled: bool,
}

/// `PATCH /api/v1/rules/{id}`: enables or disables any rule, uploaded or not (analyst).
pub(crate) async fn update(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    Json(patch): Json<RulePatch>,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Analyst)?;
    let engine = state.loaded_engine()?;
    let loaded = engine
        .detector()
        .rules()
        .rules()
        .find(|r| r.key() == id)
        .map(|r| (r.title.clone(), r.level));
    let target = id.clone();
    state
        .with_store(move |store| {
            let action = if patch.enabled {
                "rule.enable"
            } else {
                "rule.disable"
            };
            if !store.set_rule_enabled(&target, patch.enabled, &who.actor)? {
                // A rule from the files or the built-in pack: its state is kept as an entry
                // without source.
                let Some((title, level)) = loaded else {
                    return Err(ApiError::not_found(format!("no rule {target}")));
                };
                store.put_rule(&StoredRule {
                    id: target.clone(),
                    title,
                    level: level.map(|l| l.as_str().to_string()).unwrap_or_default(),
                    source: String::new(),
                    enabled: patch.enabled,
                    updated_at: jiff::Timestamp::now().to_string(),
                    updated_by: Some(who.actor.clone()),
                })?;
            }
            store.audit(&who.actor, action, &target, &json!({}))?;
            Ok(())
        })
        .await?;
    let report = rebuild(&state).await?;
    Ok(Json(
        json!({"id": id, "enabled": patch.enabled, "rules_loaded": report.loaded}),
    ))
}

/// Deletes `id` with `delete` (not found: 404 naming `what`), audits `action`, rebuilds
/// the engine.
async fn remove_and_rebuild(
    state: &AppState,
    who: Principal,
    id: String,
    delete: fn(&mut Store, &str) -> vigil_store::Result<bool>,
    what: &'static str,
    action: &'static str,
) -> Result<StatusCode, ApiError> {
    who.require(Role::Analyst)?;
    state
        .with_store(move |store| {
            if !delete(store, &id)? {
                return Err(ApiError::not_found(format!("no {what} {id}")));
            }
            store.audit(&who.actor, action, &id, &json!({}))?;
            Ok(())
        })
        .await?;
    rebuild(state).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/rules/{id}`: removes an uploaded rule, or a rule's stored state
/// (analyst).
pub(crate) async fn remove(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    remove_and_rebuild(
        &state,
        who,
        id,
        Store::delete_rule,
        "stored rule",
        "rule.delete",
    )
    .await
}

/// `GET /api/v1/suppressions`: the stored suppression entries (viewer).
pub(crate) async fn suppressions(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Viewer)?;
    let items = state
        .with_store(move |store| {
            store.audit(&who.actor, "query", "suppressions", &json!({}))?;
            Ok(store.suppressions()?)
        })
        .await?;
    Ok(Json(json!({"items": items})))
}

/// `POST /api/v1/suppressions`: adds suppression entries, the body in the TOML of
/// `--suppressions` (`[[suppress]]` tables), checked first (analyst).
pub(crate) async fn add_suppression(
    State(state): State<AppState>,
    who: Principal,
    body: String,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    who.require(Role::Analyst)?;
    let parsed = Suppressions::from_toml(&body, "the suppression")
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let count = parsed.rules().count();
    if count == 0 {
        return Err(ApiError::bad_request(
            "no [[suppress]] entry: write one table with `rule` and/or `where`, `reason`, `owner`",
        ));
    }
    let id = format!("sup-{}", crate::auth::random_hex(6));
    let stored = id.clone();
    state
        .with_store(move |store| {
            store.put_suppression(&stored, &body, Some(&who.actor))?;
            store.audit(
                &who.actor,
                "suppression.create",
                &stored,
                &json!({"entries": count}),
            )?;
            Ok(())
        })
        .await?;
    rebuild(&state).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "entries": count})),
    ))
}

/// `DELETE /api/v1/suppressions/{id}` (analyst).
pub(crate) async fn remove_suppression(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    remove_and_rebuild(
        &state,
        who,
        id,
        Store::delete_suppression,
        "suppression",
        "suppression.delete",
    )
    .await
}
