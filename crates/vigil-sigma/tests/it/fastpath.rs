//! The fast path (`Matcher::detect`: candidate index, literal automata, log-source
//! routing inside rsigma) against the exhaustive reference (`Detector::detect_exhaustive`:
//! every applicable rule evaluated): random events over a rule set using every modifier
//! and over the whole SigmaHQ rule set, and every event of the EVTX corpus.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use vigil_event::{Event, Value};
use vigil_ingest::{Ingest, Plan, ReadOptions, RecordResult};
use vigil_normalize::Taxonomy;
use vigil_sigma::{Detector, Placeholders, Routing, RuleSet, RuleSource};
use vigil_test_support::{corpus_path, files_with_extension};

use crate::harness::{base64, utf16le};
use crate::random_event::{Vocabulary, event_strategy};

const EVERY_MODIFIER: &str = include_str!("rules/every_modifier.yml");

/// The matches of both paths, as sorted rule indices (duplicates kept: a rule matches an
/// event once).
fn both_paths(detector: &Detector, event: &Event) -> (Vec<usize>, Vec<usize>) {
    let mut fast: Vec<usize> = detector
        .matcher()
        .detect(event)
        .iter()
        .map(|m| m.index)
        .collect();
    let mut reference: Vec<usize> = detector
        .detect_exhaustive(event)
        .iter()
        .map(|m| m.index)
        .collect();
    fast.sort_unstable();
    reference.sort_unstable();
    (fast, reference)
}

/// What a property run saw: how many events matched some rule, and which rules matched.
struct Seen {
    events_matched: u32,
    rules_matched: BTreeSet<usize>,
}

/// Runs `cases` random events against `detector` and fails on the first where the paths
/// disagree.
fn fast_equals_exhaustive(
    detector: &Detector,
    vocabulary: &'static Vocabulary,
    cases: u32,
) -> Seen {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let seen = Mutex::new(Seen {
        events_matched: 0,
        rules_matched: Default::default(),
    });
    let result = runner.run(&event_strategy(vocabulary), |event| {
        let (fast, reference) = both_paths(detector, &event);
        prop_assert_eq!(&fast, &reference, "on {:?}", event);
        let mut seen = seen.lock().unwrap();
        seen.events_matched += u32::from(!fast.is_empty());
        seen.rules_matched.extend(fast);
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    seen.into_inner().unwrap()
}

// --- The rule set of every modifier -----------------------------------------------------

fn administrators() -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([(
        "Administrators".to_string(),
        vec!["admin".to_string(), "adm_*".to_string()],
    )])
}

fn every_modifier_detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| {
        let placeholders = Placeholders::new(administrators());
        let (rules, report) =
            RuleSet::from_yaml("every_modifier.yml", EVERY_MODIFIER, Some(&placeholders));
        assert!(report.failed.is_empty(), "{report:#?}");
        assert_eq!(report.loaded, 27);
        Detector::new(rules, Routing::builtin().unwrap())
    })
}

fn every_modifier_vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| Vocabulary::of([EVERY_MODIFIER], administrators()))
}

#[test]
fn fast_path_equals_exhaustive_on_every_modifier() {
    let detector = every_modifier_detector();
    let seen = fast_equals_exhaustive(detector, every_modifier_vocabulary(), 2048);
    let titles: Vec<_> = detector.rules().rules().map(|r| r.title.as_str()).collect();
    let unmatched: Vec<_> = (0..titles.len())
        .filter(|i| !seen.rules_matched.contains(i))
        .map(|i| titles[i])
        .collect();
    eprintln!(
        "every-modifier rule set: {} of 2048 random events matched some rule; never matched: {unmatched:?}",
        seen.events_matched
    );
    // The events come near the rules on purpose: a test that never matches proves little.
    // Every rule is reached in practice; two are allowed to miss a run so that chance alone
    // never fails it.
    assert!(seen.events_matched > 200, "{}", seen.events_matched);
    assert!(unmatched.len() <= 2, "never matched: {unmatched:?}");
}

#[test]
fn fast_path_equals_exhaustive_on_hand_picked_events() {
    // Events that reach each rule of the set, through the shapes the generator rarely hits.
    let detector = every_modifier_detector();
    let process = |fields: &[(&str, &str)], service: &str| {
        crate::harness::event_in(
            Some("windows"),
            Some(service),
            Some("process_creation"),
            fields.iter().map(|(k, v)| (*k, Value::from(*v))).collect(),
        )
    };
    let encoded = base64(&utf16le(
        "IEX (New-Object Net.WebClient).DownloadString('x')",
    ));
    let events = [
        process(
            &[
                ("Image", r"C:\Windows\System32\rundll32.exe"),
                ("CommandLine", r#"rundll32 javascript:"\..\mshtml""#),
                ("ParentImage", r"C:\Windows\explorer.exe"),
                ("OriginalFileName", "RUNDLL32.EXE"),
            ],
            "sysmon",
        ),
        process(
            &[("CommandLine", &format!("powershell -enc {encoded}"))],
            "sysmon",
        ),
        process(&[("CommandLine", "cmd.exe -c whoami")], "sysmon"),
        process(
            &[
                ("NewProcessName", r"C:\Windows\System32\certutil.exe"),
                ("ParentProcessName", r"C:\Windows\System32\cmd.exe"),
                ("NewProcessId", "0x1a4"),
            ],
            "security",
        ),
        process(
            &[
                ("Image", r"C:\Windows\System32\cmd.exe"),
                ("User", "adm_root"),
            ],
            "sysmon",
        ),
    ];
    let mut matched = 0;
    for event in &events {
        let (fast, reference) = both_paths(detector, event);
        assert_eq!(fast, reference, "on {event:?}");
        matched += usize::from(!fast.is_empty());
    }
    assert!(matched >= 4, "{matched}");
}

// --- SigmaHQ ----------------------------------------------------------------------------

fn sigmahq_rules() -> Option<&'static Path> {
    static RULES: OnceLock<Option<std::path::PathBuf>> = OnceLock::new();
    RULES.get_or_init(|| corpus_path("sigma/rules")).as_deref()
}

/// The whole SigmaHQ rule set, loaded once; `None` without the corpus.
fn sigmahq_detector() -> Option<&'static Detector> {
    static DETECTOR: OnceLock<Option<Detector>> = OnceLock::new();
    DETECTOR
        .get_or_init(|| {
            let rules = sigmahq_rules()?;
            let (set, report) = RuleSet::load(&[RuleSource::Path(rules.to_path_buf())], None);
            eprintln!(
                "SigmaHQ: {} rules loaded from {} files, {} failed",
                report.loaded,
                report.files,
                report.failed.len()
            );
            assert!(report.failed.is_empty(), "{:#?}", report.failed);
            assert!(report.loaded > 3000, "{report:#?}");
            Some(Detector::new(set, Routing::builtin().unwrap()))
        })
        .as_ref()
}

fn sigmahq_vocabulary() -> Option<&'static Vocabulary> {
    static VOCABULARY: OnceLock<Option<Vocabulary>> = OnceLock::new();
    VOCABULARY
        .get_or_init(|| {
            let files = files_with_extension(sigmahq_rules()?, "yml");
            let texts: Vec<String> = files
                .iter()
                .map(|f| std::fs::read_to_string(f).unwrap())
                .collect();
            Some(Vocabulary::of(
                texts.iter().map(String::as_str),
                BTreeMap::new(),
            ))
        })
        .as_ref()
}

#[test]
fn fast_path_equals_exhaustive_on_sigmahq() {
    let (Some(detector), Some(vocabulary)) = (sigmahq_detector(), sigmahq_vocabulary()) else {
        return;
    };
    let seen = fast_equals_exhaustive(detector, vocabulary, 256);
    eprintln!(
        "SigmaHQ: {} of 256 random events matched some rule, {} rules in all",
        seen.events_matched,
        seen.rules_matched.len()
    );
}

#[test]
fn fast_path_equals_exhaustive_on_every_evtx_corpus_event() {
    let Some(evtx) = corpus_path("evtx") else {
        return;
    };
    let detector = sigmahq_detector().unwrap();
    let taxonomy = Taxonomy::builtin().unwrap();
    let events = Mutex::new(Vec::new());
    let inputs = Ingest::new(ReadOptions::default()).run(Plan::new(&[evtx]), |_| {
        |record: RecordResult| {
            if let Ok(mut event) = record {
                taxonomy.apply(&mut event);
                events.lock().unwrap().push(event);
            }
            ControlFlow::Continue(())
        }
    });
    let events = events.into_inner().unwrap();
    assert!(inputs.len() >= 190, "{} inputs", inputs.len());
    assert!(events.len() > 5000, "{} events", events.len());

    let mut disagreements = Vec::new();
    let mut matched_events = 0;
    let mut matches = 0;
    for event in &events {
        let (fast, reference) = both_paths(detector, event);
        if fast != reference {
            disagreements.push((event.origin.to_string(), fast.clone(), reference));
        }
        matched_events += usize::from(!fast.is_empty());
        matches += fast.len();
    }
    eprintln!(
        "EVTX corpus: {} inputs, {} events, {matched_events} matched, {matches} matches, {} disagreements",
        inputs.len(),
        events.len(),
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "fast path and exhaustive reference disagree on {} events, first: {:#?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(10)]
    );
    assert!(matches > 0);
}
