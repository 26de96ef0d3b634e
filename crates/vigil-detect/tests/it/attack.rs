//! Detections carry their rule's ATT&CK techniques and tactics, with confidence and
//! evidence.

use vigil_attack::Attack;
use vigil_detect::{HuntOptions, RuleTechniques, hunt};
use vigil_ingest::{Ingest, Plan, ReadOptions};
use vigil_normalize::Taxonomy;
use vigil_sigma::{Detector, Routing, RuleSet, builtin};

#[test]
fn builtin_detections_carry_techniques_and_tactics_from_their_tags() {
    let (rules, _) = RuleSet::load(&builtin::sources(), None);
    let detector = Detector::new(rules, Routing::builtin().unwrap());
    let ingest = Ingest::new(ReadOptions {
        year: Some(2024),
        ..ReadOptions::default()
    });
    let examples = vigil_test_support::examples();
    let mut report = hunt(
        &detector,
        &Taxonomy::builtin().unwrap(),
        &ingest,
        Plan::new(std::slice::from_ref(&examples)),
        HuntOptions::default(),
        |e| panic!("{e}"),
    );
    assert!(!report.detections.is_empty());
    let attack = Attack::embedded().unwrap();
    RuleTechniques::new(&attack, None).annotate(&mut report.detections, detector.rules());
    for detection in &report.detections {
        let mapping = &detection.attack;
        assert!(
            !mapping.techniques.is_empty() && !mapping.tactics.is_empty(),
            "{}: {mapping:?}",
            detection.rule_title
        );
        for technique in &mapping.techniques {
            assert_eq!(technique.confidence, 1.0, "{}", detection.rule_title);
            assert!(technique.evidence[0].starts_with("tag attack.t"));
        }
        let order: Vec<usize> = mapping
            .tactics
            .iter()
            .map(|t| attack.tactic_order(&t.shortname).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    }
    // The JSON line of a detection has them as `techniques` and `tactics`.
    let brute = report
        .detections
        .iter()
        .find(|d| d.rule_title == "SSH Brute Force From One Address")
        .unwrap();
    let json = serde_json::to_value(brute).unwrap();
    assert_eq!(json["techniques"][0]["id"], "T1110.001");
    assert_eq!(json["techniques"][0]["name"], "Password Guessing");
    assert_eq!(json["tactics"][0]["shortname"], "credential-access");
    assert_eq!(json["tactics"][0]["confidence"], 1.0);
}

#[test]
fn rules_without_technique_tags_are_mapped_from_their_text() {
    let yaml = r#"
title: Procdump Of LSASS
id: 11111111-2222-3333-4444-555555555555
description: Dumping the memory of lsass with procdump.
tags:
    - attack.t1685
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        CommandLine|contains: lsass
    condition: selection
"#;
    let (rules, report) = RuleSet::from_yaml("rule.yml", yaml, None);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let attack = Attack::embedded().unwrap();
    let seen = std::sync::Mutex::new(Vec::new());
    let text = |parts: &[(&str, f32)]| {
        seen.lock().unwrap().push(format!("{:?}", parts));
        let technique = attack.technique("T1003.001").unwrap();
        vec![vigil_attack::TechniqueHit {
            id: technique.id.clone(),
            name: technique.name.clone(),
            tactics: technique.tactics.clone(),
            confidence: 0.5,
            evidence: vec!["text: \"lsass\" in name".into()],
        }]
    };
    let mut techniques = RuleTechniques::new(&attack, Some(&text));
    let rule = rules.rules().next().unwrap();
    let mapping = techniques.of(rule);
    assert_eq!(
        *seen.lock().unwrap(),
        [r#"[("Procdump Of LSASS", 2.0), ("Dumping the memory of lsass with procdump.", 1.0)]"#]
    );
    assert_eq!(mapping.techniques[0].id, "T1003.001");
    assert_eq!(
        mapping.techniques[0].evidence,
        [
            "mapped from the rule's title and description",
            "text: \"lsass\" in name"
        ]
    );
    assert_eq!(mapping.tactics[0].shortname, "credential-access");
    assert_eq!(mapping.tactics[0].confidence, 0.5);
    // The tag that did not resolve is reported, not lost.
    assert_eq!(mapping.unresolved[0].tag, "attack.t1685");
    // The mapping is computed once per rule.
    let again = techniques.of(rule);
    assert!(std::sync::Arc::ptr_eq(&mapping, &again));
    assert_eq!(seen.lock().unwrap().len(), 1);
}
