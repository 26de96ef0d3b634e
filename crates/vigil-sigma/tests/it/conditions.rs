//! Conditions (rules specification, "Condition"): `and`, `or`, `not`, brackets, the
//! precedence `or` < `and` < `not` < `x of` < brackets, `1 of`/`all of` a pattern or
//! `them`, and lists of conditions.

use crate::harness::{check, proc};

/// Selections `a`, `b` and `c` on three separate fields, so each event says which hold.
const ABC: &str = r"
    a:
        Image|endswith: '\a.exe'
    b:
        User: 'bob'
    c:
        CommandLine|contains: 'evil'
";

fn detection(condition: &str) -> String {
    format!("{}\ncondition: {condition}\n", crate::harness::dedent(ABC))
}

/// An event on which exactly the named selections of [`ABC`] hold.
fn with(holding: &str) -> vigil_event::Event {
    let image = if holding.contains('a') {
        r"C:\a.exe"
    } else {
        r"C:\z.exe"
    };
    let user = if holding.contains('b') { "bob" } else { "eve" };
    let command_line = if holding.contains('c') {
        "run evil"
    } else {
        "run good"
    };
    proc(&[
        ("Image", image),
        ("User", user),
        ("CommandLine", command_line),
    ])
}

/// Checks `condition` against every combination of `a`, `b` and `c`: it must hold on
/// exactly the combinations for which `expected` says so.
fn truth_table(condition: &str, expected: fn(bool, bool, bool) -> bool) {
    let mut yes = Vec::new();
    let mut no = Vec::new();
    for bits in 0..8u8 {
        let (a, b, c) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
        let name: String = [(a, 'a'), (b, 'b'), (c, 'c')]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect();
        if expected(a, b, c) {
            yes.push(with(&name));
        } else {
            no.push(with(&name));
        }
    }
    check(&detection(condition), &yes, &no);
}

#[test]
fn and_requires_both() {
    truth_table("a and b", |a, b, _| a && b);
}

#[test]
fn or_requires_either() {
    truth_table("a or b", |a, b, _| a || b);
}

#[test]
fn not_negates() {
    truth_table("not a", |a, _, _| !a);
    truth_table("a and not b", |a, b, _| a && !b);
}

#[test]
fn and_binds_tighter_than_or() {
    truth_table("a or b and c", |a, b, c| a || (b && c));
    truth_table("a and b or c", |a, b, c| (a && b) || c);
}

#[test]
fn not_binds_tighter_than_and_and_or() {
    truth_table("not a and b", |a, b, _| !a && b);
    truth_table("not a or b", |a, b, _| !a || b);
    truth_table("a and not b or c", |a, b, c| (a && !b) || c);
}

#[test]
fn brackets_override_precedence() {
    truth_table("(a or b) and c", |a, b, c| (a || b) && c);
    truth_table("not (a and b)", |a, b, _| !(a && b));
    truth_table("a and (b or not c)", |a, b, c| a && (b || !c));
}

/// Selections named for the patterns below: `selection_img`, `selection_cli`,
/// `filter_user`.
const PATTERNED: &str = r"
    selection_img:
        Image|endswith: '\rundll32.exe'
    selection_cli:
        CommandLine|contains: 'javascript:'
    filter_user:
        User: 'SYSTEM'
";

fn patterned(condition: &str) -> String {
    format!(
        "{}\ncondition: {condition}\n",
        crate::harness::dedent(PATTERNED)
    )
}

const RUNDLL32: &str = r"C:\Windows\System32\rundll32.exe";

#[test]
fn one_of_a_pattern_is_or_over_the_matching_selections() {
    check(
        &patterned("1 of selection_*"),
        &[
            proc(&[("Image", RUNDLL32)]),
            proc(&[("CommandLine", "mshta javascript:alert(1)")]),
        ],
        &[
            proc(&[("User", "SYSTEM")]),
            proc(&[("Image", r"C:\x.exe"), ("CommandLine", "x")]),
        ],
    );
}

#[test]
fn all_of_a_pattern_is_and_over_the_matching_selections() {
    check(
        &patterned("all of selection_*"),
        &[proc(&[
            ("Image", RUNDLL32),
            (
                "CommandLine",
                r#"rundll32 javascript:"\..\mshtml,RunHTMLApplication""#,
            ),
        ])],
        &[
            proc(&[("Image", RUNDLL32)]),
            proc(&[("CommandLine", "javascript:")]),
        ],
    );
}

#[test]
fn pattern_wildcards_may_sit_anywhere() {
    check(
        &patterned("1 of *_user"),
        &[proc(&[("User", "system")])],
        &[proc(&[("Image", RUNDLL32)])],
    );
}

#[test]
fn of_binds_tighter_than_not() {
    // `not 1 of filter*` is `not (1 of filter*)`.
    check(
        &patterned("1 of selection_* and not 1 of filter*"),
        &[proc(&[("Image", RUNDLL32), ("User", "bob")])],
        &[proc(&[("Image", RUNDLL32), ("User", "SYSTEM")])],
    );
}

#[test]
fn one_of_them_is_or_over_all_selections() {
    check(
        &patterned("1 of them"),
        &[
            proc(&[("Image", RUNDLL32)]),
            proc(&[("CommandLine", "javascript:")]),
            proc(&[("User", "SYSTEM")]),
        ],
        &[proc(&[("Image", r"C:\x.exe"), ("User", "bob")])],
    );
}

#[test]
fn all_of_them_is_and_over_all_selections() {
    check(
        &patterned("all of them"),
        &[proc(&[
            ("Image", RUNDLL32),
            ("CommandLine", "javascript:"),
            ("User", "SYSTEM"),
        ])],
        &[proc(&[("Image", RUNDLL32), ("CommandLine", "javascript:")])],
    );
}

#[test]
fn them_leaves_out_selections_starting_with_an_underscore() {
    // "A search identifier `_example` wouldn't be included because detections starting
    // with underscores are excluded by convention."
    let detection = r"
        selection:
            Image|endswith: '\rundll32.exe'
        _helper:
            User: 'SYSTEM'
        condition: all of them
    ";
    check(
        detection,
        &[proc(&[("Image", RUNDLL32), ("User", "bob")])],
        &[proc(&[("User", "SYSTEM")])],
    );
    let detection = r"
        selection:
            Image|endswith: '\rundll32.exe'
        _helper:
            User: 'SYSTEM'
        condition: 1 of them
    ";
    check(
        detection,
        &[proc(&[("Image", RUNDLL32)])],
        &[proc(&[("User", "SYSTEM")])],
    );
}

#[test]
fn a_selection_starting_with_an_underscore_can_be_named() {
    check(
        r"
        selection:
            Image|endswith: '\rundll32.exe'
        _helper:
            User: 'SYSTEM'
        condition: selection and _helper
        ",
        &[proc(&[("Image", RUNDLL32), ("User", "SYSTEM")])],
        &[proc(&[("Image", RUNDLL32), ("User", "bob")])],
    );
}

#[test]
fn a_list_of_conditions_is_or() {
    // "The condition can be a list ... They are logically linked with OR."
    check(
        r"
        selection_img:
            Image|endswith: '\rundll32.exe'
        selection_cli:
            CommandLine|contains: 'javascript:'
        condition:
            - selection_img
            - selection_cli
        ",
        &[
            proc(&[("Image", RUNDLL32)]),
            proc(&[("CommandLine", "javascript:")]),
        ],
        &[proc(&[("Image", r"C:\x.exe"), ("CommandLine", "x")])],
    );
}
