//! Building rules and events for the tests, and matching an event through both paths.

use std::collections::BTreeSet;

use vigil_event::{Event, Location, Origin, Value};
use vigil_sigma::{Detector, Routing, RuleSet};

/// The log source most tests put their rule and events in.
pub(crate) const PRODUCT: &str = "windows";
/// The category most tests put their rule and events in.
pub(crate) const CATEGORY: &str = "process_creation";

/// `text` with the indentation its lines share removed (blank lines ignored).
pub(crate) fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `parts`, each dedented, as one multi-document YAML stream.
pub(crate) fn documents(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| dedent(p))
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// `text` dedented, then indented by `by` spaces.
pub(crate) fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    dedent(text)
        .lines()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A Windows process-creation rule with this title and `detection:` body.
pub(crate) fn rule_yaml(title: &str, detection: &str) -> String {
    format!(
        "title: {title}\nid: {id}\nstatus: test\nlevel: medium\nlogsource:\n    product: {PRODUCT}\n    category: {CATEGORY}\ndetection:\n{body}\n",
        id = id_for(title),
        body = indent(detection, 4),
    )
}

/// A stable UUID-shaped id for a title, so rules can be referred to by id.
pub(crate) fn id_for(title: &str) -> String {
    // FNV-1a: any stable hash does; the id only has to be unique among a test's rules.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in title.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        hash >> 32,
        (hash >> 16) & 0xffff,
        hash & 0xfff,
        (hash >> 20) & 0xfff,
        hash & 0xffff_ffff_ffff
    )
}

/// Loads YAML that must load completely, and builds a detector with the built-in routing.
pub(crate) fn detector(yaml: &str) -> Detector {
    let (rules, report) = RuleSet::from_yaml("test.yml", yaml, None);
    assert!(
        report.failed.is_empty(),
        "rules failed to load: {:#?}\n{yaml}",
        report.failed
    );
    Detector::new(rules, Routing::builtin().unwrap())
}

/// A detector of one process-creation rule with this `detection:` body.
pub(crate) fn one_rule(detection: &str) -> Detector {
    detector(&rule_yaml("Under test", detection))
}

/// An event of `product`/`category` (either may be absent) with these fields.
pub(crate) fn event_in(
    product: Option<&str>,
    service: Option<&str>,
    category: Option<&str>,
    fields: Vec<(&str, Value)>,
) -> Event {
    let mut event = Event::new(Origin::new("test".into(), Location::record(1)), "json");
    event.logsource.product = product.map(Into::into);
    event.logsource.service = service.map(Into::into);
    event.logsource.category = category.map(Into::into);
    for (name, value) in fields {
        event.push(name, value);
    }
    event
}

/// A Windows process-creation event with these string fields.
pub(crate) fn proc(fields: &[(&str, &str)]) -> Event {
    proc_with(fields.iter().map(|(k, v)| (*k, Value::from(*v))).collect())
}

/// A Windows process-creation event with these fields.
pub(crate) fn proc_with(fields: Vec<(&str, Value)>) -> Event {
    event_in(Some(PRODUCT), Some("sysmon"), Some(CATEGORY), fields)
}

/// A Windows Security 4688 (process creation) event with these fields after its `EventID`.
pub(crate) fn security_4688_with(fields: Vec<(&str, Value)>) -> Event {
    let mut all = vec![("EventID", Value::from(4688_i64))];
    all.extend(fields);
    event_in(Some(PRODUCT), Some("security"), Some(CATEGORY), all)
}

/// The indices of the rules that match `event`, after asserting that the fast path and
/// the exhaustive reference agree.
pub(crate) fn matched(detector: &Detector, event: &Event) -> BTreeSet<usize> {
    let fast: BTreeSet<usize> = detector
        .matcher()
        .detect(event)
        .iter()
        .map(|m| m.index)
        .collect();
    let reference: BTreeSet<usize> = detector
        .detect_exhaustive(event)
        .iter()
        .map(|m| m.index)
        .collect();
    assert_eq!(
        fast, reference,
        "fast path and exhaustive reference disagree on {event:?}"
    );
    fast
}

/// The titles of the rules that match `event` (both paths agreeing).
pub(crate) fn titles(detector: &Detector, event: &Event) -> BTreeSet<String> {
    let infos: Vec<_> = detector.rules().rules().collect();
    matched(detector, event)
        .into_iter()
        .map(|i| infos[i].title.clone())
        .collect()
}

/// Whether any rule matches `event` (both paths agreeing).
pub(crate) fn hits(detector: &Detector, event: &Event) -> bool {
    !matched(detector, event).is_empty()
}

/// Asserts that a one-rule `detection:` body matches every event of `yes` and none of `no`.
pub(crate) fn check(detection: &str, yes: &[Event], no: &[Event]) {
    let detector = one_rule(detection);
    for event in yes {
        assert!(
            hits(&detector, event),
            "expected a match:\n{}\non {event:?}",
            dedent(detection)
        );
    }
    for event in no {
        assert!(
            !hits(&detector, event),
            "expected no match:\n{}\non {event:?}",
            dedent(detection)
        );
    }
}

/// Standard Base64 (RFC 4648, with padding) of `bytes`.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `text` in UTF-16LE, as PowerShell's `-EncodedCommand` expects it before Base64.
pub(crate) fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// `text` in UTF-16BE.
pub(crate) fn utf16be(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

#[test]
fn base64_encodes_the_rfc_4648_test_vectors() {
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(plain.as_bytes()), encoded);
    }
}
