//! Value patterns of config and suppression files: case-insensitive text where `*` stands
//! for any run of characters (`dc*`, `*.corp.example`, `*\temp\*`).

/// A compiled pattern: the literal parts between `*`s, lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    parts: Vec<String>,
    starts_open: bool,
    ends_open: bool,
}

impl Pattern {
    /// Compiles `text`; `None` when it is empty.
    pub(crate) fn new(text: &str) -> Option<Pattern> {
        if text.is_empty() {
            return None;
        }
        let lower = text.to_lowercase();
        Some(Pattern {
            parts: lower.split('*').map(str::to_string).collect(),
            starts_open: lower.starts_with('*'),
            ends_open: lower.ends_with('*'),
        })
    }

    /// Whether `value` matches, ignoring case.
    pub(crate) fn matches(&self, value: &str) -> bool {
        let value = value.to_lowercase();
        let [first, middle @ .., last] = self.parts.as_slice() else {
            // No `*`: one part.
            return self.parts.first().is_some_and(|p| *p == value);
        };
        if !self.starts_open && !value.starts_with(first.as_str()) {
            return false;
        }
        if !self.ends_open && !value.ends_with(last.as_str()) {
            return false;
        }
        let mut from = first.len();
        let end = value.len() - if self.ends_open { 0 } else { last.len() };
        if from > end {
            return false;
        }
        for part in middle {
            match value[from..end].find(part.as_str()) {
                Some(at) => from += at + part.len(),
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, value: &str) -> bool {
        Pattern::new(pattern).unwrap().matches(value)
    }

    #[test]
    fn exact_text_matches_ignoring_case() {
        assert!(m("DC01", "dc01"));
        assert!(!m("dc01", "dc011"));
    }

    #[test]
    fn stars_match_prefixes_suffixes_and_infixes() {
        assert!(m("dc*", "DC02"));
        assert!(!m("dc*", "xdc02"));
        assert!(m("*.corp.example", "web1.corp.example"));
        assert!(m("*\\temp\\*", "C:\\Users\\a\\Temp\\x.exe"));
        assert!(m("c:\\*\\x.exe", "C:\\Users\\a\\Temp\\x.exe"));
        assert!(m("*", "anything"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("ab*ba", "aba"));
    }

    #[test]
    fn empty_patterns_are_refused() {
        assert!(Pattern::new("").is_none());
    }
}
