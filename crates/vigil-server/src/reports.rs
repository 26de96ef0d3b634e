//! Reports and ATT&CK views over what the server stores: an incident's report or the
//! report of the top incidents in every format `vigil report` writes, the rules' ATT&CK
//! coverage and the detections' techniques as Navigator layers.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use vigil_store::{DetectionQuery, IncidentQuery, Store};

use crate::{ApiError, AppState, Principal, Role};

/// The query of a report download.
#[derive(Deserialize, serde::Serialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportParams {
    /// md, html, json, docx, csv, jsonl (pdf in a build with the `pdf` feature); default html.
    format: Option<String>,
    /// For the run report: how many incidents, highest score first (default 100, at most 1,000).
    limit: Option<u64>,
}

/// The MIME type of a report format.
fn content_type(extension: &str) -> &'static str {
    match extension {
        "md" => "text/markdown; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "jsonl" => "application/x-ndjson",
        "pdf" => "application/pdf",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
}

/// The detections (stored objects) of `incidents`.
pub(crate) fn detections_of(
    store: &mut Store,
    incidents: &[Value],
) -> Result<Vec<Value>, ApiError> {
    let mut detections = Vec::new();
    for incident in incidents {
        for id in incident["detections"].as_array().into_iter().flatten() {
            if let Some(found) = store.detection(id.as_str().unwrap_or_default())? {
                detections.push(found.detection);
            }
        }
    }
    Ok(detections)
}

/// Renders `incidents` and their detections as `format`, as a download named `name`.
async fn render(
    state: &AppState,
    format: &str,
    name: String,
    incidents: Vec<Value>,
    detections: Vec<Value>,
) -> Result<Response, ApiError> {
    let renderer =
        vigil_report::renderer(format).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let state = state.clone();
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let summary = json!({
            "source": "vigil server",
            "incidents": incidents.len(),
            "detections": detections.len(),
        });
        let run = vigil_report::Run::new(summary, incidents, detections);
        let model = state.with_attack(|attack| vigil_report::build(&run, attack))?;
        let templates =
            vigil_report::Templates::new(None).map_err(|e| ApiError::internal(e.to_string()))?;
        let mut out = Vec::new();
        renderer
            .render(&model, &templates, &mut out)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(out)
    })
    .await
    .map_err(|e| ApiError::internal(format!("a report task failed: {e}")))??;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(renderer.extension())),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{name}.{}\"",
        renderer.extension()
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `GET /api/v1/incidents/{id}/report?format=`: one incident's report.
pub(crate) async fn incident_report(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    Query(params): Query<ReportParams>,
) -> Result<Response, ApiError> {
    who.require(Role::Viewer)?;
    let format = params.format.clone().unwrap_or_else(|| "html".into());
    let target = id.clone();
    let (incident, detections) = state
        .with_store(move |store| {
            let incident = store
                .incident(&target)?
                .ok_or_else(|| ApiError::not_found(format!("no incident {target}")))?
                .incident;
            let detections = detections_of(store, std::slice::from_ref(&incident))?;
            store.audit(
                &who.actor,
                "report",
                &target,
                &json!({"format": params.format}),
            )?;
            Ok((incident, detections))
        })
        .await?;
    let name = format!("incident-{}", id.trim_start_matches("inc-"));
    render(&state, &format, name, vec![incident], detections).await
}

/// `GET /api/v1/report?format=&limit=`: the report of the top incidents.
pub(crate) async fn run_report(
    State(state): State<AppState>,
    who: Principal,
    Query(params): Query<ReportParams>,
) -> Result<Response, ApiError> {
    who.require(Role::Viewer)?;
    let format = params.format.clone().unwrap_or_else(|| "html".into());
    let limit = params.limit.unwrap_or(100).min(1_000);
    let (incidents, detections) = state
        .with_store(move |store| {
            let incidents: Vec<Value> = store
                .incidents(&IncidentQuery {
                    limit: Some(limit),
                    ..IncidentQuery::default()
                })?
                .items
                .into_iter()
                .map(|i| i.incident)
                .collect();
            let detections = detections_of(store, &incidents)?;
            store.audit(
                &who.actor,
                "report",
                "incidents",
                &json!({"format": params.format, "limit": limit}),
            )?;
            Ok((incidents, detections))
        })
        .await?;
    render(
        &state,
        &format,
        "vigil-report".into(),
        incidents,
        detections,
    )
    .await
}

/// `GET /api/v1/coverage`: the ATT&CK coverage of the rules the server hunts with, as an
/// ATT&CK Navigator layer, with the tactic-by-technique counts.
pub(crate) async fn coverage(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Viewer)?;
    let engine = state.loaded_engine()?;
    let answer = tokio::task::spawn_blocking(move || {
        let coverage = engine.coverage();
        json!({
            "totals": coverage.totals(),
            "tactics": coverage.tactic_rows(),
            "layer": coverage.layer("vigil rule coverage", "ATT&CK techniques of the rules this server hunts with, by rule count"),
        })
    })
    .await
    .map_err(|e| ApiError::internal(format!("a coverage task failed: {e}")))?;
    let actor = who.actor.clone();
    state
        .with_store(move |store| Ok(store.audit(&actor, "query", "coverage", &json!({}))?))
        .await?;
    Ok(Json(answer))
}

/// The query of a detections layer.
#[derive(Deserialize, serde::Serialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LayerParams {
    /// Only detections at or after this time (RFC 3339).
    since: Option<String>,
    /// Only detections before this time (RFC 3339).
    until: Option<String>,
}

/// `GET /api/v1/coverage/detections?since=&until=`: the techniques of the stored
/// detections as a Navigator layer (at most the newest 100,000 detections).
pub(crate) async fn detections_layer(
    State(state): State<AppState>,
    who: Principal,
    Query(params): Query<LayerParams>,
) -> Result<Json<Value>, ApiError> {
    who.require(Role::Viewer)?;
    let since = crate::time_param("since", params.since.as_ref())?;
    let until = crate::time_param("until", params.until.as_ref())?;
    let detail = serde_json::to_value(&params).unwrap_or_default();
    let detections = state
        .with_store(move |store| {
            let mut all = Vec::new();
            loop {
                let page = store.detections(&DetectionQuery {
                    since: since.clone(),
                    until: until.clone(),
                    limit: Some(1_000),
                    offset: all.len() as u64,
                    ..DetectionQuery::default()
                })?;
                let done = page.items.len() < 1_000 || all.len() >= 100_000;
                all.extend(page.items.into_iter().map(|d| d.detection));
                if done {
                    break;
                }
            }
            store.audit(&who.actor, "query", "coverage/detections", &detail)?;
            Ok(all)
        })
        .await?;
    let state = state.clone();
    let layer = tokio::task::spawn_blocking(move || {
        state.with_attack(|attack| {
        let mut coverage = vigil_attack::Coverage::new(attack);
        for detection in &detections {
            let title = detection["rule_title"].as_str().unwrap_or("(untitled rule)");
            if let Ok(mapping) = vigil_attack::Mapping::deserialize(detection) {
                coverage.add_mapping(&mapping, title);
            }
        }
        json!({
            "detections": detections.len(),
            "totals": coverage.totals(),
            "layer": coverage.layer("vigil detections", &format!("ATT&CK techniques of {} stored detections, by detection count", detections.len())),
        })
        })
    })
    .await
    .map_err(|e| ApiError::internal(format!("a layer task failed: {e}")))??;
    Ok(Json(layer))
}
