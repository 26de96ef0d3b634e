//! The examples and the shared corpus, hunted and folded into incidents.

use vigil_attack::Attack;
use vigil_correlate::{CorrelateOptions, Correlator};
use vigil_sigma::{RuleSource, builtin};
use vigil_test_support::{corpus_path, examples};

use crate::support::{assert_incidents_linked, hunt_annotated};

#[test]
fn the_case_001_ssh_intrusion_is_one_incident() {
    let attack = Attack::embedded().unwrap();
    let detections = hunt_annotated(&attack, &builtin::sources(), &[examples()]);
    let incidents = Correlator::new(&attack, CorrelateOptions::default())
        .unwrap()
        .correlate(&detections);
    for incident in &incidents {
        eprintln!(
            "{} {:?} {:?} {:?} {:?}",
            incident.title,
            incident.entities.hosts,
            incident.entities.ips,
            incident.stage.sequence,
            incident.stage.progression
        );
    }
    eprintln!(
        "examples: {} detections -> {} incidents",
        detections.len(),
        incidents.len()
    );
    assert_incidents_linked(&detections, &incidents);

    // Every detection from auth.log about web01 or the attacker's address is in one
    // incident.
    let ssh: Vec<usize> = detections
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            d.source.path.ends_with("auth.log")
                && (d.host.as_deref() == Some("web01") || d.fields.get().contains("203.0.113.45"))
        })
        .map(|(i, _)| i)
        .collect();
    assert!(ssh.len() >= 3, "{ssh:?}");
    let holding: Vec<_> = incidents
        .iter()
        .filter(|i| ssh.iter().any(|d| i.members.contains(d)))
        .collect();
    assert_eq!(
        holding.len(),
        1,
        "{:#?}",
        holding.iter().map(|i| &i.title).collect::<Vec<_>>()
    );
    let incident = holding[0];
    let rules: Vec<&str> = incident
        .members
        .iter()
        .map(|&i| detections[i].rule_title.as_str())
        .collect();
    assert!(
        rules.contains(&"SSH Brute Force From One Address"),
        "{rules:?}"
    );
    for rule in [
        "SSH Brute Force From One Address",
        "SSH Login After Brute Force From The Same Address",
        "Linux Password Hashes Read Through Sudo",
        "Linux Account Created With UID 0",
        "Linux User Added To An Administrative Group",
    ] {
        assert!(rules.contains(&rule), "{rule}: {rules:?}");
    }
    // The stage shows the steps: guessing, the login it led to, then what was done with
    // the access (a UID 0 account: persistence first in kill-chain order).
    assert_eq!(
        incident.stage.sequence,
        [
            "credential-access",
            "initial-access",
            "credential-access",
            "persistence"
        ]
    );
    assert!(incident.tactics.iter().any(|t| t == "privilege-escalation"));
    assert_eq!(incident.entities.hosts, ["web01"]);
    assert!(incident.entities.ips.iter().any(|ip| ip == "203.0.113.45"));
    eprintln!("case-001 SSH incident: {:?}", incident.stage);
}

/// Prints and bounds how many incidents a hunt's detections fold into.
fn compression(name: &str, rules: &[RuleSource], input: std::path::PathBuf, at_least: f64) {
    let attack = Attack::embedded().unwrap();
    let detections = hunt_annotated(&attack, rules, &[input]);
    let incidents = Correlator::new(&attack, CorrelateOptions::default())
        .unwrap()
        .correlate(&detections);
    let ratio = detections.len() as f64 / incidents.len().max(1) as f64;
    eprintln!(
        "{name}: {} detections -> {} incidents ({ratio:.1}x)",
        detections.len(),
        incidents.len()
    );
    assert!(!detections.is_empty());
    assert!(ratio >= at_least, "{name}: {ratio:.2}x");
    assert_incidents_linked(&detections, &incidents);
    let members: usize = incidents.iter().map(|i| i.members.len()).sum();
    assert_eq!(members, detections.len());
}

#[test]
fn the_evtx_corpus_folds_into_fewer_incidents() {
    let (Some(evtx), Some(rules)) = (corpus_path("evtx"), corpus_path("sigma/rules")) else {
        return;
    };
    compression(
        "evtx corpus, SigmaHQ rules",
        &[RuleSource::Path(rules)],
        evtx,
        4.0,
    );
}

#[test]
fn the_linux_ssh_corpus_folds_into_fewer_incidents() {
    let Some(logs) = corpus_path("logs/linux-auth-sshd") else {
        return;
    };
    compression(
        "linux-auth-sshd corpus, built-in pack",
        &builtin::sources(),
        logs,
        4.0,
    );
}
