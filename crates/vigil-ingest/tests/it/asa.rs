//! Cisco ASA and FTD syslog: the Elastic corpus sample (connections, NAT, denies) and our
//! example of AAA, VPN, device logins, commands and threat detection.

use vigil_event::{Event, Value};
use vigil_test_support::{corpus_path, examples, snapshot_settings};

use crate::{is, read_clean_lines};

/// Lines whose message tag ends in `-<id>:`.
fn lines_with_id(text: &str, id: &str) -> usize {
    text.lines()
        .filter(|l| l.contains(&format!("-{id}: ")))
        .count()
}

fn count(events: &[Event], pred: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| pred(e)).count()
}

#[test]
fn corpus_sample_reads_connections_nat_and_denies() {
    let Some(path) = corpus_path("logs/cisco-asa/elastic_test-asa_subset.log") else {
        return;
    };
    let (text, read) = read_clean_lines(&path, "asa");
    assert_eq!(read.events.len(), 12);
    let events = &read.events;
    assert!(events.iter().all(|e| e.variant == Some("asa")
        && e.host.as_deref() == Some("localhost")
        && is(e, "process.name", "CiscoASA")
        && e.get("process.pid") == Some(&Value::Int(999))
        && e.timestamp.map(|t| t.to_string()).as_deref() == Some("2018-10-10T12:34:56Z")));
    // Every line is one of the parsed shapes.
    for (action, ids) in [
        ("connection-built", &["302013", "302015"][..]),
        ("connection-teardown", &["302014", "302016"]),
        ("nat-translation-built", &["305011"]),
        ("nat-translation-teardown", &["305012"]),
        ("firewall-rule", &["106023"]),
    ] {
        let expected: usize = ids.iter().map(|id| lines_with_id(&text, id)).sum();
        assert_eq!(
            count(events, |e| is(e, "event.action", action)),
            expected,
            "{action}"
        );
    }

    // An outbound build: the inside host is the source.
    let built = &events[1];
    assert!(is(built, "cisco.asa.message_id", "302013") && is(built, "event.code", "302013"));
    assert_eq!(built.get("cisco.asa.severity"), Some(&Value::Int(6)));
    assert_eq!(
        built.get("cisco.asa.connection_id"),
        Some(&Value::Int(11757))
    );
    assert!(is(built, "network.direction", "outbound") && is(built, "network.transport", "tcp"));
    assert!(
        is(built, "source.ip", "172.31.98.44") && is(built, "destination.ip", "100.66.205.104")
    );
    assert_eq!(built.get("source.port"), Some(&Value::Int(1772)));
    assert_eq!(built.get("destination.port"), Some(&Value::Int(80)));
    assert!(is(built, "observer.ingress.interface.name", "inside"));
    // A teardown whose build is not in the file keeps the written order...
    let unseen = &events[2];
    assert!(is(unseen, "source.ip", "100.66.211.242") && is(unseen, "event.reason", "TCP Reset-I"));
    assert_eq!(unseen.get("network.bytes"), Some(&Value::Int(38110)));
    assert_eq!(
        unseen.get("event.duration"),
        Some(&Value::Int(67_000_000_000))
    );
    // ... and one whose outbound build came before gets the inside host as its source.
    let udp = &events[6];
    assert!(is(udp, "cisco.asa.message_id", "302016") && is(udp, "network.direction", "outbound"));
    assert!(is(udp, "source.ip", "172.31.98.44") && is(udp, "destination.ip", "100.66.80.32"));
    assert_eq!(udp.get("destination.port"), Some(&Value::Int(53)));
    assert_eq!(udp.get("network.bytes"), Some(&Value::Int(148)));
    // NAT: the real inside address and its mapped one.
    let nat = &events[0];
    assert!(is(nat, "source.ip", "172.31.98.44") && is(nat, "source.nat.ip", "100.66.98.44"));
    assert_eq!(nat.get("source.nat.port"), Some(&Value::Int(8256)));
    // The access-group deny.
    let deny = &events[10];
    assert!(is(deny, "cisco.asa.rule_name", "inbound") && is(deny, "event.outcome", "failure"));
    assert!(is(deny, "source.ip", "100.66.19.254") && is(deny, "destination.ip", "172.31.98.44"));
    assert_eq!(deny.get("destination.port"), Some(&Value::Int(8277)));
    assert!(is(
        deny,
        "message",
        r#"Deny tcp src outside:100.66.19.254/80 dst inside:172.31.98.44/8277 by access-group "inbound" [0x0, 0x0]"#
    ));

    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("asa_connection_built", built);
        insta::assert_json_snapshot!("asa_access_group_deny", deny);
    });
}

#[test]
fn example_covers_aaa_vpn_logins_commands_and_threat_detection() {
    let path = examples().join("samples/asa/asa-vpn-admin.log");
    let (text, read) = read_clean_lines(&path, "asa");
    let events = &read.events;
    assert_eq!(events.len(), 26);
    assert_eq!(count(events, |e| e.variant == Some("ftd")), 3);
    assert_eq!(
        count(events, |e| e.host.as_deref() == Some("asa-edge-01")),
        23
    );

    // Failed VPN logins by source and user: what a password-guessing hunt counts.
    let failed: Vec<_> = events
        .iter()
        .filter(|e| {
            is(e, "event.action", "aaa-authentication") && is(e, "event.outcome", "failure")
        })
        .collect();
    assert_eq!(failed.len(), lines_with_id(&text, "113005"));
    assert!(
        failed
            .iter()
            .all(|e| is(e, "source.ip", "203.0.113.66")
                && is(e, "cisco.asa.aaa_server", "10.10.5.20"))
    );
    assert_eq!(
        failed
            .iter()
            .map(|e| e.get_str("user.name").unwrap())
            .collect::<Vec<_>>(),
        ["j.miller", "j.miller", "admin"]
    );
    assert!(is(failed[2], "event.reason", "Account has been locked out"));

    let find = |id: &str| {
        events
            .iter()
            .find(|e| is(e, "cisco.asa.message_id", id))
            .unwrap_or_else(|| panic!("no {id}"))
    };
    let threat = find("733100");
    assert!(
        is(threat, "event.action", "threat-detection") && is(threat, "source.ip", "203.0.113.66")
    );
    assert_eq!(threat.get("cisco.asa.total_count"), Some(&Value::Int(5542)));
    let vpn = find("722051");
    assert!(is(vpn, "user.name", "j.miller") && is(vpn, "cisco.asa.assigned_ip", "10.250.0.23"));
    assert!(is(vpn, "cisco.asa.group_policy", "GP-Remote") && is(vpn, "source.ip", "203.0.113.66"));
    let session = find("302013");
    assert!(
        is(session, "source.user.name", "j.miller") && is(session, "source.user.domain", "CORP")
    );
    assert!(is(session, "destination.ip", "10.10.5.31"));
    assert_eq!(session.get("destination.port"), Some(&Value::Int(22)));
    let login = find("605005");
    assert!(is(login, "event.action", "login") && is(login, "event.outcome", "success"));
    assert!(is(login, "user.name", "admin") && is(login, "network.protocol", "ssh"));
    let denied = find("605004");
    assert!(
        is(denied, "event.outcome", "failure")
            && is(denied, "observer.ingress.interface.name", "outside")
    );
    let change = find("111008");
    assert!(is(change, "event.action", "command-executed") && is(change, "user.name", "admin"));
    assert!(is(
        change,
        "cisco.asa.command_line",
        "access-list outside_in extended permit tcp any host 10.10.5.31 eq 3389"
    ));
    assert!(is(find("111010"), "source.ip", "10.250.0.23"));
    let permit = find("106100");
    assert!(is(permit, "cisco.asa.action", "permit") && is(permit, "event.outcome", "success"));
    assert_eq!(permit.get("destination.port"), Some(&Value::Int(3389)));
    let ping = find("302020");
    assert!(is(ping, "source.ip", "10.10.5.31") && is(ping, "destination.ip", "203.0.113.66"));
    assert!(is(ping, "source.nat.ip", "198.51.100.10"));
    // 113019 has no parsed shape: its text only.
    let unparsed = find("113019");
    assert!(unparsed.get("event.action").is_none());
    assert!(
        unparsed
            .get_str("message")
            .unwrap()
            .starts_with("Group = GP-Remote, Username")
    );
    let ftd = find("716002");
    assert!(is(ftd, "event.reason", "Idle timeout") && ftd.host.as_deref() == Some("ftd-dc-02"));
    assert_eq!(ftd.timestamp.unwrap().to_string(), "2024-05-05T18:12:40Z");

    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("asa_aaa_rejected", failed[2]);
    });
}
