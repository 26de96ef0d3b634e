//! Checking what a model wrote against the facts it was given.
//!
//! Every host, user, IP address, hash, file, domain and ATT&CK technique a text names must
//! be among the facts. [`Facts`] holds what is known (the incident's entities, indicators,
//! techniques, evidence values, and whatever read-only tools returned) and what belongs to
//! *other* incidents; [`Facts::check`] splits a text into sentences and names the unknown
//! entities of each.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::Serialize;
use serde_json::Value;

/// Words that look like identifiers but are ordinary vocabulary of the trade.
const VOCABULARY: &[&str] = &[
    "ATT&CK",
    "MITRE",
    "SOC",
    "EDR",
    "SIEM",
    "IOC",
    "IOCS",
    "TTP",
    "TTPS",
    "SSH",
    "RDP",
    "SMB",
    "DNS",
    "HTTP",
    "HTTPS",
    "TLS",
    "SSL",
    "NTLM",
    "LSASS",
    "LDAP",
    "WMI",
    "UAC",
    "GPO",
    "VPN",
    "API",
    "URL",
    "USB",
    "UTC",
    "IP",
    "IPS",
    "AD",
    "DC",
    "SID",
    "SAM",
    "PID",
    "CPU",
    "OS",
    "CLI",
    "MFA",
    "2FA",
    "IAM",
    "AWS",
    "GCP",
    "JSON",
    "CSV",
    "PDF",
    "POWERSHELL",
    "CMD",
    "ID",
    "IDS",
    "TCP",
    "UDP",
    "ICMP",
    "KERBEROS",
    "TGT",
    "TGS",
    "SPN",
    "DCSYNC",
    "SYSMON",
    "EVTX",
    "ETW",
    "AMSI",
    "LOLBIN",
    "LOLBINS",
    "C2",
    "IT",
    "CISO",
    "CEO",
    "FAQ",
    "ASAP",
    "N/A",
    "NA",
    "TODO",
    "OK",
    "PAM",
    "SUDO",
    "ROOT",
    "HIGH",
    "MEDIUM",
    "LOW",
    "CRITICAL",
    "IPV4",
    "IPV6",
    "X64",
    "X86",
    "WIN32",
    "WIN64",
    "SHA1",
    "SHA256",
    "MD5",
    "SHA-1",
    "SHA-256",
    "ECS",
    "NOTE",
    "ALERT",
    "WARNING",
    "URGENT",
    "IMPORTANT",
    "NONE",
    "TRUE",
    "FALSE",
    "NULL",
    "UNKNOWN",
    "INFO",
    "DEBUG",
    "ERROR",
    "FAILED",
    "SUCCESS",
    "NTDS",
    "DIT",
    "NTDS.DIT",
];

/// File extensions that make a token a file name.
const FILE_EXTENSIONS: &[&str] = &[
    "exe", "dll", "sys", "ps1", "psm1", "bat", "cmd", "vbs", "js", "hta", "msi", "scr", "dmp",
    "zip", "rar", "7z", "lnk", "py", "sh", "elf", "so", "jar", "docm", "xlsm", "iso", "tmp",
    "evtx", "log",
];

/// What a text may name, and what it must not.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Known entity values, lowercased.
    known: BTreeSet<String>,
    /// Free text of the facts (evidence values, titles), lowercased: a token found inside
    /// it is known too (`lsass` in `C:\Windows\System32\lsass.exe`).
    text: String,
    /// Entities of other incidents, lowercased: naming one is a mix-up.
    foreign: BTreeSet<String>,
}

/// A sentence the check refused, and the unknown entities it named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unknown {
    /// The sentence.
    pub sentence: String,
    /// The entities it names that are not among the facts.
    pub entities: Vec<String>,
}

/// A text after the check: the sentences kept and those dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// The kept sentences, joined.
    pub text: String,
    /// How many sentences the text had.
    pub sentences: usize,
    /// The dropped sentences.
    pub dropped: Vec<Unknown>,
}

impl Facts {
    /// An empty set of facts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an entity value (a host, a user, an IP, a hash, a technique id...). Hosts are
    /// also known by their first label (`dc1` for `DC1.insecurebank.local`), users without
    /// their domain (`bob` for `insecurebank\bob`).
    pub fn add(&mut self, value: &str) {
        let value = value.trim().to_lowercase();
        if value.is_empty() {
            return;
        }
        if let Some((short, _)) = value.split_once('.')
            && value.parse::<IpAddr>().is_err()
            && !short.is_empty()
        {
            self.known.insert(short.to_owned());
        }
        for sep in ['\\', '@'] {
            if let Some((a, b)) = value.split_once(sep) {
                self.known.insert(a.to_owned());
                self.known.insert(b.to_owned());
            }
        }
        self.text.push_str(&value);
        self.text.push('\n');
        self.known.insert(value);
    }

    /// Adds every string in `value` (recursively): evidence, tool results.
    pub fn add_json(&mut self, value: &Value) {
        match value {
            Value::String(s) => self.add_text(s),
            Value::Number(n) => self.add(&n.to_string()),
            Value::Array(items) => items.iter().for_each(|v| self.add_json(v)),
            Value::Object(map) => map.values().for_each(|v| self.add_json(v)),
            _ => {}
        }
    }

    /// Adds free text: its entity-like tokens become known, and its words can be found.
    pub fn add_text(&mut self, text: &str) {
        for token in entities_in(text) {
            self.add(&token);
        }
        let lower = text.to_lowercase();
        self.text.push_str(&lower);
        self.text.push('\n');
        // Whole values are known as written (a host name, a user name).
        if lower.len() <= 256 && !lower.contains(char::is_whitespace) {
            self.known.insert(lower);
        }
    }

    /// Adds an entity of another incident.
    pub fn add_foreign(&mut self, value: &str) {
        let value = value.trim().to_lowercase();
        if !value.is_empty() {
            self.foreign.insert(value);
        }
    }

    /// Whether `entity` is among the facts.
    pub fn knows(&self, entity: &str) -> bool {
        let lower = entity.to_lowercase();
        if self.known.contains(&lower) {
            return true;
        }
        if self.foreign.contains(&lower) {
            return false;
        }
        // Identifiers must match whole; words may be found inside evidence text.
        let strict = lower.parse::<IpAddr>().is_ok() || is_hash(&lower) || is_technique(entity);
        !strict && lower.len() >= 3 && self.text.contains(&lower)
    }

    /// The entities of `text` that are not among the facts.
    pub fn unknown_in(&self, text: &str) -> Vec<String> {
        let mut unknown: Vec<String> = Vec::new();
        for entity in entities_in(text) {
            if !self.knows(&entity) && !unknown.contains(&entity) {
                unknown.push(entity);
            }
        }
        // Naming another incident's host or user is a mix-up even in plain words.
        for word in words(text) {
            let lower = word.to_lowercase();
            if self.foreign.contains(&lower)
                && !self.known.contains(&lower)
                && !unknown.contains(&word)
            {
                unknown.push(word);
            }
        }
        unknown
    }

    /// Keeps the sentences of `text` that name only known entities.
    pub fn check(&self, text: &str) -> Checked {
        let mut checked = Checked::default();
        let mut kept = Vec::new();
        for sentence in sentences(text) {
            checked.sentences += 1;
            let unknown = self.unknown_in(&sentence);
            if unknown.is_empty() {
                kept.push(sentence);
            } else {
                checked.dropped.push(Unknown {
                    sentence,
                    entities: unknown,
                });
            }
        }
        checked.text = kept.join(" ");
        checked
    }
}

/// Splits text into sentences: at `.`, `!` or `?` followed by white space and an upper-case
/// letter, a digit or a quote, and at line breaks. Dots inside names (`lsass.exe`,
/// `10.0.0.5`) do not split.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let chars: Vec<char> = line.chars().collect();
        let mut start = 0;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1);
            let after = chars.get(i + 2);
            let ends = matches!(c, '.' | '!' | '?')
                && next.is_some_and(|n| n.is_whitespace())
                && after.is_none_or(|a| {
                    a.is_uppercase()
                        || a.is_ascii_digit()
                        || matches!(a, '"' | '\'' | '(' | '*' | '-')
                });
            if ends {
                push_sentence(&mut out, &chars[start..=i]);
                start = i + 1;
            }
            i += 1;
        }
        push_sentence(&mut out, &chars[start..]);
    }
    out
}

fn push_sentence(out: &mut Vec<String>, chars: &[char]) {
    let sentence: String = chars.iter().collect();
    let sentence = sentence.trim();
    if !sentence.is_empty() {
        out.push(sentence.to_owned());
    }
}

/// Tokens of `text`, split at white space and trimmed of surrounding punctuation.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ',' | ';' | '(' | ')' | '[' | ']' | '"' | '`' | '<' | '>' | '*'
            )
    })
    .map(|w| w.trim_matches(|c: char| matches!(c, '.' | ':' | '!' | '?' | '\'')))
    .filter(|w| !w.is_empty())
    .map(str::to_owned)
    .collect()
}

/// The entity-like tokens of `text`: IP addresses, hashes, ATT&CK technique ids, CVE ids,
/// file names, domains, `DOMAIN\user` and `user@domain`, and identifiers that mix letters
/// with digits, hyphens or underscores (`WIN-7QX2`, `srv01`) or are all capitals.
pub fn entities_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in words(text) {
        if is_entity(&word) && !out.contains(&word) {
            out.push(word);
        }
    }
    out
}

fn is_entity(word: &str) -> bool {
    let upper = word.to_uppercase();
    if VOCABULARY.contains(&upper.as_str()) {
        return false;
    }
    if word.parse::<IpAddr>().is_ok() || is_hash(word) || is_technique(word) {
        return true;
    }
    if upper.starts_with("CVE-") || word.contains('\\') || (word.contains('@') && word.len() > 3) {
        return true;
    }
    if let Some((stem, ext)) = word.rsplit_once('.') {
        let ext = ext.to_lowercase();
        if !stem.is_empty() && FILE_EXTENSIONS.contains(&ext.as_str()) {
            return true;
        }
        // A domain: labels of letters, digits and hyphens, ending in a 2-24 letter label.
        let labels: Vec<&str> = word.split('.').collect();
        if labels.len() >= 2
            && labels
                .iter()
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            && (2..=24).contains(&ext.len())
            && ext.chars().all(|c| c.is_ascii_alphabetic())
        {
            return true;
        }
    }
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    let digits = word.chars().filter(|c| c.is_ascii_digit()).count();
    let joiners = word.chars().filter(|c| matches!(c, '-' | '_')).count();
    if letters == 0 || word.chars().count() < 3 {
        return false;
    }
    // Ordinary words with digits or hyphens ("24-hour", "4625", "multi-stage") stay words:
    // an identifier mixes letters and digits, or joins capitals with a hyphen/underscore.
    let has_upper = word.chars().any(char::is_uppercase);
    let all_caps = word
        .chars()
        .filter(|c| c.is_alphabetic())
        .all(char::is_uppercase);
    (digits > 0 && letters > 0 && !is_ordinal(word))
        || (joiners > 0 && has_upper && word.chars().skip(1).any(char::is_uppercase))
        || (all_caps && letters >= 4 && joiners == 0 && digits == 0 && word.len() <= 15)
}

fn is_ordinal(word: &str) -> bool {
    let lower = word.to_lowercase();
    let digits: String = lower.chars().take_while(char::is_ascii_digit).collect();
    let rest = &lower[digits.len()..];
    !digits.is_empty()
        && matches!(
            rest,
            "st" | "nd"
                | "rd"
                | "th"
                | "s"
                | "h"
                | "m"
                | "d"
                | "x"
                | "ms"
                | "kb"
                | "mb"
                | "gb"
                | "-hour"
                | "-day"
                | "-minute"
                | "-step"
        )
}

fn is_hash(word: &str) -> bool {
    matches!(word.len(), 32 | 40 | 64 | 128) && word.chars().all(|c| c.is_ascii_hexdigit())
}

pub(crate) fn is_technique(word: &str) -> bool {
    let bytes = word.as_bytes();
    let base = bytes.len() >= 5
        && (bytes[0] == b'T' || bytes[0] == b't')
        && bytes[1..5].iter().all(u8::is_ascii_digit);
    match bytes.len() {
        5 => base,
        9 => base && bytes[5] == b'.' && bytes[6..9].iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        let mut facts = Facts::new();
        for known in [
            "DC1.insecurebank.local",
            "insecurebank\\bob",
            "10.0.0.5",
            "T1003.001",
        ] {
            facts.add(known);
        }
        facts.add_text(r"C:\Windows\System32\lsass.exe accessed by C:\Tools\procdump64.exe");
        facts.add_foreign("msedgewin10");
        facts
    }

    #[test]
    fn sentences_split_at_ends_not_at_dots_inside_names() {
        assert_eq!(
            sentences(
                "Host DC1.insecurebank.local was hit from 10.0.0.5. Then lsass.exe was read! Done"
            ),
            [
                "Host DC1.insecurebank.local was hit from 10.0.0.5.",
                "Then lsass.exe was read!",
                "Done"
            ]
        );
    }

    #[test]
    fn known_entities_pass_in_any_case_and_short_form() {
        let facts = facts();
        let text = "The account bob on DC1 (dc1.insecurebank.local) dumped LSASS memory with procdump64.exe, technique T1003.001, from 10.0.0.5.";
        assert_eq!(facts.unknown_in(text), Vec::<String>::new());
    }

    #[test]
    fn invented_and_foreign_entities_are_named() {
        let facts = facts();
        assert_eq!(
            facts.unknown_in(
                "Then 10.0.0.99 reached WIN-7QX2 and ran mimikatz.exe (T1059.001) on msedgewin10."
            ),
            [
                "10.0.0.99",
                "WIN-7QX2",
                "mimikatz.exe",
                "T1059.001",
                "msedgewin10"
            ]
        );
        // An IP address is an identifier: a known one inside a longer one is not enough.
        assert_eq!(facts.unknown_in("from 10.0.0.50"), ["10.0.0.50"]);
    }

    #[test]
    fn ordinary_words_are_not_entities() {
        let facts = Facts::new();
        let text = "A high-severity, multi-stage attack ran over 24-hour periods: 4625 failures, 3rd attempt, via SSH and RDP under MITRE ATT&CK.";
        assert_eq!(facts.unknown_in(text), Vec::<String>::new());
    }

    #[test]
    fn a_check_drops_only_the_sentences_with_unknowns() {
        let checked = facts().check(
            "bob dumped credentials on DC1. The attacker came from 8.8.8.8. Reset bob's password.",
        );
        assert_eq!(checked.sentences, 3);
        assert_eq!(
            checked.text,
            "bob dumped credentials on DC1. Reset bob's password."
        );
        assert_eq!(checked.dropped[0].entities, ["8.8.8.8"]);
    }
}
