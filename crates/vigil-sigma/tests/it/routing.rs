//! Log-source routing (`data/routing.toml`): which rules meet an event, and under which
//! names its fields are known to them.

use vigil_event::{Event, Location, Origin, Value};
use vigil_normalize::Taxonomy;

use crate::harness::{
    detector, event_in, hits, id_for, indent, proc_with, security_4688_with, titles,
};

/// A rule with this title, `logsource:` body and `detection:` body.
fn rule(title: &str, logsource: &str, detection: &str) -> String {
    format!(
        "title: {title}\nid: {}\nlevel: high\nlogsource:\n{}\ndetection:\n{}\n",
        id_for(title),
        indent(logsource, 4),
        indent(detection, 4)
    )
}

const WHOAMI_DETECTION: &str = r"
    selection:
        Image|endswith: '\whoami.exe'
        ParentImage|endswith: '\cmd.exe'
    condition: selection
";

fn process_creation_rule() -> String {
    rule(
        "Whoami from cmd",
        "product: windows\ncategory: process_creation",
        WHOAMI_DETECTION,
    )
}

fn sysmon_1(image: &str, parent: &str) -> Event {
    proc_with(vec![
        ("EventID", Value::from(1_i64)),
        ("Image", Value::from(image)),
        ("ParentImage", Value::from(parent)),
        ("ProcessId", Value::from("4242")),
        ("ParentProcessId", Value::from("1000")),
    ])
}

/// A Security 4688 event: the new process is `NewProcessName`/`NewProcessId`, its creator
/// `ParentProcessName`/`ProcessId`.
fn security_4688(image: &str, parent: &str) -> Event {
    security_4688_with(vec![
        ("NewProcessName", Value::from(image)),
        ("ParentProcessName", Value::from(parent)),
        ("NewProcessId", Value::from("0x1092")),
        ("ProcessId", Value::from("0x3e8")),
        ("SubjectUserName", Value::from("bob")),
    ])
}

const WHOAMI: &str = r"C:\Windows\System32\whoami.exe";
const CMD: &str = r"C:\Windows\System32\cmd.exe";
const EXPLORER: &str = r"C:\Windows\explorer.exe";

#[test]
fn a_process_creation_rule_matches_sysmon_event_1() {
    let detector = detector(&process_creation_rule());
    assert!(hits(&detector, &sysmon_1(WHOAMI, CMD)));
    assert!(!hits(&detector, &sysmon_1(WHOAMI, EXPLORER)));
}

#[test]
fn a_process_creation_rule_matches_security_4688_through_its_renames() {
    let detector = detector(&process_creation_rule());
    assert!(hits(&detector, &security_4688(WHOAMI, CMD)));
    assert!(!hits(&detector, &security_4688(WHOAMI, EXPLORER)));
    assert!(!hits(&detector, &security_4688(CMD, CMD)));
}

#[test]
fn on_security_4688_process_ids_are_renamed_to_sysmon_names() {
    // 4688's `ProcessId` is the creator's: rules call it `ParentProcessId`, and their
    // `ProcessId` is 4688's `NewProcessId`.
    let detector = detector(&rule(
        "Process ids",
        "product: windows\ncategory: process_creation",
        r"
        selection:
            ProcessId: '0x1092'
            ParentProcessId: '0x3e8'
            User: 'bob'
        condition: selection
        ",
    ));
    assert!(hits(&detector, &security_4688(WHOAMI, CMD)));
    let mut swapped = security_4688(WHOAMI, CMD);
    swapped.insert("NewProcessId", Value::from("0x3e8"));
    swapped.insert("ProcessId", Value::from("0x1092"));
    assert!(!hits(&detector, &swapped));
}

#[test]
fn renames_apply_only_to_the_log_source_that_has_them() {
    // A Sysmon event with a field called `NewProcessName` is not read as `Image`.
    let detector = detector(&process_creation_rule());
    let event = event_in(
        Some("windows"),
        Some("sysmon"),
        Some("process_creation"),
        vec![
            ("NewProcessName", Value::from(WHOAMI)),
            ("ParentProcessName", Value::from(CMD)),
        ],
    );
    assert!(!hits(&detector, &event));
}

#[test]
fn events_placed_by_the_taxonomy_meet_process_creation_rules() {
    let taxonomy = Taxonomy::builtin().unwrap();
    let detector = detector(&process_creation_rule());
    let evtx = |fields: Vec<(&str, Value)>| {
        let mut event = Event::new(Origin::new("x.evtx".into(), Location::record(7)), "evtx");
        for (name, value) in fields {
            event.push(name, value);
        }
        taxonomy.apply(&mut event);
        event
    };
    let sysmon = evtx(vec![
        (
            "Channel",
            Value::from("Microsoft-Windows-Sysmon/Operational"),
        ),
        ("EventID", Value::from("1")),
        ("Image", Value::from(WHOAMI)),
        ("ParentImage", Value::from(CMD)),
    ]);
    assert_eq!(
        sysmon.logsource.category.as_deref(),
        Some("process_creation")
    );
    assert!(hits(&detector, &sysmon));
    let security = evtx(vec![
        ("Channel", Value::from("Security")),
        ("EventID", Value::from("4688")),
        ("NewProcessName", Value::from(WHOAMI)),
        ("ParentProcessName", Value::from(CMD)),
    ]);
    assert_eq!(security.logsource.service.as_deref(), Some("security"));
    assert!(hits(&detector, &security));
}

#[test]
fn a_linux_rule_never_matches_a_windows_event() {
    let detector = detector(&rule(
        "Linux whoami",
        "product: linux\ncategory: process_creation",
        r"
        selection:
            Image|endswith: 'whoami.exe'
        condition: selection
        ",
    ));
    let linux = event_in(
        Some("linux"),
        None,
        Some("process_creation"),
        vec![("Image", Value::from("/mnt/c/whoami.exe"))],
    );
    assert!(hits(&detector, &linux));
    assert!(!hits(&detector, &sysmon_1(WHOAMI, CMD)));
    assert!(!hits(&detector, &security_4688(WHOAMI, CMD)));
}

#[test]
fn a_rule_with_a_category_never_matches_an_event_without_one() {
    let detector = detector(&process_creation_rule());
    let uncategorised = event_in(
        Some("windows"),
        Some("sysmon"),
        None,
        vec![
            ("Image", Value::from(WHOAMI)),
            ("ParentImage", Value::from(CMD)),
        ],
    );
    assert!(!hits(&detector, &uncategorised));
}

#[test]
fn a_rule_without_a_category_matches_every_category_of_its_product() {
    let detector = detector(&rule(
        "Any Windows whoami",
        "product: windows",
        WHOAMI_DETECTION,
    ));
    assert!(hits(&detector, &sysmon_1(WHOAMI, CMD)));
    let file_event = event_in(
        Some("windows"),
        Some("sysmon"),
        Some("file_event"),
        vec![
            ("Image", Value::from(WHOAMI)),
            ("ParentImage", Value::from(CMD)),
        ],
    );
    assert!(hits(&detector, &file_event));
}

#[test]
fn a_service_rule_matches_only_that_service() {
    let detector = detector(&rule(
        "Security log cleared",
        "product: windows\nservice: security",
        r"
        selection:
            EventID: 1102
        condition: selection
        ",
    ));
    let security = event_in(
        Some("windows"),
        Some("security"),
        None,
        vec![("EventID", Value::from(1102_i64))],
    );
    let system = event_in(
        Some("windows"),
        Some("system"),
        None,
        vec![("EventID", Value::from(1102_i64))],
    );
    assert!(hits(&detector, &security));
    assert!(!hits(&detector, &system));
}

fn registry(category: &str, target: &str) -> Event {
    event_in(
        Some("windows"),
        Some("sysmon"),
        Some(category),
        vec![
            ("EventType", Value::from("SetValue")),
            ("TargetObject", Value::from(target)),
            ("Details", Value::from(r"C:\Users\Public\evil.exe")),
        ],
    )
}

const RUN_KEY: &str = r"HKU\S-1-5-21-1\Software\Microsoft\Windows\CurrentVersion\Run\Updater";

const RUN_KEY_DETECTION: &str = r"
    selection:
        TargetObject|contains: '\CurrentVersion\Run\'
    condition: selection
";

#[test]
fn a_registry_event_rule_matches_registry_set_add_delete_and_rename_events() {
    let detector = detector(&rule(
        "Run key",
        "product: windows\ncategory: registry_event",
        RUN_KEY_DETECTION,
    ));
    for category in [
        "registry_event",
        "registry_set",
        "registry_add",
        "registry_delete",
        "registry_rename",
    ] {
        assert!(hits(&detector, &registry(category, RUN_KEY)), "{category}");
    }
    assert!(!hits(
        &detector,
        &registry("registry_set", r"HKLM\Software\Classes\x")
    ));
    assert!(!hits(&detector, &registry("file_event", RUN_KEY)));
}

#[test]
fn a_registry_set_rule_does_not_match_a_registry_add_event() {
    let detector = detector(&rule(
        "Run key value set",
        "product: windows\ncategory: registry_set",
        RUN_KEY_DETECTION,
    ));
    assert!(hits(&detector, &registry("registry_set", RUN_KEY)));
    assert!(!hits(&detector, &registry("registry_add", RUN_KEY)));
    assert!(!hits(&detector, &registry("registry_event", RUN_KEY)));
}

#[test]
fn a_broader_rule_matches_once_per_event() {
    // The broader rule is compiled once per covered category: one event still yields one
    // match of it.
    let detector = detector(&rule(
        "Run key",
        "product: windows\ncategory: registry_event",
        RUN_KEY_DETECTION,
    ));
    for category in ["registry_set", "registry_add", "registry_event"] {
        let matches = detector.matcher().detect(&registry(category, RUN_KEY));
        assert_eq!(matches.len(), 1, "{category}: {matches:?}");
    }
}

#[test]
fn rules_of_several_log_sources_meet_only_their_events() {
    let yaml = [
        process_creation_rule(),
        rule(
            "Run key",
            "product: windows\ncategory: registry_set",
            RUN_KEY_DETECTION,
        ),
        rule(
            "Linux whoami",
            "product: linux\ncategory: process_creation",
            "selection:\n    Image|endswith: 'whoami.exe'\ncondition: selection",
        ),
    ]
    .join("---\n");
    let detector = detector(&yaml);
    assert_eq!(
        titles(&detector, &security_4688(WHOAMI, CMD)),
        ["Whoami from cmd".to_string()].into()
    );
    assert_eq!(
        titles(&detector, &registry("registry_set", RUN_KEY)),
        ["Run key".to_string()].into()
    );
}
