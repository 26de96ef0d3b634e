//! The API's one table of endpoints: each entry is a route's handler and its description
//! (method, path, summary, role, query and body schemas derived from the handlers' own
//! types with schemars). [`crate::app`] builds the router from it and
//! `/api/v1/openapi.json` is generated from it, so the document cannot drift from what
//! the server serves.

use axum::extract::DefaultBodyLimit;
use axum::routing::MethodRouter;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::{AppState, Role};

/// What a request body is.
pub(crate) enum Body {
    None,
    /// JSON of this schema.
    Json(fn(&mut SchemaGenerator) -> Schema),
    /// Text or bytes of this media type, described.
    Raw(&'static str, &'static str),
}

/// One method on one path.
pub(crate) struct Endpoint {
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    pub(crate) summary: &'static str,
    /// The least role; `None`: no login.
    pub(crate) role: Option<Role>,
    pub(crate) query: Option<fn(&mut SchemaGenerator) -> Schema>,
    pub(crate) body: Body,
    /// Success status and what it returns.
    pub(crate) ok: (u16, &'static str),
    pub(crate) handler: MethodRouter<AppState>,
}

fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// An endpoint.
#[allow(clippy::too_many_arguments)]
fn endpoint(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    role: Option<Role>,
    query: Option<fn(&mut SchemaGenerator) -> Schema>,
    body: Body,
    ok: (u16, &'static str),
    handler: MethodRouter<AppState>,
) -> Endpoint {
    Endpoint {
        method,
        path,
        summary,
        role,
        query,
        body,
        ok,
        handler,
    }
}

/// Every endpoint.
pub(crate) fn endpoints() -> Vec<Endpoint> {
    use crate::{agent, hunts, ingest, reports, rules, stream};
    use Body::{Json, None as NoBody, Raw};
    use axum::routing::{delete, get, patch, post};
    let viewer = Some(Role::Viewer);
    let analyst = Some(Role::Analyst);
    let admin = Some(Role::Admin);
    let json = |what| (200, what);
    let bulk_limit = || DefaultBodyLimit::max(ingest::MAX_BODY);
    let mut endpoints = vec![
        endpoint(
            "get",
            "/healthz",
            "Liveness: the process answers",
            None,
            None,
            NoBody,
            json("`{\"status\":\"ok\"}`"),
            get(crate::healthz),
        ),
        endpoint(
            "get",
            "/readyz",
            "Readiness: the store answers",
            None,
            None,
            NoBody,
            json("`{\"status\":\"ready\",\"schema_version\"}`"),
            get(crate::readyz),
        ),
        endpoint(
            "get",
            "/metrics",
            "Prometheus metrics",
            viewer,
            None,
            NoBody,
            (200, "Prometheus text format"),
            get(crate::metrics),
        ),
        endpoint(
            "get",
            "/api/v1/openapi.json",
            "This document",
            viewer,
            None,
            NoBody,
            json("OpenAPI 3.1"),
            get(openapi),
        ),
        endpoint(
            "post",
            "/api/v1/auth/login",
            "Log in: access and refresh tokens",
            None,
            None,
            Json(schema::<crate::Login>),
            json("tokens"),
            post(crate::login),
        ),
        endpoint(
            "post",
            "/api/v1/auth/refresh",
            "A new access token for a refresh token",
            None,
            None,
            Json(schema::<crate::Refresh>),
            json("tokens"),
            post(crate::refresh),
        ),
        endpoint(
            "get",
            "/api/v1/incidents",
            "Incidents: filters, sort, pagination",
            viewer,
            Some(schema::<crate::IncidentParams>),
            NoBody,
            json("`{items, total}`"),
            get(crate::list_incidents),
        ),
        endpoint(
            "get",
            "/api/v1/incidents/{id}",
            "One incident and its case",
            viewer,
            None,
            NoBody,
            json("the incident"),
            get(crate::get_incident),
        ),
        endpoint(
            "patch",
            "/api/v1/incidents/{id}",
            "Work an incident: status, assignee, a note",
            analyst,
            None,
            Json(schema::<crate::CasePatch>),
            json("the incident"),
            patch(crate::update_incident),
        ),
        endpoint(
            "get",
            "/api/v1/incidents/{id}/report",
            "An incident's report (md, html, json, docx, csv, jsonl; pdf with the feature)",
            viewer,
            Some(schema::<reports::ReportParams>),
            NoBody,
            (200, "the report file"),
            get(reports::incident_report),
        ),
        endpoint(
            "post",
            "/api/v1/incidents/{id}/narrative",
            "A narrative of an incident written by the configured LLM and checked against its facts (409 when no LLM is configured)",
            analyst,
            None,
            NoBody,
            json("the outcome: `{outcome: accepted|rejected|failed, incident, ...}`"),
            post(agent::narrative),
        ),
        endpoint(
            "post",
            "/api/v1/incidents/{id}/investigations",
            "Investigate an incident with read-only tools (led by the configured LLM, else the built-in plan); the transcript is stored",
            analyst,
            None,
            Json(schema::<agent::InvestigationBody>),
            (
                201,
                "the stored investigation: `{id, incident, created_at, created_by, investigation}`",
            ),
            post(agent::investigate),
        ),
        endpoint(
            "get",
            "/api/v1/incidents/{id}/investigations",
            "An incident's stored investigations, newest first",
            viewer,
            None,
            NoBody,
            json("`{items}`"),
            get(agent::investigations),
        ),
        endpoint(
            "post",
            "/api/v1/ask",
            "A question in plain words, answered over the stored detections and incidents (422 when nothing can read it); with Accept: text/event-stream, Server-Sent Events `start`, `token`, `discard`, `plan`, `answer`, `error`",
            viewer,
            None,
            Json(schema::<agent::AskBody>),
            json("`{plan, answer}`, or text/event-stream"),
            post(agent::ask),
        ),
        endpoint(
            "get",
            "/api/v1/report",
            "The report of the top incidents",
            viewer,
            Some(schema::<reports::ReportParams>),
            NoBody,
            (200, "the report file"),
            get(reports::run_report),
        ),
        endpoint(
            "get",
            "/api/v1/detections",
            "Detections: by rule, host, run, time; pagination",
            viewer,
            Some(schema::<crate::DetectionParams>),
            NoBody,
            json("`{items, total}`"),
            get(crate::list_detections),
        ),
        endpoint(
            "get",
            "/api/v1/detections/{id}",
            "One detection with the event it matched",
            viewer,
            None,
            NoBody,
            json("the detection"),
            get(crate::get_detection),
        ),
        endpoint(
            "get",
            "/api/v1/coverage",
            "ATT&CK coverage of the rules, with a Navigator layer",
            viewer,
            None,
            NoBody,
            json("`{totals, tactics, layer}`"),
            get(reports::coverage),
        ),
        endpoint(
            "get",
            "/api/v1/coverage/detections",
            "The stored detections' techniques as a Navigator layer",
            viewer,
            Some(schema::<reports::LayerParams>),
            NoBody,
            json("`{detections, totals, layer}`"),
            get(reports::detections_layer),
        ),
        endpoint(
            "get",
            "/api/v1/rules",
            "The rules hunts use, and the disabled ones",
            viewer,
            Some(schema::<rules::RuleParams>),
            NoBody,
            json("`{items, total}`"),
            get(rules::list),
        ),
        endpoint(
            "post",
            "/api/v1/rules",
            "Add or replace one Sigma rule (YAML), linted first",
            analyst,
            None,
            Raw("application/yaml", "one Sigma rule"),
            (201, "the rule"),
            post(rules::upload),
        ),
        endpoint(
            "post",
            "/api/v1/rules/lint",
            "Lint Sigma YAML without keeping it",
            analyst,
            None,
            Raw("application/yaml", "Sigma rules"),
            json("`{loaded, failed}`"),
            post(rules::lint),
        ),
        endpoint(
            "patch",
            "/api/v1/rules/{id}",
            "Enable or disable a rule",
            analyst,
            None,
            Json(schema::<rules::RulePatch>),
            json("the rule's state"),
            patch(rules::update),
        ),
        endpoint(
            "delete",
            "/api/v1/rules/{id}",
            "Remove an uploaded rule or a rule's stored state",
            analyst,
            None,
            NoBody,
            (204, "removed"),
            delete(rules::remove),
        ),
        endpoint(
            "get",
            "/api/v1/suppressions",
            "Stored suppression entries",
            viewer,
            None,
            NoBody,
            json("`{items}`"),
            get(rules::suppressions),
        ),
        endpoint(
            "post",
            "/api/v1/suppressions",
            "Add suppression entries (TOML `[[suppress]]`)",
            analyst,
            None,
            Raw("text/plain", "TOML `[[suppress]]` tables"),
            (201, "`{id, entries}`"),
            post(rules::add_suppression),
        ),
        endpoint(
            "delete",
            "/api/v1/suppressions/{id}",
            "Remove a suppression entry",
            analyst,
            None,
            NoBody,
            (204, "removed"),
            delete(rules::remove_suppression),
        ),
        endpoint(
            "get",
            "/api/v1/hunts",
            "The latest hunt runs",
            viewer,
            None,
            NoBody,
            json("`{items}`"),
            get(hunts::list),
        ),
        endpoint(
            "post",
            "/api/v1/hunts",
            "Hunt the stored events (a range of sequence numbers)",
            analyst,
            None,
            Json(schema::<hunts::StoredHunt>),
            (202, "the run, queued"),
            post(hunts::start_stored),
        ),
        endpoint(
            "post",
            "/api/v1/hunts/upload",
            "Hunt an uploaded log file or archive",
            analyst,
            Some(schema::<hunts::UploadParams>),
            Raw(
                "application/octet-stream",
                "a log file or an archive (zip, tar, gzip)",
            ),
            (202, "the run, queued"),
            post(hunts::start_upload).layer(DefaultBodyLimit::max(hunts::MAX_UPLOAD)),
        ),
        endpoint(
            "get",
            "/api/v1/hunts/{id}",
            "A hunt run: progress, then its result",
            viewer,
            None,
            NoBody,
            json("the run"),
            get(hunts::get),
        ),
        endpoint(
            "get",
            "/api/v1/stream/incidents",
            "Server-Sent Events: incidents as live hunting writes them",
            viewer,
            None,
            NoBody,
            (200, "text/event-stream"),
            get(stream::incidents),
        ),
        endpoint(
            "get",
            "/api/v1/stream/hunts",
            "Server-Sent Events: hunt run progress",
            viewer,
            None,
            NoBody,
            (200, "text/event-stream"),
            get(stream::hunts),
        ),
        endpoint(
            "get",
            "/api/v1/stream/detections",
            "WebSocket: each new detection as a JSON text message",
            viewer,
            None,
            NoBody,
            (101, "switching protocols"),
            get(stream::detections),
        ),
        endpoint(
            "get",
            "/api/v1/ingest/status",
            "Live ingestion: stored, hunted, lag",
            viewer,
            None,
            NoBody,
            json("`{stored, hunted, lag, max_lag, replayed}`"),
            get(ingest::status),
        ),
        endpoint(
            "get",
            "/api/v1/users",
            "Users",
            admin,
            None,
            NoBody,
            json("`{items}`"),
            get(crate::list_users),
        ),
        endpoint(
            "post",
            "/api/v1/users",
            "Create a user",
            admin,
            None,
            Json(schema::<crate::NewUser>),
            (201, "the user"),
            post(crate::create_user),
        ),
        endpoint(
            "get",
            "/api/v1/api-keys",
            "API keys (never their secrets)",
            admin,
            None,
            NoBody,
            json("`{items}`"),
            get(crate::list_keys),
        ),
        endpoint(
            "post",
            "/api/v1/api-keys",
            "Create an API key (its secret is shown once)",
            admin,
            None,
            Json(schema::<crate::NewKey>),
            (201, "the key and its secret"),
            post(crate::create_key),
        ),
        endpoint(
            "delete",
            "/api/v1/api-keys/{id}",
            "Revoke an API key",
            admin,
            None,
            NoBody,
            (204, "revoked"),
            delete(crate::revoke_key),
        ),
        endpoint(
            "get",
            "/api/v1/audit/verify",
            "Check the audit log's hash chain",
            admin,
            None,
            NoBody,
            json("the verdict"),
            get(crate::verify_audit),
        ),
    ];
    // The paths shippers use besides our own.
    let bulk = "Elasticsearch bulk NDJSON: action and document lines (sent as application/x-ndjson by shippers; any type is read)";
    for (path, summary) in [
        ("/api/v1/ingest/bulk", "Elasticsearch bulk NDJSON"),
        (
            "/_bulk",
            "Elasticsearch bulk NDJSON (the path shippers use)",
        ),
        ("/{index}/_bulk", "Elasticsearch bulk NDJSON into an index"),
    ] {
        endpoints.push(endpoint(
            "post",
            path,
            summary,
            analyst,
            None,
            Raw("text/plain", bulk),
            json("Elasticsearch's bulk answer"),
            post(ingest::bulk).layer(bulk_limit()),
        ));
    }
    for (path, summary) in [
        ("/api/v1/ingest/hec", "Splunk HTTP Event Collector events"),
        ("/services/collector", "Splunk HEC (the path shippers use)"),
        (
            "/services/collector/event",
            "Splunk HEC (the path shippers use)",
        ),
    ] {
        endpoints.push(endpoint(
            "post",
            path,
            summary,
            analyst,
            None,
            Raw("application/json", "HEC event objects one after another"),
            json("`{text, code}`"),
            post(ingest::hec).layer(bulk_limit()),
        ));
    }
    endpoints
}

/// The path in OpenAPI form has the same `{name}` parameters axum routes use.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "minLength": 1}})
        })
        .collect()
}

/// Query parameters from a schema of an object's properties.
fn query_parameters(schema: &Value, definitions: &Map<String, Value>) -> Vec<Value> {
    let schema = resolve(schema, definitions);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, property)| {
            let mut property = property.clone();
            let description = property
                .as_object_mut()
                .and_then(|p| p.remove("description"))
                .unwrap_or(Value::Null);
            json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "description": description,
                "schema": plain(property),
            })
        })
        .collect()
}

/// A `$ref` to `#/$defs/X` resolved.
fn resolve<'v>(schema: &'v Value, definitions: &'v Map<String, Value>) -> &'v Value {
    schema["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .and_then(|name| definitions.get(name))
        .unwrap_or(schema)
}

/// A query parameter's schema without `null` (absent means none).
fn plain(mut schema: Value) -> Value {
    if let Some(types) = schema["type"].as_array() {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        schema["type"] = if kept.len() == 1 {
            kept[0].clone()
        } else {
            Value::Array(kept)
        };
    }
    schema
}

/// The OpenAPI 3.1 document of [`endpoints`].
pub(crate) fn document() -> Value {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    let mut paths = Map::new();
    let mut queries = Vec::new();
    for e in endpoints() {
        let query = e.query.map(|q| q(&mut generator).to_value());
        let body = match &e.body {
            Body::Json(schema) => Some(json!({
                "required": true,
                "content": {"application/json": {"schema": schema(&mut generator).to_value()}},
            })),
            Body::Raw(media, description) => Some(json!({
                "required": true,
                "description": description,
                "content": {*media: {"schema": {"type": "string"}}},
            })),
            Body::None => None,
        };
        queries.push((e.path, e.method, query, body, e.summary, e.role, e.ok));
    }
    let definitions: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    for (path, method, query, body, summary, role, (status, returns)) in queries {
        let mut parameters = path_parameters(path);
        if let Some(query) = &query {
            parameters.extend(query_parameters(query, &definitions));
        }
        let mut responses = Map::new();
        responses.insert(status.to_string(), json!({"description": returns}));
        // Errors carry `{"error": {code, message}}`, except what axum answers itself for
        // a body it cannot read (415, 422, 413: plain text naming the problem).
        responses.insert(
            "4XX".into(),
            json!({"description": "a client error: bad input (the message says what), unknown id, not logged in (401), role too low (403), not possible as the server is set up (409: no LLM configured), nothing to make of it (422: a question nothing can read), over the rate limit (429, Retry-After)"}),
        );
        let mut operation = json!({
            "summary": summary,
            "operationId": format!("{method}{}", path.replace(['/', '{', '}', '.', '-'], "_")),
            "parameters": parameters,
            "responses": responses,
        });
        match role {
            Some(role) => {
                operation["security"] = json!([{"bearer": []}]);
                operation["description"] =
                    format!("Needs the {} role or above.", role.as_str()).into();
            }
            None => operation["security"] = json!([]),
        }
        if let Some(body) = body {
            operation["requestBody"] = body;
        }
        let item = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        item[method] = operation;
    }
    let mut schemas = definitions;
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}}}},
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "vigil team server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Incidents, detections, rules, hunts, reports and live ingestion. Authenticate with `Authorization: Bearer <access token or API key>`.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    })
}

/// `GET /api/v1/openapi.json` (any role: every endpoint but the probes needs a login).
async fn openapi(who: crate::Principal) -> Result<axum::Json<Value>, crate::ApiError> {
    who.require(Role::Viewer)?;
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    Ok(axum::Json(DOCUMENT.get_or_init(document).clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_documented_once_with_its_parameters() {
        let document = document();
        let paths = document["paths"].as_object().unwrap();
        let endpoints = endpoints();
        let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(operations, endpoints.len());
        let list = &paths["/api/v1/incidents"]["get"];
        let names: Vec<&str> = list["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"min_score") && names.contains(&"sort"),
            "{names:?}"
        );
        let patch = &paths["/api/v1/incidents/{id}"]["patch"];
        assert_eq!(patch["parameters"][0]["name"], "id");
        let body = &patch["requestBody"]["content"]["application/json"]["schema"];
        assert!(
            body["$ref"]
                .as_str()
                .unwrap()
                .starts_with("#/components/schemas/"),
            "{body}"
        );
        assert!(
            paths["/healthz"]["get"]["security"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            paths["/api/v1/users"]["post"]["security"][0],
            json!({"bearer": []})
        );
    }
}
