//! The built-in question parser: common question shapes, no model needed.
//!
//! Shapes it reads (any order, one question may combine them):
//! - a topic: `brute force`, `password spraying`, `credential dumping`, `lsass`, `mimikatz`,
//!   `powershell`, `log clearing`, `scheduled tasks`, `new services`, `kerberoasting`,
//!   `pass the hash`, `dcsync`, `rdp`, `account creation`, `failed logins`, an ATT&CK tactic
//!   (`lateral movement`, `persistence`...) or a technique id (`T1110`);
//! - a log source: `ssh`, `sudo`, `windows`, `sysmon`, `powershell logs`, `security log`,
//!   `firewall`, `cloudtrail`, `okta`, `azure`, `dns`, `web`;
//! - a time: `last 3 days`, `past 12 hours`, `last week`, `today`, `since 2024-01-31`,
//!   `on 2024-01-31`, `between 2024-01-01 and 2024-01-31`;
//! - entities: `from 10.0.0.5`, `to 10.0.0.5`, `user root`, `for account admin`,
//!   `on host DC1`;
//! - what to list: `incidents`, `events`/`log lines`, else detections; `high severity`,
//!   `critical`;
//! - counting: `by source ip`, `per user`, `which hosts`, `top 10 ...`, `how many`.

use serde::Serialize;

use crate::grounding::is_technique;
use crate::query::{Filter, Op, Query, Target, parse_time};

/// A question read by the built-in parser.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parsed {
    /// The query.
    pub query: Query,
    /// The phrases that were understood, each with what it became.
    pub understood: Vec<String>,
    /// Words that were not understood (and so ignored).
    pub ignored: Vec<String>,
}

/// Topics: phrases → techniques, tactics, sources, filters and target.
struct Topic {
    phrases: &'static [&'static str],
    techniques: &'static [&'static str],
    tactics: &'static [&'static str],
    filters: &'static [(&'static str, &'static str)],
    target: Option<Target>,
}

const TOPICS: &[Topic] = &[
    t(
        &[
            "brute force",
            "brute-force",
            "bruteforce",
            "password guessing",
            "password spraying",
            "password spray",
        ],
        &["T1110"],
        &[],
        &[],
        None,
    ),
    t(
        &[
            "credential dumping",
            "credential dump",
            "credential theft",
            "lsass",
            "mimikatz",
            "dumping credentials",
        ],
        &["T1003"],
        &[],
        &[],
        None,
    ),
    t(&["dcsync"], &["T1003.006"], &[], &[], None),
    t(
        &["kerberoasting", "kerberoast"],
        &["T1558.003"],
        &[],
        &[],
        None,
    ),
    t(
        &["pass the hash", "pass-the-hash"],
        &["T1550.002"],
        &[],
        &[],
        None,
    ),
    t(
        &[
            "log clearing",
            "cleared logs",
            "clearing logs",
            "log cleared",
            "logs cleared",
            "cleared the logs",
            "event log cleared",
            "clear event logs",
        ],
        &["T1070.001"],
        &[],
        &[],
        None,
    ),
    t(
        &["scheduled tasks", "scheduled task"],
        &["T1053"],
        &[],
        &[],
        None,
    ),
    t(
        &[
            "new services",
            "new service",
            "service installs",
            "service installation",
            "installed services",
        ],
        &["T1543.003"],
        &[],
        &[],
        None,
    ),
    t(
        &[
            "account creation",
            "created accounts",
            "new accounts",
            "new users",
            "new user",
            "account created",
        ],
        &["T1136"],
        &[],
        &[],
        None,
    ),
    t(
        &["encoded powershell", "powershell"],
        &["T1059.001"],
        &[],
        &[],
        None,
    ),
    t(&["rdp", "remote desktop"], &["T1021.001"], &[], &[], None),
    t(
        &[
            "failed logins",
            "failed login",
            "failed logons",
            "failed logon",
            "login failures",
            "logon failures",
            "failed authentications",
            "authentication failures",
            "failed passwords",
        ],
        &[],
        &[],
        &[("outcome", "failure")],
        Some(Target::Events),
    ),
    t(
        &["successful logins", "successful logons", "accepted logins"],
        &[],
        &[],
        &[("outcome", "success")],
        Some(Target::Events),
    ),
    t(&["lateral movement"], &[], &["lateral-movement"], &[], None),
    t(&["persistence"], &[], &["persistence"], &[], None),
    t(
        &["privilege escalation"],
        &[],
        &["privilege-escalation"],
        &[],
        None,
    ),
    t(&["defense evasion"], &[], &["defense-evasion"], &[], None),
    t(
        &["credential access"],
        &[],
        &["credential-access"],
        &[],
        None,
    ),
    t(
        &["discovery", "reconnaissance"],
        &[],
        &["discovery"],
        &[],
        None,
    ),
    t(&["exfiltration"], &[], &["exfiltration"], &[], None),
    t(
        &["command and control", "c2 traffic", "beaconing"],
        &[],
        &["command-and-control"],
        &[],
        None,
    ),
    t(&["initial access"], &[], &["initial-access"], &[], None),
    t(&["execution"], &[], &["execution"], &[], None),
    t(&["impact", "ransomware"], &[], &["impact"], &[], None),
];

const fn t(
    phrases: &'static [&'static str],
    techniques: &'static [&'static str],
    tactics: &'static [&'static str],
    filters: &'static [(&'static str, &'static str)],
    target: Option<Target>,
) -> Topic {
    Topic {
        phrases,
        techniques,
        tactics,
        filters,
        target,
    }
}

/// Log sources: phrase → the word matched against each row's provenance.
const SOURCES: &[(&str, &str)] = &[
    ("ssh", "ssh"),
    ("sshd", "ssh"),
    ("sudo", "sudo"),
    ("sysmon", "sysmon"),
    ("security log", "security"),
    ("windows", "windows"),
    ("firewall", "firewall"),
    ("cloudtrail", "cloudtrail"),
    ("okta", "okta"),
    ("azure", "azure"),
    ("dns", "dns"),
    ("web", "web"),
    ("auditd", "auditd"),
    ("zeek", "zeek"),
    ("suricata", "suricata"),
];

/// Group-by phrases → field.
const GROUPS: &[(&str, &str)] = &[
    ("source ips", "source.ip"),
    ("source ip", "source.ip"),
    ("source addresses", "source.ip"),
    ("ip addresses", "source.ip"),
    ("ips", "source.ip"),
    ("ip", "source.ip"),
    ("users", "user"),
    ("user", "user"),
    ("accounts", "user"),
    ("account", "user"),
    ("hosts", "host"),
    ("host", "host"),
    ("machines", "host"),
    ("rules", "rule"),
    ("rule", "rule"),
    ("processes", "process"),
];

/// Words that carry no meaning for a query.
const FILLER: &[&str] = &[
    "show",
    "me",
    "list",
    "find",
    "get",
    "give",
    "all",
    "any",
    "the",
    "a",
    "an",
    "of",
    "in",
    "on",
    "for",
    "with",
    "and",
    "or",
    "from",
    "to",
    "that",
    "were",
    "was",
    "is",
    "are",
    "there",
    "have",
    "has",
    "been",
    "what",
    "which",
    "who",
    "did",
    "do",
    "does",
    "please",
    "attempts",
    "attempt",
    "activity",
    "signs",
    "evidence",
    "detections",
    "detection",
    "alerts",
    "alert",
    "hits",
    "any",
    "by",
    "per",
    "over",
    "during",
    "within",
    "last",
    "past",
    "this",
    "i",
    "we",
    "see",
    "can",
    "you",
    "look",
    "lookup",
    "search",
    "hunt",
    "us",
    "our",
    "my",
    "it",
    "at",
    "against",
    "see",
];

/// Reads a question. `None` when nothing in it is understood.
pub fn parse(question: &str) -> Option<Parsed> {
    let mut query = Query::default();
    let mut understood = Vec::new();
    let cleaned: String = question
        .chars()
        .map(|c| {
            if matches!(c, '?' | '!' | ',' | ';' | '"' | '\'' | '(' | ')') {
                ' '
            } else {
                c
            }
        })
        .collect();
    // Original spellings for entity values (host and user names keep their case).
    let original: Vec<String> = cleaned
        .split_whitespace()
        .map(|w| w.trim_end_matches('.').to_owned())
        .collect();
    let mut words: Vec<String> = original.iter().map(|w| w.to_lowercase()).collect();
    let mut used = vec![false; words.len()];

    // Topics, longest phrases first.
    let mut phrases: Vec<(&str, &Topic)> = TOPICS
        .iter()
        .flat_map(|t| t.phrases.iter().map(move |p| (*p, t)))
        .collect();
    phrases.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    for (phrase, topic) in phrases {
        if let Some(at) = find(&words, &used, phrase) {
            mark(&mut used, at, phrase);
            for technique in topic.techniques {
                push_unique(&mut query.techniques, technique);
            }
            for tactic in topic.tactics {
                push_unique(&mut query.tactics, tactic);
            }
            for (field, value) in topic.filters {
                query.filters.push(Filter {
                    field: (*field).to_owned(),
                    op: Op::Equals,
                    value: (*value).to_owned(),
                });
            }
            if let Some(target) = topic.target {
                query.target = target;
            }
            understood.push(format!("\"{phrase}\" → {}", describe_topic(topic)));
        }
    }
    // Technique ids.
    for (i, word) in words.iter().enumerate() {
        let upper = word.to_uppercase();
        if !used[i] && is_technique(&upper) {
            used[i] = true;
            push_unique(&mut query.techniques, &upper);
            understood.push(format!("\"{word}\" → technique {upper}"));
        }
    }
    // Targets and levels.
    for (i, word) in words.clone().iter().enumerate() {
        if used[i] {
            continue;
        }
        let target = match word.as_str() {
            "incident" | "incidents" | "cases" => Some(Target::Incidents),
            "event" | "events" | "records" | "logs" => Some(Target::Events),
            _ => None,
        };
        if let Some(target) = target {
            used[i] = true;
            query.target = target;
            understood.push(format!("\"{word}\" → list {target:?}").to_lowercase());
            continue;
        }
        if let Some(level) = ["critical", "high", "medium", "low"]
            .iter()
            .find(|l| **l == word.as_str())
        {
            let next = words.get(i + 1).map(String::as_str);
            if matches!(next, Some("severity" | "level" | "risk" | "priority"))
                || *level == "critical"
            {
                used[i] = true;
                if matches!(next, Some("severity" | "level" | "risk" | "priority")) {
                    used[i + 1] = true;
                }
                query.min_level = Some((*level).to_owned());
                understood.push(format!("\"{word}\" → level {level} or above"));
            }
        }
    }
    // Times.
    parse_times(&words, &mut used, &mut query, &mut understood);
    // Entities.
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        let next = original
            .get(i + 1)
            .filter(|_| i + 1 < words.len() && !used[i + 1])
            .cloned();
        let field = match (word, next.as_deref()) {
            ("from" | "src" | "source", Some(n)) if n.parse::<std::net::IpAddr>().is_ok() => {
                Some("source.ip")
            }
            ("to" | "dst" | "destination", Some(n)) if n.parse::<std::net::IpAddr>().is_ok() => {
                Some("destination.ip")
            }
            ("user" | "account" | "username", Some(_)) if !used[i] => Some("user"),
            ("host" | "hostname" | "machine" | "computer" | "server", Some(_)) if !used[i] => {
                Some("host")
            }
            _ => None,
        };
        if let (Some(field), Some(value)) = (field, next)
            && (!FILLER.contains(&value.to_lowercase().as_str()) || field.ends_with(".ip"))
        {
            used[i] = true;
            used[i + 1] = true;
            query.filters.push(Filter {
                field: field.to_owned(),
                op: Op::Equals,
                value: value.clone(),
            });
            understood.push(format!("\"{word} {value}\" → {field} = {value}"));
            i += 2;
            continue;
        }
        // A bare IP address.
        if !used[i] && word.parse::<std::net::IpAddr>().is_ok() {
            used[i] = true;
            query.filters.push(Filter {
                field: "source.ip".to_owned(),
                op: Op::Equals,
                value: original[i].clone(),
            });
            understood.push(format!("\"{word}\" → source.ip = {word}"));
        }
        i += 1;
    }
    // Sources.
    for (phrase, source) in SOURCES {
        if let Some(at) = find(&words, &used, phrase) {
            mark(&mut used, at, phrase);
            push_unique(&mut query.sources, source);
            understood.push(format!("\"{phrase}\" → source {source}"));
        }
    }
    // Counting.
    parse_groups(&mut words, &mut used, &mut query, &mut understood);

    let ignored: Vec<String> = words
        .iter()
        .zip(&used)
        .filter(|(w, used)| !**used && !FILLER.contains(&w.as_str()))
        .map(|(w, _)| w.clone())
        .collect();
    if query.is_empty() {
        return None;
    }
    // Raw events cannot be searched by technique: a topic with techniques lists detections.
    if query.target == Target::Events && (!query.techniques.is_empty() || !query.tactics.is_empty())
    {
        query.target = Target::Detections;
    }
    Some(Parsed {
        query,
        understood,
        ignored,
    })
}

fn describe_topic(topic: &Topic) -> String {
    let mut parts = Vec::new();
    if !topic.techniques.is_empty() {
        parts.push(format!("technique {}", topic.techniques.join(", ")));
    }
    if !topic.tactics.is_empty() {
        parts.push(format!("tactic {}", topic.tactics.join(", ")));
    }
    for (field, value) in topic.filters {
        parts.push(format!("{field} = {value}"));
    }
    parts.join("; ")
}

fn parse_times(
    words: &[String],
    used: &mut [bool],
    query: &mut Query,
    understood: &mut Vec<String>,
) {
    let unit = |w: &str| -> Option<char> {
        match w.trim_end_matches('s') {
            "minute" | "min" => Some('m'),
            "hour" | "hr" => Some('h'),
            "day" => Some('d'),
            "week" | "wk" => Some('w'),
            "month" => Some('M'),
            _ => None,
        }
    };
    let window = |n: i64, u: char| {
        if u == 'M' {
            format!("{}d", n * 30)
        } else {
            format!("{n}{u}")
        }
    };
    for i in 0..words.len() {
        if used[i] {
            continue;
        }
        let w = words[i].as_str();
        if matches!(w, "last" | "past" | "previous") {
            let n = words.get(i + 1).and_then(|n| parse_number(n));
            match (
                n,
                words.get(i + 1).and_then(|u| unit(u)),
                words.get(i + 2).and_then(|u| unit(u)),
            ) {
                (Some(n), _, Some(u)) => {
                    query.last = Some(window(n, u));
                    used[i..=i + 2].iter_mut().for_each(|u| *u = true);
                    understood.push(format!(
                        "\"{w} {} {}\" → last {}",
                        words[i + 1],
                        words[i + 2],
                        window(n, u)
                    ));
                }
                (None, Some(u), _) => {
                    query.last = Some(window(1, u));
                    used[i..=i + 1].iter_mut().for_each(|u| *u = true);
                    understood.push(format!("\"{w} {}\" → last {}", words[i + 1], window(1, u)));
                }
                _ => {}
            }
        } else if w == "today"
            || (w == "24" && words.get(i + 1).is_some_and(|u| u.starts_with("hour")))
        {
            query.last = Some("24h".to_owned());
            used[i] = true;
            understood.push(format!("\"{w}\" → last 24h"));
        } else if matches!(w, "since" | "after") {
            if let Some(date) = words.get(i + 1).filter(|d| parse_time(d, false).is_some()) {
                query.from = Some(date.clone());
                used[i..=i + 1].iter_mut().for_each(|u| *u = true);
                understood.push(format!("\"{w} {date}\" → from {date}"));
            }
        } else if w == "before" || w == "until" {
            if let Some(date) = words.get(i + 1).filter(|d| parse_time(d, true).is_some()) {
                query.to = Some(date.clone());
                used[i..=i + 1].iter_mut().for_each(|u| *u = true);
                understood.push(format!("\"{w} {date}\" → to {date}"));
            }
        } else if matches!(w, "between" | "from") {
            let a = words.get(i + 1).filter(|d| parse_time(d, false).is_some());
            let b = words.get(i + 3).filter(|d| parse_time(d, true).is_some());
            if let (Some(a), Some(b), Some("and" | "to" | "until")) =
                (a, b, words.get(i + 2).map(String::as_str))
            {
                query.from = Some(a.clone());
                query.to = Some(b.clone());
                used[i..=i + 3].iter_mut().for_each(|u| *u = true);
                understood.push(format!("\"{w} {a} … {b}\" → from {a} to {b}"));
            }
        } else if w == "on"
            && let Some(date) = words
                .get(i + 1)
                .filter(|d| d.len() == 10 && parse_time(d, false).is_some())
        {
            query.from = Some(date.clone());
            query.to = Some(date.clone());
            used[i..=i + 1].iter_mut().for_each(|u| *u = true);
            understood.push(format!("\"on {date}\" → that day"));
        }
    }
}

fn parse_groups(
    words: &mut [String],
    used: &mut [bool],
    query: &mut Query,
    understood: &mut Vec<String>,
) {
    for i in 0..words.len() {
        if used[i] {
            continue;
        }
        let w = words[i].clone();
        let is_lead = matches!(w.as_str(), "by" | "per" | "which" | "top" | "most");
        if !is_lead {
            if w == "count" || (w == "how" && words.get(i + 1).is_some_and(|m| m == "many")) {
                used[i] = true;
                query.limit = query.limit.or(Some(1000));
                understood.push("\"how many\"/\"count\" → count matches".to_owned());
            }
            continue;
        }
        let mut j = i + 1;
        if w == "top" {
            if let Some(n) = words.get(j).and_then(|n| parse_number(n)) {
                query.limit = Some(u32::try_from(n).unwrap_or(10));
                used[j] = true;
                j += 1;
            } else {
                query.limit = query.limit.or(Some(10));
            }
            used[i] = true;
        }
        // "source ips" is two words; try the longest group phrase at j.
        for (phrase, field) in GROUPS {
            let n = phrase.split(' ').count();
            if j + n <= words.len()
                && words[j..j + n].join(" ") == *phrase
                && !used[j..j + n].iter().any(|u| *u)
            {
                query.group_by = Some((*field).to_owned());
                used[i] = true;
                used[j..j + n].iter_mut().for_each(|u| *u = true);
                understood.push(format!("\"{w} {phrase}\" → count by {field}"));
                break;
            }
        }
    }
}

fn parse_number(word: &str) -> Option<i64> {
    if let Ok(n) = word.parse() {
        return Some(n);
    }
    let words = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve",
    ];
    words.iter().position(|w| *w == word).map(|i| i as i64 + 1)
}

fn find(words: &[String], used: &[bool], phrase: &str) -> Option<usize> {
    let parts: Vec<&str> = phrase.split(' ').collect();
    (0..words.len()).find(|&i| {
        i + parts.len() <= words.len()
            && parts
                .iter()
                .enumerate()
                .all(|(k, p)| words[i + k] == *p && !used[i + k])
    })
}

fn mark(used: &mut [bool], at: usize, phrase: &str) {
    let n = phrase.split(' ').count();
    used[at..at + n].iter_mut().for_each(|u| *u = true);
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v.eq_ignore_ascii_case(value)) {
        list.push(value.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Query {
        parse(text)
            .unwrap_or_else(|| panic!("not understood: {text}"))
            .query
    }

    #[test]
    fn the_issue_example_reads_as_brute_force_over_ssh_in_three_days() {
        let parsed = parse("show me SSH brute force attempts from the last 3 days").unwrap();
        assert_eq!(parsed.query.techniques, ["T1110"]);
        assert_eq!(parsed.query.sources, ["ssh"]);
        assert_eq!(parsed.query.last.as_deref(), Some("3d"));
        assert_eq!(parsed.query.target, Target::Detections);
        assert!(parsed.ignored.is_empty(), "{:?}", parsed.ignored);
    }

    #[test]
    fn entities_counting_and_targets() {
        let query = q("top 5 source ips with failed logins for user root in the past 12 hours");
        assert_eq!(query.group_by.as_deref(), Some("source.ip"));
        assert_eq!(query.limit, Some(5));
        assert_eq!(query.target, Target::Events);
        assert_eq!(query.last.as_deref(), Some("12h"));
        assert!(query.filters.contains(&Filter {
            field: "user".into(),
            op: Op::Equals,
            value: "root".into()
        }));
        assert!(query.filters.contains(&Filter {
            field: "outcome".into(),
            op: Op::Equals,
            value: "failure".into()
        }));

        let query = q(
            "high severity incidents on host DC1.insecurebank.local with T1003.001 since 2019-03-01",
        );
        assert_eq!(query.target, Target::Incidents);
        assert_eq!(query.min_level.as_deref(), Some("high"));
        assert_eq!(query.techniques, ["T1003.001"]);
        assert_eq!(query.from.as_deref(), Some("2019-03-01"));
        assert_eq!(query.filters[0].value, "DC1.insecurebank.local");

        let query = q("lateral movement from 10.1.2.3 between 2024-01-01 and 2024-01-31 by host");
        assert_eq!(query.tactics, ["lateral-movement"]);
        assert_eq!(query.filters[0].field, "source.ip");
        assert_eq!(
            (query.from.as_deref(), query.to.as_deref()),
            (Some("2024-01-01"), Some("2024-01-31"))
        );
        assert_eq!(query.group_by.as_deref(), Some("host"));
    }

    #[test]
    fn a_question_without_any_known_shape_is_not_understood() {
        assert!(parse("what is the meaning of life").is_none());
        assert!(parse("").is_none());
    }
}
