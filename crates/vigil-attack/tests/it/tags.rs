//! Sigma tags map to techniques and tactics; every ATT&CK tag of the SigmaHQ rules in the
//! corpus resolves, or is listed with its reason.

use std::collections::BTreeMap;

use vigil_attack::Attack;

#[test]
fn tags_map_with_confidence_and_evidence() {
    let attack = Attack::embedded().unwrap();
    let mapping = attack.map_tags(&[
        "attack.credential_access",
        "attack.t1003.001",
        "attack.s0002",
        "attack.g0016",
        "cve.2021-44228",
    ]);
    let techniques: Vec<(&str, f32)> = mapping
        .techniques
        .iter()
        .map(|t| (t.id.as_str(), t.confidence))
        .collect();
    assert_eq!(techniques, [("T1003.001", 1.0)]);
    let tactics: Vec<(&str, f32)> = mapping
        .tactics
        .iter()
        .map(|t| (t.shortname.as_str(), t.confidence))
        .collect();
    assert_eq!(tactics, [("credential-access", 1.0)]);
    let entities: Vec<&str> = mapping.objects.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(entities, ["Mimikatz", "APT29"]);
    assert!(mapping.unresolved.is_empty());
}

#[test]
fn a_tag_names_one_object() {
    use vigil_attack::Object;
    let attack = Attack::embedded().unwrap();
    let name = |tag: &str| match attack.tag(tag) {
        Some(Object::Technique(t)) => t.name.clone(),
        Some(Object::Tactic(t)) => t.name.clone(),
        Some(Object::Entity(e)) => e.name.clone(),
        None => "-".into(),
    };
    assert_eq!(name("attack.t1059.001"), "PowerShell");
    assert_eq!(name("ATTACK.T1059.001"), "PowerShell");
    assert_eq!(name("attack.credential_access"), "Credential Access");
    assert_eq!(name("attack.credential-access"), "Credential Access");
    assert_eq!(name("attack.s0002"), "Mimikatz");
    assert_eq!(name("attack.t1086"), "PowerShell"); // revoked; map_tags follows it
    assert_eq!(name("cve.2021-44228"), "-");
    assert_eq!(name("attack.t1685"), "-");
}

#[test]
fn revoked_tags_map_to_the_replacement_and_its_tactic() {
    let attack = Attack::embedded().unwrap();
    let mapping = attack.map_tags(&["attack.t1086"]);
    let hit = &mapping.techniques[0];
    assert_eq!(hit.id, "T1059.001");
    assert_eq!(hit.confidence, vigil_attack::REVOKED_CONFIDENCE);
    assert_eq!(
        hit.evidence,
        ["tag attack.t1086: T1086 was revoked, replaced by T1059.001"]
    );
    // No tactic tag: the technique's own tactic, with the technique's confidence.
    assert_eq!(mapping.tactics.len(), 1);
    assert_eq!(mapping.tactics[0].shortname, "execution");
    assert_eq!(mapping.tactics[0].evidence, ["tactic of T1059.001"]);
}

#[test]
fn a_tactic_tag_narrows_a_technique_of_several_tactics() {
    let attack = Attack::embedded().unwrap();
    // Valid Accounts serves four tactics.
    let untagged = attack.map_tags(&["attack.t1078"]);
    assert_eq!(untagged.tactics.len(), 4);
    assert!(untagged.tactics.iter().all(|t| t.confidence == 0.25));
    let tagged = attack.map_tags(&["attack.initial-access", "attack.t1078"]);
    let names: Vec<&str> = tagged
        .tactics
        .iter()
        .map(|t| t.shortname.as_str())
        .collect();
    assert_eq!(names, ["initial-access"]);
}

#[test]
fn newer_tactic_names_map_to_the_tactic_that_covers_them() {
    let attack = Attack::embedded().unwrap();
    let mapping = attack.map_tags(&["attack.stealth", "attack.defense-impairment"]);
    assert_eq!(mapping.tactics.len(), 1);
    assert_eq!(mapping.tactics[0].id, "TA0005");
    assert_eq!(
        mapping.tactics[0].confidence,
        vigil_attack::SUCCESSOR_CONFIDENCE
    );
    assert!(mapping.unresolved.is_empty());
}

#[test]
fn unknown_ids_are_listed_with_a_reason() {
    let attack = Attack::embedded().unwrap();
    let mapping = attack.map_tags(&["attack.t1000", "attack.t1999.001", "attack.everything"]);
    assert!(mapping.techniques.is_empty());
    let reasons: Vec<&str> = mapping
        .unresolved
        .iter()
        .map(|u| u.reason.as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            "T1000 is not in ATT&CK 18.1; it may come from a newer release (install one with `vigil attack update`)",
            "T1999.001 is newer than ATT&CK 18.1, whose highest technique is T1681: it comes from a later release (install one with `vigil attack update`)",
            "\"everything\" is neither an id nor a tactic of ATT&CK 18.1"
        ]
    );
}

/// Every `attack.*` tag of every SigmaHQ rule in the corpus, with how many rules use it.
fn corpus_tags() -> Option<BTreeMap<String, usize>> {
    let rules = vigil_test_support::corpus_path("sigma/rules")?;
    let mut tags = BTreeMap::new();
    let mut stack = vec![rules];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                for line in text.lines() {
                    if let Some(tag) = line.trim().strip_prefix("- ")
                        && tag.trim().starts_with("attack.")
                    {
                        *tags.entry(tag.trim().to_string()).or_insert(0) += 1;
                    }
                }
            }
        }
    }
    Some(tags)
}

#[test]
fn every_attack_tag_of_the_sigmahq_rules_resolves_or_is_listed() {
    let Some(tags) = corpus_tags() else { return };
    let attack = Attack::embedded().unwrap();
    let mut report = String::new();
    let mut resolved = 0;
    for (tag, rules) in &tags {
        let mapping = attack.map_tags(&[tag]);
        match mapping.unresolved.first() {
            Some(u) => report.push_str(&format!("{tag} ({rules} rules): {}\n", u.reason)),
            None => {
                assert!(
                    !mapping.is_empty() || !mapping.objects.is_empty(),
                    "{tag} resolved to nothing"
                );
                resolved += 1;
            }
        }
    }
    assert!(resolved > 400, "{resolved} of {} tags resolved", tags.len());
    report.insert_str(
        0,
        &format!(
            "{resolved} of {} distinct ATT&CK tags resolve in ATT&CK 18.1; these do not:\n",
            tags.len()
        ),
    );
    insta::assert_snapshot!(report);
}
