//! JSON events: Windows events exported as JSON, SIEM exports and generic object streams.

use vigil_event::Value;
use vigil_test_support::{corpus_path, examples, snapshot_settings};

use crate::{is, read_paths};

#[test]
fn sysmon_exported_as_flat_json_gets_windows_names() {
    let Some(path) = corpus_path(
        "logs/sysmon-windows-json/psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json",
    ) else {
        return;
    };
    let read = read_paths(&[&path], Default::default());
    let summary = &read.summaries[0];
    assert_eq!(
        (summary.format, summary.records, summary.errors),
        (Some("json"), 184, 0)
    );
    assert!(
        read.events
            .iter()
            .all(|e| e.variant == Some("windows_flat"))
    );
    assert!(
        read.events
            .iter()
            .all(|e| e.get("EventID").and_then(Value::as_i64).is_some() && e.timestamp.is_some())
    );
    // The comsvcs.dll MiniDump of lsass is in the sample as a Sysmon process creation.
    let dump = read
        .events
        .iter()
        .find(|e| {
            e.get("EventID") == Some(&Value::Int(1))
                && e.get_str("CommandLine")
                    .is_some_and(|c| c.contains("comsvcs"))
        })
        .expect("the comsvcs MiniDump process creation");
    assert!(is(dump, "Channel", "Microsoft-Windows-Sysmon/Operational"));
    assert!(dump.host.is_some());
    snapshot_settings().bind(|| insta::assert_json_snapshot!("json_windows_flat_sysmon_1", dump));
}

#[test]
fn example_windows_json_shapes_match_evtx_names() {
    let read = read_paths(&[&examples().join("case-001/windows")], Default::default());
    assert!(read.summaries.iter().all(|s| s.is_clean()));
    let by_id = |id: i64| {
        read.events
            .iter()
            .find(|e| e.get("EventID") == Some(&Value::Int(id)))
            .unwrap_or_else(|| panic!("{id}"))
    };
    // evtx_dump JSON: System fields, EventData and UserData by bare names.
    let logon = by_id(4624);
    assert_eq!(logon.variant, Some("evtx_dump"));
    assert!(is(logon, "Channel", "Security") && is(logon, "TargetUserName", "Administrator"));
    assert_eq!(logon.get("LogonType"), Some(&Value::Int(3)));
    assert_eq!(logon.host.as_deref(), Some("FIN-WS07.corp.example"));
    assert_eq!(
        logon.timestamp.unwrap().to_string(),
        "2024-03-12T10:12:09.40211Z"
    );
    let cleared = by_id(1102);
    assert!(
        is(cleared, "SubjectUserName", "Administrator")
            && is(cleared, "Provider_Name", "Microsoft-Windows-Eventlog")
    );
    // Winlogbeat: winlog.* renamed, the string event id made an integer.
    let sysmon = by_id(1);
    assert_eq!(sysmon.variant, Some("winlogbeat"));
    assert!(is(
        sysmon,
        "Channel",
        "Microsoft-Windows-Sysmon/Operational"
    ));
    assert!(
        sysmon
            .get_str("CommandLine")
            .is_some_and(|c| c.contains("-enc "))
    );
    assert!(is(
        sysmon,
        "ParentImage",
        r"C:\Windows\System32\wbem\WmiPrvSE.exe"
    ));
    assert!(is(sysmon, "Computer", "FIN-WS07.corp.example"));
}

#[test]
fn example_siem_exports_are_recognised() {
    let read = read_paths(&[&examples().join("case-001/siem")], Default::default());
    assert!(read.summaries.iter().all(|s| s.is_clean()));
    let wazuh = read
        .events
        .iter()
        .find(|e| e.variant == Some("wazuh") && e.get("EventID") == Some(&Value::Int(1)))
        .unwrap();
    assert!(
        is(
            wazuh,
            "Image",
            r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
        ),
        "double escapes undone"
    );
    assert!(is(wazuh, "Channel", "Microsoft-Windows-Sysmon/Operational"));
    assert_eq!(wazuh.host.as_deref(), Some("FIN-WS07"));
    let splunk = read
        .events
        .iter()
        .find(|e| e.variant == Some("splunk") && e.get("EventID").is_some())
        .unwrap();
    assert_eq!(splunk.get("EventID"), Some(&Value::Int(4732)));
    assert!(is(splunk, "Channel", "Security"));
    assert_eq!(
        splunk.timestamp.unwrap().to_string(),
        "2024-03-12T10:14:33Z"
    );
}
