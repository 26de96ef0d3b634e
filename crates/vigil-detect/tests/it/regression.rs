//! SigmaHQ's own regression tests: for every `info.yml` under the corpus's
//! `sigma/regression_data/`, hunting its EVTX file with the whole SigmaHQ rule set must
//! match that rule at least `match_count` times.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use vigil_detect::{HuntOptions, hunt};
use vigil_ingest::{Ingest, Plan, ReadOptions};
use vigil_normalize::Taxonomy;
use vigil_sigma::{Detector, Routing, RuleSet, RuleSource};
use vigil_test_support::{corpus_path, files_with_extension};

/// One regression test of one rule.
#[derive(Debug)]
struct Case {
    info: PathBuf,
    rule_id: String,
    evtx: PathBuf,
    match_count: u64,
}

/// The cases of an `info.yml`; the commented-out or non-EVTX ones (a raw Cisco log) are
/// returned as `Err` with the reason.
fn cases(info: &Path, root: &Path) -> Vec<Result<Case, String>> {
    let text = std::fs::read_to_string(info).unwrap();
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
    let rule_id = doc["rule_metadata"][0]["id"].as_str().unwrap().to_string();
    let Some(tests) = doc["regression_tests_info"].as_sequence() else {
        return vec![Err(format!(
            "{}: no regression_tests_info (commented out in SigmaHQ)",
            info.display()
        ))];
    };
    tests
        .iter()
        .map(|t| {
            let kind = t["type"].as_str().unwrap_or("");
            if kind != "evtx" {
                return Err(format!("{}: test type {kind}", info.display()));
            }
            let path = t["path"].as_str().unwrap();
            Ok(Case {
                info: info.to_path_buf(),
                rule_id: rule_id.clone(),
                evtx: root.join(path),
                match_count: t["match_count"].as_u64().unwrap_or(1),
            })
        })
        .collect()
}

#[test]
fn every_sigmahq_regression_test_matches() {
    let (Some(sigma), Some(_)) = (corpus_path("sigma"), corpus_path("sigma/regression_data"))
    else {
        return;
    };
    let infos = files_with_extension(&sigma.join("regression_data"), "yml");
    let infos: Vec<_> = infos
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "info.yml"))
        .collect();
    let (cases, skipped): (Vec<_>, Vec<_>) = infos
        .iter()
        .flat_map(|info| cases(info, &sigma))
        .partition(Result::is_ok);
    let cases: Vec<Case> = cases.into_iter().map(Result::unwrap).collect();
    let skipped: Vec<String> = skipped.into_iter().map(|e| e.unwrap_err()).collect();
    assert!(cases.len() >= 190, "only {} cases", cases.len());
    // The one case SigmaHQ ships without an EVTX file (a raw Cisco log, its test
    // commented out).
    assert_eq!(skipped.len(), 1, "{skipped:#?}");

    let (rules, report) = RuleSet::load(&[RuleSource::Path(sigma.join("rules"))], None);
    assert!(report.failed.is_empty(), "{:#?}", report.failed);
    let detector = Detector::new(rules, Routing::builtin().unwrap());
    let taxonomy = Taxonomy::builtin().unwrap();
    let ingest = Ingest::new(ReadOptions {
        threads: 2,
        ..ReadOptions::default()
    });
    let files: Vec<PathBuf> = cases.iter().map(|c| c.evtx.clone()).collect();
    let hunted = hunt(
        &detector,
        &taxonomy,
        &ingest,
        Plan::new(&files),
        HuntOptions::default(),
        |error| panic!("{error}"),
    );
    assert_eq!(hunted.summary.parse_errors, 0);

    let mut found: BTreeMap<(String, String), u64> = BTreeMap::new();
    for d in &hunted.detections {
        *found
            .entry((d.source.path.clone(), d.rule_id.clone()))
            .or_default() += 1;
    }
    let mut failures = Vec::new();
    for case in &cases {
        let key = (case.evtx.display().to_string(), case.rule_id.clone());
        let got = found.get(&key).copied().unwrap_or(0);
        if got < case.match_count {
            failures.push(format!(
                "{}: rule {} matched {got} time(s), expected at least {}",
                case.info.display(),
                case.rule_id,
                case.match_count
            ));
        }
    }
    eprintln!(
        "{} regression cases, {} passed, {} events, {} detections",
        cases.len(),
        cases.len() - failures.len(),
        hunted.summary.events,
        hunted.summary.detections
    );
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
