//! The store's behaviour, the same cases against SQLite and against a real PostgreSQL
//! started on loopback (each case in a fresh database).
#![allow(clippy::unwrap_used)] // Test code fails loudly; that is its job.

use serde_json::{Value, json};
use vigil_store::{
    ApiKey, CaseStatus, CaseUpdate, DetectionQuery, Error, GENESIS, IncidentQuery, IncidentSort,
    Store, StoredRule,
};

/// A case: gets the store's target (path or URL) and a way to run raw SQL beside the store
/// (to tamper with it, as an attacker with database access would).
type Case = fn(&str, &dyn Fn(&str));

const CASES: &[(&str, Case)] = &[
    ("migrations", migrations),
    ("events", events),
    ("detections", detections),
    ("incidents", incidents),
    ("rules_and_suppressions", rules_and_suppressions),
    ("runs", runs),
    ("investigations", investigations),
    ("users_and_keys", users_and_keys),
    ("audit_chain", audit_chain),
];

#[test]
fn every_case_on_sqlite() {
    for (name, case) in CASES {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{name}.db"));
        let target = path.display().to_string();
        let raw = |sql: &str| {
            rusqlite::Connection::open(&path)
                .unwrap()
                .execute_batch(sql)
                .unwrap()
        };
        eprintln!("sqlite: {name}");
        case(&target, &raw);
    }
}

#[test]
fn every_case_on_postgres() {
    let Some(server) = vigil_test_support::PostgresServer::start() else {
        return;
    };
    for (name, case) in CASES {
        server.create_database(name);
        let url = server.url(name);
        let raw = |sql: &str| {
            postgres::Client::connect(&url, postgres::NoTls)
                .unwrap()
                .batch_execute(sql)
                .unwrap()
        };
        eprintln!("postgres: {name}");
        case(&url, &raw);
    }
}

fn migrations(target: &str, raw: &dyn Fn(&str)) {
    let mut store = Store::open(target).unwrap();
    assert_eq!(store.schema_version().unwrap(), 2);
    drop(store);
    // Opening again applies nothing twice.
    let mut store = Store::open(target).unwrap();
    assert_eq!(store.schema_version().unwrap(), 2);
    drop(store);
    // A schema from a newer vigil is refused, not damaged.
    raw("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 'x')");
    match Store::open(target) {
        Err(Error::NewerSchema {
            found: 99,
            known: 2,
        }) => {}
        other => panic!("expected NewerSchema, got {:?}", other.err()),
    }
}

fn events(target: &str, _: &dyn Fn(&str)) {
    let mut store = Store::open(target).unwrap();
    let first = store
        .append_events("bulk", &[json!({"a": 1}), json!({"a": 2})])
        .unwrap();
    assert_eq!(first, vec![1, 2]);
    let second = store.append_events("syslog", &[json!("<13>hi")]).unwrap();
    assert_eq!(second, vec![3]);
    assert_eq!(store.event_count().unwrap(), 3);
    let after_one = store.events(1, 10).unwrap();
    assert_eq!(
        after_one,
        vec![
            (2, "bulk".to_string(), json!({"a": 2})),
            (3, "syslog".to_string(), json!("<13>hi"))
        ]
    );
    // Durable: a new connection sees them.
    drop(store);
    assert_eq!(Store::open(target).unwrap().event_count().unwrap(), 3);
}

fn detection(id: &str, rule: &str, host: &str, time: &str) -> Value {
    json!({"id": id, "rule_id": rule, "rule_title": format!("Rule {rule}"), "level": "high",
           "host": host, "timestamp": time, "fields": {"CommandLine": "whoami /all"}})
}

fn detections(target: &str, _: &dyn Fn(&str)) {
    let mut store = Store::open(target).unwrap();
    let batch = vec![
        (
            detection("d1", "r1", "web01", "2024-03-12T10:00:00Z"),
            Some(json!({"EventID": 4625})),
        ),
        (detection("d2", "r2", "web01", "2024-03-12T11:00:00Z"), None),
        (detection("d3", "r1", "db01", "2024-03-13T09:00:00Z"), None),
    ];
    assert_eq!(store.put_detections(Some("run-1"), &batch).unwrap(), 3);
    // Storing the same detections again adds nothing (ids are fingerprints).
    assert_eq!(store.put_detections(Some("run-2"), &batch).unwrap(), 0);
    let one = store.detection("d1").unwrap().unwrap();
    assert_eq!(one.detection, batch[0].0);
    assert_eq!(one.event, Some(json!({"EventID": 4625})));
    assert_eq!(one.run_id.as_deref(), Some("run-1"));
    assert!(store.detection("nope").unwrap().is_none());

    let by_rule = store
        .detections(&DetectionQuery {
            rule_id: Some("r1".into()),
            ..Default::default()
        })
        .unwrap();
    let ids: Vec<&str> = by_rule
        .items
        .iter()
        .map(|d| d.detection["id"].as_str().unwrap())
        .collect();
    assert_eq!((ids, by_rule.total), (vec!["d1", "d3"], 2));
    let window = store
        .detections(&DetectionQuery {
            since: Some("2024-03-12T10:30:00Z".into()),
            until: Some("2024-03-13T00:00:00Z".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(window.total, 1);
    assert_eq!(window.items[0].detection["id"], "d2");
    let page = store
        .detections(&DetectionQuery {
            limit: Some(1),
            offset: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((page.items.len(), page.total), (1, 3));
    assert_eq!(page.items[0].detection["id"], "d2");

    let err = store
        .put_detections(None, &[(json!({"rule_id": "x"}), None)])
        .unwrap_err();
    assert!(err.to_string().contains("without an \"id\""), "{err}");
    // The failed batch stored nothing.
    assert_eq!(
        store.detections(&DetectionQuery::default()).unwrap().total,
        3
    );
}

fn incident(id: &str, score: i64, severity: &str, hosts: &[&str], last: &str) -> Value {
    json!({"id": id, "title": format!("Incident {id} on {}", hosts.join(", ")), "score": score,
           "severity": severity, "first_seen": "2024-03-12T09:00:00Z", "last_seen": last,
           "entities": {"hosts": hosts, "users": [], "ips": []}, "detections": ["d1"]})
}

fn incidents(target: &str, _: &dyn Fn(&str)) {
    let mut store = Store::open(target).unwrap();
    let new = store
        .upsert_incidents(&[
            incident("inc-a", 95, "critical", &["web01"], "2024-03-12T10:00:00Z"),
            incident(
                "inc-b",
                40,
                "medium",
                &["db_01", "web01"],
                "2024-03-14T10:00:00Z",
            ),
            incident("inc-c", 70, "high", &["dbx01"], "2024-03-13T10:00:00Z"),
        ])
        .unwrap();
    assert_eq!(new, vec!["inc-a", "inc-b", "inc-c"]);

    // Case work.
    let updated = store
        .update_case(
            "inc-a",
            "alice",
            &CaseUpdate {
                status: Some(CaseStatus::Investigating),
                assignee: Some(Some("alice".into())),
                note: Some("isolating web01".into()),
            },
        )
        .unwrap()
        .unwrap();
    assert_eq!(updated.status, CaseStatus::Investigating);
    assert_eq!(updated.assignee.as_deref(), Some("alice"));
    assert_eq!(updated.notes.len(), 1);
    assert_eq!(
        (
            updated.notes[0].author.as_str(),
            updated.notes[0].text.as_str()
        ),
        ("alice", "isolating web01")
    );
    assert!(
        store
            .update_case("inc-zz", "alice", &CaseUpdate::default())
            .unwrap()
            .is_none()
    );

    // Re-correlation updates the incident but keeps its case.
    let new = store
        .upsert_incidents(&[incident(
            "inc-a",
            97,
            "critical",
            &["web01"],
            "2024-03-12T10:05:00Z",
        )])
        .unwrap();
    assert!(new.is_empty());
    let again = store.incident("inc-a").unwrap().unwrap();
    assert_eq!(again.incident["score"], 97);
    assert_eq!(again.status, CaseStatus::Investigating);
    assert_eq!(again.notes.len(), 1);

    let ids = |page: vigil_store::Page<vigil_store::StoredIncident>| -> (Vec<String>, u64) {
        (
            page.items
                .iter()
                .map(|i| i.incident["id"].as_str().unwrap().to_string())
                .collect(),
            page.total,
        )
    };
    let all = store.incidents(&IncidentQuery::default()).unwrap();
    assert_eq!(
        ids(all),
        (vec!["inc-a".into(), "inc-c".into(), "inc-b".into()], 3)
    );
    let latest = store
        .incidents(&IncidentQuery {
            sort: IncidentSort::LastSeen,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids(latest).0, vec!["inc-b", "inc-c", "inc-a"]);
    let open = store
        .incidents(&IncidentQuery {
            status: Some(CaseStatus::Open),
            min_score: Some(50),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids(open), (vec!["inc-c".into()], 1));
    // Host filters match whole names, `_` literally.
    for (host, expected) in [
        ("web01", vec!["inc-a", "inc-b"]),
        ("db_01", vec!["inc-b"]),
        ("db", vec![]),
    ] {
        let page = store
            .incidents(&IncidentQuery {
                host: Some(host.into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(ids(page).0, expected, "host {host}");
    }
    let text = store
        .incidents(&IncidentQuery {
            text: Some("INCIDENT INC-C".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids(text).0, vec!["inc-c"]);
    let second_page = store
        .incidents(&IncidentQuery {
            limit: Some(1),
            offset: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ids(second_page), (vec!["inc-c".into()], 3));
}

fn rules_and_suppressions(target: &str, _: &dyn Fn(&str)) {
    let mut store = Store::open(target).unwrap();
    let rule = StoredRule {
        id: "r1".into(),
        title: "Whoami".into(),
        level: "medium".into(),
        source: "title: Whoami\n".into(),
        enabled: true,
        updated_at: "2026-11-29T00:00:00Z".into(),
        updated_by: Some("alice".into()),
    };
    store.put_rule(&rule).unwrap();
    assert_eq!(store.rule("r1").unwrap().unwrap(), rule);
    assert!(store.set_rule_enabled("r1", false, "bob").unwrap());
    let disabled = store.rule("r1").unwrap().unwrap();
    assert!(!disabled.enabled);
    assert_eq!(disabled.updated_by.as_deref(), Some("bob"));
    assert!(!store.set_rule_enabled("nope", false, "bob").unwrap());
    // Replacing keeps one row.
    store
        .put_rule(&StoredRule {
            title: "Whoami v2".into(),
            ..rule.clone()
        })
        .unwrap();
    assert_eq!(store.rules().unwrap().len(), 1);
    assert_eq!(store.rules().unwrap()[0].title, "Whoami v2");
    assert!(store.delete_rule("r1").unwrap());
    assert!(!store.delete_rule("r1").unwrap());

    store
        .put_suppression("s1", "rule = \"r1\"\nreason = \"noisy\"", Some("alice"))
        .unwrap();
    store.put_suppression("s2", "rule = \"r2\"", None).unwrap();
    let all = store.suppressions().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].created_by.as_deref(), Some("alice"));
    assert!(store.delete_suppression("s1").unwrap());
    assert_eq!(store.suppressions().unwrap().len(), 1);
}

fn runs(target: &str, _: &dyn Fn(&str)) {
    let mut store = Store::open(target).unwrap();
    let run = store.create_run("run-1", "upload", Some("alice")).unwrap();
    assert_eq!((run.status.as_str(), run.progress), ("queued", 0.0));
    store.run_progress("run-1", 0.5).unwrap();
    let running = store.run("run-1").unwrap().unwrap();
    assert_eq!(
        (running.status.as_str(), running.progress),
        ("running", 0.5)
    );
    store
        .finish_run("run-1", Ok(&json!({"detections": 3})))
        .unwrap();
    let done = store.run("run-1").unwrap().unwrap();
    assert_eq!(done.status, "done");
    assert_eq!(done.summary, Some(json!({"detections": 3})));
    assert!(done.finished_at.is_some());
    store.create_run("run-2", "stored", None).unwrap();
    store
        .finish_run("run-2", Err("archive is damaged"))
        .unwrap();
    let failed = store.run("run-2").unwrap().unwrap();
    assert_eq!(
        (failed.status.as_str(), failed.error.as_deref()),
        ("failed", Some("archive is damaged"))
    );
    assert_eq!(store.runs(10).unwrap().len(), 2);
}

fn investigations(target: &str, _: &dyn Fn(&str)) {
    let mut store = Store::open(target).unwrap();
    let first = store
        .put_investigation(
            "inv-1",
            "inc-1",
            Some("ana"),
            &json!({"by": "built-in plan", "steps": [{"n": 1}]}),
        )
        .unwrap();
    assert_eq!(first.created_by.as_deref(), Some("ana"));
    store
        .put_investigation("inv-2", "inc-1", None, &json!({"steps": []}))
        .unwrap();
    store
        .put_investigation("inv-3", "inc-2", Some("ana"), &json!({}))
        .unwrap();
    // Newest first, only the incident's, the transcript as stored.
    let listed = store.investigations("inc-1", 10).unwrap();
    let ids: Vec<&str> = listed.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["inv-2", "inv-1"]);
    assert_eq!(listed[1], first);
    assert_eq!(listed[1].investigation["steps"][0]["n"], 1);
    assert_eq!(store.investigations("inc-1", 1).unwrap().len(), 1);
    assert!(store.investigations("inc-9", 10).unwrap().is_empty());
    // An id is stored once.
    assert!(
        store
            .put_investigation("inv-1", "inc-1", None, &json!({}))
            .is_err()
    );
}

fn users_and_keys(target: &str, _: &dyn Fn(&str)) {
    let mut store = Store::open(target).unwrap();
    let admin = store.create_user("admin", "admin", "$argon2id$x").unwrap();
    assert_eq!(admin.role, "admin");
    let err = store.create_user("admin", "viewer", "h").unwrap_err();
    assert!(err.to_string().contains("exists"), "{err}");
    assert!(
        store
            .update_user("admin", Some("analyst"), None, Some(true))
            .unwrap()
    );
    let changed = store.user("admin").unwrap().unwrap();
    assert_eq!(
        (
            changed.role.as_str(),
            changed.disabled,
            changed.password_hash.as_str()
        ),
        ("analyst", true, "$argon2id$x")
    );
    assert!(!store.update_user("nobody", None, None, None).unwrap());
    // Hashes never serialize.
    assert!(
        serde_json::to_string(&changed)
            .unwrap()
            .find("argon2")
            .is_none()
    );

    let key = ApiKey {
        id: "vk_abc".into(),
        name: "shipper".into(),
        owner: "admin".into(),
        role: "analyst".into(),
        secret_hash: "sha256:deadbeef".into(),
        created_at: "2026-11-29T00:00:00Z".into(),
        revoked_at: None,
    };
    store.create_api_key(&key).unwrap();
    assert_eq!(store.api_key("vk_abc").unwrap().unwrap(), key);
    assert!(store.revoke_api_key("vk_abc").unwrap());
    assert!(!store.revoke_api_key("vk_abc").unwrap(), "already revoked");
    assert!(
        store
            .api_key("vk_abc")
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert_eq!(store.api_keys().unwrap().len(), 1);
}

fn audit_chain(target: &str, raw: &dyn Fn(&str)) {
    let mut store = Store::open(target).unwrap();
    let empty = store.verify_audit().unwrap();
    assert_eq!((empty.records, empty.head.as_str()), (0, GENESIS));
    let mut last = None;
    for (i, action) in ["login", "incident.update", "query", "rule.disable"]
        .iter()
        .enumerate()
    {
        let record = store
            .audit("alice", action, &format!("target-{i}"), &json!({"n": i}))
            .unwrap();
        assert_eq!(record.seq, i as i64 + 1);
        if let Some(previous) = &last {
            assert_eq!(&record.prev_hash, previous);
        }
        last = Some(record.hash.clone());
    }
    let verdict = store.verify_audit().unwrap();
    assert_eq!(verdict.records, 4);
    assert_eq!(Some(verdict.head), last);
    assert!(verdict.broken.is_none());
    drop(store);

    // A changed record is found, by sequence number.
    raw("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2");
    let verdict = Store::open(target).unwrap().verify_audit().unwrap();
    let (seq, why) = verdict.broken.unwrap();
    assert_eq!(seq, 2);
    assert!(why.contains("changed"), "{why}");
    raw("UPDATE audit_log SET actor = 'alice' WHERE seq = 2");
    assert!(
        Store::open(target)
            .unwrap()
            .verify_audit()
            .unwrap()
            .broken
            .is_none()
    );

    // A removed record is found.
    raw("DELETE FROM audit_log WHERE seq = 3");
    let verdict = Store::open(target).unwrap().verify_audit().unwrap();
    let (seq, why) = verdict.broken.unwrap();
    assert_eq!(seq, 4);
    assert!(why.contains("missing"), "{why}");

    // A recomputed forgery (renumbered, rehashed) still breaks the link of the next one.
    let mut store = Store::open(target).unwrap();
    let records = store.audit_records(0, 10).unwrap();
    let mut forged = records[2].clone();
    forged.seq = 3;
    forged.hash = forged.expected_hash();
    raw(&format!(
        "UPDATE audit_log SET seq = 3, hash = '{}' WHERE seq = 4",
        forged.hash
    ));
    store.audit("alice", "logout", "alice", &json!({})).unwrap();
    let verdict = store.verify_audit().unwrap();
    let (seq, why) = verdict.broken.unwrap();
    assert_eq!(seq, 3);
    assert!(why.contains("link"), "{why}");
}
