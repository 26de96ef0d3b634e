//! The detection semantics of the Sigma rules specification (v2.1, "Detection"): maps, lists,
//! keywords, special values, wildcards and escaping, case. Each rule gets a positive and a
//! negative case, and every event goes through both matching paths (see
//! [`crate::harness::matched`]).

use vigil_event::Value;

use crate::harness::{check, proc, proc_with};

const CMD: &str = r"C:\Windows\System32\cmd.exe";
const POWERSHELL: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";

// --- Maps and lists ---------------------------------------------------------------------

#[test]
fn field_map_is_and() {
    check(
        r"
        selection:
            Image|endswith: '\cmd.exe'
            CommandLine|contains: 'whoami'
        condition: selection
        ",
        &[proc(&[("Image", CMD), ("CommandLine", "cmd /c whoami")])],
        &[
            proc(&[("Image", CMD), ("CommandLine", "cmd /c dir")]),
            proc(&[("Image", POWERSHELL), ("CommandLine", "whoami")]),
            proc(&[("CommandLine", "cmd /c whoami")]),
        ],
    );
}

#[test]
fn value_list_is_or() {
    check(
        r"
        selection:
            Image|endswith:
                - '\whoami.exe'
                - '\hostname.exe'
        condition: selection
        ",
        &[
            proc(&[("Image", r"C:\Windows\System32\whoami.exe")]),
            proc(&[("Image", r"C:\Windows\System32\HOSTNAME.EXE")]),
        ],
        &[proc(&[("Image", r"C:\Windows\System32\net.exe")])],
    );
}

#[test]
fn list_of_maps_is_or_of_ands() {
    check(
        r"
        selection:
            - Image|endswith: '\example.exe'
            - Description|contains: 'Test executable'
              Company: 'Evil Corp'
        condition: selection
        ",
        &[
            proc(&[("Image", r"C:\Temp\example.exe")]),
            proc(&[
                ("Description", "A Test Executable"),
                ("Company", "Evil Corp"),
            ]),
        ],
        &[
            proc(&[("Description", "A Test Executable"), ("Company", "Contoso")]),
            proc(&[("Image", r"C:\Temp\sample.exe")]),
        ],
    );
}

#[test]
fn a_field_missing_from_the_event_fails_its_selection() {
    check(
        r"
        selection:
            ParentImage|endswith: '\winword.exe'
        condition: selection
        ",
        &[proc(&[(
            "ParentImage",
            r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
        )])],
        &[proc(&[(
            "Image",
            r"C:\Program Files\Microsoft Office\winword.exe",
        )])],
    );
}

// --- Keywords ---------------------------------------------------------------------------

#[test]
fn keyword_list_is_or_over_every_string_value() {
    check(
        r"
        keywords:
            - 'event::clear'
            - 'event::drop'
        condition: keywords
        ",
        &[
            proc(&[("CommandLine", "mimikatz.exe event::clear exit")]),
            proc(&[("Image", CMD), ("ParentCommandLine", "m.exe EVENT::DROP")]),
        ],
        &[
            proc(&[("CommandLine", "mimikatz.exe sekurlsa::logonpasswords")]),
            // A field's name is not one of its values.
            proc(&[("event::clear", "nothing here")]),
        ],
    );
}

#[test]
fn keyword_list_under_all_is_and() {
    check(
        r"
        keywords_cmdlet:
            '|all':
                - 'OabVirtualDirectory'
                - ' -ExternalUrl '
        condition: keywords_cmdlet
        ",
        &[
            proc(&[(
                "CommandLine",
                "Set-OabVirtualDirectory -ExternalUrl 'http://x' -Identity y",
            )]),
            // The keywords may sit in different fields.
            proc(&[
                ("CommandLine", "Set-OabVirtualDirectory"),
                ("ParentCommandLine", "x -ExternalUrl y"),
            ]),
        ],
        &[proc(&[(
            "CommandLine",
            "Set-OabVirtualDirectory -Identity y",
        )])],
    );
}

#[test]
fn keywords_take_wildcards() {
    check(
        r"
        keywords:
            - 'rm *syslog'
        condition: keywords
        ",
        &[proc(&[("CommandLine", "rm /var/log/syslog")])],
        &[proc(&[("CommandLine", "rm /var/log/auth.log")])],
    );
}

// --- Special values: null and '' --------------------------------------------------------

#[test]
fn null_matches_an_absent_field() {
    check(
        r"
        selection:
            EventID: 4738
        filter:
            PasswordLastSet: null
        condition: selection and filter
        ",
        &[proc_with(vec![("EventID", Value::from(4738_i64))])],
        &[proc_with(vec![
            ("EventID", Value::from(4738_i64)),
            ("PasswordLastSet", Value::from("2024-01-01")),
        ])],
    );
}

#[test]
fn null_matches_a_null_value() {
    check(
        r"
        selection:
            PasswordLastSet: null
        condition: selection
        ",
        &[proc_with(vec![("PasswordLastSet", Value::Null)])],
        &[proc_with(vec![("PasswordLastSet", Value::from("%%1794"))])],
    );
}

#[test]
fn not_null_is_a_negated_null_selection() {
    // The specification's own example: `not null` is its own selection, negated.
    check(
        r"
        selection:
            EventID: 4738
        filter:
            PasswordLastSet: null
        condition: selection and not filter
        ",
        &[proc_with(vec![
            ("EventID", Value::from(4738_i64)),
            ("PasswordLastSet", Value::from("2024-01-01")),
        ])],
        &[
            proc_with(vec![("EventID", Value::from(4738_i64))]),
            proc_with(vec![
                ("EventID", Value::from(4738_i64)),
                ("PasswordLastSet", Value::Null),
            ]),
        ],
    );
}

#[test]
fn empty_value_matches_an_empty_string_only() {
    check(
        r"
        selection:
            CommandLine: ''
        condition: selection
        ",
        &[proc(&[("CommandLine", "")])],
        &[
            proc(&[("CommandLine", "cmd.exe")]),
            proc(&[("CommandLine", " ")]),
        ],
    );
}

#[test]
fn empty_and_null_together_as_the_specification_suggests() {
    // "Valid example" of the specification: '' and null as separate selections.
    check(
        r"
        selection_main:
            Image|endswith: '\svchost.exe'
        selection_empty1:
            CommandLine: ''
        selection_empty2:
            CommandLine: null
        condition: selection_main and 1 of selection_empty*
        ",
        &[
            proc(&[
                ("Image", r"C:\Windows\System32\svchost.exe"),
                ("CommandLine", ""),
            ]),
            proc(&[("Image", r"C:\Windows\System32\svchost.exe")]),
        ],
        &[proc(&[
            ("Image", r"C:\Windows\System32\svchost.exe"),
            ("CommandLine", "svchost.exe -k netsvcs"),
        ])],
    );
}

// --- Wildcards and escaping -------------------------------------------------------------

#[test]
fn star_matches_any_run_of_characters_including_none() {
    check(
        r"
        selection:
            Image: 'C:\Users\\*\AppData\\*.exe'
        condition: selection
        ",
        &[
            proc(&[("Image", r"C:\Users\bob\AppData\Local\Temp\x.exe")]),
            proc(&[("Image", r"C:\Users\\AppData\.exe")]),
        ],
        &[
            proc(&[("Image", r"C:\Users\bob\AppData\Local\Temp\x.dll")]),
            proc(&[("Image", r"D:\Users\bob\AppData\x.exe")]),
        ],
    );
}

#[test]
fn question_mark_matches_exactly_one_character() {
    check(
        r"
        selection:
            Image: '*\prog?.exe'
        condition: selection
        ",
        &[
            proc(&[("Image", r"C:\Tools\progA.exe")]),
            proc(&[("Image", r"C:\Tools\prog1.exe")]),
        ],
        &[
            proc(&[("Image", r"C:\Tools\prog.exe")]),
            proc(&[("Image", r"C:\Tools\progAB.exe")]),
        ],
    );
}

#[test]
fn endswith_keeps_an_open_start_when_the_value_has_wildcards() {
    check(
        r"
        selection:
            Image|endswith: '\prog?.exe'
        condition: selection
        ",
        &[proc(&[("Image", r"C:\Tools\progA.exe")])],
        &[
            proc(&[("Image", r"C:\Tools\progAB.exe")]),
            proc(&[("Image", r"C:\Tools\progA.exe.bak")]),
        ],
    );
}

#[test]
fn startswith_keeps_an_open_end_when_the_value_has_wildcards() {
    check(
        r"
        selection:
            CommandLine|startswith: 'reg* save '
        condition: selection
        ",
        &[proc(&[(
            "CommandLine",
            r"reg.exe save HKLM\SAM C:\Temp\sam.hive",
        )])],
        &[proc(&[(
            "CommandLine",
            r"cmd /c reg.exe save HKLM\SAM sam.hive",
        )])],
    );
}

#[test]
fn escaped_star_is_a_literal_star() {
    check(
        r"
        selection:
            CommandLine|endswith: 'dir \*.kdbx'
        condition: selection
        ",
        &[proc(&[("CommandLine", r"cmd /c dir *.kdbx")])],
        &[proc(&[("CommandLine", r"cmd /c dir passwords.kdbx")])],
    );
}

#[test]
fn escaped_question_mark_is_a_literal_question_mark() {
    check(
        r"
        selection:
            CommandLine: 'whoami /\?'
        condition: selection
        ",
        &[proc(&[("CommandLine", "whoami /?")])],
        &[proc(&[("CommandLine", "whoami /a")])],
    );
}

#[test]
fn single_or_double_backslash_not_before_a_wildcard_is_one_backslash() {
    for value in [
        r"'C:\Windows\System32\cmd.exe'",
        r"'C:\\Windows\\System32\\cmd.exe'",
    ] {
        check(
            &format!(
                "
                selection:
                    Image: {value}
                condition: selection
                "
            ),
            &[proc(&[("Image", CMD)])],
            &[proc(&[("Image", r"C:\\Windows\\System32\\cmd.exe")])],
        );
    }
}

#[test]
fn escaped_backslash_before_a_star_keeps_the_wildcard() {
    // `\\*`: a backslash, then the wildcard.
    check(
        r"
        selection:
            TargetFilename: 'C:\Temp\\*'
        condition: selection
        ",
        &[proc(&[("TargetFilename", r"C:\Temp\payload.dll")])],
        &[proc(&[("TargetFilename", r"C:\TempX")])],
    );
}

#[test]
fn three_backslashes_before_a_star_are_a_backslash_and_a_literal_star() {
    // `\\\*`: both the backslash and the star are plain characters.
    check(
        r"
        selection:
            TargetFilename: 'C:\Temp\\\*'
        condition: selection
        ",
        &[proc(&[("TargetFilename", r"C:\Temp\*")])],
        &[proc(&[("TargetFilename", r"C:\Temp\payload.dll")])],
    );
}

#[test]
fn four_backslashes_are_two_plain_backslashes() {
    // A UNC path: `\\\\` is the plain value `\\`.
    check(
        r"
        selection:
            CommandLine|startswith: '\\\\tsclient\'
        condition: selection
        ",
        &[proc(&[("CommandLine", r"\\tsclient\c\payload.exe")])],
        &[proc(&[("CommandLine", r"\tsclient\c\payload.exe")])],
    );
}

// --- Case -------------------------------------------------------------------------------

#[test]
fn plain_values_are_case_insensitive() {
    check(
        r"
        selection:
            Image: 'C:\WINDOWS\system32\CMD.exe'
            User: 'nt authority\system'
        condition: selection
        ",
        &[proc(&[("Image", CMD), ("User", r"NT AUTHORITY\SYSTEM")])],
        &[proc(&[
            ("Image", CMD),
            ("User", r"NT AUTHORITY\NETWORK SERVICE"),
        ])],
    );
}

#[test]
fn modified_and_wildcard_values_are_case_insensitive() {
    check(
        r"
        selection:
            Image|endswith: '\POWERSHELL.EXE'
            CommandLine|contains: '-ENCODEDCOMMAND'
            ParentImage|startswith: 'c:\windows\'
            OriginalFileName: 'PowerShell.*'
        condition: selection
        ",
        &[proc(&[
            ("Image", POWERSHELL),
            ("CommandLine", "powershell -EncodedCommand SQBFAFgA"),
            ("ParentImage", CMD),
            ("OriginalFileName", "PowerShell.EXE.MUI"),
        ])],
        &[proc(&[
            ("Image", POWERSHELL),
            ("CommandLine", "powershell -Command Get-Date"),
            ("ParentImage", CMD),
            ("OriginalFileName", "PowerShell.EXE.MUI"),
        ])],
    );
}

#[test]
fn case_insensitivity_covers_letters_beyond_ascii() {
    // "All values are treated as case-insensitive strings": not only ASCII ones.
    check(
        r"
        selection:
            TargetFilename|contains: '\ÜBERSICHT\'
        condition: selection
        ",
        &[proc(&[(
            "TargetFilename",
            r"C:\Users\bob\Übersicht\notes.docx",
        )])],
        &[proc(&[(
            "TargetFilename",
            r"C:\Users\bob\Uebersicht\notes.docx",
        )])],
    );
}

// --- Numbers and strings ----------------------------------------------------------------

#[test]
fn a_number_in_a_rule_matches_the_number_or_its_text() {
    check(
        r"
        selection:
            EventID: 4688
        condition: selection
        ",
        &[
            proc_with(vec![("EventID", Value::from(4688_i64))]),
            proc_with(vec![("EventID", Value::from("4688"))]),
        ],
        &[
            proc_with(vec![("EventID", Value::from(4689_i64))]),
            proc_with(vec![("EventID", Value::from("46880"))]),
        ],
    );
}

#[test]
fn a_quoted_number_in_a_rule_matches_the_number_or_its_text() {
    check(
        r"
        selection:
            EventID: '4688'
        condition: selection
        ",
        &[
            proc_with(vec![("EventID", Value::from(4688_i64))]),
            proc_with(vec![("EventID", Value::from("4688"))]),
        ],
        &[proc_with(vec![("EventID", Value::from(4689_i64))])],
    );
}

#[test]
fn hexadecimal_text_stays_text() {
    // The specification's example quotes `'0x40810000'`: text, not the number 0x40810000.
    check(
        r"
        selection:
            EventID: 4769
            TicketOptions: '0x40810000'
            TicketEncryptionType: '0x17'
        condition: selection
        ",
        &[proc_with(vec![
            ("EventID", Value::from(4769_i64)),
            ("TicketOptions", Value::from("0x40810000")),
            ("TicketEncryptionType", Value::from("0x17")),
        ])],
        &[proc_with(vec![
            ("EventID", Value::from(4769_i64)),
            ("TicketOptions", Value::from("0x40810000")),
            ("TicketEncryptionType", Value::from("0x12")),
        ])],
    );
}

#[test]
fn a_wildcard_value_matches_the_text_of_a_number() {
    check(
        r"
        selection:
            EventID: '46*'
        condition: selection
        ",
        &[proc_with(vec![("EventID", Value::from(4688_i64))])],
        &[proc_with(vec![("EventID", Value::from(5156_i64))])],
    );
}
