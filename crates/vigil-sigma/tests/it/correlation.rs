//! Correlation rules (Sigma correlation rules specification v2.1): each type fires when its
//! condition is met inside the timespan, per group, and not otherwise.

use vigil_event::{Event, Value};
use vigil_sigma::Detector;

use crate::harness::{detector, documents, event_in, proc_with, security_4688_with};

/// A correlation that fired: at which fed event (0-based), which rule, its group and value.
#[derive(Debug, Clone, PartialEq)]
struct Fired {
    at: usize,
    title: String,
    kind: String,
    group: Vec<(String, String)>,
    value: f64,
    timespan_secs: u64,
}

/// Feeds `events` (time in seconds, event), in order, through matching and the correlator,
/// as the hunt loop does: only matches of rules that correlations count are fed.
fn run(detector: &Detector, events: &[(i64, Event)]) -> Vec<Fired> {
    let mut correlator = detector.correlator().expect("a correlation rule is loaded");
    let mut matcher = detector.matcher();
    let mut fired = Vec::new();
    for (at, (secs, event)) in events.iter().enumerate() {
        let matches: Vec<_> = matcher
            .detect(event)
            .into_iter()
            .filter(|m| m.rule.correlated)
            .collect();
        for c in correlator.feed(event, &matches, *secs) {
            fired.push(Fired {
                at,
                title: c.rule.title.clone(),
                kind: c.kind.clone(),
                group: c.group.clone(),
                value: c.value,
                timespan_secs: c.timespan_secs,
            });
        }
    }
    fired
}

/// The indices of the fed events at which a correlation fired.
fn fired_at(fired: &[Fired]) -> Vec<usize> {
    fired.iter().map(|f| f.at).collect()
}

fn group(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Security event `id` with these fields.
fn security(id: i64, fields: &[(&str, &str)]) -> Event {
    let mut all = vec![("EventID", Value::from(id))];
    all.extend(fields.iter().map(|(k, v)| (*k, Value::from(*v))));
    event_in(Some("windows"), Some("security"), None, all)
}

fn failed_logon(user: &str, ip: &str) -> Event {
    security(
        4625,
        &[
            ("TargetUserName", user),
            ("IpAddress", ip),
            ("Computer", "dc01"),
        ],
    )
}

fn logon(user: &str, ip: &str) -> Event {
    security(
        4624,
        &[
            ("TargetUserName", user),
            ("IpAddress", ip),
            ("Computer", "dc01"),
        ],
    )
}

/// `user`'s failed logons from `ip`, one at each of `times`.
fn failed_logons(user: &str, ip: &str, times: &[i64]) -> Vec<(i64, Event)> {
    times.iter().map(|&t| (t, failed_logon(user, ip))).collect()
}

const FAILED_LOGON: &str = "
title: Failed logon
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_logon
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
level: low
";

const SUCCESSFUL_LOGON: &str = "
title: Successful logon
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_logon
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
level: low
";

/// A correlation rule document: `head` holds its title, id and other top-level keys (name,
/// level); `kind`, `rules`, `group_by` and `timespan` fill its `correlation:` block, and
/// `condition` the lines of its `condition:` (none when empty).
fn correlation(
    head: &str,
    kind: &str,
    rules: &[&str],
    group_by: &[&str],
    timespan: &str,
    condition: &[&str],
) -> String {
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|i| format!("\n        - {i}"))
            .collect::<String>()
    };
    let condition = if condition.is_empty() {
        String::new()
    } else {
        let lines: String = condition.iter().map(|c| format!("\n        {c}")).collect();
        format!("\n    condition:{lines}")
    };
    format!(
        "{head}\ncorrelation:\n    type: {kind}\n    rules:{}\n    group-by:{}\n    timespan: {timespan}{condition}\n",
        list(rules),
        list(group_by),
    )
}

// --- event_count ------------------------------------------------------------------------

/// "Many failed logons": three failed logons of one user, counted from `rule` (a reference
/// to `FAILED_LOGON`), in `timespan`.
fn many_failed_logons(rule: &str, timespan: &str) -> String {
    correlation(
        "title: Many failed logons\nid: 0e95725d-7320-415d-80f7-004da920fc11\nlevel: high",
        "event_count",
        &[rule],
        &["TargetUserName"],
        timespan,
        &["gte: 3"],
    )
}

fn event_count_detector() -> Detector {
    detector_of(&[FAILED_LOGON, &many_failed_logons("failed_logon", "5m")])
}

#[test]
fn event_count_fires_when_the_threshold_is_reached() {
    let detector = event_count_detector();
    let fired = run(
        &detector,
        &failed_logons("alice", "10.0.0.5", &[1000, 1060, 1120]),
    );
    assert_eq!(fired_at(&fired), [2], "{fired:#?}");
    let f = &fired[0];
    assert_eq!(f.title, "Many failed logons");
    assert_eq!(f.kind, "event_count");
    assert_eq!(f.group, group(&[("TargetUserName", "alice")]));
    assert_eq!(f.value, 3.0);
    assert_eq!(f.timespan_secs, 300);
}

#[test]
fn event_count_does_not_fire_below_the_threshold() {
    let detector = event_count_detector();
    let fired = run(
        &detector,
        &[
            (1000, failed_logon("alice", "10.0.0.5")),
            (1060, failed_logon("alice", "10.0.0.5")),
            // Other events in between count for nothing.
            (1070, logon("alice", "10.0.0.5")),
        ],
    );
    assert!(fired.is_empty(), "{fired:#?}");
}

#[test]
fn event_count_does_not_fire_for_events_spread_beyond_the_timespan() {
    let detector = event_count_detector();
    let fired = run(
        &detector,
        &failed_logons("alice", "10.0.0.5", &[1000, 1200, 1400, 1600]),
    );
    assert!(fired.is_empty(), "{fired:#?}");
}

#[test]
fn event_count_counts_each_group_separately() {
    let detector = event_count_detector();
    let fired = run(
        &detector,
        &[
            (1000, failed_logon("alice", "10.0.0.5")),
            (1010, failed_logon("bob", "10.0.0.5")),
            (1020, failed_logon("alice", "10.0.0.5")),
            (1030, failed_logon("bob", "10.0.0.5")),
            (1040, failed_logon("carol", "10.0.0.5")),
            (1050, failed_logon("alice", "10.0.0.5")),
        ],
    );
    assert_eq!(fired_at(&fired), [5], "{fired:#?}");
    assert_eq!(fired[0].group, group(&[("TargetUserName", "alice")]));
}

#[test]
fn event_count_groups_by_every_group_by_field() {
    let detector = detector_of(&[
        FAILED_LOGON,
        &correlation(
            "title: Failed logons per user and source\nid: 6a1d1f84-7f3c-4c0e-9a39-3f0c1a6b2d10\nlevel: high",
            "event_count",
            &["53ba33fd-3a50-4468-a5ef-c583635cfa92"],
            &["TargetUserName", "IpAddress"],
            "1h",
            &["gte: 2"],
        ),
    ]);
    let fired = run(
        &detector,
        &[
            (1000, failed_logon("alice", "10.0.0.5")),
            (1010, failed_logon("alice", "10.0.0.6")),
            (1020, failed_logon("bob", "10.0.0.5")),
            (1030, failed_logon("alice", "10.0.0.6")),
        ],
    );
    assert_eq!(fired_at(&fired), [3], "{fired:#?}");
    let mut g = fired[0].group.clone();
    g.sort();
    assert_eq!(
        g,
        group(&[("IpAddress", "10.0.0.6"), ("TargetUserName", "alice")])
    );
}

#[test]
fn event_count_takes_a_range_condition() {
    // "Example '101 to 200'": `gt` and `lte` together.
    let detector = detector_of(&[
        FAILED_LOGON,
        &correlation(
            "title: A few failed logons\nid: 2c7c2d2e-3b57-4c8b-9f0e-2f6d6a5b0c11\nlevel: low",
            "event_count",
            &["failed_logon"],
            &["TargetUserName"],
            "1h",
            &["gt: 1", "lte: 2"],
        ),
    ]);
    let fired = run(
        &detector,
        &failed_logons("alice", "10.0.0.5", &[1000, 1010, 1020]),
    );
    assert_eq!(fired_at(&fired), [1], "{fired:#?}");
}

#[test]
fn timespan_takes_seconds_minutes_hours_and_days() {
    for (timespan, secs) in [("30s", 30), ("90m", 5400), ("2h", 7200), ("1d", 86_400)] {
        let detector = detector_of(&[FAILED_LOGON, &many_failed_logons("failed_logon", timespan)]);
        // Three events spread over a little less than the timespan fire; a little more
        // does not.
        let spread = |total: i64| {
            [0, total / 2, total].map(|t| (1_000_000 + t, failed_logon("alice", "10.0.0.5")))
        };
        let fired = run(&detector, &spread(secs - 2));
        assert_eq!(fired_at(&fired), [2], "{timespan}: {fired:#?}");
        assert_eq!(fired[0].timespan_secs, secs as u64, "{timespan}");
        let fired = run(&detector, &spread(secs + 2));
        assert!(fired.is_empty(), "{timespan}: {fired:#?}");
    }
}

#[test]
fn correlations_group_by_rule_field_names_through_routing() {
    // `User` is Security 4688's `SubjectUserName` (data/routing.toml).
    let yaml = documents(&[
        r"
        title: Discovery command
        id: 1a2b3c4d-0000-4000-8000-00000000d15c
        name: discovery_command
        logsource:
            product: windows
            category: process_creation
        detection:
            selection:
                Image|endswith:
                    - '\whoami.exe'
                    - '\net.exe'
                    - '\ipconfig.exe'
            condition: selection
        ",
        &correlation(
            "title: Discovery burst\nid: 1a2b3c4d-0000-4000-8000-00000000b005\nlevel: high",
            "event_count",
            &["discovery_command"],
            &["User"],
            "10m",
            &["gte: 3"],
        ),
    ]);
    let detector = detector(&yaml);
    let process = |image: &str, user: &str| {
        security_4688_with(vec![
            (
                "NewProcessName",
                Value::from(format!(r"C:\Windows\System32\{image}")),
            ),
            ("SubjectUserName", Value::from(user)),
        ])
    };
    let fired = run(
        &detector,
        &[
            (1000, process("whoami.exe", "mallory")),
            (1010, process("net.exe", "mallory")),
            (1020, process("net.exe", "bob")),
            (1030, process("ipconfig.exe", "mallory")),
        ],
    );
    assert_eq!(fired_at(&fired), [3], "{fired:#?}");
    assert_eq!(fired[0].group, group(&[("User", "mallory")]));
}

// --- value_count ------------------------------------------------------------------------

fn password_spraying() -> String {
    correlation(
        "title: Password spraying\nid: 0e95725d-7320-415d-80f7-004da920fc12\nlevel: high",
        "value_count",
        &["failed_logon"],
        &["IpAddress"],
        "10m",
        &["field: TargetUserName", "gte: 3"],
    )
}

#[test]
fn value_count_counts_distinct_values_per_group() {
    let detector = detector_of(&[FAILED_LOGON, &password_spraying()]);
    let fired = run(
        &detector,
        &[
            (1000, failed_logon("alice", "10.0.0.5")),
            (1010, failed_logon("alice", "10.0.0.5")),
            (1020, failed_logon("bob", "10.0.0.5")),
            // Another source's users are its own.
            (1030, failed_logon("dave", "10.0.0.9")),
            (1040, failed_logon("bob", "10.0.0.5")),
            (1050, failed_logon("carol", "10.0.0.5")),
        ],
    );
    assert_eq!(fired_at(&fired), [5], "{fired:#?}");
    assert_eq!(fired[0].kind, "value_count");
    assert_eq!(fired[0].group, group(&[("IpAddress", "10.0.0.5")]));
    assert_eq!(fired[0].value, 3.0);
}

#[test]
fn value_count_forgets_values_beyond_the_timespan() {
    let detector = detector_of(&[FAILED_LOGON, &password_spraying()]);
    let fired = run(
        &detector,
        &[
            (1000, failed_logon("alice", "10.0.0.5")),
            (1400, failed_logon("bob", "10.0.0.5")),
            (1800, failed_logon("carol", "10.0.0.5")),
        ],
    );
    assert!(fired.is_empty(), "{fired:#?}");
}

// --- temporal ---------------------------------------------------------------------------

fn recon_rule(name: &str, image: &str, n: u8) -> String {
    format!(
        r"
        title: Recon {name}
        id: 7e0b8c3a-0000-4000-8000-0000000000{n:02}
        name: recon_{name}
        logsource:
            product: windows
            category: process_creation
        detection:
            selection:
                Image|endswith: '\{image}'
            condition: selection
        "
    )
}

/// The recon correlation of `kind`, with these `condition:` lines (none when empty).
fn recon_detector(kind: &str, condition: &[&str]) -> Detector {
    let correlation = correlation(
        "title: Recon sequence\nid: 7e0b8c3a-0000-4000-8000-0000000000ff\nlevel: high",
        kind,
        &["recon_whoami", "recon_net", "recon_ipconfig"],
        &["Computer", "User"],
        "5m",
        condition,
    );
    detector(&documents(&[
        &recon_rule("whoami", "whoami.exe", 1),
        &recon_rule("net", "net.exe", 2),
        &recon_rule("ipconfig", "ipconfig.exe", 3),
        &correlation,
    ]))
}

fn run_process(image: &str, computer: &str, user: &str) -> Event {
    proc_with(vec![
        ("EventID", Value::from(1_i64)),
        (
            "Image",
            Value::from(format!(r"C:\Windows\System32\{image}")),
        ),
        ("Computer", Value::from(computer)),
        ("User", Value::from(user)),
    ])
}

/// bob's processes on ws1: at each time, the image run.
fn bob_on_ws1(steps: &[(i64, &str)]) -> Vec<(i64, Event)> {
    steps
        .iter()
        .map(|&(t, image)| (t, run_process(image, "ws1", "bob")))
        .collect()
}

#[test]
fn temporal_fires_when_every_rule_matched_in_the_timespan_in_any_order() {
    let detector = recon_detector("temporal", &["gte: 3"]);
    let fired = run(
        &detector,
        &bob_on_ws1(&[
            (1000, "ipconfig.exe"),
            (1030, "whoami.exe"),
            (1031, "whoami.exe"),
            (1060, "net.exe"),
        ]),
    );
    assert_eq!(fired_at(&fired), [3], "{fired:#?}");
    assert_eq!(fired[0].kind, "temporal");
    let mut g = fired[0].group.clone();
    g.sort();
    assert_eq!(g, group(&[("Computer", "ws1"), ("User", "bob")]));
}

#[test]
fn temporal_does_not_fire_when_a_rule_is_missing() {
    let detector = recon_detector("temporal", &["gte: 3"]);
    let fired = run(
        &detector,
        &bob_on_ws1(&[
            (1000, "ipconfig.exe"),
            (1030, "whoami.exe"),
            (1060, "whoami.exe"),
        ]),
    );
    assert!(fired.is_empty(), "{fired:#?}");
}

#[test]
fn temporal_does_not_fire_across_groups_or_beyond_the_timespan() {
    let detector = recon_detector("temporal", &["gte: 3"]);
    let fired = run(
        &detector,
        &[
            // Another computer, another user.
            (1000, run_process("ipconfig.exe", "ws1", "bob")),
            (1010, run_process("whoami.exe", "ws2", "bob")),
            (1020, run_process("net.exe", "ws1", "alice")),
            // Spread over more than five minutes.
            (2000, run_process("ipconfig.exe", "ws3", "eve")),
            (2200, run_process("whoami.exe", "ws3", "eve")),
            (2400, run_process("net.exe", "ws3", "eve")),
        ],
    );
    assert!(fired.is_empty(), "{fired:#?}");
}

#[test]
fn temporal_without_a_condition_requires_every_rule() {
    // "All events defined by the rules referred by the rule field must occur in the time
    // frame defined by timespan"; `condition` is not among what temporal requires.
    let detector = recon_detector("temporal", &[]);
    let fired = run(
        &detector,
        &bob_on_ws1(&[
            (1000, "ipconfig.exe"),
            (1030, "whoami.exe"),
            (1060, "net.exe"),
        ]),
    );
    assert_eq!(fired_at(&fired), [2], "{fired:#?}");
}

#[test]
fn temporal_ordered_fires_when_the_rules_match_in_order() {
    let detector = recon_detector("temporal_ordered", &[]);
    let fired = run(
        &detector,
        &bob_on_ws1(&[
            (1000, "whoami.exe"),
            (1010, "net.exe"),
            (1020, "ipconfig.exe"),
        ]),
    );
    assert_eq!(fired_at(&fired), [2], "{fired:#?}");
    assert_eq!(fired[0].kind, "temporal_ordered");
}

#[test]
fn temporal_ordered_does_not_fire_out_of_order() {
    let detector = recon_detector("temporal_ordered", &[]);
    let fired = run(
        &detector,
        &bob_on_ws1(&[
            (1000, "ipconfig.exe"),
            (1010, "net.exe"),
            (1020, "whoami.exe"),
        ]),
    );
    assert!(fired.is_empty(), "{fired:#?}");
}

#[test]
fn temporal_ordered_chains_a_correlation_the_specifications_example() {
    // "Failed Logins Followed by Successful Login", the specification's own example, with
    // a lower count: an event_count correlation referred to by a temporal_ordered one.
    let yaml = documents(&[
        "
        title: Correlation - Multiple Failed Logins Followed by Successful Login
        id: b180ead8-d58f-40b2-ae54-c8940995b9b6
        status: experimental
        correlation:
            type: temporal_ordered
            rules:
                - multiple_failed_login
                - successful_logon
            group-by:
                - TargetUserName
            timespan: 10m
        level: high
        ",
        "
        title: Multiple failed logons
        id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
        name: multiple_failed_login
        correlation:
            type: event_count
            rules:
                - failed_logon
            group-by:
                - TargetUserName
            timespan: 10m
            condition:
                gte: 3
        ",
        FAILED_LOGON,
        SUCCESSFUL_LOGON,
    ]);
    let detector = detector(&yaml);
    let brute_force = [
        (1000, failed_logon("alice", "10.0.0.5")),
        (1010, failed_logon("alice", "10.0.0.5")),
        (1020, failed_logon("alice", "10.0.0.5")),
        (1030, logon("alice", "10.0.0.5")),
    ];
    let fired = run(&detector, &brute_force);
    let titles: Vec<_> = fired.iter().map(|f| (f.at, f.title.as_str())).collect();
    assert!(
        titles.contains(&(
            3,
            "Correlation - Multiple Failed Logins Followed by Successful Login"
        )),
        "{fired:#?}"
    );
    // A success that comes first is not a success after a brute force.
    let fired = run(
        &detector,
        &[
            (1000, logon("bob", "10.0.0.5")),
            (1010, failed_logon("bob", "10.0.0.5")),
            (1020, failed_logon("bob", "10.0.0.5")),
            (1030, failed_logon("bob", "10.0.0.5")),
        ],
    );
    assert!(
        fired
            .iter()
            .all(|f| f.title != "Correlation - Multiple Failed Logins Followed by Successful Login"),
        "{fired:#?}"
    );
}

#[test]
fn temporal_groups_by_field_name_aliases() {
    // The specification's "Field Name Aliases Example": the same address is the
    // destination of one rule's events and the source of the other's.
    let yaml = documents(&[
        "
        title: Internal error
        id: 9d1c1a3e-0000-4000-8000-000000000500
        name: internal_error
        logsource:
            category: webserver
        detection:
            selection:
                http.response.status_code: 500
            condition: selection
        ",
        "
        title: New network connection
        id: 9d1c1a3e-0000-4000-8000-000000000501
        name: new_network_connection
        logsource:
            category: network_connection
        detection:
            selection:
                event.category: network
                event.type: connection
                event.outcome: success
            condition: selection
        ",
        "
        title: Error then connection back
        id: 9d1c1a3e-0000-4000-8000-000000000502
        correlation:
            type: temporal
            rules:
                - internal_error
                - new_network_connection
            group-by:
                - internal_ip
                - remote_ip
            timespan: 10s
            condition:
                gte: 2
            aliases:
                internal_ip:
                    internal_error: destination.ip
                    new_network_connection: source.ip
                remote_ip:
                    internal_error: source.ip
                    new_network_connection: destination.ip
        level: high
        ",
    ]);
    let detector = detector(&yaml);
    let error = |src: &str, dst: &str| {
        event_in(
            None,
            None,
            Some("webserver"),
            vec![
                ("http.response.status_code", Value::from(500_i64)),
                ("source.ip", Value::from(src)),
                ("destination.ip", Value::from(dst)),
            ],
        )
    };
    let connection = |src: &str, dst: &str| {
        event_in(
            None,
            None,
            Some("network_connection"),
            vec![
                ("event.category", Value::from("network")),
                ("event.type", Value::from("connection")),
                ("event.outcome", Value::from("success")),
                ("source.ip", Value::from(src)),
                ("destination.ip", Value::from(dst)),
            ],
        )
    };
    let fired = run(
        &detector,
        &[
            (1000, error("203.0.113.9", "10.0.0.20")),
            // Same pair, the other way round: the internal host calls the remote one.
            (1004, connection("10.0.0.20", "203.0.113.9")),
        ],
    );
    assert_eq!(fired_at(&fired), [1], "{fired:#?}");
    let fired = run(
        &detector,
        &[
            (1000, error("203.0.113.9", "10.0.0.20")),
            // Same direction as the error: not a connection back.
            (1004, connection("203.0.113.9", "10.0.0.20")),
        ],
    );
    assert!(fired.is_empty(), "{fired:#?}");
}

// --- value_sum, value_avg, value_percentile ---------------------------------------------

const WEBSITE_ACCESS: &str = "
title: Website access
id: 3f1e2d4c-0000-4000-8000-00000000ac01
name: website_access
logsource:
    category: proxy
detection:
    selection:
        cs-method:
            - GET
            - POST
    condition: selection
";

fn proxy(client: &str, user: &str, bytes: i64) -> Event {
    event_in(
        None,
        None,
        Some("proxy"),
        vec![
            ("cs-method", Value::from("POST")),
            ("c-ip", Value::from(client)),
            ("cs-username", Value::from(user)),
            ("cs-bytes", Value::from(bytes)),
        ],
    )
}

/// bob's uploads from 10.0.0.7: at each time, the bytes sent.
fn bob_uploads(steps: &[(i64, i64)]) -> Vec<(i64, Event)> {
    steps
        .iter()
        .map(|&(t, bytes)| (t, proxy("10.0.0.7", "bob", bytes)))
        .collect()
}

const UPLOAD_VOLUME: &str =
    "title: Upload volume\nid: 3f1e2d4c-0000-4000-8000-00000000ac02\nlevel: medium";

fn metric_detector(kind: &str, condition: &str) -> Detector {
    let correlation = correlation(
        UPLOAD_VOLUME,
        kind,
        &["website_access"],
        &["c-ip", "cs-username"],
        "1h",
        &["field: cs-bytes", condition],
    );
    detector(&documents(&[WEBSITE_ACCESS, &correlation]))
}

#[test]
fn value_sum_fires_when_the_sum_passes_the_limit() {
    let detector = metric_detector("value_sum", "gt: 1000000");
    let fired = run(
        &detector,
        &[
            (1000, proxy("10.0.0.7", "bob", 400_000)),
            (1100, proxy("10.0.0.7", "bob", 500_000)),
            // Another user's uploads are not bob's.
            (1150, proxy("10.0.0.7", "eve", 900_000)),
            (1200, proxy("10.0.0.7", "bob", 200_000)),
        ],
    );
    assert_eq!(fired_at(&fired), [3], "{fired:#?}");
    assert_eq!(fired[0].kind, "value_sum");
    assert_eq!(fired[0].value, 1_100_000.0);
}

#[test]
fn value_sum_forgets_values_beyond_the_timespan() {
    let detector = metric_detector("value_sum", "gt: 1000000");
    let fired = run(&detector, &bob_uploads(&[(1000, 600_000), (5000, 600_000)]));
    assert!(fired.is_empty(), "{fired:#?}");
}

#[test]
fn value_avg_fires_when_the_average_passes_the_limit() {
    let detector = metric_detector("value_avg", "gt: 500");
    let fired = run(
        &detector,
        &bob_uploads(&[(1000, 100), (1010, 200), (1020, 2000)]),
    );
    assert_eq!(fired_at(&fired), [2], "{fired:#?}");
    assert_eq!(fired[0].kind, "value_avg");
    assert!((fired[0].value - 766.666).abs() < 0.01, "{fired:#?}");
}

#[test]
fn value_percentile_compares_the_median_by_default() {
    // The specification leaves the percentile's meaning open ("Check when a certain
    // percentage of observed values occur"); rsigma compares the value at a percentile
    // rank, the median unless `percentile:` says otherwise.
    let detector = metric_detector("value_percentile", "gt: 1000");
    let fired = run(
        &detector,
        &bob_uploads(&[
            (1000, 10),
            (1010, 20),
            (1020, 5000),
            (1030, 6000),
            (1040, 7000),
        ]),
    );
    // Medians: 10, 15, 20, 2510, 5000.
    assert_eq!(fired_at(&fired), [3, 4], "{fired:#?}");
    assert_eq!(fired[0].kind, "value_percentile");
}

#[test]
fn value_percentile_at_another_percentile_fails_to_load() {
    // rsigma-eval 0.23 never compares a percentile with the condition; vigil evaluates the
    // default (the median) and refuses the others rather than fire on every event.
    let correlation = correlation(
        UPLOAD_VOLUME,
        "value_percentile",
        &["website_access"],
        &["c-ip"],
        "1h",
        &["field: cs-bytes", "percentile: 95", "gt: 1000"],
    );
    let (rules, report) = vigil_sigma::RuleSet::from_yaml(
        "percentile.yml",
        &documents(&[WEBSITE_ACCESS, &correlation]),
        None,
    );
    assert_eq!(report.loaded, 1, "{report:#?}");
    assert!(rules.correlations().is_empty());
    assert_eq!(report.failed.len(), 1, "{report:#?}");
    let failure = &report.failed[0];
    assert_eq!(
        failure.id.as_deref(),
        Some("3f1e2d4c-0000-4000-8000-00000000ac02")
    );
    assert!(
        failure.reason.contains("correlation.condition.percentile"),
        "{failure:?}"
    );
}

// --- generate ---------------------------------------------------------------------------

#[test]
fn rules_a_correlation_counts_are_not_reported_unless_it_says_generate() {
    let detector = event_count_detector();
    let rule = detector
        .rules()
        .rules()
        .find(|r| r.title == "Failed logon")
        .unwrap();
    assert!(!rule.generate);
    assert!(rule.correlated);
    let correlation = detector
        .rules()
        .rules()
        .find(|r| r.title == "Many failed logons")
        .unwrap();
    assert!(correlation.generate);

    let generating = format!(
        "{}generate: true\n",
        many_failed_logons("failed_logon", "5m")
    );
    let detector = detector_of(&[FAILED_LOGON, &generating]);
    let rule = detector
        .rules()
        .rules()
        .find(|r| r.title == "Failed logon")
        .unwrap();
    assert!(rule.generate);
    assert!(rule.correlated);
}

#[test]
fn a_rule_no_correlation_counts_is_reported_and_not_correlated() {
    let detector = detector_of(&[
        FAILED_LOGON,
        SUCCESSFUL_LOGON,
        &many_failed_logons("failed_logon", "5m"),
    ]);
    let rule = detector
        .rules()
        .rules()
        .find(|r| r.title == "Successful logon")
        .unwrap();
    assert!(rule.generate);
    assert!(!rule.correlated);
}

#[test]
fn a_correlation_may_refer_to_a_rule_by_id_or_by_name() {
    for reference in ["failed_logon", "53ba33fd-3a50-4468-a5ef-c583635cfa92"] {
        let detector = detector_of(&[FAILED_LOGON, &many_failed_logons(reference, "5m")]);
        let fired = run(
            &detector,
            &failed_logons("alice", "10.0.0.5", &[1000, 1010, 1020]),
        );
        assert_eq!(fired_at(&fired), [2], "{reference}: {fired:#?}");
    }
}

fn detector_of(parts: &[&str]) -> Detector {
    detector(&documents(parts))
}
