//! Values for the `|expand` modifier: `%name%` placeholders in a rule value stand for the
//! lists of values a site defines (its admin accounts, its domain controllers), given in a
//! YAML file of `name: [values]`.
//!
//! Only values under `|expand` are expanded, as the specification says; `%APPDATA%` in a
//! `CommandLine|contains` value stays literal text. A value keeps its wildcards: `*`, `?` and
//! escapes in the rule's text and in the placeholder's values mean what they mean in any
//! Sigma value, and `\%` in the rule's text is a literal percent sign (`\%plain%name%` is
//! the text `%plain` and the placeholder `name`). A placeholder without values is an error
//! naming it: a rule that silently never matches would hide a gap.

use std::collections::BTreeMap;
use std::path::Path;

use rsigma_parser::{Detection, DetectionItem, Modifier, SigmaRule, SigmaString, SigmaValue};

use crate::error::{Error, Result};

/// Placeholder names and their values.
#[derive(Debug, Clone, Default)]
pub struct Placeholders {
    values: BTreeMap<String, Vec<String>>,
}

impl Placeholders {
    /// Placeholders from a map of names to values.
    pub fn new(values: BTreeMap<String, Vec<String>>) -> Self {
        Placeholders { values }
    }

    /// Reads a YAML file of `name: [value, ...]` (a single value may stand alone).
    pub fn from_file(path: &Path) -> Result<Self> {
        let error = |reason: String| Error::Placeholders {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let raw: BTreeMap<String, OneOrMany> =
            serde_json::from_value(yaml_to_json(&text).map_err(error)?)
                .map_err(|e| error(format!("expected `name: [values]`: {e}")))?;
        Ok(Placeholders::new(
            raw.into_iter().map(|(k, v)| (k, v.into_vec())).collect(),
        ))
    }

    /// The rule with every `|expand` value expanded; an error names a placeholder that has
    /// no values.
    pub(crate) fn apply(&self, rule: &SigmaRule) -> std::result::Result<SigmaRule, String> {
        let mut rule = rule.clone();
        let mut names: Vec<_> = rule.detection.named.keys().cloned().collect();
        names.sort();
        for name in names {
            if let Some(detection) = rule.detection.named.get_mut(&name) {
                self.expand_detection(detection, &name)?;
            }
        }
        Ok(rule)
    }

    /// Why a rule cannot load because of `|expand` without placeholder values, if it can't.
    pub(crate) fn unresolved(rule: &SigmaRule) -> Option<String> {
        let mut names: Vec<_> = rule.detection.named.iter().collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        for (name, detection) in names {
            let mut found = None;
            visit_items(detection, &mut |item| {
                if found.is_none() && item.field.has_modifier(Modifier::Expand) {
                    found = item.values.iter().find_map(|v| match v {
                        SigmaValue::String(s) => {
                            placeholder_names(&s.original).next().map(str::to_string)
                        }
                        _ => None,
                    });
                    if let Some(placeholder) = &found {
                        found = Some(format!(
                            "detection.{name}: placeholder %{placeholder}% of `{}|expand` has no values (give them with --placeholders FILE)",
                            item.field.name.as_deref().unwrap_or("keywords")
                        ));
                    }
                }
            });
            if found.is_some() {
                return found;
            }
        }
        None
    }

    fn expand_detection(
        &self,
        detection: &mut Detection,
        name: &str,
    ) -> std::result::Result<(), String> {
        match detection {
            Detection::AllOf(items) => {
                for item in items {
                    self.expand_item(item, name)?;
                }
            }
            Detection::AnyOf(subs) | Detection::And(subs) => {
                for sub in subs {
                    self.expand_detection(sub, name)?;
                }
            }
            Detection::ArrayMatch { body, .. } => self.expand_detection(body, name)?,
            Detection::Conditional { named, .. } => {
                for sub in named.values_mut() {
                    self.expand_detection(sub, name)?;
                }
            }
            Detection::Keywords(_) => {}
        }
        Ok(())
    }

    fn expand_item(&self, item: &mut DetectionItem, name: &str) -> std::result::Result<(), String> {
        if !item.field.has_modifier(Modifier::Expand) {
            return Ok(());
        }
        let mut values = Vec::new();
        for value in &item.values {
            let SigmaValue::String(s) = value else {
                values.push(value.clone());
                continue;
            };
            let mut texts = vec![String::new()];
            for piece in template(&s.original) {
                texts = match piece {
                    Piece::Text(text) => texts.into_iter().map(|t| t + &text).collect(),
                    Piece::Placeholder(placeholder) => {
                        let Some(replacements) = self.values.get(placeholder) else {
                            return Err(format!(
                                "detection.{name}: placeholder %{placeholder}% of `{}|expand` is not in the placeholder file",
                                item.field.name.as_deref().unwrap_or("keywords")
                            ));
                        };
                        texts
                            .iter()
                            .flat_map(|t| replacements.iter().map(move |r| format!("{t}{r}")))
                            .collect()
                    }
                };
            }
            values.extend(
                texts
                    .iter()
                    .map(|t| SigmaValue::String(SigmaString::new(t))),
            );
        }
        item.values = values;
        item.field.modifiers.retain(|m| *m != Modifier::Expand);
        Ok(())
    }
}

fn visit_items(detection: &Detection, visit: &mut dyn FnMut(&DetectionItem)) {
    match detection {
        Detection::AllOf(items) => items.iter().for_each(&mut *visit),
        Detection::AnyOf(subs) | Detection::And(subs) => {
            subs.iter().for_each(|s| visit_items(s, visit));
        }
        Detection::ArrayMatch { body, .. } => visit_items(body, visit),
        Detection::Conditional { named, .. } => named.values().for_each(|s| visit_items(s, visit)),
        Detection::Keywords(_) => {}
    }
}

/// A piece of an `|expand` value: text, or a `%name%` placeholder.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    /// Text as the rule writes it, Sigma escapes kept (`\*` is still a literal star once
    /// the expanded value is read as a Sigma string), except that `\%` is now a plain `%`.
    Text(String),
    /// The name between two `%`.
    Placeholder(&'a str),
}

/// The pieces of an `|expand` value. `\%` is a literal percent sign, not the start or end
/// of a placeholder (the specification: "`field|expand: \%plain%name%` handles `%plain` as
/// plain value and `%name%` as placeholder"); `\\` is an escaped backslash, so the `%`
/// after it does open a placeholder. A `%` without a closing one, or `%%`, is text.
fn template(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        match c {
            '\\' if after.starts_with('%') => {
                plain.push('%');
                rest = &after[1..];
            }
            '\\' if after.starts_with('\\') => {
                plain.push_str("\\\\");
                rest = &after[1..];
            }
            '%' => match after.find('%') {
                Some(end) if end > 0 => {
                    if !plain.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut plain)));
                    }
                    pieces.push(Piece::Placeholder(&after[..end]));
                    rest = &after[end + 1..];
                }
                Some(_) => {
                    plain.push_str("%%");
                    rest = &after[1..];
                }
                None => {
                    plain.push('%');
                    rest = after;
                }
            },
            _ => {
                plain.push(c);
                rest = after;
            }
        }
    }
    if !plain.is_empty() {
        pieces.push(Piece::Text(plain));
    }
    pieces
}

/// The `%name%` placeholders in a value, in order.
fn placeholder_names(text: &str) -> impl Iterator<Item = &str> {
    template(text).into_iter().filter_map(|piece| match piece {
        Piece::Placeholder(name) => Some(name),
        Piece::Text(_) => None,
    })
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

fn yaml_to_json(text: &str) -> std::result::Result<serde_json::Value, String> {
    let value: yaml_serde::Value = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
    serde_json::to_value(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_splits_text_and_placeholders() {
        // `\%` would be an escaped percent sign: a backslash before a placeholder is
        // written `\\`.
        assert_eq!(
            template(r"C:\Users\\%user%\AppData"),
            [
                Piece::Text(r"C:\Users\\".to_string()),
                Piece::Placeholder("user"),
                Piece::Text(r"\AppData".to_string()),
            ]
        );
    }

    #[test]
    fn an_escaped_percent_sign_is_text() {
        assert_eq!(
            template(r"\%plain%name%"),
            [
                Piece::Text("%plain".to_string()),
                Piece::Placeholder("name"),
            ]
        );
        assert_eq!(placeholder_names(r"100\%").count(), 0);
    }

    #[test]
    fn a_percent_sign_after_an_escaped_backslash_opens_a_placeholder() {
        assert_eq!(
            template(r"\\%name%"),
            [Piece::Text(r"\\".to_string()), Piece::Placeholder("name")]
        );
    }

    #[test]
    fn an_unclosed_or_empty_placeholder_is_text() {
        assert_eq!(template("50%"), [Piece::Text("50%".to_string())]);
        assert_eq!(template("a%%b"), [Piece::Text("a%%b".to_string())]);
    }
}
