-- vigil's store, version 2: investigations of incidents (the guided, read-only
-- investigation of `vigil investigate` and `POST /api/v1/incidents/{id}/investigations`),
-- each the whole transcript as a JSON document. `created_at` has a fixed precision
-- (microseconds) so text order is time order.
CREATE TABLE investigations (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT,
    body TEXT NOT NULL
);
CREATE INDEX investigations_incident ON investigations (incident_id, created_at);
