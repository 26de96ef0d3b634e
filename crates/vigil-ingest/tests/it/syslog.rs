//! Syslog and Linux auth logs: the loghub samples, the RFC 5424 sample and our examples.

use vigil_event::Value;
use vigil_test_support::{corpus_path, examples, snapshot_settings};

use crate::{is, options_for_2024, read_paths};

fn count(read: &crate::Read, pred: impl Fn(&vigil_event::Event) -> bool) -> usize {
    read.events.iter().filter(|e| pred(e)).count()
}

fn lines_containing(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn openssh_sample_parses_every_line_into_auth_fields() {
    let Some(path) = corpus_path("logs/linux-auth-sshd/loghub_OpenSSH_2k.log") else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let read = read_paths(&[&path], options_for_2024());
    let summary = &read.summaries[0];
    assert_eq!(
        (summary.format, summary.records, summary.errors),
        (Some("syslog"), 2000, 0)
    );
    assert!(
        read.events
            .iter()
            .all(|e| e.host.as_deref() == Some("LabSZ") && is(e, "process.name", "sshd"))
    );

    let failed = count(&read, |e| {
        is(e, "event.action", "ssh_login") && is(e, "event.outcome", "failure")
    });
    assert_eq!(
        failed,
        lines_containing(&text, "Failed password") + lines_containing(&text, "Failed none")
    );
    // Every failed login names a user, an IP address and a numeric port.
    for e in read
        .events
        .iter()
        .filter(|e| is(e, "event.outcome", "failure") && is(e, "event.action", "ssh_login"))
    {
        assert!(
            e.get_str("user.name").is_some_and(|u| !u.is_empty()),
            "{}",
            e.origin
        );
        let ip = e.get_str("source.ip").expect("source.ip");
        assert!(ip.parse::<std::net::IpAddr>().is_ok(), "{ip}");
        assert!(matches!(e.get("source.port"), Some(Value::Int(p)) if *p > 0));
        assert!(is(e, "ssh.method", "password") || is(e, "ssh.method", "none"));
    }
    let accepted: Vec<_> = read
        .events
        .iter()
        .filter(|e| is(e, "event.outcome", "success") && is(e, "event.action", "ssh_login"))
        .collect();
    assert_eq!(accepted.len(), 1);
    assert!(is(accepted[0], "user.name", "fztu") && is(accepted[0], "source.ip", "119.137.62.142"));
    assert_eq!(accepted[0].get("source.port"), Some(&Value::Int(49116)));

    let invalid = count(&read, |e| is(e, "event.action", "ssh_invalid_user"));
    assert_eq!(
        invalid,
        lines_containing(&text, "]: Invalid user ")
            + lines_containing(&text, "input_userauth_request: invalid user")
    );
    let preauth = count(&read, |e| e.get("ssh.preauth") == Some(&Value::Bool(true)));
    assert_eq!(
        preauth,
        text.lines().filter(|l| l.ends_with(" [preauth]")).count()
    );
    let disconnects = count(&read, |e| is(e, "event.action", "ssh_disconnect"));
    assert_eq!(
        disconnects,
        lines_containing(&text, "Received disconnect from")
    );
    let pam_failures = count(&read, |e| {
        is(e, "event.action", "pam_authentication_failure")
    });
    assert_eq!(
        pam_failures,
        lines_containing(&text, "pam_unix(sshd:auth): authentication failure")
            + lines_containing(&text, "more authentication failures")
    );
    let repeated = count(&read, |e| {
        e.get("log.syslog.repeated") == Some(&Value::Int(5))
    });
    assert_eq!(repeated, 2);
    let first = &read.events[0];
    assert_eq!(first.timestamp.unwrap().to_string(), "2024-12-10T06:55:46Z");
    assert!(
        is(first, "source.ip", "173.234.31.186")
            && is(first, "source.domain", "ns.marryaldkfaczcz.com")
    );
}

#[test]
fn linux_messages_sample_parses_su_and_old_pam_tags() {
    let Some(path) = corpus_path("logs/linux-auth-sshd/loghub_Linux_2k_messages.log") else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let options = vigil_ingest::ReadOptions {
        year: Some(2005),
        ..Default::default()
    };
    let read = read_paths(&[&path], options);
    assert_eq!(
        (read.summaries[0].records, read.summaries[0].errors),
        (2000, 0)
    );
    let su_opened = count(&read, |e| {
        is(e, "pam.service", "su") && is(e, "event.action", "session_opened")
    });
    assert_eq!(
        su_opened,
        text.lines()
            .filter(|l| l.contains("su(pam_unix)") && l.contains("session opened"))
            .count()
    );
    let auth_failures = count(&read, |e| {
        is(e, "pam.service", "sshd") && is(e, "event.action", "pam_authentication_failure")
    });
    assert_eq!(
        auth_failures,
        text.lines()
            .filter(|l| l.contains("sshd(pam_unix)") && l.contains("authentication failure"))
            .count()
    );
    // rhost is an address or a name; either way the source is kept.
    let with_rhost = text
        .lines()
        .filter(|l| {
            l.contains("authentication failure")
                && l.contains("rhost=")
                && !l.contains("rhost= ")
                && !l.ends_with("rhost=")
        })
        .count();
    let with_source = count(&read, |e| {
        is(e, "event.action", "pam_authentication_failure")
            && (e.get_str("source.ip").is_some() || e.get_str("source.domain").is_some())
    });
    assert_eq!(with_source, with_rhost);
    assert_eq!(
        read.events[0].timestamp.unwrap().to_string(),
        "2005-06-14T15:16:01Z"
    );
}

#[test]
fn rfc5424_sample_has_its_header_fields() {
    let Some(path) = corpus_path("logs/syslog-rfc5424/elastic_system_auth_test-5424.log") else {
        return;
    };
    let read = read_paths(&[&path], options_for_2024());
    let e = &read.events[0];
    assert_eq!(e.variant, Some("rfc5424"));
    assert_eq!(
        e.timestamp.unwrap().to_string(),
        "2023-09-28T10:10:12.175599Z"
    );
    assert_eq!(e.host.as_deref(), Some("test.lab.com"));
    assert!(is(e, "process.name", "systemd") && is(e, "message", "Stopped target Default."));
    assert_eq!(e.get("process.pid"), Some(&Value::Int(153589)));
    assert!(
        is(e, "log.syslog.facility.name", "daemon") && is(e, "log.syslog.severity.name", "info")
    );
}

#[test]
fn example_auth_log_covers_sudo_su_and_account_changes() {
    let path = examples().join("case-001/linux/auth.log");
    let read = read_paths(&[&path], options_for_2024());
    assert_eq!(read.summaries[0].errors, 0);
    let find = |action: &str| {
        read.events
            .iter()
            .find(|e| is(e, "event.action", action))
            .unwrap_or_else(|| panic!("no {action}"))
    };
    let sudo = find("sudo_command");
    assert!(is(sudo, "user.name", "deploy") && is(sudo, "user.effective.name", "root"));
    assert!(is(sudo, "process.command_line", "/usr/bin/cat /etc/shadow"));
    let created = find("user_created");
    assert!(is(created, "user.name", "sysupd"));
    assert_eq!(created.get("user.id"), Some(&Value::Int(0)));
    assert!(is(find("su"), "user.effective.name", "root"));
    assert!(is(find("user_added_to_group"), "group.name", "sudo"));
    assert!(is(find("password_changed"), "user.name", "sysupd"));
    assert!(is(
        find("sudo_authentication_failure"),
        "event.outcome",
        "failure"
    ));
    let key_login = read
        .events
        .iter()
        .find(|e| is(e, "ssh.method", "publickey"))
        .unwrap();
    assert!(is(
        key_login,
        "ssh.signature",
        "ED25519 SHA256:Qm9ndXNLZXlGb3JFeGFtcGxlT25seQ"
    ));
}

#[test]
fn snapshot_of_a_normalized_syslog_event() {
    let Some(path) = corpus_path("logs/linux-auth-sshd/loghub_OpenSSH_2k.log") else {
        return;
    };
    let read = read_paths(&[&path], options_for_2024());
    let accepted = read
        .events
        .iter()
        .find(|e| is(e, "event.outcome", "success"))
        .unwrap();
    snapshot_settings().bind(|| insta::assert_json_snapshot!("syslog_ssh_accepted", accepted));
}
