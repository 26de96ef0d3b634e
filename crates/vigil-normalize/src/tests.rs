use vigil_event::{Event, Origin, Value};

use super::*;

fn event(format: &'static str, variant: Option<&'static str>, fields: &[(&str, Value)]) -> Event {
    let mut event = Event::new(Origin::default(), format);
    event.variant = variant;
    for (name, value) in fields {
        event.push(*name, value.clone());
    }
    event
}

fn taxonomy(text: &str) -> Taxonomy {
    Taxonomy::from_sources(&[("test.toml", text)]).unwrap()
}

#[test]
fn copies_keep_the_original_and_never_overwrite() {
    let t = taxonomy(
        "format = \"kv\"\n[fields]\nsrcip = \"source.ip\"\ndstip = [\"destination.ip\", \"dst_ip\"]\n",
    );
    let mut e = event(
        "kv",
        None,
        &[
            ("srcip", Value::from("10.0.0.1")),
            ("dstip", Value::from("10.0.0.2")),
            ("dst_ip", Value::from("set by the reader")),
        ],
    );
    t.apply(&mut e);
    assert_eq!(e.get_str("srcip"), Some("10.0.0.1"));
    assert_eq!(e.get_str("source.ip"), Some("10.0.0.1"));
    assert_eq!(e.get_str("destination.ip"), Some("10.0.0.2"));
    assert_eq!(e.get_str("dst_ip"), Some("set by the reader"));
    // Other readers are untouched.
    let mut other = event("json", None, &[("srcip", Value::from("1.1.1.1"))]);
    t.apply(&mut other);
    assert_eq!(other.get("source.ip"), None);
}

#[test]
fn variants_limit_a_file() {
    let t = taxonomy(
        "format = \"json\"\nvariant = \"okta\"\n[fields]\neventType = \"event.action\"\n[[logsource]]\nproduct = \"okta\"\nservice = \"okta\"\n",
    );
    let mut okta = event(
        "json",
        Some("okta"),
        &[("eventType", Value::from("user.session.start"))],
    );
    let mut generic = event("json", Some("generic"), &[("eventType", Value::from("x"))]);
    t.apply(&mut okta);
    t.apply(&mut generic);
    assert_eq!(okta.get_str("event.action"), Some("user.session.start"));
    assert_eq!(okta.logsource.product.as_deref(), Some("okta"));
    assert_eq!(generic.get("event.action"), None);
    assert!(generic.logsource.is_empty());
}

#[test]
fn derived_values_compare_without_case_and_keep_their_type() {
    let t = taxonomy(
        "format = \"kv\"\n[derive]\n\"event.outcome\" = { from = \"action\", map = { deny = \"failure\", Accept = \"success\" } }\n\"blocked\" = { from = \"action\", map = { deny = true } }\n",
    );
    for (action, outcome, blocked) in [
        ("DENY", Some("failure"), Some(Value::Bool(true))),
        ("accept", Some("success"), None),
        ("other", None, None),
    ] {
        let mut e = event("kv", None, &[("action", Value::from(action))]);
        t.apply(&mut e);
        assert_eq!(e.get_str("event.outcome"), outcome, "{action}");
        assert_eq!(e.get("blocked").cloned(), blocked, "{action}");
    }
}

#[test]
fn the_first_specific_rule_wins_and_templates_take_field_values() {
    let t = Taxonomy::from_sources(&[
        ("a.toml", "format = \"zeek\"\n[[logsource]]\nproduct = \"zeek\"\nservice = \"{_path}\"\n"),
        ("b.toml", "format = [\"evtx\", \"zeek\"]\n[[logsource]]\nproduct = \"windows\"\n[[logsource]]\nwhen = { fields = { Channel = \"Microsoft-Windows-Sysmon/Operational\", EventID = [1, \"4688\"] } }\nproduct = \"windows\"\ncategory = \"process_creation\"\n"),
    ])
    .unwrap();
    let mut sysmon = event(
        "evtx",
        None,
        &[
            (
                "Channel",
                Value::from("microsoft-windows-sysmon/operational"),
            ),
            ("EventID", Value::Int(1)),
        ],
    );
    t.apply(&mut sysmon);
    assert_eq!(
        sysmon.logsource.category.as_deref(),
        Some("process_creation")
    );
    let mut other = event(
        "evtx",
        None,
        &[
            ("Channel", Value::from("Security")),
            ("EventID", Value::Int(4624)),
        ],
    );
    t.apply(&mut other);
    assert_eq!(
        (
            other.logsource.product.as_deref(),
            other.logsource.category.as_deref()
        ),
        (Some("windows"), None)
    );
    assert_eq!(
        t.log_sources("evtx"),
        ["windows/process_creation", "windows"]
    );
    assert_eq!(
        t.log_sources("zeek"),
        ["windows/process_creation", "zeek/{_path}", "windows"]
    );
    assert!(t.log_sources("syslog").is_empty());
    let mut conn = event("zeek", None, &[("_path", Value::from("Conn"))]);
    t.apply(&mut conn);
    assert_eq!(conn.logsource.service.as_deref(), Some("conn"));
    // A template whose field is missing does not hold: the next rule is tried.
    let mut bare = event("zeek", None, &[]);
    t.apply(&mut bare);
    assert_eq!(
        (
            bare.logsource.product.as_deref(),
            bare.logsource.service.as_deref()
        ),
        (Some("windows"), None)
    );
}

#[test]
fn host_name_comes_from_the_event_host() {
    let t = Taxonomy::default();
    let mut e = event("syslog", None, &[]);
    e.host = Some("web1".into());
    t.apply(&mut e);
    assert_eq!(e.get_str("host.name"), Some("web1"));
}

#[test]
fn bad_files_are_errors_naming_file_and_place() {
    for (text, want) in [
        (
            "format = \"kv\"\n[fields]\na = 1\n",
            "fields.a: a target is a name or a list of names",
        ),
        ("format = \"kv\"\nfield = {}\n", "unknown field `field`"),
        (
            "format = \"kv\"\n[[logsource]]\nwhen = { variant = \"x\" }\n",
            "logsource #1: sets none of product, category, service",
        ),
        (
            "format = \"kv\"\n[[logsource]]\nservice = \"{_path\"\n",
            "a `{` without its `}`",
        ),
        (
            "format = \"kv\"\n[derive]\nx = { from = \"a\", map = { b = [1] } }\n",
            "derive.x.map.b",
        ),
        ("[fields]\n", "missing field `format`"),
    ] {
        let error = Taxonomy::from_sources(&[("bad.toml", text)])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("taxonomy file bad.toml: "), "{error}");
        assert!(error.contains(want), "{text}: {error}");
    }
}

#[test]
fn the_builtin_files_load() {
    let t = Taxonomy::builtin().unwrap();
    assert_eq!(Taxonomy::builtin_files().count(), files::FILES.len());
    let _ = t;
}

#[test]
fn format_entries_may_name_one_variant() {
    let t = taxonomy(
        "format = [\"evtx\", \"json/winlogbeat\", \"json/evtx_dump\"]\n[fields]\nCommandLine = \"process.command_line\"\n[[logsource]]\nproduct = \"windows\"\n",
    );
    for (format, variant, applies) in [
        ("evtx", None, true),
        ("json", Some("winlogbeat"), true),
        ("json", Some("evtx_dump"), true),
        ("json", Some("generic"), false),
        ("json", None, false),
    ] {
        let mut e = event(format, variant, &[("CommandLine", Value::from("whoami"))]);
        t.apply(&mut e);
        assert_eq!(
            e.get("process.command_line").is_some(),
            applies,
            "{format} {variant:?}"
        );
        assert_eq!(
            e.logsource.product.is_some(),
            applies,
            "{format} {variant:?}"
        );
    }
    let error =
        Taxonomy::from_sources(&[("x.toml", "format = [\"json/a\", \"json\"]\n")]).unwrap_err();
    assert!(error.to_string().contains("names json twice"), "{error}");
}
