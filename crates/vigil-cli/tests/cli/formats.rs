use crate::{stdout, vigil};

#[test]
fn formats_lists_every_reader_with_an_example() {
    let out = vigil(&["formats"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for name in ["evtx", "json", "syslog"] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{text}"
        );
    }
    assert!(text.contains("e.g. Dec 10 06:55:46"));
}

#[test]
fn formats_as_json() {
    let out = vigil(&["formats", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "evtx",
            "winxml",
            "json",
            "cef",
            "leef",
            "webaccess",
            "apache_error",
            "auditd",
            "kv",
            "syslog"
        ]
    );
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|f| !f["example"].as_str().unwrap().is_empty())
    );
}
