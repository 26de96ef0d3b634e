//! ArcSight Common Event Format (CEF) and IBM QRadar's Log Event Extended Format (LEEF 1.0
//! and 2.0), alone on a line or after a syslog header.
//!
//! CEF: `CEF:Version|Device Vendor|Device Product|Device Version|Device Event Class ID|Name|Severity|Extension`,
//! where `|` and `\` are escaped with `\` in the header, and the extension is `key=value`
//! pairs separated by spaces, values holding spaces and escaping `=`, `\`, and line breaks
//! (`\n`, `\r`). LEEF: `LEEF:1.0|Vendor|Product|Version|EventID|` then `key=value` pairs
//! separated by tabs; LEEF 2.0 adds a delimiter field (`^`, or `x5E` in hex) before them.
//!
//! Header fields take the CEF dictionary's full names (`deviceVendor`, `deviceProduct`,
//! `deviceVersion`, `deviceEventClassId`, `name`, `severity`, `cefVersion`); extension keys
//! keep their own names (`src`, `dpt`, `suser`). A custom label (`cs1Label=User Group`)
//! also names its value: `cs1=Admins` gives `cs1` and `User Group`.

use vigil_event::{Fields, Value};

use super::syslog::header;

/// The parts of a CEF or LEEF line.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Flavour {
    Cef,
    Leef1,
    Leef2,
}

/// Where `CEF:` or `LEEF:` starts in `line`: at its start or after a syslog header.
pub(crate) fn find_start(line: &str) -> Option<(usize, Flavour)> {
    for (marker, flavour) in [("CEF:", Flavour::Cef), ("LEEF:2", Flavour::Leef2), ("LEEF:1", Flavour::Leef1)] {
        if line.starts_with(marker) {
            return Some((0, flavour));
        }
        // After a header: `<134>Mar  1 12:00:00 host CEF:0|...`; the marker follows a space.
        if let Some(i) = line.find(&format!(" {marker}")) {
            return Some((i + 1, flavour));
        }
    }
    None
}

/// Splits the `|`-separated header into `count` fields and the rest, undoing `\|` and
/// `\\`. `None` when the line has fewer fields.
fn split_header(text: &str, count: usize) -> Option<(Vec<String>, &str)> {
    let mut fields = Vec::with_capacity(count);
    let mut current = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.clone().next() {
                Some((_, next @ ('|' | '\\'))) => {
                    current.push(next);
                    chars.next();
                }
                _ => current.push('\\'),
            },
            '|' => {
                fields.push(std::mem::take(&mut current));
                if fields.len() == count {
                    return Some((fields, &text[i + 1..]));
                }
            }
            c => current.push(c),
        }
    }
    None
}

const CEF_HEADER: [&str; 7] = [
    "cefVersion",
    "deviceVendor",
    "deviceProduct",
    "deviceVersion",
    "deviceEventClassId",
    "name",
    "severity",
];

const LEEF_HEADER: [&str; 5] = ["leefVersion", "deviceVendor", "deviceProduct", "deviceVersion", "deviceEventClassId"];

/// Parses the CEF or LEEF text that starts at `text` into `fields`. The error says what
/// is wrong.
pub(crate) fn parse(text: &str, flavour: Flavour, fields: &mut Fields) -> Result<(), &'static str> {
    match flavour {
        Flavour::Cef => {
            let body = text.strip_prefix("CEF:").ok_or("no CEF: marker")?;
            let (header, extension) =
                split_header(body, CEF_HEADER.len()).ok_or("the CEF header has fewer than 8 fields")?;
            for (name, value) in CEF_HEADER.iter().zip(header) {
                fields.insert(*name, Value::from(value));
            }
            cef_extension(extension, fields);
        }
        Flavour::Leef1 | Flavour::Leef2 => {
            let body = text.strip_prefix("LEEF:").ok_or("no LEEF: marker")?;
            let count = if flavour == Flavour::Leef2 { LEEF_HEADER.len() + 1 } else { LEEF_HEADER.len() };
            let (header, attributes) =
                split_header(body, count).ok_or("the LEEF header has fewer fields than its version needs")?;
            let mut delimiter = '\t';
            for (i, value) in header.into_iter().enumerate() {
                match LEEF_HEADER.get(i) {
                    Some(name) => {
                        fields.insert(*name, Value::from(value));
                    }
                    None => delimiter = leef_delimiter(&value).ok_or("the LEEF 2.0 delimiter is not a character")?,
                }
            }
            leef_attributes(attributes, delimiter, fields);
        }
    }
    Ok(())
}

/// LEEF 2.0 delimiters are a character (`^`) or its code in hex (`x5E`, `0x5E`); empty
/// means the default tab.
fn leef_delimiter(text: &str) -> Option<char> {
    let hex = text.strip_prefix("0x").or_else(|| text.strip_prefix("x")).or_else(|| text.strip_prefix("X"));
    match hex {
        Some(hex) if !hex.is_empty() => u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
        _ => {
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (None, _) => Some('\t'),
                (Some(c), None) => Some(c),
                _ => None,
            }
        }
    }
}

/// Whether `key` can be a CEF extension key: letters, digits, `_`, `.`, `-`, `[`, `]`.
fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'[' | b']'))
}

/// Splits a CEF extension into `key=value` pairs. A value runs until the space before the
/// next `key=`; `\=` inside it is not a separator.
fn cef_extension(text: &str, fields: &mut Fields) {
    let bytes = text.as_bytes();
    // Offsets of every unescaped `=`.
    let mut equals = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' => {
                equals.push(i);
                i += 1;
            }
            _ => i += 1,
        }
    }
    // Each `=` whose preceding word is a key starts a pair.
    let mut pairs: Vec<(usize, usize)> = Vec::new(); // (key start, equals)
    for &eq in &equals {
        let key_start = text[..eq].rfind(' ').map_or(0, |s| s + 1);
        let key_start = key_start.max(pairs.last().map_or(0, |&(_, e)| e + 1));
        if is_key(&text[key_start..eq]) {
            pairs.push((key_start, eq));
        }
    }
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut values: Vec<(String, String)> = Vec::new();
    for (n, &(key_start, eq)) in pairs.iter().enumerate() {
        let end = pairs.get(n + 1).map_or(text.len(), |&(next, _)| next);
        let key = &text[key_start..eq];
        let raw = text[eq + 1..end].trim_end_matches(' ');
        let value = unescape_cef_value(raw);
        if key.ends_with("Label") {
            labels.push((key.trim_end_matches("Label").to_string(), value.clone()));
        }
        values.push((key.to_string(), value));
    }
    for (key, value) in &values {
        fields.insert(key.as_str(), Value::from(value.as_str()));
    }
    // `cs1Label=User Group cs1=Admins`: the label names the value too.
    for (base, label) in labels {
        if label.is_empty() || label == base {
            continue;
        }
        if let Some((_, value)) = values.iter().find(|(k, _)| *k == base)
            && fields.get(&label).is_none()
        {
            fields.insert(label.as_str(), Value::from(value.as_str()));
        }
    }
}

fn unescape_cef_value(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other @ ('=' | '\\')) => out.push(other),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// LEEF attributes: `key=value` separated by `delimiter`.
fn leef_attributes(text: &str, delimiter: char, fields: &mut Fields) {
    for pair in text.split(delimiter) {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if is_key(key) {
            fields.insert(key, Value::from(value));
        }
    }
}

/// Whether a syslog header comes before the marker: its fields are then read too.
pub(crate) fn syslog_prefix(line: &str, start: usize) -> Option<&str> {
    (start > 0).then(|| line[..start].trim_end())
}

/// Reads the syslog header before a CEF/LEEF marker, when there is one.
pub(crate) fn header_of<'a>(prefix: &'a str, tz: &jiff::tz::TimeZone) -> Option<header::Header<'a>> {
    header::parse(prefix, tz).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cef(line: &str) -> Vec<(String, String)> {
        let mut fields = Fields::default();
        let (start, flavour) = find_start(line).unwrap();
        parse(&line[start..], flavour, &mut fields).unwrap();
        fields.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    fn get<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
        fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn header_and_extension_with_spaces_and_escapes() {
        let f = cef(r"CEF:0|Security|threat\|manager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232 msg=Detected a threat. No action needed act=blocked a \= b\\c");
        assert_eq!(get(&f, "deviceVendor"), Some("Security"));
        assert_eq!(get(&f, "deviceProduct"), Some("threat|manager"));
        assert_eq!(get(&f, "severity"), Some("10"));
        assert_eq!(get(&f, "src"), Some("10.0.0.1"));
        assert_eq!(get(&f, "spt"), Some("1232"));
        assert_eq!(get(&f, "msg"), Some("Detected a threat. No action needed"));
        assert_eq!(get(&f, "act"), Some(r"blocked a = b\c"));
    }

    #[test]
    fn labels_name_custom_strings_and_trailing_space_is_dropped() {
        let f = cef("CEF:0|V|P|1|1|N|5|cs1Label=User Group cs1=Domain Admins msg=x     ");
        assert_eq!(get(&f, "cs1"), Some("Domain Admins"));
        assert_eq!(get(&f, "User Group"), Some("Domain Admins"));
        assert_eq!(get(&f, "msg"), Some("x"));
    }

    #[test]
    fn after_a_syslog_header() {
        let line = "<134>Feb 14 19:04:54 fw1 CEF:0|Palo Alto Networks|PAN-OS|8.0|TRAFFIC|end|3|src=10.1.1.1";
        let (start, _) = find_start(line).unwrap();
        assert_eq!(syslog_prefix(line, start), Some("<134>Feb 14 19:04:54 fw1"));
        assert_eq!(get(&cef(line), "deviceProduct"), Some("PAN-OS"));
    }

    #[test]
    fn leef_one_and_two() {
        let f = cef("LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\tsev=5\tusrName=joe.black");
        assert_eq!(get(&f, "deviceEventClassId"), Some("15345"));
        assert_eq!(get(&f, "usrName"), Some("joe.black"));
        let f = cef("LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5");
        assert_eq!(get(&f, "dst"), Some("10.0.0.5"));
        let f = cef("LEEF:2.0|Vendor|Product|1.0|41|x5E|a=1^b=2");
        assert_eq!(get(&f, "b"), Some("2"));
    }

    #[test]
    fn short_headers_are_errors() {
        let mut fields = Fields::default();
        assert!(parse("CEF:0|a|b", Flavour::Cef, &mut fields).is_err());
        assert!(parse("LEEF:2.0|a|b|c|d|xZZ|k=v", Flavour::Leef2, &mut fields).is_err());
    }
}
