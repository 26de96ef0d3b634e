//! Strict loading: a malformed rule fails with its file, its id and a reason naming the
//! field at fault; the other rules of the file still load.

use vigil_sigma::{RuleFailure, RuleSet, RuleSource};

use crate::harness::{dedent, id_for, rule_yaml};

const PATH: &str = "rules/malformed.yml";

/// A complete, valid rule whose YAML lines can be replaced or removed by the tests.
fn valid(title: &str) -> String {
    rule_yaml(
        title,
        r"
        selection:
            Image|endswith: '\whoami.exe'
        condition: selection
        ",
    )
}

/// Loads `yaml` and returns its single failure, asserting nothing loaded.
fn only_failure(yaml: &str) -> RuleFailure {
    let (rules, report) = RuleSet::from_yaml(PATH, yaml, None);
    assert!(rules.is_empty(), "a malformed rule loaded:\n{yaml}");
    assert_eq!(report.failed.len(), 1, "{report:#?}\n{yaml}");
    let failure = report.failed.into_iter().next().unwrap();
    assert_eq!(failure.path, PATH);
    failure
}

/// Asserts that `yaml` fails with its id and a reason that mentions every word of `words`.
fn fails_naming(yaml: &str, id: &str, words: &[&str]) {
    let failure = only_failure(yaml);
    assert_eq!(failure.id.as_deref(), Some(id), "{failure:?}");
    for word in words {
        assert!(
            failure.reason.contains(word),
            "the reason should name `{word}`: {failure:?}"
        );
    }
}

#[test]
fn a_valid_rule_loads() {
    let (rules, report) = RuleSet::from_yaml(PATH, &valid("Whoami"), None);
    assert_eq!(report.loaded, 1);
    assert!(report.failed.is_empty());
    let rule = rules.rules().next().unwrap();
    assert_eq!(rule.title, "Whoami");
    assert_eq!(rule.id.as_deref(), Some(id_for("Whoami").as_str()));
    assert_eq!(rule.level, Some(vigil_sigma::Level::Medium));
    assert_eq!(rule.status, Some("test"));
    assert_eq!(rule.path, PATH);
}

#[test]
fn a_missing_title_fails_naming_title() {
    let yaml = valid("Untitled").replace("title: Untitled\n", "");
    fails_naming(&yaml, &id_for("Untitled"), &["title"]);
}

#[test]
fn an_unknown_level_fails_naming_level() {
    let yaml = valid("Bad level").replace("level: medium", "level: severe");
    fails_naming(&yaml, &id_for("Bad level"), &["level"]);
}

#[test]
fn an_unknown_status_fails_naming_status() {
    let yaml = valid("Bad status").replace("status: test", "status: production");
    fails_naming(&yaml, &id_for("Bad status"), &["status"]);
}

#[test]
fn an_invalid_date_fails_naming_date() {
    let yaml = valid("Bad date").replace("status: test", "status: test\ndate: 2024-13-45");
    fails_naming(&yaml, &id_for("Bad date"), &["date"]);
}

#[test]
fn an_unknown_modifier_fails_naming_it() {
    let yaml = valid("Bad modifier").replace("Image|endswith", "Image|foo");
    fails_naming(&yaml, &id_for("Bad modifier"), &["foo"]);
}

#[test]
fn a_condition_naming_an_unknown_selection_fails_naming_it() {
    let yaml = valid("Bad condition").replace(
        "condition: selection",
        "condition: selection and not filter_admins",
    );
    fails_naming(&yaml, &id_for("Bad condition"), &["filter_admins"]);
}

#[test]
fn a_missing_detection_fails_naming_detection() {
    let yaml = dedent(&format!(
        "
        title: No detection
        id: {}
        logsource:
            product: windows
        ",
        id_for("No detection")
    ));
    fails_naming(&yaml, &id_for("No detection"), &["detection"]);
}

#[test]
fn a_missing_condition_fails_naming_condition() {
    let yaml = valid("No condition").replace("    condition: selection\n", "");
    fails_naming(&yaml, &id_for("No condition"), &["condition"]);
}

#[test]
fn a_missing_logsource_fails_naming_logsource() {
    let yaml = valid("Nowhere").replace(
        "logsource:\n    product: windows\n    category: process_creation\n",
        "",
    );
    assert!(!yaml.contains("logsource"));
    fails_naming(&yaml, &id_for("Nowhere"), &["logsource"]);
}

#[test]
fn bad_yaml_fails_with_the_file_and_id() {
    let yaml = valid("Bad YAML").replace(
        "Image|endswith: '\\whoami.exe'",
        "Image|endswith: ['\\whoami.exe'",
    );
    let failure = only_failure(&yaml);
    assert_eq!(failure.id.as_deref(), Some(id_for("Bad YAML").as_str()));
    assert!(!failure.reason.is_empty());
}

#[test]
fn a_correlation_of_an_unknown_rule_fails_naming_the_reference() {
    let yaml = dedent(
        "
        title: Many logons
        id: 0e95725d-7320-415d-80f7-004da920fc11
        correlation:
            type: event_count
            rules:
                - no_such_rule
            group-by:
                - TargetUserName
            timespan: 5m
            condition:
                gte: 10
        level: high
        ",
    );
    fails_naming(
        &yaml,
        "0e95725d-7320-415d-80f7-004da920fc11",
        &["correlation.rules", "no_such_rule"],
    );
}

#[test]
fn one_bad_document_does_not_sink_the_others() {
    let good_one = valid("Good one");
    let bad = valid("Bad one").replace("level: medium", "level: severe");
    let good_two = valid("Good two");
    let yaml = format!("{good_one}---\n{bad}---\n{good_two}");
    let (rules, report) = RuleSet::from_yaml(PATH, &yaml, None);
    assert_eq!(report.loaded, 2, "{report:#?}");
    assert_eq!(report.files, 1);
    let titles: Vec<_> = rules.rules().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["Good one", "Good two"]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].path, PATH);
    assert_eq!(
        report.failed[0].id.as_deref(),
        Some(id_for("Bad one").as_str())
    );
    assert!(report.failed[0].reason.contains("level"));
}

#[test]
fn every_failure_of_a_directory_names_its_file_and_id() {
    let dir = std::env::temp_dir().join(format!("vigil-sigma-loading-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    std::fs::write(dir.join("good.yml"), valid("Good")).unwrap();
    std::fs::write(
        dir.join("nested").join("bad_level.yaml"),
        valid("Level").replace("level: medium", "level: severe"),
    )
    .unwrap();
    std::fs::write(
        dir.join("bad_modifier.yml"),
        valid("Modifier").replace("Image|endswith", "Image|foo"),
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a rule").unwrap();

    let (rules, report) = RuleSet::load(&[RuleSource::Path(dir.clone())], None);
    std::fs::remove_dir_all(&dir).unwrap();

    assert_eq!(rules.len(), 1);
    assert_eq!(report.files, 3, "{report:#?}");
    let mut failed: Vec<_> = report
        .failed
        .iter()
        .map(|f| {
            let file = std::path::Path::new(&f.path).file_name().unwrap();
            (file.to_string_lossy().into_owned(), f.id.clone())
        })
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        [
            ("bad_level.yaml".to_string(), Some(id_for("Level"))),
            ("bad_modifier.yml".to_string(), Some(id_for("Modifier"))),
        ]
    );
}

#[test]
fn a_missing_path_is_a_failure_not_a_panic() {
    let missing = std::path::PathBuf::from("/nonexistent/vigil/rules");
    let (rules, report) = RuleSet::load(&[RuleSource::Path(missing)], None);
    assert!(rules.is_empty());
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].path.contains("nonexistent"));
}
