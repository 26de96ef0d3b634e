//! Sigma filters (filters specification v2.1 and sigmahq.io's filter guide): a filter
//! document suppresses matches of the rules it names, where its condition says so.

use vigil_sigma::{Detector, Routing, RuleSet};

use crate::harness::{documents, proc, titles};

const SC_CREATE: &str = r"
title: New Service Creation Using Sc.EXE
id: 85ff530b-261d-48c6-a441-facaa2e81e48
name: proc_creation_win_sc_create_service
status: test
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\sc.exe'
        CommandLine|contains|all:
            - 'create'
            - 'binPath='
    condition: selection
level: low
";

/// `SC_CREATE`'s id.
const SC_CREATE_ID: &str = "85ff530b-261d-48c6-a441-facaa2e81e48";

const RAR: &str = r"
title: Files Added To An Archive Using Rar.EXE
id: 6f3e2987-db24-4c78-a860-b4f4095a7095
name: files_added_to_an_archive_using_rar_exe
status: test
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\rar.exe'
        CommandLine|contains: ' a '
    condition: selection
level: low
";

/// A filter for administrator accounts of the rules `references` names, with this
/// `logsource:` body.
fn admin_filter(references: &[&str], logsource: &str) -> String {
    let rules: String = references
        .iter()
        .map(|r| format!("        - {r}\n"))
        .collect();
    format!(
        "title: Filter Out Administrator accounts\nid: 2a7c0e55-0000-4000-8000-0000000f1173\ndescription: Filters out administrator accounts that start with adm_\nlogsource:\n{logsource}\nfilter:\n    rules:\n{rules}    selection:\n        User|startswith: 'adm_'\n    condition: not selection\n"
    )
}

const WINDOWS_PROCESS_CREATION: &str = "    category: process_creation\n    product: windows";

fn load(parts: &[&str]) -> (Detector, vigil_sigma::LoadReport) {
    let (rules, report) = RuleSet::from_yaml("filters.yml", &documents(parts), None);
    assert!(report.failed.is_empty(), "{report:#?}");
    (Detector::new(rules, Routing::builtin().unwrap()), report)
}

/// `SC_CREATE` alone, with an administrator filter naming it by `reference` under this
/// `logsource:` body.
fn sc_create_filtered(reference: &str, logsource: &str) -> Detector {
    load(&[SC_CREATE, &admin_filter(&[reference], logsource)]).0
}

fn sc(user: &str) -> vigil_event::Event {
    proc(&[
        ("Image", r"C:\Windows\System32\sc.exe"),
        (
            "CommandLine",
            r#"sc.exe create Updater binPath= "C:\Temp\u.exe""#,
        ),
        ("User", user),
    ])
}

fn rar(user: &str) -> vigil_event::Event {
    proc(&[
        ("Image", r"C:\Program Files\WinRAR\rar.exe"),
        ("CommandLine", r"rar.exe a loot.rar C:\Users\bob\Documents"),
        ("User", user),
    ])
}

fn set(titles: &[&str]) -> std::collections::BTreeSet<String> {
    titles.iter().map(|t| t.to_string()).collect()
}

#[test]
fn a_filter_by_id_suppresses_the_matches_it_selects() {
    let filter = admin_filter(&[SC_CREATE_ID], WINDOWS_PROCESS_CREATION);
    let (detector, report) = load(&[SC_CREATE, RAR, &filter]);
    assert_eq!(report.filters, 1);
    assert_eq!(report.loaded, 2);
    // Suppressed for the administrator...
    assert!(titles(&detector, &sc("adm_alice")).is_empty());
    // ...not for anyone else...
    assert_eq!(
        titles(&detector, &sc("bob")),
        set(&["New Service Creation Using Sc.EXE"])
    );
    // ...and rules the filter does not name still match administrators.
    assert_eq!(
        titles(&detector, &rar("adm_alice")),
        set(&["Files Added To An Archive Using Rar.EXE"])
    );
}

#[test]
fn a_filter_may_name_several_rules() {
    let filter = admin_filter(
        &[SC_CREATE_ID, "6f3e2987-db24-4c78-a860-b4f4095a7095"],
        WINDOWS_PROCESS_CREATION,
    );
    let (detector, _) = load(&[SC_CREATE, RAR, &filter]);
    assert!(titles(&detector, &sc("adm_alice")).is_empty());
    assert!(titles(&detector, &rar("adm_alice")).is_empty());
    assert_eq!(titles(&detector, &rar("bob")).len(), 1);
}

#[test]
fn a_filter_whose_log_source_does_not_cover_the_rule_leaves_it_alone() {
    let detector = sc_create_filtered(SC_CREATE_ID, "    product: linux");
    assert_eq!(titles(&detector, &sc("adm_alice")).len(), 1);
}

#[test]
fn a_filter_may_cover_the_rule_with_a_broader_log_source() {
    let detector = sc_create_filtered(SC_CREATE_ID, "    product: windows");
    assert!(titles(&detector, &sc("adm_alice")).is_empty());
    assert_eq!(titles(&detector, &sc("bob")).len(), 1);
}

#[test]
fn a_filter_by_name_suppresses_the_matches_it_selects() {
    // sigmahq.io, "Referencing in Meta Rules": filters, like correlations, may name a rule
    // by its `name`.
    let detector = sc_create_filtered(
        "proc_creation_win_sc_create_service",
        WINDOWS_PROCESS_CREATION,
    );
    assert!(titles(&detector, &sc("adm_alice")).is_empty());
    assert_eq!(titles(&detector, &sc("bob")).len(), 1);
}

#[test]
fn a_filter_naming_no_loaded_rule_fails_naming_the_reference() {
    let filter = admin_filter(
        &[SC_CREATE_ID, "proc_creation_win_sc_create_servic"],
        WINDOWS_PROCESS_CREATION,
    );
    let (rules, report) =
        RuleSet::from_yaml("filters.yml", &documents(&[SC_CREATE, &filter]), None);
    assert_eq!(report.loaded, 1, "{report:#?}");
    assert_eq!(report.filters, 0, "{report:#?}");
    assert_eq!(report.failed.len(), 1, "{report:#?}");
    let failure = &report.failed[0];
    assert_eq!(failure.path, "filters.yml");
    assert_eq!(
        failure.id.as_deref(),
        Some("2a7c0e55-0000-4000-8000-0000000f1173")
    );
    assert!(failure.reason.contains("filter.rules"), "{failure:?}");
    assert!(
        failure
            .reason
            .contains("proc_creation_win_sc_create_servic"),
        "{failure:?}"
    );
    // The filter is not applied at all.
    let detector = Detector::new(rules, Routing::builtin().unwrap());
    assert_eq!(titles(&detector, &sc("adm_alice")).len(), 1);
}
