-- vigil's store, version 1. One dialect for SQLite and PostgreSQL: TEXT, BIGINT and
-- DOUBLE PRECISION columns only; ids are chosen by vigil (detection and incident
-- fingerprints, run and key ids), never by the database; times are RFC 3339 text (UTC);
-- JSON documents are text. Booleans are BIGINT 0/1.

-- Events received by the server (bulk endpoint, syslog, uploads), kept for hunts on stored
-- events. `seq` is assigned by vigil in arrival order.
CREATE TABLE events (
    seq BIGINT PRIMARY KEY,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL,
    body TEXT NOT NULL
);

-- Hunt runs: a CLI-style hunt over uploads or stored events, or the live stream.
CREATE TABLE hunt_runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    progress DOUBLE PRECISION NOT NULL,
    created_by TEXT,
    summary TEXT,
    error TEXT
);

-- Detections, each with the event that matched as evidence. The id is the detection's
-- fingerprint, so storing the same detection twice keeps one row.
CREATE TABLE detections (
    id TEXT PRIMARY KEY,
    run_id TEXT,
    rule_id TEXT NOT NULL,
    rule_title TEXT NOT NULL,
    level TEXT NOT NULL,
    host TEXT,
    timestamp TEXT,
    stored_at TEXT NOT NULL,
    body TEXT NOT NULL,
    event TEXT
);
CREATE INDEX detections_time ON detections (timestamp);
CREATE INDEX detections_rule ON detections (rule_id);
CREATE INDEX detections_run ON detections (run_id);

-- Incidents as triage ranked them (body: the incidents.json object), plus the case fields
-- analysts change, which re-correlation never overwrites.
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    score BIGINT NOT NULL,
    severity TEXT NOT NULL,
    first_seen TEXT,
    last_seen TEXT,
    hosts TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    assignee TEXT,
    notes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX incidents_score ON incidents (score);
CREATE INDEX incidents_status ON incidents (status);

-- Sigma rules uploaded to the server, with their enabled state.
CREATE TABLE rules (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    level TEXT NOT NULL,
    source TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT
);

-- Suppressions: the TOML text of one [[suppress]] entry each.
CREATE TABLE suppressions (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT
);

CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled BIGINT NOT NULL
);

-- API keys for machines: only a hash of the secret is stored.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- The audit log: append-only, each record's hash covers its content and the previous
-- record's hash, so a changed, removed or reordered record breaks the chain.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
