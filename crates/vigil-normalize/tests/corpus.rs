//! The taxonomy over the real samples of the shared corpus: every event of a sample lands
//! in the Sigma log source rules for it are written against, with the ECS names set.
#![allow(clippy::unwrap_used)] // Tests fail loudly; that is their job.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Mutex;

use vigil_event::{Event, Value};
use vigil_ingest::{Ingest, Plan, ReadOptions, RecordResult};
use vigil_normalize::Taxonomy;
use vigil_test_support::corpus_path;

/// The events of `path` (a file or folder) with the built-in taxonomy applied, and how
/// many records were errors.
fn placed(path: &Path) -> (Vec<Event>, u64) {
    let taxonomy = Taxonomy::builtin().unwrap();
    let events = Mutex::new(Vec::new());
    let options = ReadOptions {
        year: Some(2024),
        ..ReadOptions::default()
    };
    let summaries = Ingest::new(options).run(Plan::new(&[path.to_path_buf()]), |_| {
        let (events, taxonomy) = (&events, &taxonomy);
        move |record: RecordResult| {
            if let Ok(mut event) = record {
                taxonomy.apply(&mut event);
                events.lock().unwrap().push(event);
            }
            ControlFlow::Continue(())
        }
    });
    let errors = summaries.iter().map(|s| s.errors).sum();
    (events.into_inner().unwrap(), errors)
}

fn source(event: &Event) -> String {
    let s = &event.logsource;
    [&s.product, &s.category, &s.service]
        .into_iter()
        .map(|p| p.as_deref().unwrap_or("-"))
        .collect::<Vec<_>>()
        .join("/")
}

fn lines_containing(path: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn every_data_file_names_real_readers() {
    let taxonomy = Taxonomy::builtin().unwrap();
    for format in taxonomy.formats() {
        assert!(
            vigil_ingest::reader_named(format).is_ok(),
            "a data file names `{format}`, which is no reader"
        );
    }
}

#[test]
fn sshd_lines_are_linux_sshd() {
    let Some(path) = corpus_path("logs/linux-auth-sshd/loghub_OpenSSH_2k.log") else {
        return;
    };
    let (events, errors) = placed(&path);
    assert_eq!(errors, 0);
    let sshd: Vec<_> = events
        .iter()
        .filter(|e| source(e) == "linux/-/sshd")
        .collect();
    assert_eq!(sshd.len(), lines_containing(&path, " sshd["));
    assert!(sshd.iter().all(|e| e.get_str("host.name") == Some("LabSZ")));
}

#[test]
fn fortigate_traffic_is_firewall_with_sigma_and_ecs_names() {
    let Some(path) = corpus_path("logs/fortinet-kv/elastic_fortinet-7-4_subset.log") else {
        return;
    };
    let (events, _) = placed(&path);
    let traffic: Vec<_> = events
        .iter()
        .filter(|e| e.get_str("type") == Some("traffic"))
        .collect();
    assert_eq!(traffic.len(), lines_containing(&path, "type=\"traffic\""));
    for e in &traffic {
        assert_eq!(source(e), "fortigate/firewall/-", "{}", e.origin);
        assert_eq!(e.get("dst_port"), e.get("dstport"));
        assert!(
            matches!(e.get("destination.port"), Some(Value::Int(_))),
            "{}",
            e.origin
        );
        assert_eq!(e.get("source.ip"), e.get("srcip"));
    }
    // The sample's second line: a local-in HTTPS session the server reset.
    let second = events
        .iter()
        .find(|e| e.origin.location.line == Some(2))
        .unwrap();
    assert_eq!(second.get("destination.port"), Some(&Value::Int(443)));
    assert_eq!(second.get_str("event.outcome"), Some("success"));
    assert_eq!(second.get_str("blocked"), Some("false"));
    let events_kind: Vec<_> = events
        .iter()
        .filter(|e| e.get_str("type") == Some("event"))
        .collect();
    assert!(!events_kind.is_empty());
    assert!(events_kind.iter().all(|e| source(e) == "fortigate/-/event"));
}

/// The events of one of the repository's own samples (see `examples/samples/`).
fn example(relative: &str) -> Vec<Event> {
    let (events, errors) = placed(&vigil_test_support::examples().join(relative));
    assert_eq!(errors, 0, "{relative}");
    events
}

fn text<'e>(event: &'e Event, name: &str) -> &'e str {
    event
        .get_str(name)
        .unwrap_or_else(|| panic!("{name} missing in {}", event.origin))
}

#[test]
fn suricata_records_get_ecs_and_sigma_network_names() {
    let Some(path) = corpus_path("logs/suricata-eve/wrccdc-2018_alerts-only.eve.ndjson") else {
        return;
    };
    let (events, errors) = placed(&path);
    assert_eq!(
        (events.len(), errors),
        (lines_containing(&path, "\"event_type\":\"alert\""), 0)
    );
    for e in &events {
        assert_eq!(source(e), "suricata/-/alert", "{}", e.origin);
        assert_eq!(e.get("rule.name"), e.get("alert.signature"));
        assert_eq!(e.get("rule.id"), e.get("alert.signature_id"));
        assert_eq!(e.get("dst_ip"), e.get("dest_ip"));
        assert_eq!(e.get("destination.port"), e.get("dest_port"));
        assert_eq!(e.get("network.transport"), e.get("proto"));
        assert_eq!(e.get_str("event.kind"), Some("alert"));
    }
    let events = example("samples/suricata/eve.json");
    let dns = &events[1];
    assert_eq!(source(dns), "suricata/dns/dns");
    assert_eq!(text(dns, "query"), "update-check.example.net");
    assert_eq!(text(dns, "dns.question.name"), "update-check.example.net");
    assert_eq!(dns.get("answer"), dns.get("dns.answers.rdata"));
    let http = &events[2];
    assert_eq!(source(http), "suricata/proxy/http");
    assert_eq!(text(http, "cs-host"), "update-check.example.net");
    assert_eq!(text(http, "c-uri"), "/a/stage2.ps1");
    assert_eq!(text(http, "url.original"), "/a/stage2.ps1");
    assert!(text(http, "c-useragent").contains("WindowsPowerShell"));
    assert_eq!(http.get("sc-status"), Some(&Value::Int(200)));
    let tls = &events[5];
    assert_eq!(source(tls), "suricata/-/tls");
    assert_eq!(text(tls, "tls.client.server_name"), "cdn-sync.example.org");
    assert_eq!(text(tls, "host.name"), "sensor-dmz-01");
}

#[test]
fn cloudtrail_is_aws_cloudtrail_with_ecs_names() {
    let Some(path) =
        corpus_path("logs/aws-cloudtrail/ec2_proxy_s3_exfiltration_2020-09-14011940.json")
    else {
        return;
    };
    let (events, errors) = placed(&path);
    assert_eq!(
        (events.len(), errors),
        (lines_containing(&path, "\"eventVersion\""), 0)
    );
    for e in &events {
        assert_eq!(source(e), "aws/-/cloudtrail", "{}", e.origin);
        assert_eq!(e.get("event.action"), e.get("eventName"));
        assert_eq!(e.get("event.provider"), e.get("eventSource"));
        assert_eq!(e.get("cloud.region"), e.get("awsRegion"));
    }
    assert_eq!(text(&events[0], "user.name"), "pedro");
    assert_eq!(text(&events[0], "source.ip"), "1.2.3.4");
    let events = example("samples/cloudtrail");
    let login = events
        .iter()
        .find(|e| e.get_str("eventName") == Some("ConsoleLogin"))
        .unwrap();
    assert_eq!(text(login, "event.outcome"), "success");
    let denied = events
        .iter()
        .find(|e| e.get_str("errorCode") == Some("AccessDenied"))
        .unwrap();
    // An assumed role is named by its role.
    assert_eq!(text(denied, "user.name"), "web-proxy-role");
    assert_eq!(text(denied, "error.code"), "AccessDenied");
}

#[test]
fn entra_id_sign_ins_get_the_names_sigma_rules_use() {
    let Some(path) = corpus_path("logs/azure-ad-signin/elastic_signinlogs-raw_subset.ndjson")
    else {
        return;
    };
    let (events, errors) = placed(&path);
    assert_eq!((events.len(), errors), (2, 0));
    for e in &events {
        assert_eq!(source(e), "azure/-/signinlogs");
        assert_eq!(text(e, "ResultType"), "50140");
        assert_eq!(text(e, "ClientApp"), "Browser");
        assert_eq!(text(e, "source.ip"), "81.2.69.144");
        assert!(text(e, "ResultDescription").contains("'Keep me signed in' interrupt"));
    }
    assert_eq!(text(&events[0], "Username"), "test@elastic.co");
    assert_eq!(text(&events[0], "user.name"), "test@elastic.co");
    let events = example("samples/azure/graph-signins.json");
    let denied = &events[0];
    assert_eq!(source(denied), "azure/-/signinlogs");
    assert_eq!(denied.get("ResultType"), Some(&Value::Int(500121)));
    assert_eq!(
        text(denied, "AuthenticationRequirement"),
        "multiFactorAuthentication"
    );
    assert_eq!(
        denied.get("DeviceDetail.isCompliant"),
        Some(&Value::Bool(false))
    );
    assert_eq!(text(denied, "event.outcome"), "failure");
    assert_eq!(text(&events[1], "event.outcome"), "success");
}

#[test]
fn entra_id_audit_records_get_the_names_sigma_rules_use() {
    let events = example("samples/azure/auditlogs.json");
    assert!(events.iter().all(|e| source(e) == "azure/-/auditlogs"));
    // What `azure_user_account_mfa_disable.yml` tests.
    let mfa = &events[1];
    assert_eq!(text(mfa, "LoggedByService"), "Core Directory");
    assert_eq!(text(mfa, "Category"), "UserManagement");
    assert_eq!(text(mfa, "OperationName"), "Update user");
    assert_eq!(text(mfa, "properties.message"), "Update user");
    assert!(
        mfa.get("TargetResources.ModifiedProperties.DisplayName")
            .unwrap()
            .items()
            .contains(&Value::from("StrongAuthenticationRequirement"))
    );
    assert!(
        mfa.get("TargetResources.ModifiedProperties.NewValue")
            .unwrap()
            .items()
            .iter()
            .any(|v| v.to_text().contains("State\":0"))
    );
    assert_eq!(text(mfa, "Initiatedby"), "maria.ops@contoso.example");
    assert_eq!(text(mfa, "event.outcome"), "success");
    assert_eq!(text(&events[3], "event.outcome"), "failure");
    let events = example("samples/azure/graph-directoryaudits.json");
    let reset = &events[0];
    assert_eq!(source(reset), "azure/-/auditlogs");
    assert_eq!(
        text(reset, "OperationName"),
        "Reset password (self-service)"
    );
    assert_eq!(text(reset, "Category"), "UserManagement");
    assert_eq!(text(reset, "Status"), "success");
    assert_eq!(text(reset, "Target"), "j.doe@contoso.example");
}

#[test]
fn okta_events_are_okta_with_ecs_names() {
    let Some(path) = corpus_path("logs/okta-system-log/elastic_okta-system-events_subset.ndjson")
    else {
        return;
    };
    let (events, errors) = placed(&path);
    assert_eq!((events.len(), errors), (3, 0));
    for e in &events {
        assert_eq!(source(e), "okta/-/okta");
        assert_eq!(e.get("event.action"), e.get("eventType"));
        assert_eq!(text(e, "source.ip"), "175.16.199.1");
        assert_eq!(text(e, "event.outcome"), "success");
    }
    assert_eq!(text(&events[0], "user.name"), "username@elastic.co");
    assert_eq!(text(&events[0], "message"), "User logout from Okta");
}

#[test]
fn gcp_audit_entries_get_the_names_sigma_rules_use() {
    let events = example("samples/gcp/cloudaudit.json");
    let sources: Vec<_> = events.iter().map(source).collect();
    assert_eq!(
        sources,
        [
            "gcp/-/gcp.audit",
            "gcp/-/gcp.audit",
            "gcp/-/gcp.audit",
            "gcp/-/gcp.audit",
            "gcp/-/gcp.audit",
            "gcp/-/google_workspace.admin",
            "gcp/-/google_workspace.login"
        ]
    );
    for e in &events {
        assert_eq!(
            e.get("gcp.audit.method_name"),
            e.get("protoPayload.methodName")
        );
        assert_eq!(
            e.get("data.protoPayload.serviceName"),
            e.get("protoPayload.serviceName")
        );
    }
    let firewall = &events[2];
    assert_eq!(
        text(firewall, "gcp.audit.method_name"),
        "v1.compute.firewalls.insert"
    );
    assert_eq!(text(firewall, "source.ip"), "203.0.113.77");
    assert_eq!(
        text(firewall, "user.email"),
        "ci-deployer@acme-prod-4711.iam.gserviceaccount.com"
    );
    let workspace = &events[5];
    assert_eq!(text(workspace, "eventService"), "admin.googleapis.com");
    assert_eq!(
        text(workspace, "eventName"),
        "ENFORCE_STRONG_AUTHENTICATION"
    );
}

#[test]
fn falcon_process_and_dns_events_are_placed_for_windows_rules() {
    let events = example("samples/falcon");
    let by_name = |name: &str| {
        events
            .iter()
            .find(|e| e.get_str("event_simpleName") == Some(name))
            .unwrap()
    };
    let process = by_name("ProcessRollup2");
    assert_eq!(source(process), "windows/process_creation/-");
    assert!(text(process, "Image").ends_with(r"\WindowsPowerShell\v1.0\powershell.exe"));
    assert_eq!(
        process.get("process.command_line"),
        process.get("CommandLine")
    );
    assert_eq!(text(process, "process.parent.name"), "WINWORD.EXE");
    assert_eq!(process.get("ParentImage"), None);
    let dns = by_name("DnsRequest");
    assert_eq!(source(dns), "windows/dns_query/-");
    assert_eq!(text(dns, "QueryName"), "update-check.example.net");
    assert_eq!(source(by_name("NetworkConnectIP4")), "-/-/-");
    let detection = events
        .iter()
        .find(|e| e.get_str("metadata.eventType") == Some("DetectionSummaryEvent"))
        .unwrap();
    assert_eq!(text(detection, "event.kind"), "alert");
    assert_eq!(text(detection, "rule.name"), "Suspicious Activity");
    assert_eq!(text(detection, "user.name"), "jdoe");
}

#[test]
fn sentinel_syslog_sysmon_and_auoms_are_linux() {
    let Some(path) = corpus_path("logs/azure-sentinel-syslog-json") else {
        return;
    };
    let (events, errors) = placed(&path);
    assert_eq!(errors, 0);
    let count = |wanted: &str| events.iter().filter(|e| source(e) == wanted).count();
    // Counted with grep in the two files: Sysmon event ids, and AUOMS rows.
    assert_eq!(count("linux/process_creation/-"), 31);
    assert_eq!(count("linux/network_connection/-"), 6);
    assert_eq!(count("linux/file_event/-"), 4);
    assert_eq!(count("linux/process_termination/-"), 50);
    assert_eq!(count("linux/file_delete/-"), 2);
    assert_eq!(count("linux/-/auditd"), 50);
    for e in events
        .iter()
        .filter(|e| source(e) == "linux/process_creation/-")
    {
        assert_eq!(e.get("process.executable"), e.get("Image"));
        assert_eq!(e.get("process.command_line"), e.get("CommandLine"));
        assert_eq!(e.get_str("host.name"), Some("UBUNTU5"));
    }
    for e in events.iter().filter(|e| source(e) == "linux/-/auditd") {
        assert_eq!(e.get("process.executable"), e.get("exe"));
        assert_eq!(e.get("process.name"), e.get("comm"));
    }
}
/// Lines of a text file that are records: not blank, not `#` comments.
fn record_lines(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count()
}

#[test]
fn cisco_asa_is_a_cisco_firewall_with_sigma_names() {
    let Some(path) = corpus_path("logs/cisco-asa/elastic_test-asa_subset.log") else {
        return;
    };
    let (events, errors) = placed(&path);
    assert_eq!((events.len(), errors), (record_lines(&path), 0));
    assert!(events.iter().all(|e| source(e) == "cisco/firewall/asa"));
    for e in events.iter().filter(|e| e.get("source.ip").is_some()) {
        assert_eq!(e.get("src_ip"), e.get("source.ip"), "{}", e.origin);
    }
}

#[test]
fn panos_traffic_and_threat_are_firewall_events() {
    let Some(dir) = corpus_path("logs/panos-csv") else {
        return;
    };
    let (events, errors) = placed(&dir);
    let expected: usize = [
        "elastic_panos_threat_subset.log",
        "elastic_panos_traffic_subset.log",
    ]
    .iter()
    .map(|f| record_lines(&dir.join(f)))
    .sum();
    assert_eq!((events.len(), errors), (expected, 0));
    for e in &events {
        assert_eq!(source(e), "panos/firewall/-", "{}", e.origin);
        assert!(
            e.get_str("src_ip").is_some() && e.get("dst_port").is_some(),
            "{}",
            e.origin
        );
        assert!(e.get_str("event.outcome").is_some(), "{}", e.origin);
    }
}

#[test]
fn zeek_logs_are_zeek_services_whether_tsv_or_json() {
    for folder in ["logs/zeek-tsv", "logs/zeek-json"] {
        let Some(dir) = corpus_path(folder) else {
            return;
        };
        let (events, errors) = placed(&dir);
        assert_eq!(errors, 0, "{folder}");
        assert!(!events.is_empty());
        for e in &events {
            let path = e.get_str("_path").unwrap_or_default().to_string();
            assert_eq!(e.logsource.product.as_deref(), Some("zeek"), "{}", e.origin);
            assert_eq!(
                e.logsource.service.as_deref(),
                Some(path.as_str()),
                "{}",
                e.origin
            );
        }
        let dns: Vec<_> = events
            .iter()
            .filter(|e| e.get_str("_path") == Some("dns"))
            .collect();
        assert!(!dns.is_empty(), "{folder}");
        assert!(
            dns.iter()
                .all(|e| e.get("dns.question.name") == e.get("query"))
        );
    }
}
