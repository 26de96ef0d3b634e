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
            "asa",
            "panos",
            "webaccess",
            "apache_error",
            "auditd",
            "zeek",
            "csv",
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

#[test]
fn formats_name_the_sigma_log_sources_of_each_reader() {
    let out = vigil(&["formats", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let sources = |name: &str| -> Vec<String> {
        let reader = list
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap();
        serde_json::from_value(reader["logsources"].clone()).unwrap()
    };
    assert!(sources("syslog").contains(&"linux/sshd".to_string()));
    assert!(sources("kv").contains(&"fortigate/firewall".to_string()));
    assert!(stdout(&vigil(&["formats"])).contains("Sigma log sources: linux/sshd"));
}
