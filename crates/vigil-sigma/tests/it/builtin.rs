//! The built-in rule pack: every rule loads, lints clean and carries the metadata output
//! and triage rely on; and each rule matches (and does not match) the events in its cases
//! under `tests/builtin/<rule-id>/` (`match.jsonl`, `nomatch.jsonl`: one event per line,
//! `{"logsource": {...}, "fields": {...}}` as `vigil parse` prints them, so a line of its
//! output can be pasted in). What the pack finds in `examples/` is tested in vigil-detect,
//! which runs whole hunts.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use rsigma_parser::{Severity, lint_yaml_str};
use serde_json::Value as Json;
use vigil_event::{Event, Location, LogSource, Origin, Value};
use vigil_sigma::{Detector, Routing, RuleKind, RuleSet, builtin};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load() -> RuleSet {
    let (rules, report) = RuleSet::load(&builtin::sources(), None);
    assert!(report.failed.is_empty(), "{:#?}", report.failed);
    rules
}

/// The documents of a rule file, split as the loader splits them.
fn documents(yaml: &str) -> Vec<&str> {
    yaml.split("\n---\n")
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
        })
        .collect()
}

#[test]
fn every_builtin_rule_loads() {
    let (rules, report) = RuleSet::load(&builtin::sources(), None);
    assert!(report.failed.is_empty(), "{:#?}", report.failed);
    assert_eq!(report.files, builtin::RULES.len());
    let documents: usize = builtin::RULES.iter().map(|(_, y)| documents(y).len()).sum();
    assert_eq!(report.loaded, documents);
    assert_eq!(rules.len(), documents);
    assert!(rules.rules().any(|r| r.kind == RuleKind::Correlation));
}

#[test]
fn every_rule_file_is_in_the_pack() {
    let mut on_disk: Vec<String> = std::fs::read_dir(crate_dir().join("rules"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml"))
        .collect();
    on_disk.sort();
    let listed: Vec<String> = builtin::RULES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(on_disk, listed, "rules/ and builtin::RULES differ");
}

#[test]
fn every_rule_has_id_level_status_and_an_attack_tag() {
    let rules = load();
    let mut ids = HashSet::new();
    for rule in rules.rules() {
        let id = rule
            .id
            .as_deref()
            .unwrap_or_else(|| panic!("{}: no id", rule.title));
        assert_eq!(id.len(), 36, "{id}: not a UUID");
        assert_eq!(&id[14..15], "4", "{id}: not a version 4 UUID");
        assert!(ids.insert(id.to_string()), "{id}: id used twice");
        assert!(rule.level.is_some(), "{id}: no level");
        assert!(
            matches!(rule.status, Some("test" | "stable")),
            "{id}: status {:?}",
            rule.status
        );
        assert!(
            rule.tags.iter().any(|t| t.starts_with("attack.t")),
            "{id}: no ATT&CK technique tag"
        );
        assert!(
            rule.tags.iter().all(|t| t == &t.to_lowercase()),
            "{id}: tags are lower case"
        );
    }
}

/// What the rule files say beyond what the loader keeps: author, date, description,
/// references, false positives; and rsigma's linter has nothing to say about them, not
/// even a warning.
#[test]
fn every_rule_documents_itself_and_lints_without_warnings() {
    for (file, yaml) in builtin::RULES {
        for document in documents(yaml) {
            let rule: Json = yaml_serde::from_str(document).unwrap();
            let id = rule["id"].as_str().unwrap_or("?");
            assert_eq!(rule["author"], "vigil", "{file} {id}: author");
            assert_eq!(rule["date"], "2026-11-29", "{file} {id}: date");
            for key in ["description", "references", "falsepositives"] {
                assert!(
                    rule.get(key).is_some_and(|v| !v.is_null()),
                    "{file} {id}: no {key}"
                );
            }
            let warnings: Vec<String> = lint_yaml_str(document)
                .into_iter()
                .filter(|w| matches!(w.severity, Severity::Error | Severity::Warning))
                .map(|w| format!("{}: {}", w.path, w.message))
                .collect();
            assert!(warnings.is_empty(), "{file} {id}: {warnings:#?}");
        }
    }
}

#[test]
fn correlations_only_count_rules_of_the_same_file() {
    // A correlation and the rules it counts ship together, so dropping a file never leaves
    // a correlation without its rules.
    let rules = load();
    let file_of: BTreeMap<&str, &str> = rules
        .rules()
        .flat_map(|r| {
            [r.id.as_deref(), r.name.as_deref()]
                .into_iter()
                .flatten()
                .map(move |k| (k, r.path.as_str()))
        })
        .collect();
    for correlation in rules.correlations() {
        for counted in &correlation.rule.rules {
            assert_eq!(
                file_of.get(counted.as_str()),
                Some(&correlation.info.path.as_str()),
                "{}: counts {counted} from another file",
                correlation.info.title
            );
        }
    }
}

/// A vigil event from a line of `vigil parse` output.
fn event_from(json: &Json, path: &Path, line: usize) -> Event {
    fn value(json: &Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => n
                .as_i64()
                .map(Value::from)
                .unwrap_or_else(|| Value::from(n.as_f64().unwrap())),
            Json::String(s) => Value::from(s.as_str()),
            Json::Array(items) => Value::List(items.iter().map(value).collect()),
            Json::Object(_) => panic!("nested objects are dotted in vigil events: {json}"),
        }
    }
    let origin = Origin::new(
        path.display().to_string().into(),
        Location::record(line as u64),
    );
    let mut event = Event::new(origin, "case");
    for (name, v) in json["fields"].as_object().unwrap() {
        event.push(name.as_str(), value(v));
    }
    let logsource = &json["logsource"];
    let text = |k: &str| logsource[k].as_str().map(Into::into);
    event.logsource = LogSource {
        category: text("category"),
        product: text("product"),
        service: text("service"),
    };
    event
}

fn cases(path: &Path) -> Vec<(usize, Event)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let json: Json = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1));
            (i + 1, event_from(&json, path, i + 1))
        })
        .collect()
}

#[test]
fn rule_cases_match_and_do_not_match() {
    let rules = load();
    let ids: HashSet<String> = rules.rules().filter_map(|r| r.id.clone()).collect();
    let detector = Detector::new(rules, Routing::builtin().unwrap());
    let mut matcher = detector.matcher();
    let root = crate_dir().join("tests").join("builtin");
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let id = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            ids.contains(&id),
            "{}: no built-in rule has this id",
            dir.display()
        );
        let matches = cases(&dir.join("match.jsonl"));
        let nomatches = cases(&dir.join("nomatch.jsonl"));
        assert!(!matches.is_empty(), "{id}: no match.jsonl cases");
        for (expect, list) in [(true, &matches), (false, &nomatches)] {
            for (line, event) in list {
                let found = matcher
                    .detect(event)
                    .iter()
                    .any(|m| m.rule.id.as_deref() == Some(id.as_str()));
                let kind = if expect { "match" } else { "nomatch" };
                assert_eq!(found, expect, "{id}: {kind}.jsonl line {line}");
                // The exhaustive path must agree with the indexed one.
                let exhaustive = detector
                    .detect_exhaustive(event)
                    .iter()
                    .any(|m| m.rule.id.as_deref() == Some(id.as_str()));
                assert_eq!(
                    exhaustive, expect,
                    "{id}: {kind}.jsonl line {line} (exhaustive)"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
}
