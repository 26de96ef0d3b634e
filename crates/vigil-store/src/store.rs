//! [`Store`]: every table's operations, written once over the two backends.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::backend::{Backend, Cell, Param, Postgres, Sqlite};
use crate::error::{Error, Result};

/// The migrations, in order: (version, name, SQL). One SQL dialect serves both databases.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (
        2,
        "investigations",
        include_str!("../migrations/0002_investigations.sql"),
    ),
];

/// The audit chain's first `prev_hash`.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// vigil's storage: SQLite or PostgreSQL behind the same operations.
pub struct Store {
    db: Box<dyn Backend>,
    /// What it was opened from, for [`Store::reopen`].
    target: String,
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn json_of<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

fn parse_json(table: &'static str, id: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::Damaged {
        table,
        id: id.to_string(),
        reason: e.to_string(),
    })
}

/// A page of results and how many there are in all.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// This page.
    pub items: Vec<T>,
    /// All matching rows.
    pub total: u64,
}

/// Where an incident's case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// New or not looked at.
    Open,
    /// Someone is on it.
    Investigating,
    /// Dealt with.
    Resolved,
    /// Not an attack.
    FalsePositive,
}

impl CaseStatus {
    /// Its name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Investigating => "investigating",
            CaseStatus::Resolved => "resolved",
            CaseStatus::FalsePositive => "false_positive",
        }
    }

    /// The status called `name`.
    pub fn parse(name: &str) -> Result<CaseStatus> {
        Ok(match name {
            "open" => CaseStatus::Open,
            "investigating" => CaseStatus::Investigating,
            "resolved" => CaseStatus::Resolved,
            "false_positive" => CaseStatus::FalsePositive,
            other => {
                return Err(Error::Invalid(format!(
                    "unknown status {other:?}; statuses: open, investigating, resolved, false_positive"
                )));
            }
        })
    }
}

/// A stored incident: triage's incident object and the case fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredIncident {
    /// The incident (as in incidents.json).
    pub incident: Value,
    /// Case status.
    pub status: CaseStatus,
    /// Who works it.
    pub assignee: Option<String>,
    /// Analysts' notes, oldest first.
    pub notes: Vec<Note>,
    /// When it was first stored.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

/// An analyst's note on an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// When.
    pub at: String,
    /// Who.
    pub author: String,
    /// What.
    pub text: String,
}

/// A change to an incident's case.
#[derive(Debug, Clone, Default)]
pub struct CaseUpdate {
    /// A new status.
    pub status: Option<CaseStatus>,
    /// A new assignee (`Some(None)` clears it).
    pub assignee: Option<Option<String>>,
    /// A note to append, by `author`.
    pub note: Option<String>,
}

/// How incidents are listed.
#[derive(Debug, Clone, Default)]
pub struct IncidentQuery {
    /// Only this status.
    pub status: Option<CaseStatus>,
    /// Only this severity.
    pub severity: Option<String>,
    /// Only scores at least this.
    pub min_score: Option<i64>,
    /// Only incidents involving this host.
    pub host: Option<String>,
    /// Only titles containing this text (case-insensitive).
    pub text: Option<String>,
    /// The order.
    pub sort: IncidentSort,
    /// At most this many (default 50, at most 1,000).
    pub limit: Option<u64>,
    /// Skip this many.
    pub offset: u64,
}

/// The orders incidents can be listed in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IncidentSort {
    /// Highest score first (ties: latest activity first).
    #[default]
    Score,
    /// Latest activity first.
    LastSeen,
    /// Oldest first activity first.
    FirstSeen,
}

/// A stored detection: the detection object and the event it matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredDetection {
    /// The detection (as in detections.jsonl).
    pub detection: Value,
    /// The matched event, when kept.
    pub event: Option<Value>,
    /// The hunt run that found it.
    pub run_id: Option<String>,
}

/// How detections are listed.
#[derive(Debug, Clone, Default)]
pub struct DetectionQuery {
    /// Only this rule.
    pub rule_id: Option<String>,
    /// Only this host.
    pub host: Option<String>,
    /// Only this run.
    pub run_id: Option<String>,
    /// Only at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Only before this time (RFC 3339).
    pub until: Option<String>,
    /// At most this many (default 100, at most 1,000).
    pub limit: Option<u64>,
    /// Skip this many.
    pub offset: u64,
}

/// A Sigma rule kept by the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRule {
    /// The rule's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its level.
    pub level: String,
    /// The YAML.
    pub source: String,
    /// Whether hunts use it.
    pub enabled: bool,
    /// Last change.
    pub updated_at: String,
    /// By whom.
    pub updated_by: Option<String>,
}

/// A suppression entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredSuppression {
    /// Its id.
    pub id: String,
    /// The TOML of one `[[suppress]]` entry.
    pub body: String,
    /// When.
    pub created_at: String,
    /// By whom.
    pub created_by: Option<String>,
}

/// A hunt run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HuntRun {
    /// Its id.
    pub id: String,
    /// `upload`, `stored` or `live`.
    pub kind: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// When it started.
    pub started_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
    /// 0 to 1.
    pub progress: f64,
    /// Who started it.
    pub created_by: Option<String>,
    /// Its summary when done.
    pub summary: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
}

/// An investigation of an incident: its transcript, kept as it was written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredInvestigation {
    /// Its id.
    pub id: String,
    /// The incident investigated.
    pub incident: String,
    /// When it was stored (RFC 3339, microseconds).
    pub created_at: String,
    /// Who ran it.
    pub created_by: Option<String>,
    /// The transcript (steps, result, budget) as JSON.
    pub investigation: Value,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    /// The login name.
    pub name: String,
    /// `admin`, `analyst` or `viewer`.
    pub role: String,
    /// The argon2 hash (never serialized).
    #[serde(skip)]
    pub password_hash: String,
    /// When created.
    pub created_at: String,
    /// Disabled users cannot log in.
    pub disabled: bool,
}

/// An API key (its secret is never stored, only a hash of it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKey {
    /// The public id (the key's prefix).
    pub id: String,
    /// What it is for.
    pub name: String,
    /// The user who made it.
    pub owner: String,
    /// The role it acts with.
    pub role: String,
    /// The secret's hash (never serialized).
    #[serde(skip)]
    pub secret_hash: String,
    /// When created.
    pub created_at: String,
    /// When revoked.
    pub revoked_at: Option<String>,
}

/// One record of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// 1, 2, 3, … without gaps.
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who (a user name, `key:<id>`, or `system`).
    pub actor: String,
    /// What (`login`, `incident.update`, `query`, …).
    pub action: String,
    /// On what.
    pub target: String,
    /// Details (JSON; never a secret).
    pub detail: String,
    /// The previous record's hash.
    pub prev_hash: String,
    /// SHA-256 over this record's fields and `prev_hash`.
    pub hash: String,
}

impl AuditRecord {
    /// The hash this record must carry.
    pub fn expected_hash(&self) -> String {
        let mut digest = Sha256::new();
        for part in [
            self.seq.to_string().as_str(),
            &self.at,
            &self.actor,
            &self.action,
            &self.target,
            &self.detail,
            &self.prev_hash,
        ] {
            digest.update(part.as_bytes());
            digest.update([0u8]);
        }
        digest
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// What checking the audit chain found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditVerdict {
    /// Records checked.
    pub records: u64,
    /// The last record's hash (keep it elsewhere to detect a cut tail).
    pub head: String,
    /// The first broken record and why, if any.
    pub broken: Option<(i64, String)>,
}

const INCIDENT_COLUMNS: &str = "body, status, assignee, notes, created_at, updated_at";
const RULE_COLUMNS: &str = "id, title, level, source, enabled, updated_at, updated_by";
const RUN_COLUMNS: &str =
    "id, kind, status, started_at, finished_at, progress, created_by, summary, error";
const INVESTIGATION_COLUMNS: &str = "id, incident_id, created_at, created_by, body";
const USER_COLUMNS: &str = "name, role, password_hash, created_at, disabled";
const KEY_COLUMNS: &str = "id, name, owner, role, secret_hash, created_at, revoked_at";
const AUDIT_COLUMNS: &str = "seq, at, actor, action, target, detail, prev_hash, hash";

impl Store {
    /// Opens the store at `target`: a `postgres://` or `postgresql://` URL, or a path to
    /// an SQLite file (created when missing). Migrates it to the newest schema.
    pub fn open(target: &str) -> Result<Store> {
        let db: Box<dyn Backend> =
            if target.starts_with("postgres://") || target.starts_with("postgresql://") {
                Box::new(Postgres::connect(target)?)
            } else {
                let path = target.strip_prefix("sqlite://").unwrap_or(target);
                Box::new(Sqlite::open(std::path::Path::new(path))?)
            };
        let mut store = Store {
            db,
            target: target.to_string(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Another connection to the same database (for a second thread: SQLite in WAL mode
    /// and PostgreSQL serve readers beside a writer; writes take their locks).
    pub fn reopen(&self) -> Result<Store> {
        Store::open(&self.target)
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.db.name()
    }

    /// The schema version after migrating.
    pub fn schema_version(&mut self) -> Result<i64> {
        let rows = self
            .db
            .query("SELECT MAX(version) FROM schema_migrations", &[])?;
        Ok(rows.first().map(|r| r[0].int()).unwrap_or(0))
    }

    /// Applies the migrations the database lacks, each in a transaction.
    fn migrate(&mut self) -> Result<()> {
        self.db.batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )?;
        let current = self.schema_version()?;
        let known = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
        if current > known {
            return Err(Error::NewerSchema {
                found: current,
                known,
            });
        }
        for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            self.transaction(None, |db| {
                db.batch(sql)?;
                db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    &[(*version).into(), (*name).into(), now().into()],
                )?;
                Ok(())
            })?;
        }
        Ok(())
    }

    fn transaction<T>(
        &mut self,
        exclusive: Option<&str>,
        work: impl FnOnce(&mut dyn Backend) -> Result<T>,
    ) -> Result<T> {
        match exclusive {
            Some(table) => self.db.begin_exclusive(table)?,
            None => self.db.begin()?,
        }
        match work(self.db.as_mut()) {
            Ok(value) => {
                self.db.commit()?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.db.rollback();
                Err(e)
            }
        }
    }

    // ---- events ----

    /// Appends events (each a JSON document) from `source` in one transaction; their
    /// sequence numbers, in order. When this returns they are durable.
    pub fn append_events(&mut self, source: &str, events: &[Value]) -> Result<Vec<i64>> {
        let events: Vec<(&str, &Value)> = events.iter().map(|e| (source, e)).collect();
        self.append_sourced_events(&events)
    }

    /// Appends events, each with its source, in one transaction: all are stored or none.
    /// Their sequence numbers, in order. When this returns they are durable.
    pub fn append_sourced_events(&mut self, events: &[(&str, &Value)]) -> Result<Vec<i64>> {
        let at = now();
        self.transaction(Some("events"), |db| {
            let next = db
                .query("SELECT MAX(seq) FROM events", &[])?
                .first()
                .map(|r| r[0].int())
                .unwrap_or(0)
                + 1;
            let mut seqs = Vec::with_capacity(events.len());
            for (i, (source, event)) in events.iter().enumerate() {
                let seq = next + i as i64;
                db.execute(
                    "INSERT INTO events (seq, received_at, source, body) VALUES (?, ?, ?, ?)",
                    &[
                        seq.into(),
                        at.clone().into(),
                        (*source).into(),
                        json_of(event).into(),
                    ],
                )?;
                seqs.push(seq);
            }
            Ok(seqs)
        })
    }

    /// The sequence number of the newest stored event (0 when there is none).
    pub fn last_event_seq(&mut self) -> Result<i64> {
        Ok(self
            .db
            .query("SELECT MAX(seq) FROM events", &[])?
            .first()
            .map(|r| r[0].int())
            .unwrap_or(0))
    }

    /// Events after `after` (a sequence number), oldest first: (seq, source, event).
    pub fn events(&mut self, after: i64, limit: u64) -> Result<Vec<(i64, String, Value)>> {
        self.event_texts(after, limit)?
            .into_iter()
            .map(|(seq, source, body)| {
                Ok((seq, source, parse_json("events", &seq.to_string(), &body)?))
            })
            .collect()
    }

    /// [`Store::events`] with each event as its stored JSON text (compact, one line), for
    /// readers that want the text and not a parsed value.
    pub fn event_texts(&mut self, after: i64, limit: u64) -> Result<Vec<(i64, String, String)>> {
        let rows = self.db.query(
            "SELECT seq, source, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            &[after.into(), (limit.min(100_000) as i64).into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| (r[0].int(), r[1].text_or_empty(), r[2].text_or_empty()))
            .collect())
    }

    /// How many events are stored.
    pub fn event_count(&mut self) -> Result<u64> {
        self.count("SELECT COUNT(*) FROM events", &[])
    }

    /// How many incidents are stored.
    pub fn incident_count(&mut self) -> Result<u64> {
        self.count("SELECT COUNT(*) FROM incidents", &[])
    }

    fn count(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        Ok(self
            .db
            .query(sql, params)?
            .first()
            .map(|r| r[0].int().max(0) as u64)
            .unwrap_or(0))
    }

    // ---- detections ----

    /// Stores detections (with the matched event when given) in one transaction; a
    /// detection already stored (same id) is kept as it was. Returns how many were new.
    pub fn put_detections(
        &mut self,
        run_id: Option<&str>,
        detections: &[(Value, Option<Value>)],
    ) -> Result<u64> {
        let at = now();
        self.transaction(None, |db| {
            let mut added = 0;
            for (detection, event) in detections {
                let id = detection["id"].as_str().ok_or_else(|| {
                    Error::Invalid("a detection without an \"id\" cannot be stored".into())
                })?;
                added += db.execute(
                    "INSERT INTO detections (id, run_id, rule_id, rule_title, level, host, timestamp, stored_at, body, event) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    &[
                        id.into(),
                        run_id.into(),
                        detection["rule_id"].as_str().unwrap_or("").into(),
                        detection["rule_title"].as_str().unwrap_or("").into(),
                        detection["level"].as_str().unwrap_or("").into(),
                        detection["host"].as_str().into(),
                        detection["timestamp"].as_str().into(),
                        at.clone().into(),
                        json_of(detection).into(),
                        Param::Text(event.as_ref().map(json_of)),
                    ],
                )?;
            }
            Ok(added)
        })
    }

    /// Removes detections (correlations a later event undid); how many were stored.
    pub fn delete_detections(&mut self, ids: &[String]) -> Result<u64> {
        self.transaction(None, |db| {
            let mut removed = 0;
            for id in ids {
                removed +=
                    db.execute("DELETE FROM detections WHERE id = ?", &[id.as_str().into()])?;
            }
            Ok(removed)
        })
    }

    fn detection_of(row: &[Cell]) -> Result<StoredDetection> {
        let id = row[0].text_or_empty();
        Ok(StoredDetection {
            detection: parse_json("detections", &id, &row[1].text_or_empty())?,
            event: row[2]
                .text()
                .map(|e| parse_json("detections", &id, &e))
                .transpose()?,
            run_id: row[3].text(),
        })
    }

    /// One detection.
    pub fn detection(&mut self, id: &str) -> Result<Option<StoredDetection>> {
        let rows = self.db.query(
            "SELECT id, body, event, run_id FROM detections WHERE id = ?",
            &[id.into()],
        )?;
        rows.first().map(|r| Store::detection_of(r)).transpose()
    }

    /// Detections matching `query`, in time order.
    pub fn detections(&mut self, query: &DetectionQuery) -> Result<Page<StoredDetection>> {
        let mut clauses = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        for (column, op, value) in [
            ("rule_id", "=", &query.rule_id),
            ("host", "=", &query.host),
            ("run_id", "=", &query.run_id),
            ("timestamp", ">=", &query.since),
            ("timestamp", "<", &query.until),
        ] {
            if let Some(value) = value {
                clauses.push(format!("{column} {op} ?"));
                params.push(value.clone().into());
            }
        }
        let filter = where_sql(&clauses);
        let total = self.count(&format!("SELECT COUNT(*) FROM detections{filter}"), &params)?;
        params.push((query.limit.unwrap_or(100).min(1_000) as i64).into());
        params.push((query.offset as i64).into());
        let rows = self.db.query(
            &format!(
                "SELECT id, body, event, run_id FROM detections{filter} ORDER BY timestamp, id LIMIT ? OFFSET ?"
            ),
            &params,
        )?;
        Ok(Page {
            items: rows
                .iter()
                .map(|r| Store::detection_of(r))
                .collect::<Result<_>>()?,
            total,
        })
    }

    // ---- incidents ----

    /// Stores incidents as triage ranked them: new ones open, known ones updated, keeping
    /// their case status, assignee and notes. Returns the ids that are new.
    pub fn upsert_incidents(&mut self, incidents: &[Value]) -> Result<Vec<String>> {
        let at = now();
        self.transaction(None, |db| {
            let mut new = Vec::new();
            for incident in incidents {
                let id = incident["id"].as_str().ok_or_else(|| {
                    Error::Invalid("an incident without an \"id\" cannot be stored".into())
                })?;
                let hosts: Vec<&str> = incident["entities"]["hosts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let exists = !db
                    .query("SELECT id FROM incidents WHERE id = ?", &[id.into()])?
                    .is_empty();
                let values: Vec<Param> = vec![
                    incident["title"].as_str().unwrap_or("").into(),
                    incident["score"].as_i64().unwrap_or(0).into(),
                    incident["severity"].as_str().unwrap_or("").into(),
                    incident["first_seen"].as_str().into(),
                    incident["last_seen"].as_str().into(),
                    format!(",{},", hosts.join(",")).into(),
                    json_of(incident).into(),
                    at.clone().into(),
                    id.into(),
                ];
                if exists {
                    db.execute(
                        "UPDATE incidents SET title = ?, score = ?, severity = ?, first_seen = ?, last_seen = ?, hosts = ?, body = ?, updated_at = ? WHERE id = ?",
                        &values,
                    )?;
                } else {
                    let mut values = values;
                    values.extend([
                        CaseStatus::Open.as_str().into(),
                        "[]".into(),
                        at.clone().into(),
                    ]);
                    db.execute(
                        "INSERT INTO incidents (title, score, severity, first_seen, last_seen, hosts, body, updated_at, id, status, notes, created_at) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        &values,
                    )?;
                    new.push(id.to_string());
                }
            }
            Ok(new)
        })
    }

    fn incident_of(row: &[Cell]) -> Result<StoredIncident> {
        let body = row[0].text_or_empty();
        let incident = parse_json("incidents", "?", &body)?;
        let id = incident["id"].as_str().unwrap_or("?").to_string();
        let notes: Vec<Note> =
            serde_json::from_str(&row[3].text_or_empty()).map_err(|e| Error::Damaged {
                table: "incidents",
                id: id.clone(),
                reason: format!("notes: {e}"),
            })?;
        Ok(StoredIncident {
            incident,
            status: CaseStatus::parse(&row[1].text_or_empty())?,
            assignee: row[2].text(),
            notes,
            created_at: row[4].text_or_empty(),
            updated_at: row[5].text_or_empty(),
        })
    }

    /// Removes an incident (folded into another by re-correlation); whether it existed.
    pub fn delete_incident(&mut self, id: &str) -> Result<bool> {
        Ok(self
            .db
            .execute("DELETE FROM incidents WHERE id = ?", &[id.into()])?
            > 0)
    }

    /// One incident.
    pub fn incident(&mut self, id: &str) -> Result<Option<StoredIncident>> {
        let rows = self.db.query(
            &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?"),
            &[id.into()],
        )?;
        rows.first().map(|r| Store::incident_of(r)).transpose()
    }

    /// Incidents matching `query`, in its order, a page at a time.
    pub fn incidents(&mut self, query: &IncidentQuery) -> Result<Page<StoredIncident>> {
        let mut clauses = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        if let Some(status) = query.status {
            clauses.push("status = ?");
            params.push(status.as_str().into());
        }
        if let Some(severity) = &query.severity {
            clauses.push("severity = ?");
            params.push(severity.as_str().into());
        }
        if let Some(score) = query.min_score {
            clauses.push("score >= ?");
            params.push(score.into());
        }
        if let Some(host) = &query.host {
            clauses.push("hosts LIKE ? ESCAPE '\\'");
            params.push(format!("%,{},%", like_escaped(host)).into());
        }
        if let Some(text) = &query.text {
            clauses.push("LOWER(title) LIKE ? ESCAPE '\\'");
            params.push(format!("%{}%", like_escaped(&text.to_lowercase())).into());
        }
        let filter = where_sql(&clauses);
        let total = self.count(&format!("SELECT COUNT(*) FROM incidents{filter}"), &params)?;
        let order = match query.sort {
            IncidentSort::Score => "score DESC, last_seen DESC, id",
            IncidentSort::LastSeen => "last_seen DESC, id",
            IncidentSort::FirstSeen => "first_seen, id",
        };
        params.push((query.limit.unwrap_or(50).min(1_000) as i64).into());
        params.push((query.offset as i64).into());
        let rows = self.db.query(
            &format!(
                "SELECT {INCIDENT_COLUMNS} FROM incidents{filter} ORDER BY {order} LIMIT ? OFFSET ?"
            ),
            &params,
        )?;
        Ok(Page {
            items: rows
                .iter()
                .map(|r| Store::incident_of(r))
                .collect::<Result<_>>()?,
            total,
        })
    }

    /// Changes an incident's case (status, assignee, a note by `author`); the incident
    /// after the change, or `None` when there is no such incident.
    pub fn update_case(
        &mut self,
        id: &str,
        author: &str,
        update: &CaseUpdate,
    ) -> Result<Option<StoredIncident>> {
        let at = now();
        let changed = self.transaction(None, |db| {
            let rows = db.query(
                "SELECT status, assignee, notes FROM incidents WHERE id = ?",
                &[id.into()],
            )?;
            let Some(row) = rows.first() else {
                return Ok(false);
            };
            let status = update
                .status
                .map(CaseStatus::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| row[0].text_or_empty());
            let assignee = match &update.assignee {
                Some(assignee) => assignee.clone(),
                None => row[1].text(),
            };
            let mut notes: Vec<Note> =
                serde_json::from_str(&row[2].text_or_empty()).unwrap_or_default();
            if let Some(text) = &update.note {
                notes.push(Note {
                    at: at.clone(),
                    author: author.to_string(),
                    text: text.clone(),
                });
            }
            db.execute(
                "UPDATE incidents SET status = ?, assignee = ?, notes = ?, updated_at = ? WHERE id = ?",
                &[
                    status.into(),
                    assignee.into(),
                    json_of(&notes).into(),
                    at.clone().into(),
                    id.into(),
                ],
            )?;
            Ok(true)
        })?;
        if changed { self.incident(id) } else { Ok(None) }
    }

    // ---- rules ----

    /// Adds or replaces a rule.
    pub fn put_rule(&mut self, rule: &StoredRule) -> Result<()> {
        self.db.execute(
            "INSERT INTO rules (id, title, level, source, enabled, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, level = excluded.level, source = excluded.source, \
             enabled = excluded.enabled, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            &[
                rule.id.as_str().into(),
                rule.title.as_str().into(),
                rule.level.as_str().into(),
                rule.source.as_str().into(),
                i64::from(rule.enabled).into(),
                rule.updated_at.as_str().into(),
                rule.updated_by.as_deref().into(),
            ],
        )?;
        Ok(())
    }

    fn rule_of(row: &[Cell]) -> StoredRule {
        StoredRule {
            id: row[0].text_or_empty(),
            title: row[1].text_or_empty(),
            level: row[2].text_or_empty(),
            source: row[3].text_or_empty(),
            enabled: row[4].int() != 0,
            updated_at: row[5].text_or_empty(),
            updated_by: row[6].text(),
        }
    }

    /// Every rule, by id.
    pub fn rules(&mut self) -> Result<Vec<StoredRule>> {
        let rows = self.db.query(
            &format!("SELECT {RULE_COLUMNS} FROM rules ORDER BY id"),
            &[],
        )?;
        Ok(rows.iter().map(|r| Store::rule_of(r)).collect())
    }

    /// One rule.
    pub fn rule(&mut self, id: &str) -> Result<Option<StoredRule>> {
        let rows = self.db.query(
            &format!("SELECT {RULE_COLUMNS} FROM rules WHERE id = ?"),
            &[id.into()],
        )?;
        Ok(rows.first().map(|r| Store::rule_of(r)))
    }

    /// Enables or disables a rule; whether it exists.
    pub fn set_rule_enabled(&mut self, id: &str, enabled: bool, by: &str) -> Result<bool> {
        Ok(self.db.execute(
            "UPDATE rules SET enabled = ?, updated_at = ?, updated_by = ? WHERE id = ?",
            &[
                i64::from(enabled).into(),
                now().into(),
                by.into(),
                id.into(),
            ],
        )? > 0)
    }

    /// Removes a rule; whether it existed.
    pub fn delete_rule(&mut self, id: &str) -> Result<bool> {
        Ok(self
            .db
            .execute("DELETE FROM rules WHERE id = ?", &[id.into()])?
            > 0)
    }

    // ---- suppressions ----

    /// Adds or replaces a suppression.
    pub fn put_suppression(&mut self, id: &str, body: &str, by: Option<&str>) -> Result<()> {
        self.db.execute(
            "INSERT INTO suppressions (id, body, created_at, created_by) VALUES (?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            &[id.into(), body.into(), now().into(), by.into()],
        )?;
        Ok(())
    }

    /// Every suppression, oldest first.
    pub fn suppressions(&mut self) -> Result<Vec<StoredSuppression>> {
        let rows = self.db.query(
            "SELECT id, body, created_at, created_by FROM suppressions ORDER BY created_at, id",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| StoredSuppression {
                id: r[0].text_or_empty(),
                body: r[1].text_or_empty(),
                created_at: r[2].text_or_empty(),
                created_by: r[3].text(),
            })
            .collect())
    }

    /// Removes a suppression; whether it existed.
    pub fn delete_suppression(&mut self, id: &str) -> Result<bool> {
        Ok(self
            .db
            .execute("DELETE FROM suppressions WHERE id = ?", &[id.into()])?
            > 0)
    }

    // ---- hunt runs ----

    /// Records a new run, queued.
    pub fn create_run(&mut self, id: &str, kind: &str, by: Option<&str>) -> Result<HuntRun> {
        self.db.execute(
            "INSERT INTO hunt_runs (id, kind, status, started_at, progress, created_by) VALUES (?, ?, 'queued', ?, ?, ?)",
            &[id.into(), kind.into(), now().into(), 0.0.into(), by.into()],
        )?;
        self.run(id)?
            .ok_or_else(|| Error::Invalid(format!("run {id} vanished")))
    }

    /// Updates a run's progress (0 to 1) while it runs.
    pub fn run_progress(&mut self, id: &str, progress: f64) -> Result<()> {
        self.db.execute(
            "UPDATE hunt_runs SET status = 'running', progress = ? WHERE id = ?",
            &[progress.clamp(0.0, 1.0).into(), id.into()],
        )?;
        Ok(())
    }

    /// Ends a run: done with its summary, or failed with the reason.
    pub fn finish_run(
        &mut self,
        id: &str,
        outcome: std::result::Result<&Value, &str>,
    ) -> Result<()> {
        let (status, summary, error) = match outcome {
            Ok(summary) => ("done", Some(json_of(summary)), None),
            Err(reason) => ("failed", None, Some(reason.to_string())),
        };
        self.db.execute(
            "UPDATE hunt_runs SET status = ?, finished_at = ?, progress = ?, summary = ?, error = ? WHERE id = ?",
            &[
                status.into(),
                now().into(),
                1.0.into(),
                summary.into(),
                error.into(),
                id.into(),
            ],
        )?;
        Ok(())
    }

    fn run_of(row: &[Cell]) -> Result<HuntRun> {
        let id = row[0].text_or_empty();
        Ok(HuntRun {
            summary: row[7]
                .text()
                .map(|s| parse_json("hunt_runs", &id, &s))
                .transpose()?,
            id,
            kind: row[1].text_or_empty(),
            status: row[2].text_or_empty(),
            started_at: row[3].text_or_empty(),
            finished_at: row[4].text(),
            progress: row[5].real(),
            created_by: row[6].text(),
            error: row[8].text(),
        })
    }

    /// One run.
    pub fn run(&mut self, id: &str) -> Result<Option<HuntRun>> {
        let rows = self.db.query(
            &format!("SELECT {RUN_COLUMNS} FROM hunt_runs WHERE id = ?"),
            &[id.into()],
        )?;
        rows.first().map(|r| Store::run_of(r)).transpose()
    }

    /// The latest runs first.
    pub fn runs(&mut self, limit: u64) -> Result<Vec<HuntRun>> {
        let rows = self.db.query(
            &format!("SELECT {RUN_COLUMNS} FROM hunt_runs ORDER BY started_at DESC, id LIMIT ?"),
            &[(limit.min(1_000) as i64).into()],
        )?;
        rows.iter().map(|r| Store::run_of(r)).collect()
    }

    // ---- investigations ----

    /// Stores an investigation of `incident` by `by`; the stored record.
    pub fn put_investigation(
        &mut self,
        id: &str,
        incident: &str,
        by: Option<&str>,
        investigation: &Value,
    ) -> Result<StoredInvestigation> {
        // A fixed precision keeps text order and time order the same.
        let at = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string();
        self.db.execute(
            &format!("INSERT INTO investigations ({INVESTIGATION_COLUMNS}) VALUES (?, ?, ?, ?, ?)"),
            &[
                id.into(),
                incident.into(),
                at.clone().into(),
                by.into(),
                json_of(investigation).into(),
            ],
        )?;
        Ok(StoredInvestigation {
            id: id.to_string(),
            incident: incident.to_string(),
            created_at: at,
            created_by: by.map(str::to_string),
            investigation: investigation.clone(),
        })
    }

    fn investigation_of(row: &[Cell]) -> Result<StoredInvestigation> {
        let id = row[0].text_or_empty();
        Ok(StoredInvestigation {
            investigation: parse_json("investigations", &id, &row[4].text_or_empty())?,
            id,
            incident: row[1].text_or_empty(),
            created_at: row[2].text_or_empty(),
            created_by: row[3].text(),
        })
    }

    /// The investigations of `incident`, newest first (at most `limit`, at most 1,000).
    pub fn investigations(
        &mut self,
        incident: &str,
        limit: u64,
    ) -> Result<Vec<StoredInvestigation>> {
        let rows = self.db.query(
            &format!(
                "SELECT {INVESTIGATION_COLUMNS} FROM investigations WHERE incident_id = ? ORDER BY created_at DESC, id DESC LIMIT ?"
            ),
            &[incident.into(), (limit.min(1_000) as i64).into()],
        )?;
        rows.iter().map(|r| Store::investigation_of(r)).collect()
    }

    // ---- users ----

    /// Creates a user; an existing name is an error.
    pub fn create_user(&mut self, name: &str, role: &str, password_hash: &str) -> Result<User> {
        if self.user(name)?.is_some() {
            return Err(Error::Invalid(format!("user {name:?} exists")));
        }
        self.db.execute(
            "INSERT INTO users (name, role, password_hash, created_at, disabled) VALUES (?, ?, ?, ?, 0)",
            &[name.into(), role.into(), password_hash.into(), now().into()],
        )?;
        self.user(name)?
            .ok_or_else(|| Error::Invalid(format!("user {name} vanished")))
    }

    fn user_of(row: &[Cell]) -> User {
        User {
            name: row[0].text_or_empty(),
            role: row[1].text_or_empty(),
            password_hash: row[2].text_or_empty(),
            created_at: row[3].text_or_empty(),
            disabled: row[4].int() != 0,
        }
    }

    /// One user.
    pub fn user(&mut self, name: &str) -> Result<Option<User>> {
        let rows = self.db.query(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?"),
            &[name.into()],
        )?;
        Ok(rows.first().map(|r| Store::user_of(r)))
    }

    /// Every user, by name.
    pub fn users(&mut self) -> Result<Vec<User>> {
        let rows = self.db.query(
            &format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"),
            &[],
        )?;
        Ok(rows.iter().map(|r| Store::user_of(r)).collect())
    }

    /// Changes a user's role, password hash or disabled flag; whether the user exists.
    pub fn update_user(
        &mut self,
        name: &str,
        role: Option<&str>,
        password_hash: Option<&str>,
        disabled: Option<bool>,
    ) -> Result<bool> {
        let Some(user) = self.user(name)? else {
            return Ok(false);
        };
        self.db.execute(
            "UPDATE users SET role = ?, password_hash = ?, disabled = ? WHERE name = ?",
            &[
                role.unwrap_or(&user.role).into(),
                password_hash.unwrap_or(&user.password_hash).into(),
                i64::from(disabled.unwrap_or(user.disabled)).into(),
                name.into(),
            ],
        )?;
        Ok(true)
    }

    // ---- API keys ----

    /// Records a key (its secret already hashed by the caller).
    pub fn create_api_key(&mut self, key: &ApiKey) -> Result<()> {
        self.db.execute(
            &format!("INSERT INTO api_keys ({KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"),
            &[
                key.id.as_str().into(),
                key.name.as_str().into(),
                key.owner.as_str().into(),
                key.role.as_str().into(),
                key.secret_hash.as_str().into(),
                key.created_at.as_str().into(),
                key.revoked_at.as_deref().into(),
            ],
        )?;
        Ok(())
    }

    fn key_of(row: &[Cell]) -> ApiKey {
        ApiKey {
            id: row[0].text_or_empty(),
            name: row[1].text_or_empty(),
            owner: row[2].text_or_empty(),
            role: row[3].text_or_empty(),
            secret_hash: row[4].text_or_empty(),
            created_at: row[5].text_or_empty(),
            revoked_at: row[6].text(),
        }
    }

    /// One key by its public id.
    pub fn api_key(&mut self, id: &str) -> Result<Option<ApiKey>> {
        let rows = self.db.query(
            &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?"),
            &[id.into()],
        )?;
        Ok(rows.first().map(|r| Store::key_of(r)))
    }

    /// Every key, newest first.
    pub fn api_keys(&mut self) -> Result<Vec<ApiKey>> {
        let rows = self.db.query(
            &format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC, id"),
            &[],
        )?;
        Ok(rows.iter().map(|r| Store::key_of(r)).collect())
    }

    /// Revokes a key; whether it existed and was live.
    pub fn revoke_api_key(&mut self, id: &str) -> Result<bool> {
        Ok(self.db.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            &[now().into(), id.into()],
        )? > 0)
    }

    // ---- audit log ----

    /// Appends a record to the audit log, chained to the previous one. Writers are
    /// serialized, so the chain has no forks.
    pub fn audit(
        &mut self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &Value,
    ) -> Result<AuditRecord> {
        let at = now();
        self.transaction(Some("audit_log"), |db| {
            let last = db.query(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                &[],
            )?;
            let (seq, prev_hash) = match last.first() {
                Some(row) => (row[0].int() + 1, row[1].text_or_empty()),
                None => (1, GENESIS.to_string()),
            };
            let mut record = AuditRecord {
                seq,
                at,
                actor: actor.to_string(),
                action: action.to_string(),
                target: target.to_string(),
                detail: json_of(detail),
                prev_hash,
                hash: String::new(),
            };
            record.hash = record.expected_hash();
            db.execute(
                &format!("INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                &[
                    record.seq.into(),
                    record.at.as_str().into(),
                    record.actor.as_str().into(),
                    record.action.as_str().into(),
                    record.target.as_str().into(),
                    record.detail.as_str().into(),
                    record.prev_hash.as_str().into(),
                    record.hash.as_str().into(),
                ],
            )?;
            Ok(record)
        })
    }

    fn audit_of(row: &[Cell]) -> AuditRecord {
        AuditRecord {
            seq: row[0].int(),
            at: row[1].text_or_empty(),
            actor: row[2].text_or_empty(),
            action: row[3].text_or_empty(),
            target: row[4].text_or_empty(),
            detail: row[5].text_or_empty(),
            prev_hash: row[6].text_or_empty(),
            hash: row[7].text_or_empty(),
        }
    }

    /// Audit records after `after` (a sequence number), oldest first.
    pub fn audit_records(&mut self, after: i64, limit: u64) -> Result<Vec<AuditRecord>> {
        let rows = self.db.query(
            &format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?"),
            &[after.into(), (limit.min(100_000) as i64).into()],
        )?;
        Ok(rows.iter().map(|r| Store::audit_of(r)).collect())
    }

    /// Checks the whole chain: sequence without gaps from 1, each record's hash, each
    /// link to the previous hash.
    pub fn verify_audit(&mut self) -> Result<AuditVerdict> {
        let mut verdict = AuditVerdict {
            records: 0,
            head: GENESIS.to_string(),
            broken: None,
        };
        let mut after = 0;
        loop {
            let batch = self.audit_records(after, 10_000)?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for record in batch {
                verdict.records += 1;
                let expected_seq = verdict.records as i64;
                let problem = if record.seq != expected_seq {
                    Some(format!(
                        "expected record {expected_seq}, found {}: records are missing",
                        record.seq
                    ))
                } else if record.prev_hash != verdict.head {
                    Some("its link to the previous record does not match".to_string())
                } else if record.hash != record.expected_hash() {
                    Some("its content does not match its hash: it was changed".to_string())
                } else {
                    None
                };
                if let Some(problem) = problem {
                    verdict.broken = Some((record.seq, problem));
                    return Ok(verdict);
                }
                verdict.head = record.hash;
            }
        }
        Ok(verdict)
    }
}

/// ` WHERE a AND b`, or nothing without clauses.
fn where_sql<S: AsRef<str>>(clauses: &[S]) -> String {
    if clauses.is_empty() {
        return String::new();
    }
    let joined: Vec<&str> = clauses.iter().map(AsRef::as_ref).collect();
    format!(" WHERE {}", joined.join(" AND "))
}

/// `text` for a LIKE pattern (`... ESCAPE '\'`) that matches it literally.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
