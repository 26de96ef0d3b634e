//! Delimited exports with a header row: our Splunk CSV export and generic TSV samples.

use vigil_event::{Event, Value};
use vigil_test_support::{examples, snapshot_settings};

use crate::read_paths;

fn sample(name: &str) -> std::path::PathBuf {
    examples().join("samples/csv").join(name)
}

fn by<'a>(events: &'a [Event], name: &str, value: &str) -> &'a Event {
    events
        .iter()
        .find(|e| e.get_str(name) == Some(value))
        .unwrap_or_else(|| panic!("no event with {name}={value}"))
}

#[test]
fn splunk_csv_export_reads_every_record_with_multi_line_raw() {
    let path = sample("splunk-export.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    // Every record starts with its quoted `_time`; the lines of a multi-line `_raw` do not.
    let records = text.lines().filter(|l| l.starts_with("\"2024-")).count();
    assert_eq!(records, 9);
    let read = read_paths(&[&path], Default::default());
    let summary = &read.summaries[0];
    assert_eq!(
        (summary.format, summary.records, summary.errors),
        (Some("csv"), records as u64, 0)
    );
    assert!(read.events.iter().all(|e| e.variant == Some("splunk")));
    let records: Vec<_> = read
        .events
        .iter()
        .map(|e| e.origin.location.record.unwrap())
        .collect();
    assert_eq!(records, (1..=9).collect::<Vec<_>>());

    let web = &read.events[0];
    assert_eq!(web.timestamp.unwrap().to_string(), "2024-03-12T10:01:02Z");
    assert_eq!(web.host.as_deref(), Some("web01"));
    assert_eq!(web.get_str("src_ip"), Some("203.0.113.45"));
    assert!(web.get("EventID").is_none() && web.get("EventCode").is_none());
    assert_eq!(
        web.get_str("_raw"),
        Some(
            r#"203.0.113.45 - - [12/Mar/2024:10:01:02 +0000] "GET /wp-login.php HTTP/1.1" 404 196 "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36""#
        )
    );

    // The Windows logon failure: a record of many lines, located at its first.
    let failed = read
        .events
        .iter()
        .find(|e| e.get("EventID") == Some(&Value::Int(4625)))
        .unwrap();
    let first_line = text
        .lines()
        .position(|l| l.contains(",4625,Administrator,"))
        .unwrap() as u64
        + 1;
    assert_eq!(failed.origin.location.line, Some(first_line));
    assert_eq!(failed.origin.location.record, Some(6));
    assert_eq!(failed.host.as_deref(), Some("FIN-WS07"));
    assert_eq!(failed.get_str("user"), Some("Administrator"));
    let raw = failed.get_str("_raw").unwrap();
    assert!(raw.starts_with("03/12/2024 10:05:17 AM\nLogName=Security\nEventCode=4625\n"));
    assert!(raw.ends_with("\tSource Port:\t\t0"), "{raw}");
    // Its lines run to the next record's start.
    let span = text
        .lines()
        .skip(first_line as usize)
        .take_while(|l| !l.starts_with("\"2024-"))
        .count()
        + 1;
    assert_eq!(raw.lines().count(), span);
    assert_eq!(
        failed.timestamp.unwrap().to_string(),
        "2024-03-12T10:05:17Z"
    );

    let created = read
        .events
        .iter()
        .find(|e| e.get("EventID") == Some(&Value::Int(4720)))
        .unwrap();
    assert!(
        created
            .get_str("_raw")
            .unwrap()
            .contains("\tDisplay Name:\t\t\"Backup, Service\"")
    );
    let sudo = &read.events[4];
    assert_eq!(sudo.get_str("user"), Some("deploy"));
    assert!(sudo.get("src_ip").is_none(), "an empty cell is absent");
    let proxy = by(&read.events, "host", "proxy01");
    assert_eq!(proxy.get_str("sourcetype"), Some("squid"));
    assert_eq!(proxy.get_str("index"), Some("proxy"));

    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("csv_splunk_windows_logon_failure", failed);
        insta::assert_json_snapshot!("csv_splunk_linux_secure", &read.events[1]);
    });
}

#[test]
fn generic_tsv_keeps_identifiers_as_text_and_types_numbers() {
    let path = sample("process-events.tsv");
    let text = std::fs::read_to_string(&path).unwrap();
    let records = text.lines().filter(|l| !l.trim().is_empty()).count() - 1;
    assert_eq!(records, 7);
    let read = read_paths(&[&path], Default::default());
    let summary = &read.summaries[0];
    assert_eq!(
        (summary.format, summary.records, summary.errors),
        (Some("csv"), records as u64, 0)
    );
    assert!(read.events.iter().all(|e| e.variant == Some("generic")));
    let first = &read.events[0];
    assert_eq!(first.timestamp.unwrap().to_string(), "2024-03-12T10:12:03Z");
    assert_eq!(first.host.as_deref(), Some("FIN-WS07.corp.example"));
    assert_eq!(first.get("EventID"), Some(&Value::Int(1)));
    assert_eq!(first.get("ProcessId"), Some(&Value::Int(6212)));
    assert_eq!(first.get("Signed"), Some(&Value::Bool(true)));
    assert_eq!(first.get("RiskScore"), Some(&Value::Float(0.93)));
    assert_eq!(first.get_str("AlertId"), Some("0042713"));
    assert_eq!(first.get_str("User"), Some(r"CORP\jdoe"));
    assert!(first.get("CertSerial").is_none());

    let dump = by(&read.events, "Image", r"C:\Windows\System32\rundll32.exe");
    assert_eq!(
        dump.get_str("CommandLine"),
        Some(
            r"rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 684 C:\Users\Public\lsass.dmp full"
        )
    );
    assert_eq!(dump.get_str("User"), Some(r"NT AUTHORITY\SYSTEM"));
    let implant = by(&read.events, "Image", r"C:\Users\Public\upd.exe");
    assert_eq!(
        implant.get_str("CommandLine"),
        Some(r#""C:\Users\Public\upd.exe" --server 198.51.100.23 --port 443"#)
    );
    assert_eq!(implant.get("Signed"), Some(&Value::Bool(false)));
    let network = &read.events[5];
    assert_eq!(network.get("EventID"), Some(&Value::Int(3)));
    assert_eq!(network.get("RiskScore"), Some(&Value::Float(0.5)));
    assert_eq!(
        network.get_str("CertSerial"),
        Some("612233448210391862900123"),
        "beyond 64 bits: text"
    );
    assert!(network.get("ParentProcessId").is_none() && network.get("CommandLine").is_none());
    let linux = read.events.last().unwrap();
    assert_eq!(linux.host.as_deref(), Some("WEB01"));
    assert_eq!(linux.timestamp.unwrap().to_string(), "2024-03-12T11:00:00Z");
    assert!(linux.get("AlertId").is_none());
    assert_eq!(linux.origin.location.line, Some(8));

    snapshot_settings().bind(|| insta::assert_json_snapshot!("csv_generic_tsv_process", dump));
}

/// The delimited and Zeek readers must leave every other corpus sample to its own reader.
#[test]
fn csv_and_zeek_claim_no_other_corpus_sample() {
    let Some(corpus) = vigil_test_support::corpus() else {
        return;
    };
    let csv = vigil_ingest::reader_named("csv").unwrap();
    let zeek = vigil_ingest::reader_named("zeek").unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(corpus.join("logs")).unwrap() {
        let dir = entry.unwrap().path();
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("LICENSE") || name.ends_with(".md") {
                continue;
            }
            let mut head = std::fs::read(&file).unwrap();
            head.truncate(64 * 1024);
            assert_eq!(csv.sniff(&head), 0, "csv claims {}", file.display());
            if !dir.ends_with("zeek-tsv") {
                assert_eq!(zeek.sniff(&head), 0, "zeek claims {}", file.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked}");
}
