use proptest::prelude::*;
use serde_json::json;
use vigil_detect::{Detection, Level};

use super::*;
use crate::fixtures::{detection, incident, with_techniques};

fn config() -> TriageConfig {
    TriageConfig::default()
}

fn scored(detections: &[Detection], members: &[usize], config: &TriageConfig) -> Triage {
    let stats = DatasetStats::new(detections);
    score(&incident(detections, members), detections, &stats, config)
}

fn get<'a>(triage: &'a Triage, name: &str) -> Option<&'a Factor> {
    triage.factors.iter().find(|f| f.name == name)
}

fn weight(triage: &Triage, name: &str) -> f32 {
    get(triage, name).map_or(f32::NAN, |f| f.weight)
}

const T0: &str = "2024-05-01T10:00:00Z";

#[test]
fn rule_level_gives_the_highest_level_and_counts_further_severe_rules() {
    let ds = vec![
        detection("a", Level::Critical, "h1", T0, json!({})),
        detection("b", Level::High, "h1", T0, json!({"x": 1})),
        detection("c", Level::High, "h1", T0, json!({"x": 2})),
        detection("d", Level::Low, "h1", T0, json!({"x": 3})),
    ];
    let t = scored(&ds, &[0, 1, 2, 3], &config());
    let f = get(&t, factor::RULE_LEVEL).unwrap();
    assert_eq!(f.weight, 64.0);
    assert_eq!(
        f.detail,
        "highest level critical (1 critical, 2 high, 1 low detections); 2 more rules of level \
         high or above"
    );
    let t = scored(&ds, &[3], &config());
    assert_eq!(weight(&t, factor::RULE_LEVEL), 15.0);
}

#[test]
fn more_severe_rules_are_capped() {
    let ds: Vec<Detection> = (0..10)
        .map(|i| detection(&format!("r{i}"), Level::High, "h1", T0, json!({})))
        .collect();
    let all: Vec<usize> = (0..10).collect();
    assert_eq!(
        weight(&scored(&ds, &all, &config()), factor::RULE_LEVEL),
        51.0
    );
}

#[test]
fn rule_status_takes_the_most_mature_rule_at_the_top_level() {
    let mut a = detection("a", Level::High, "h1", T0, json!({}));
    a.status = Some("experimental");
    let mut b = detection("b", Level::High, "h1", T0, json!({"x": 1}));
    b.status = Some("stable");
    let mut c = detection("c", Level::Low, "h1", T0, json!({"x": 2}));
    c.status = Some("deprecated");
    let ds = vec![a, b, c];
    assert_eq!(
        weight(&scored(&ds, &[0, 1, 2], &config()), factor::RULE_STATUS),
        3.0
    );
    assert_eq!(
        weight(&scored(&ds, &[0, 2], &config()), factor::RULE_STATUS),
        -3.0
    );
    assert_eq!(
        weight(&scored(&ds, &[2], &config()), factor::RULE_STATUS),
        -8.0
    );
}

#[test]
fn techniques_and_tactics_count_beyond_the_first_with_caps() {
    let d = with_techniques(
        detection("a", Level::Medium, "h1", T0, json!({})),
        &[
            ("T1003.001", "credential-access", 1.0),
            ("T1021.002", "lateral-movement", 1.0),
            ("T1059.001", "execution", 1.0),
        ],
    );
    let t = scored(&[d], &[0], &config());
    assert_eq!(weight(&t, factor::TECHNIQUES), 6.0);
    assert_eq!(weight(&t, factor::TACTICS), 6.0);
    let many: Vec<(String, String)> = (0..8)
        .map(|i| (format!("T10{i:02}"), format!("tactic-{i}")))
        .collect();
    let refs: Vec<(&str, &str, f32)> = many
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str(), 1.0))
        .collect();
    let d = with_techniques(detection("a", Level::Medium, "h1", T0, json!({})), &refs);
    let t = scored(&[d], &[0], &config());
    assert_eq!(weight(&t, factor::TECHNIQUES), 9.0);
    assert_eq!(weight(&t, factor::TACTICS), 9.0);
}

#[test]
fn no_techniques_no_attack_factors() {
    let ds = vec![detection("a", Level::Medium, "h1", T0, json!({}))];
    let t = scored(&ds, &[0], &config());
    assert!(get(&t, factor::TECHNIQUES).is_none());
    assert!(get(&t, factor::TACTICS).is_none());
    assert!(get(&t, factor::KILL_CHAIN).is_none());
}

#[test]
fn kill_chain_rewards_a_progression_and_a_long_sequence() {
    let ds = vec![detection("a", Level::Medium, "h1", T0, json!({}))];
    let mut inc = incident(&ds, &[0]);
    inc.stage.sequence = [
        "credential-access",
        "execution",
        "lateral-movement",
        "exfiltration",
    ]
    .map(String::from)
    .to_vec();
    inc.stage.progression = Some("intrusion through exfiltration".into());
    inc.stage.reached = Some("exfiltration".into());
    let t = score(&inc, &ds, &DatasetStats::new(&ds), &config());
    let f = get(&t, factor::KILL_CHAIN).unwrap();
    assert_eq!(f.weight, 14.0);
    assert!(
        f.detail
            .contains("progression \"intrusion through exfiltration\"")
    );
    inc.stage.progression = None;
    inc.stage.sequence.truncate(2);
    let t = score(&inc, &ds, &DatasetStats::new(&ds), &config());
    assert_eq!(weight(&t, factor::KILL_CHAIN), 0.0);
}

#[test]
fn a_rule_on_one_host_of_many_is_rarer_than_one_everywhere() {
    let mut ds = Vec::new();
    for h in 0..20 {
        ds.push(detection(
            "common",
            Level::Medium,
            &format!("h{h}"),
            T0,
            json!({}),
        ));
    }
    ds.push(detection("rare", Level::Medium, "h0", T0, json!({})));
    let common = scored(&ds, &[1], &config());
    let rare = scored(&ds, &[20], &config());
    assert_eq!(weight(&common, factor::RULE_RARITY), 0.0);
    assert_eq!(weight(&rare, factor::RULE_RARITY), 7.6);
    assert_eq!(
        get(&rare, factor::RULE_RARITY).unwrap().detail,
        "rarest rule \"Rule rare\" fires on 1 of 20 hosts in the data set"
    );
}

#[test]
fn on_few_hosts_rarity_counts_detections() {
    let mut ds: Vec<Detection> = (0..9)
        .map(|i| detection("noisy", Level::Low, "h1", T0, json!({"n": i})))
        .collect();
    ds.push(detection("once", Level::Low, "h1", T0, json!({})));
    let t = scored(&ds, &[9], &config());
    assert_eq!(weight(&t, factor::RULE_RARITY), 7.2);
    assert!(
        get(&t, factor::RULE_RARITY)
            .unwrap()
            .detail
            .contains("1 of 10 detections")
    );
}

#[test]
fn rare_key_field_values_add_points() {
    let mut ds: Vec<Detection> = (0..9)
        .map(|i| {
            detection(
                "proc",
                Level::Low,
                "h1",
                T0,
                json!({"Image": "C:\\Windows\\System32\\svchost.exe", "n": i}),
            )
        })
        .collect();
    ds.push(detection(
        "proc",
        Level::Low,
        "h1",
        T0,
        json!({"Image": "C:\\Users\\Public\\x.exe"}),
    ));
    let rare = scored(&ds, &[9], &config());
    let f = get(&rare, factor::VALUE_RARITY).unwrap();
    assert_eq!(f.weight, 5.4);
    assert_eq!(
        f.detail,
        "rarest process image \"c:\\users\\public\\x.exe\" is in 1 of 10 detections with a \
         process image"
    );
    let common = scored(&ds, &[0], &config());
    assert_eq!(weight(&common, factor::VALUE_RARITY), 0.6);
    let none = scored(
        &[detection("a", Level::Low, "h", T0, json!({}))],
        &[0],
        &config(),
    );
    assert!(get(&none, factor::VALUE_RARITY).is_none());
}

#[test]
fn asset_and_identity_criticality_come_from_config() {
    let config = TriageConfig::from_toml(
        r#"
        [[asset]]
        host = "ws*"
        criticality = "low"
        [[asset]]
        host = "DC*.corp.example"
        criticality = "critical"
        note = "domain controllers"
        [[identity]]
        user = "CORP\\Administrator"
        criticality = "high"
        "#,
        "triage.toml",
    )
    .unwrap();
    let ds = vec![
        detection(
            "a",
            Level::Medium,
            "dc01",
            T0,
            json!({"User": "CORP\\administrator"}),
        ),
        detection("b", Level::Medium, "ws7", T0, json!({"User": "bob"})),
    ];
    let t = scored(&ds, &[0, 1], &config);
    let asset = get(&t, factor::ASSET_CRITICALITY).unwrap();
    assert_eq!(asset.weight, 15.0);
    assert_eq!(
        asset.detail,
        "host dc01 is critical (domain controllers); 2 incident hosts have a criticality"
    );
    let identity = get(&t, factor::IDENTITY_CRITICALITY).unwrap();
    assert_eq!(
        (identity.weight, identity.detail.as_str()),
        (8.0, "user administrator is high")
    );
    let t = scored(&ds, &[1], &config);
    assert_eq!(weight(&t, factor::ASSET_CRITICALITY), -5.0);
    assert!(get(&t, factor::IDENTITY_CRITICALITY).is_none());
}

#[test]
fn threat_intel_is_found_by_tag_or_rule_id_and_absent_otherwise() {
    let mut tagged = detection("x", Level::High, "h1", T0, json!({}));
    tagged.tags = vec!["IOC.ip".into()];
    let by_id = detection("intel-ip-c2", Level::High, "h1", T0, json!({"a": 1}));
    let mut not = detection("y", Level::High, "h1", T0, json!({"a": 2}));
    not.tags = vec!["iocs".into(), "attack.t1003".into()];
    assert!(is_intel(&tagged) && is_intel(&by_id) && !is_intel(&not));
    let ds = vec![tagged, by_id, not];
    let t = scored(&ds, &[0, 1, 2], &config());
    let f = get(&t, factor::THREAT_INTEL).unwrap();
    assert_eq!(f.weight, 15.0);
    assert_eq!(
        f.detail,
        "2 threat-intel detections (rules: intel-ip-c2, x)"
    );
    assert!(get(&scored(&ds, &[2], &config()), factor::THREAT_INTEL).is_none());
}

#[test]
fn correlation_detections_add_points() {
    let mut d = detection("brute", Level::High, "h1", T0, json!({}));
    d.correlation = Some(json!({"type": "event_count", "value": 20}));
    let ds = vec![d, detection("z", Level::Low, "h1", T0, json!({}))];
    let t = scored(&ds, &[0], &config());
    let f = get(&t, factor::CORRELATION).unwrap();
    assert_eq!(f.weight, 8.0);
    assert_eq!(
        f.detail,
        "1 correlation detection: Rule brute (event_count)"
    );
    assert!(get(&scored(&ds, &[1], &config()), factor::CORRELATION).is_none());
}

#[test]
fn older_incidents_lose_a_little_up_to_a_cap() {
    let ds = vec![
        detection("a", Level::High, "h1", "2024-05-01T00:00:00Z", json!({})),
        detection("b", Level::High, "h1", "2024-05-05T00:00:00Z", json!({})),
        detection("c", Level::High, "h1", "2024-08-01T00:00:00Z", json!({})),
    ];
    let t = scored(&ds, &[2], &config());
    assert_eq!(weight(&t, factor::RECENCY), 0.0);
    let t = scored(&ds, &[1], &config());
    let f = get(&t, factor::RECENCY).unwrap();
    assert_eq!(f.weight, -10.0);
    assert_eq!(f.detail, "last seen 88.0 days before the newest detection");
    let mut near = config();
    near.now = Some("2024-05-05T12:00:00Z".parse().unwrap());
    let t = scored(&ds, &[0], &near);
    let f = get(&t, factor::RECENCY).unwrap();
    assert_eq!(f.weight, -3.5);
    assert_eq!(
        f.detail,
        "last seen 4.5 days before the configured time 2024-05-05T12:00:00Z"
    );
}

#[test]
fn confidence_follows_mapping_status_and_corroboration() {
    let mut a = with_techniques(
        detection("a", Level::High, "h1", T0, json!({})),
        &[("T1003.001", "credential-access", 1.0)],
    );
    a.status = Some("stable");
    let mut b = with_techniques(
        detection("b", Level::High, "h1", T0, json!({"x": 1})),
        &[("T1021.002", "lateral-movement", 0.6)],
    );
    b.status = Some("experimental");
    let ds = vec![a, b];
    let t = scored(&ds, &[0, 1], &config());
    assert_eq!(weight(&t, factor::CONFIDENCE_MAPPING), 32.0);
    assert_eq!(weight(&t, factor::CONFIDENCE_STATUS), 22.5);
    assert_eq!(weight(&t, factor::CONFIDENCE_CORROBORATION), 18.0);
    assert_eq!(t.confidence, 0.73);
    // One stable rule with a sure mapping is surer than these two, one experimental.
    let alone = scored(&ds, &[0], &config());
    assert_eq!(alone.confidence, 0.82);
    let unmapped = scored(
        &[detection("u", Level::High, "h", T0, json!({}))],
        &[0],
        &config(),
    );
    assert_eq!(unmapped.confidence, 0.45);
}

#[test]
fn severity_follows_the_bands() {
    let bands = Bands::default();
    assert_eq!(Severity::of(100, &bands), Severity::Critical);
    assert_eq!(Severity::of(80, &bands), Severity::Critical);
    assert_eq!(Severity::of(79, &bands), Severity::High);
    assert_eq!(Severity::of(60, &bands), Severity::High);
    assert_eq!(Severity::of(59, &bands), Severity::Medium);
    assert_eq!(Severity::of(35, &bands), Severity::Medium);
    assert_eq!(Severity::of(34, &bands), Severity::Low);
    assert_eq!(Severity::of(0, &bands), Severity::Low);
}

#[test]
fn the_score_is_the_clamped_sum_of_score_factors() {
    let ds = vec![detection("a", Level::Critical, "h1", T0, json!({}))];
    let mut config = config();
    config.weights.level_critical = 500.0;
    let t = scored(&ds, &[0], &config);
    assert_eq!(t.score, 100);
    config.weights.level_critical = -500.0;
    assert_eq!(scored(&ds, &[0], &config).score, 0);
    let t = scored(&ds, &[0], &TriageConfig::default());
    let sum: f32 = t
        .factors
        .iter()
        .filter(|f| !f.name.starts_with("confidence."))
        .map(|f| f.weight)
        .sum();
    assert_eq!(f32::from(t.score), sum.round());
}

/// One incident of a credential theft that moved to a domain controller, scored with a
/// config that knows the DC and the administrator. The snapshot is the explanation an
/// analyst reads; a change in it is a change in what vigil tells them.
#[test]
fn factors_of_a_credential_theft_incident() {
    let config = TriageConfig::from_toml(
        r#"
        [[asset]]
        host = "dc*"
        criticality = "critical"
        note = "domain controllers"
        [[identity]]
        user = "administrator"
        criticality = "high"
        "#,
        "triage.toml",
    )
    .unwrap();
    let mut ds = Vec::new();
    // Background: a common rule on 20 workstations.
    for h in 0..20 {
        ds.push(detection(
            "proc-creation-common",
            Level::Low,
            &format!("ws{h:02}"),
            "2024-05-01T08:00:00Z",
            json!({"Image": "C:\\Windows\\System32\\svchost.exe", "User": "svc"}),
        ));
    }
    let mut lsass = with_techniques(
        detection(
            "lsass-dump-comsvcs",
            Level::High,
            "ws07",
            "2024-05-01T09:00:00Z",
            json!({
                "Image": "C:\\Windows\\System32\\rundll32.exe",
                "CommandLine": "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 C:\\Users\\Public\\l.dmp full",
                "User": "CORP\\Administrator",
            }),
        ),
        &[("T1003.001", "credential-access", 1.0)],
    );
    lsass.status = Some("stable");
    lsass.id = lsass.content_id();
    let mut psexec = with_techniques(
        detection(
            "psexec-service",
            Level::High,
            "dc01",
            "2024-05-01T09:20:00Z",
            json!({"ServiceName": "PSEXESVC", "User": "administrator"}),
        ),
        &[
            ("T1021.002", "lateral-movement", 1.0),
            ("T1569.002", "execution", 0.9),
        ],
    );
    psexec.status = Some("test");
    let mut c2 = detection(
        "intel-ip-c2",
        Level::Critical,
        "dc01",
        "2024-05-01T09:40:00Z",
        json!({"DestinationIp": "203.0.113.45", "User": "administrator"}),
    );
    c2.tags = vec!["ioc.ip".into()];
    c2.status = Some("experimental");
    ds.extend([lsass, psexec, c2]);
    let mut inc = incident(&ds, &[20, 21, 22]);
    inc.tactics = ["execution", "credential-access", "lateral-movement"]
        .map(String::from)
        .to_vec();
    inc.stage.sequence = ["credential-access", "lateral-movement"]
        .map(String::from)
        .to_vec();
    inc.stage.progression = Some("credential theft then lateral movement".into());
    inc.stage.reached = Some("lateral-movement".into());
    let stats = DatasetStats::new(&ds);
    let t = score(&inc, &ds, &stats, &config);
    let points: f32 = t
        .factors
        .iter()
        .filter(|f| !f.name.starts_with("confidence."))
        .map(|f| f.weight)
        .sum();
    let mut text = format!(
        "score {} ({}) from {points:.1} points, confidence {}\n",
        t.score,
        t.severity.as_str(),
        t.confidence
    );
    for f in &t.factors {
        text.push_str(&format!("{:>6} {:<24} {}\n", f.weight, f.name, f.detail));
    }
    vigil_test_support::snapshot_settings().bind(|| insta::assert_snapshot!(text));
}

fn arb_level() -> impl Strategy<Value = Level> {
    prop_oneof![
        Just(Level::Informational),
        Just(Level::Low),
        Just(Level::Medium),
        Just(Level::High),
        Just(Level::Critical),
    ]
}

fn arb_status() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        Just(None),
        Just(Some("stable")),
        Just(Some("test")),
        Just(Some("experimental")),
        Just(Some("deprecated")),
        Just(Some("unsupported")),
    ]
}

prop_compose! {
    fn arb_detection()(
        rule in 0..6u8,
        level in arb_level(),
        status in arb_status(),
        host in 0..5u8,
        minutes in 0..100_000i64,
        image in 0..4u8,
        intel in any::<bool>(),
        correlated in any::<bool>(),
        techniques in proptest::collection::vec((0..10u8, 0..6u8, 0.0f32..=1.0), 0..4),
    ) -> Detection {
        let time = jiff::Timestamp::UNIX_EPOCH + jiff::SignedDuration::from_mins(minutes);
        let mut d = detection(
            &format!("r{rule}"),
            level,
            &format!("h{host}"),
            &time.to_string(),
            json!({"Image": format!("i{image}.exe"), "User": format!("u{host}")}),
        );
        d.status = status;
        if intel {
            d.tags.push("ioc".into());
        }
        if correlated {
            d.correlation = Some(json!({"type": "event_count"}));
        }
        let ids: Vec<(String, String, f32)> = techniques
            .iter()
            .map(|(t, tactic, c)| (format!("T1{t:03}"), format!("tactic-{tactic}"), *c))
            .collect();
        let refs: Vec<(&str, &str, f32)> =
            ids.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), *c)).collect();
        let mut d = with_techniques(d, &refs);
        d.id = d.content_id();
        d
    }
}

proptest! {
    #[test]
    fn scores_and_confidence_stay_in_range(
        ds in proptest::collection::vec(arb_detection(), 1..30),
        pick in proptest::collection::vec(any::<proptest::sample::Index>(), 1..10),
        long_sequence in any::<bool>(),
        criticality in any::<bool>(),
    ) {
        let members: Vec<usize> = pick.iter().map(|i| i.index(ds.len())).collect();
        let mut inc = incident(&ds, &members);
        if long_sequence {
            inc.stage.sequence = (0..9).map(|i| format!("tactic-{i}")).collect();
            inc.stage.progression = Some("any".into());
        }
        let config = if criticality {
            TriageConfig::from_toml(
                "[[asset]]\nhost = \"h*\"\ncriticality = \"critical\"\n\
                 [[identity]]\nuser = \"u*\"\ncriticality = \"critical\"\n",
                "t.toml",
            ).unwrap()
        } else {
            TriageConfig::default()
        };
        let stats = DatasetStats::new(&ds);
        let t = score(&inc, &ds, &stats, &config);
        prop_assert!(t.score <= 100);
        prop_assert!((0.0..=1.0).contains(&t.confidence));
        prop_assert_eq!(t.severity, Severity::of(t.score, &config.bands));
        prop_assert!(t.factors.iter().all(|f| f.weight.is_finite()));
        // Deterministic.
        prop_assert_eq!(&t, &score(&inc, &ds, &stats, &config));
    }
}
