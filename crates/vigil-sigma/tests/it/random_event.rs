//! Random events made from a rule set's own words, for the fast-path property tests: field
//! names and values taken from the rules' detections, shaped as a matching event would
//! have them (an address inside a `|cidr` network, Base64 for `|base64offset`, ...) or
//! not, in the rules' log sources or others.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::Index;
use serde::Deserialize;
use vigil_event::{Event, Location, Origin, Value};
use yaml_serde::Value as Yaml;

use crate::harness::{base64, utf16be, utf16le};

/// A log source: product, service, category.
type Source = (Option<String>, Option<String>, Option<String>);

/// Log sources random events are put in besides those of the rules.
const SOURCES: &[(Option<&str>, Option<&str>, Option<&str>)] = &[
    (Some("windows"), Some("sysmon"), Some("process_creation")),
    (Some("windows"), Some("security"), Some("process_creation")),
    (Some("windows"), Some("security"), None),
    (Some("windows"), Some("system"), None),
    (Some("windows"), Some("sysmon"), Some("registry_set")),
    (Some("windows"), Some("sysmon"), Some("registry_add")),
    (Some("windows"), Some("sysmon"), Some("network_connection")),
    (Some("windows"), Some("sysmon"), Some("file_event")),
    (Some("windows"), Some("powershell"), Some("ps_script")),
    (Some("linux"), None, Some("process_creation")),
    (Some("linux"), Some("auditd"), None),
    (None, None, Some("proxy")),
];

/// The names Security event 4688 keeps Sysmon's process-creation fields under (the
/// renames of `data/routing.toml`), so random 4688 events can carry what rules look for.
const SECURITY_4688: &[(&str, &str)] = &[
    ("Image", "NewProcessName"),
    ("ProcessId", "NewProcessId"),
    ("ParentImage", "ParentProcessName"),
    ("ParentProcessId", "ProcessId"),
    ("User", "SubjectUserName"),
    ("LogonId", "SubjectLogonId"),
];

/// One item of a selection: a field (`None`: keywords), its modifiers and its values.
#[derive(Debug, Clone)]
struct Item {
    field: Option<String>,
    modifiers: Vec<String>,
    values: Vec<String>,
    /// The item of a filter, which a matching event must not meet.
    negated: bool,
}

/// A selection of a rule (or all of a rule's selections but its filters), as material for
/// an event that comes close to matching it.
#[derive(Debug, Clone)]
struct Seed {
    source: Source,
    items: Vec<Item>,
}

/// What random events are made of: the field names and literals of a rule set's
/// detections, and its selections.
#[derive(Debug, Default)]
pub(crate) struct Vocabulary {
    fields: Vec<String>,
    literals: Vec<String>,
    seeds: Vec<Seed>,
    placeholders: BTreeMap<String, Vec<String>>,
}

impl Vocabulary {
    /// The vocabulary of the rules in `texts` (YAML, several documents each), whose
    /// `|expand` placeholders have these values.
    pub(crate) fn of<'a>(
        texts: impl IntoIterator<Item = &'a str>,
        placeholders: BTreeMap<String, Vec<String>>,
    ) -> Self {
        let mut vocabulary = Vocabulary {
            placeholders,
            ..Vocabulary::default()
        };
        for text in texts {
            for document in yaml_serde::Deserializer::from_str(text) {
                if let Ok(document) = Yaml::deserialize(document) {
                    vocabulary.add_rule(&document);
                }
            }
        }
        vocabulary.fields.sort();
        vocabulary.fields.dedup();
        vocabulary.literals.sort();
        vocabulary.literals.dedup();
        assert!(!vocabulary.fields.is_empty());
        assert!(!vocabulary.literals.is_empty());
        assert!(!vocabulary.seeds.is_empty());
        vocabulary
    }

    fn add_rule(&mut self, rule: &Yaml) {
        let Some(detection) = rule.get("detection").and_then(Yaml::as_mapping) else {
            return;
        };
        let attribute = |name: &str| {
            rule.get("logsource")
                .and_then(|l| l.get(name))
                .and_then(Yaml::as_str)
                .map(str::to_string)
        };
        let source = (
            attribute("product"),
            attribute("service"),
            attribute("category"),
        );
        // One seed per selection, and one for the whole rule but its filters, as most
        // conditions need several selections at once.
        let mut whole = Vec::new();
        let mut selections = 0;
        for (name, selection) in detection {
            let name = name.as_str().unwrap_or_default();
            if matches!(name, "condition" | "timeframe") {
                continue;
            }
            let alternatives = match selection {
                Yaml::Sequence(items) if items.iter().all(Yaml::is_mapping) => {
                    items.iter().map(|map| self.items(map)).collect()
                }
                Yaml::Sequence(_) => vec![vec![Item {
                    field: None,
                    modifiers: Vec::new(),
                    values: self.scalars(selection),
                    negated: false,
                }]],
                map => vec![self.items(map)],
            };
            for items in alternatives {
                if name.starts_with("filter") {
                    // A filter's fields get values that do not meet it.
                    whole.extend(items.iter().cloned().map(|item| Item {
                        negated: true,
                        ..item
                    }));
                } else {
                    whole.extend(items.iter().cloned());
                    selections += 1;
                }
                self.seeds.push(Seed {
                    source: source.clone(),
                    items,
                });
            }
        }
        if selections > 1 {
            self.seeds.push(Seed {
                source,
                items: whole,
            });
        }
    }

    /// The items of a selection that is a map.
    fn items(&mut self, selection: &Yaml) -> Vec<Item> {
        let Some(map) = selection.as_mapping() else {
            return Vec::new();
        };
        let mut items = Vec::new();
        for (key, value) in map {
            let Some(key) = key.as_str() else { continue };
            let mut parts = key.split('|');
            let field = parts.next().unwrap_or_default();
            let field = (!field.is_empty()).then(|| field.to_string());
            let modifiers: Vec<String> = parts.map(str::to_string).collect();
            self.fields.extend(field.clone());
            let values = self.scalars(value);
            if modifiers.iter().any(|m| m == "fieldref")
                && let Some(other) = values.first()
            {
                // The referenced field must hold what this one holds: give both one value.
                self.fields.push(other.clone());
                for field in [Some(other.clone()), field] {
                    items.push(Item {
                        field,
                        modifiers: Vec::new(),
                        values: vec!["alice".to_string()],
                        negated: false,
                    });
                }
                continue;
            }
            items.push(Item {
                field,
                modifiers,
                values,
                negated: false,
            });
        }
        items
    }

    /// The scalar values under `value`, as text, also kept as literals.
    fn scalars(&mut self, value: &Yaml) -> Vec<String> {
        let text = |v: &Yaml| match v {
            Yaml::String(s) => Some(s.clone()),
            Yaml::Number(n) => Some(n.to_string()),
            Yaml::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        let values: Vec<String> = match value {
            Yaml::Sequence(items) => items.iter().filter_map(text).collect(),
            Yaml::Mapping(map) => map.values().filter_map(text).collect(),
            other => text(other).into_iter().collect(),
        };
        self.literals.extend(values.iter().cloned());
        values
    }

    fn literal(&self, bits: u64) -> &str {
        &self.literals[(bits % self.literals.len() as u64) as usize]
    }

    fn field(&self, bits: u64) -> &str {
        &self.fields[(bits % self.fields.len() as u64) as usize]
    }

    /// A value for `item` as an event matching it would have it, picked by `bits`; `None`
    /// when such an event lacks the field.
    fn realize(&self, item: &Item, bits: u64) -> Option<Value> {
        let has = |m: &str| item.modifiers.iter().any(|x| x == m);
        if item.negated {
            return Some(Value::from(format!("zz{}", bits % 1000)));
        }
        let pick = |values: &[String]| values[(bits % values.len() as u64) as usize].clone();
        if has("exists") {
            return (item.values.first().map(String::as_str) != Some("false"))
                .then(|| Value::from(self.literal(bits).to_string()));
        }
        if has("expand") {
            let name = item.values.first()?.trim_matches('%');
            return self
                .placeholders
                .get(name)
                .map(|values| Value::from(fill_wildcards(&pick(values), bits)));
        }
        if item.values.is_empty() {
            return None;
        }
        let literal = pick(&item.values);
        for (modifier, offset) in [("lt", -1), ("lte", 0), ("gt", 1), ("gte", 0), ("neq", 1)] {
            if has(modifier)
                && let Ok(n) = literal.parse::<i64>()
            {
                return Some(Value::from(n + offset));
            }
        }
        if has("cidr") {
            return Some(Value::from(address_in(&literal, bits)));
        }
        if has("hour") {
            return Some(Value::from(format!("2024-07-10T{literal:0>2}:12:45Z")));
        }
        let text = if has("all") {
            item.values
                .iter()
                .map(|v| fill_wildcards(v, bits))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            fill_wildcards(&literal, bits)
        };
        let text = if has("windash") {
            let dash = ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"][(bits % 5) as usize];
            text.replace('-', dash)
        } else {
            text
        };
        let other = self.literal(bits >> 8);
        let encoded = if has("base64offset") || has("base64") {
            let prefix: String = if has("base64offset") {
                other.chars().take((bits >> 20) as usize % 3).collect()
            } else {
                String::new()
            };
            let plain = format!("{prefix}{text} {other}");
            let bytes = if has("wide") || has("utf16le") {
                utf16le(&plain)
            } else if has("utf16be") {
                utf16be(&plain)
            } else if has("utf16") {
                let mut bytes = vec![0xff, 0xfe];
                bytes.extend(utf16le(&plain));
                bytes
            } else {
                plain.into_bytes()
            };
            Some(base64(&bytes))
        } else {
            None
        };
        let text = encoded.unwrap_or(text);
        Some(Value::from(if has("contains") || item.field.is_none() {
            format!("{} {text} {}", other, self.literal(bits >> 16))
        } else if has("endswith") {
            format!("{other}{text}")
        } else if has("startswith") {
            format!("{text}{other}")
        } else {
            text
        }))
    }
}

/// `literal` with its wildcards replaced by what they could stand for and its escapes
/// undone, roughly: `*` by a few characters, `?` by one.
fn fill_wildcards(literal: &str, bits: u64) -> String {
    let fill = ["", "abc", "\\x\\"][(bits % 3) as usize];
    let mut out = String::with_capacity(literal.len());
    let mut chars = literal.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => {
                out.push(chars.next().unwrap_or('\\'));
            }
            '*' => out.push_str(fill),
            '?' => out.push('z'),
            c => out.push(c),
        }
    }
    out
}

/// An address inside the network `cidr` (`10.0.0.0/8`, `fe80::/10`), or `cidr` itself
/// when it is not one.
fn address_in(cidr: &str, bits: u64) -> String {
    let Some((network, _)) = cidr.split_once('/') else {
        return cidr.to_string();
    };
    if network.contains(':') {
        format!(
            "{}{:x}",
            network.trim_end_matches(':').to_string() + "::",
            bits % 0xffff + 1
        )
    } else {
        let mut octets: Vec<&str> = network.split('.').collect();
        let last = format!("{}", bits % 254 + 1);
        if let Some(slot) = octets.last_mut() {
            *slot = &last;
        }
        octets.join(".")
    }
}

/// How a literal becomes a value that may or may not match.
fn shape(vocabulary: &Vocabulary, literal: &str, bits: u64) -> Value {
    let other = vocabulary.literal(bits >> 8);
    let chars: Vec<char> = literal.chars().collect();
    let text = match bits % 12 {
        0 | 1 => literal.to_string(),
        2 => chars
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if bits >> (i % 48 + 16) & 1 == 1 {
                    c.to_uppercase().next().unwrap_or(*c)
                } else {
                    c.to_lowercase().next().unwrap_or(*c)
                }
            })
            .collect(),
        3 => {
            let n = chars.len().max(1) as u64;
            let start = (bits >> 16) % n;
            let len = (bits >> 24) % (n - start) + 1;
            chars
                .iter()
                .skip(start as usize)
                .take(len as usize)
                .collect()
        }
        4 => format!("{other}{literal}"),
        5 => format!("{literal} {other}"),
        6 => fill_wildcards(literal, bits >> 16),
        7 => base64(format!("{other}{literal}").as_bytes()),
        8 => base64(&utf16le(&format!("{literal} {other}"))),
        9 => {
            return match literal.parse::<i64>() {
                Ok(n) => Value::from(n + (bits >> 16) as i64 % 3 - 1),
                Err(_) => Value::from(((bits >> 16) % 70_000) as i64),
            };
        }
        10 => return Value::Null,
        _ => ((bits >> 16) % 12..12)
            .map(|i| char::from(b'a' + ((bits >> (i * 4)) % 26) as u8))
            .collect(),
    };
    Value::from(text)
}

/// A random event: near one selection of the rules or not, in one of their log sources or
/// another, with extra fields.
pub(crate) fn event_strategy(vocabulary: &'static Vocabulary) -> impl Strategy<Value = Event> {
    (
        any::<Index>(),
        any::<u64>(),
        any::<Index>(),
        prop::collection::vec(any::<u64>(), 1..12),
        prop::collection::vec(any::<(u64, u64)>(), 0..5),
    )
        .prop_map(move |(seed, mode, source, item_bits, extra)| {
            build_event(vocabulary, seed, mode, source, &item_bits, &extra)
        })
}

fn build_event(
    vocabulary: &Vocabulary,
    seed: Index,
    mode: u64,
    source: Index,
    item_bits: &[u64],
    extra: &[(u64, u64)],
) -> Event {
    let seed = seed.get(&vocabulary.seeds);
    let mut event = Event::new(Origin::new("random".into(), Location::record(1)), "json");
    // Mostly the seed's own log source (with a service for process creation, as events
    // always have one), sometimes another.
    let (product, service, category) = if !mode.is_multiple_of(5) {
        let (p, s, c) = seed.source.clone();
        let s = s.or_else(|| match (p.as_deref(), c.as_deref()) {
            (Some("windows"), Some("process_creation")) => {
                Some(if mode & 8 == 0 { "sysmon" } else { "security" }.to_string())
            }
            _ => None,
        });
        (p, s, c)
    } else {
        let (p, s, c) = source.get(SOURCES);
        (p.map(Into::into), s.map(Into::into), c.map(Into::into))
    };
    let security_4688 = service.as_deref() == Some("security")
        && category.as_deref() == Some("process_creation")
        && mode & 16 == 0;
    event.logsource.product = product.map(Into::into);
    event.logsource.service = service.map(Into::into);
    event.logsource.category = category.map(Into::into);

    // The seed's items: mostly as a matching event has them, sometimes dropped or shaped
    // at random.
    for (i, item) in seed.items.iter().enumerate() {
        let bits = item_bits[i % item_bits.len()].rotate_left(i as u32 * 7);
        let name = match &item.field {
            Some(field) => field.clone(),
            None => vocabulary.field(bits >> 32).to_string(),
        };
        let name = match SECURITY_4688.iter().find(|(rule, _)| *rule == name) {
            Some((_, renamed)) if security_4688 => renamed.to_string(),
            _ => name,
        };
        if item.field.is_none()
            && item.modifiers.iter().any(|m| m == "all")
            && !bits.is_multiple_of(16)
        {
            // Keywords that must all appear: each in a field of its own, or all in one.
            let values = item.values.iter().map(|v| fill_wildcards(v, bits));
            if bits & 16 == 0 {
                for (j, value) in values.enumerate() {
                    let field = vocabulary.field((bits >> 8).wrapping_add(j as u64));
                    event.insert(field, Value::from(value));
                }
            } else {
                let value = values.collect::<Vec<_>>().join(" ");
                event.insert(vocabulary.field(bits >> 8), Value::from(value));
            }
            continue;
        }
        let value = match bits % 16 {
            0 => continue,
            1..=10 => match vocabulary.realize(item, bits >> 4) {
                Some(value) => value,
                None => continue,
            },
            _ => {
                let literal = item
                    .values
                    .first()
                    .map_or_else(|| vocabulary.literal(bits >> 4), String::as_str);
                shape(vocabulary, literal, bits >> 4)
            }
        };
        event.insert(name, value);
    }
    for (name, bits) in extra {
        let literal = vocabulary.literal(bits >> 40);
        event.insert(vocabulary.field(*name), shape(vocabulary, literal, *bits));
    }
    event
}
