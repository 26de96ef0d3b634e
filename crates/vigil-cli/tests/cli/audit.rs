//! `vigil audit verify` over a store the server would have written.

use crate::{path_arg, stderr, stdout, vigil_with_data_dir};

#[test]
fn audit_verify_finds_a_changed_record() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("vigil.db");
    {
        let mut store = vigil_store::Store::open(db.to_str().unwrap()).unwrap();
        for action in ["login", "incident.update", "query"] {
            store
                .audit("alice", action, "inc-1", &serde_json::json!({}))
                .unwrap();
        }
    }
    // The data directory's vigil.db is the default store.
    let run = vigil_with_data_dir(&["audit", "verify"], data.path());
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stdout(&run).starts_with("audit log intact: 3 record(s), head "),
        "{}",
        stdout(&run)
    );

    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("UPDATE audit_log SET action = 'nothing' WHERE seq = 2")
        .unwrap();
    let run = vigil_with_data_dir(
        &["audit", "verify", "--store", path_arg(&db), "--json"],
        data.path(),
    );
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("audit log broken at record 2: its content does not match its hash"),
        "{}",
        stderr(&run)
    );
    let verdict: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
    assert_eq!(verdict["broken"][0], 2);

    // No store: a usage error, and none is created.
    let empty = tempfile::tempdir().unwrap();
    let run = vigil_with_data_dir(&["audit", "verify"], empty.path());
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("no store at"), "{}", stderr(&run));
    assert!(!empty.path().join("vigil.db").exists());
}
