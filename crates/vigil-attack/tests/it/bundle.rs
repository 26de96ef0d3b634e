//! The knowledge base read from the real bundle agrees with the bundle, and the embedded
//! table is the one generated from it.

use std::collections::BTreeMap;

use serde_json::Value;
use vigil_attack::{Attack, Status};

fn bundle() -> Option<(String, Value)> {
    let path = vigil_test_support::corpus_path("attack/enterprise-attack.json")?;
    let text = std::fs::read_to_string(path).unwrap();
    let json = serde_json::from_str(&text).unwrap();
    Some((text, json))
}

fn attack_id(object: &Value) -> Option<&str> {
    object["external_references"]
        .as_array()?
        .iter()
        .find(|r| r["source_name"] == "mitre-attack")?["external_id"]
        .as_str()
}

fn flag(object: &Value, name: &str) -> bool {
    object[name].as_bool().unwrap_or(false)
}

/// Counts straight from the JSON, independently of the loader.
#[derive(Debug, Default, PartialEq)]
struct Counts {
    tactics: usize,
    techniques: usize,
    subtechniques: usize,
    revoked: usize,
    deprecated: usize,
    groups: usize,
    software: usize,
    mitigations: usize,
}

#[test]
fn counts_match_the_bundle() {
    let Some((text, json)) = bundle() else { return };
    let attack = Attack::from_bundle(&text, "enterprise-attack.json").unwrap();

    let mut expected = Counts::default();
    for object in json["objects"].as_array().unwrap() {
        let active = !flag(object, "revoked") && !flag(object, "x_mitre_deprecated");
        match object["type"].as_str().unwrap() {
            "x-mitre-tactic" if active => expected.tactics += 1,
            "attack-pattern" if attack_id(object).is_some() => {
                if flag(object, "revoked") {
                    expected.revoked += 1;
                } else if flag(object, "x_mitre_deprecated") {
                    expected.deprecated += 1;
                } else if flag(object, "x_mitre_is_subtechnique") {
                    expected.subtechniques += 1;
                } else {
                    expected.techniques += 1;
                }
            }
            "intrusion-set" if active => expected.groups += 1,
            "malware" | "tool" if active => expected.software += 1,
            "course-of-action"
                if active && attack_id(object).is_some_and(|id| id.starts_with('M')) =>
            {
                expected.mitigations += 1
            }
            _ => {}
        }
    }

    let active = |kind: fn(&vigil_attack::Entity) -> bool| {
        attack
            .entities()
            .iter()
            .filter(|e| e.status.is_active() && kind(e))
            .count()
    };
    let actual = Counts {
        tactics: attack.tactics().len(),
        techniques: attack
            .active_techniques()
            .filter(|t| !t.is_subtechnique())
            .count(),
        subtechniques: attack
            .active_techniques()
            .filter(|t| t.is_subtechnique())
            .count(),
        revoked: attack
            .techniques()
            .iter()
            .filter(|t| matches!(t.status, Status::Revoked(_)))
            .count(),
        deprecated: attack
            .techniques()
            .iter()
            .filter(|t| t.status == Status::Deprecated)
            .count(),
        groups: active(|e| e.kind == vigil_attack::EntityKind::Group),
        software: active(|e| e.kind.is_software()),
        mitigations: active(|e| e.kind == vigil_attack::EntityKind::Mitigation),
    };
    assert_eq!(actual, expected);
    // The figures of ATT&CK 18.1 as the corpus README states them: 691 current techniques,
    // 475 of them sub-techniques; 14 tactics.
    assert_eq!(attack.version(), Some("18.1"));
    assert_eq!(actual.tactics, 14);
    assert_eq!(actual.techniques + actual.subtechniques, 691);
    assert_eq!(actual.subtechniques, 475);
}

#[test]
fn tactics_are_in_kill_chain_order() {
    let attack = Attack::embedded().unwrap();
    let order: Vec<&str> = attack
        .tactics()
        .iter()
        .map(|t| t.shortname.as_str())
        .collect();
    assert_eq!(
        order,
        [
            "reconnaissance",
            "resource-development",
            "initial-access",
            "execution",
            "persistence",
            "privilege-escalation",
            "defense-evasion",
            "credential-access",
            "discovery",
            "lateral-movement",
            "collection",
            "command-and-control",
            "exfiltration",
            "impact"
        ]
    );
    assert_eq!(attack.tactic("credential_access").unwrap().id, "TA0006");
    assert_eq!(attack.tactic("Credential Access").unwrap().id, "TA0006");
    assert_eq!(
        attack.tactic("ta0006").unwrap().shortname,
        "credential-access"
    );
}

#[test]
fn the_embedded_table_is_the_one_generated_from_the_bundle() {
    let Some((text, _)) = bundle() else { return };
    let from_bundle = Attack::from_bundle(&text, "enterprise-attack.json").unwrap();
    let embedded_table = include_str!("../../data/enterprise-attack.jsonl");
    // Not assert_eq: a difference would print half a megabyte.
    assert!(
        from_bundle.table() == embedded_table,
        "crates/vigil-attack/data is stale: run `cargo xtask attack-table`"
    );
    let embedded = Attack::embedded().unwrap();
    // The embedded text is the bundle's as index terms, not MITRE's prose.
    assert!(from_bundle.has_prose() && !embedded.has_prose());
    assert!(embedded.terms_table() == from_bundle.terms_table());
    assert_eq!(embedded.techniques(), from_bundle.techniques());
    assert_eq!(embedded.entities(), from_bundle.entities());
    // A table read back and written again is the same table.
    assert!(embedded.table() == embedded_table);
}

#[test]
fn revoked_ids_remap_to_their_replacements() {
    let attack = Attack::embedded().unwrap();
    // Revoked techniques and what ATT&CK replaced them with.
    let cases = [
        ("T1086", "T1059.001"), // PowerShell
        ("T1088", "T1548.002"), // Bypass User Account Control
        ("T1085", "T1218.011"), // Rundll32
        ("T1117", "T1218.010"), // Regsvr32
        ("T1060", "T1547.001"), // Registry Run Keys / Startup Folder
    ];
    for (old, new) in cases {
        let technique = attack.technique(old).unwrap();
        assert!(
            matches!(technique.status, Status::Revoked(Some(ref by)) if by == new),
            "{old}: {:?}",
            technique.status
        );
        let (current, followed) = attack.resolve(old).unwrap();
        assert_eq!((current.id.as_str(), followed), (new, true));
    }
    // Deprecated techniques have no replacement and stay as they are.
    let scripting = attack.resolve("T1064").unwrap();
    assert_eq!(
        (scripting.0.status.clone(), scripting.1),
        (Status::Deprecated, false)
    );
    // Every revoked technique resolves to a current one.
    let mut unresolved = BTreeMap::new();
    for technique in attack.techniques() {
        if let Status::Revoked(by) = &technique.status {
            let (current, _) = attack.resolve(&technique.id).unwrap();
            if !current.status.is_active() {
                unresolved.insert(technique.id.clone(), by.clone());
            }
        }
    }
    assert!(unresolved.is_empty(), "{unresolved:?}");
}

#[test]
fn technique_details_come_from_the_bundle() {
    let attack = Attack::embedded().unwrap();
    let lsass = attack.technique("t1003.001").unwrap();
    assert_eq!(lsass.name, "LSASS Memory");
    assert_eq!(lsass.parent_id(), Some("T1003"));
    assert_eq!(lsass.platforms, ["Windows"]);
    assert!(lsass.mitigations.iter().any(|m| m == "M1043"), "{lsass:?}");
    assert!(!lsass.data_components.is_empty());
    assert_eq!(attack.subtechniques("T1003").count(), 8);
    let text = attack.text("T1003.001").unwrap();
    assert!(text.terms && text.description.split(' ').any(|t| t == "lsass"));
    assert!(text.procedures.split(' ').any(|t| t == "mimikatz"));
    assert!(text.procedure_examples > 50, "{}", text.procedure_examples);

    let mimikatz = attack.entity("S0002").unwrap();
    assert_eq!(mimikatz.name, "Mimikatz");
    assert!(mimikatz.techniques.iter().any(|t| t == "T1003.001"));
    let apt29 = attack.entity("g0016").unwrap();
    assert_eq!(apt29.name, "APT29");
    assert!(apt29.aliases.iter().any(|a| a == "Cozy Bear"));
}

#[test]
fn text_mapping_over_the_embedded_terms_equals_mapping_over_the_prose() {
    let Some((text, _)) = bundle() else { return };
    let from_bundle = Attack::from_bundle(&text, "enterprise-attack.json").unwrap();
    let embedded = Attack::embedded().unwrap();
    let (prose, terms) = (
        vigil_attack::TextMapper::new(&from_bundle).with_min_confidence(0.0),
        vigil_attack::TextMapper::new(&embedded).with_min_confidence(0.0),
    );
    for query in [
        "procdump of lsass memory",
        "scheduled task created with schtasks /create",
        "Suspicious Encoded PowerShell Command Line: powershell.exe -enc",
        "AWS CloudTrail logging disabled with StopLogging",
        "rundll32.exe comsvcs.dll MiniDump",
    ] {
        assert_eq!(prose.map(query, 10), terms.map(query, 10), "{query}");
    }
}
