//! Conformance rewrites: where rsigma 0.23 reads a rule differently from the Sigma
//! specification, vigil rewrites the parsed document before rsigma compiles it, into a
//! form that rsigma evaluates as the specification says.
//!
//! rsigma is pinned and not patched (`docs/adr/0002-sigma-engine.md`), so each deviation
//! is fixed around it. Every rewrite below says which rule of the specification it
//! restores and what rsigma does instead; an item a rewrite cannot express faithfully is
//! left as written, for rsigma to read (or reject) as before.
//!
//! Detection items, of rules and of filters, in this order:
//!
//! 1. [`presence`]: `X|exists` tests whether the event has `X`, even with a null value.
//! 2. [`windash`]: `|windash` varies every `-` and `/` that starts an option.
//! 3. [`base64offset`]: `|base64offset` drops the characters that depend on unknown bytes.
//! 4. [`anchors`]: `|startswith` / `|endswith` keep their anchor when a value has
//!    wildcards.
//! 5. [`keywords_all`]: keywords under `'|all'` may each occur in a different value.
//!
//! Documents:
//!
//! 6. [`correlation`]: a `temporal` correlation without a `condition` needs every rule.
//! 7. [`correlation`] and [`engine_correlation`]: a `value_percentile` condition is
//!    checked.
//! 8. [`filter`]: a filter may name its rules by `name`, and one naming no loaded rule
//!    fails.
//!
//! The rewritten rule is what rsigma compiles and what the correlation engine is given;
//! what vigil reports about a rule ([`crate::RuleInfo`]) comes from the rule as written.

use rsigma_parser::{
    ConditionOperator, CorrelationCondition, CorrelationRule, CorrelationType, Detection,
    DetectionItem, Detections, FieldSpec, FilterRule, FilterRuleTarget, Modifier, SigmaRule,
    SigmaString, SigmaValue, SpecialChar, StringPart,
};

use crate::event::PRESENCE;
use crate::rules::RuleInfo;

/// The most `-`/`/` option characters one `|windash` value may have: each becomes one of
/// five characters, so a value stands for `5^n` values (390,625 at this limit, rsigma's
/// own limit for its `-`-only expansion).
const MAX_WINDASH_OPTIONS: usize = 8;

/// The characters an option character of a `|windash` value may be: hyphen-minus, slash,
/// en dash, em dash and horizontal bar.
const WINDASH: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Why a document cannot be made to conform.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConformanceError {
    /// A `|windash` value stands for too many values.
    #[error(
        "detection.{detection}: the `{field}|windash` value '{value}' has {options} option characters; at most {MAX_WINDASH_OPTIONS} are supported (each is expanded five ways)"
    )]
    Windash {
        /// The named detection.
        detection: String,
        /// The field (`keywords` for field-less items).
        field: String,
        /// The value as written.
        value: String,
        /// How many option characters it has.
        options: usize,
    },
    /// A `value_percentile` correlation at a percentile other than the median.
    #[error(
        "correlation.condition.percentile: value_percentile at percentile {0} is not supported (rsigma-eval 0.23 never compares its value with the condition; vigil checks the 50th percentile, the default, as the median)"
    )]
    Percentile(u64),
    /// A filter whose `rules` name no loaded detection rule.
    #[error("filter.rules: no loaded detection rule has the id or name {}", .0.join(", "))]
    FilterRules(Vec<String>),
}

// --- Documents ----------------------------------------------------------------------------

/// The detection rule with its detection items rewritten (1 to 5).
pub(crate) fn rule(mut rule: SigmaRule) -> Result<SigmaRule, ConformanceError> {
    detections(&mut rule.detection)?;
    Ok(rule)
}

/// The filter with its detection items rewritten (1 to 5) and its `rules` resolved to
/// what rsigma's `Engine::apply_filter` finds (8).
///
/// Filters, like correlations, refer to rules by id or by `name` (sigmahq.io,
/// "Referencing in Meta Rules"); rsigma 0.23 compares a filter's references with each
/// rule's id and title only, and a reference to nothing is logged and otherwise ignored, so a filter meant to
/// suppress a rule silently does not. Here a name becomes the ids of the rules that have
/// it (their titles, for rules without an id), and a reference that is neither a loaded
/// detection rule's id nor its name fails the filter.
pub(crate) fn filter(
    filter: &FilterRule,
    rules: &[RuleInfo],
) -> Result<FilterRule, ConformanceError> {
    let mut filter = filter.clone();
    detections(&mut filter.detection)?;
    if let FilterRuleTarget::Specific(references) = &filter.rules {
        let mut resolved = Vec::new();
        let mut missing = Vec::new();
        for reference in references {
            if rules
                .iter()
                .any(|r| r.id.as_deref() == Some(reference.as_str()))
            {
                resolved.push(reference.clone());
                continue;
            }
            let named: Vec<String> = rules
                .iter()
                .filter(|r| r.name.as_deref() == Some(reference.as_str()))
                .map(|r| r.id.clone().unwrap_or_else(|| r.title.clone()))
                .collect();
            if named.is_empty() {
                missing.push(reference.clone());
            }
            resolved.extend(named);
        }
        if !missing.is_empty() {
            return Err(ConformanceError::FilterRules(missing));
        }
        filter.rules = FilterRuleTarget::Specific(resolved);
    }
    Ok(filter)
}

/// The correlation as the specification reads it (6), or why vigil cannot evaluate it
/// (7). `document` is the YAML it was parsed from.
///
/// 6. "All events defined by the rules referred by the rule field must occur in the time
///    frame defined by timespan": a `temporal` correlation needs no `condition`, and
///    without one every referenced rule must match. rsigma-parser 0.23 defaults the
///    condition to `gte: 1`, so one rule's match fires it; the absent condition becomes
///    `gte:` the number of referenced rules, which rsigma counts as distinct rules that
///    matched in the window.
/// 7. rsigma-eval 0.23 computes a `value_percentile` correlation's value but never
///    compares it with the condition, so the correlation fires on every event. At the
///    50th percentile (the default), its linear interpolation is the median, whose
///    condition rsigma does check: [`engine_correlation`] gives the engine a
///    `value_median` correlation. Other percentiles fail to load.
pub(crate) fn correlation(
    correlation: &mut CorrelationRule,
    document: &str,
) -> Result<(), ConformanceError> {
    if correlation.correlation_type == CorrelationType::Temporal && !has_condition(document) {
        let rules = u64::try_from(correlation.rules.len()).unwrap_or(u64::MAX);
        correlation.condition = CorrelationCondition::Threshold {
            predicates: vec![(ConditionOperator::Gte, rules)],
            field: None,
            percentile: None,
        };
    }
    if correlation.correlation_type == CorrelationType::ValuePercentile
        && let CorrelationCondition::Threshold {
            percentile: Some(percentile),
            ..
        } = correlation.condition
        && percentile != 50
    {
        return Err(ConformanceError::Percentile(percentile));
    }
    Ok(())
}

/// The correlation as rsigma's correlation engine is given it: a `value_percentile`
/// correlation (which [`correlation`] accepts only at the 50th percentile) is a
/// `value_median` one (7). Matches still report the type as written.
pub(crate) fn engine_correlation(correlation: &CorrelationRule) -> CorrelationRule {
    let mut correlation = correlation.clone();
    if correlation.correlation_type == CorrelationType::ValuePercentile {
        correlation.correlation_type = CorrelationType::ValueMedian;
    }
    correlation
}

/// Whether a correlation document says `correlation: {condition: ...}`.
fn has_condition(document: &str) -> bool {
    yaml_serde::from_str::<yaml_serde::Value>(document)
        .ok()
        .and_then(|d| d.get("correlation")?.get("condition").map(|_| ()))
        .is_some()
}

// --- Detections ---------------------------------------------------------------------------

/// Where a detection is evaluated: against the event, or (inside an array block,
/// `field[any]:`) against one array member, where a field-less item is the member itself
/// and field names are relative to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Event,
    Member,
}

fn detections(detections: &mut Detections) -> Result<(), ConformanceError> {
    let mut names: Vec<String> = detections.named.keys().cloned().collect();
    names.sort();
    for name in names {
        if let Some(detection) = detections.named.get_mut(&name) {
            rewrite_detection(detection, Scope::Event, &name)?;
        }
    }
    Ok(())
}

fn rewrite_detection(
    detection: &mut Detection,
    scope: Scope,
    name: &str,
) -> Result<(), ConformanceError> {
    match detection {
        Detection::AllOf(items) => {
            let mut rewritten = Vec::with_capacity(items.len());
            for item in std::mem::take(items) {
                rewritten.extend(rewrite_item(item, scope, name)?);
            }
            *items = rewritten;
        }
        Detection::AnyOf(subs) | Detection::And(subs) => {
            for sub in subs {
                rewrite_detection(sub, scope, name)?;
            }
        }
        Detection::ArrayMatch { body, .. } => rewrite_detection(body, Scope::Member, name)?,
        Detection::Conditional { named, .. } => {
            for sub in named.values_mut() {
                rewrite_detection(sub, Scope::Member, name)?;
            }
        }
        // A plain keyword list is read as the specification says.
        Detection::Keywords(_) => {}
    }
    Ok(())
}

/// One detection item as the items (AND-linked, like the item itself in its mapping) that
/// rsigma evaluates as the specification reads the item.
fn rewrite_item(
    mut item: DetectionItem,
    scope: Scope,
    name: &str,
) -> Result<Vec<DetectionItem>, ConformanceError> {
    if scope == Scope::Event {
        presence(&mut item);
    }
    let items: Vec<DetectionItem> = windash(item, name)?
        .into_iter()
        .flat_map(base64offset)
        .map(anchors)
        .collect();
    Ok(match scope {
        Scope::Event => items.into_iter().flat_map(keywords_all).collect(),
        Scope::Member => items,
    })
}

/// Rewrite 1: `X|exists: true` holds when the event has field `X` and `false` when it has
/// not; a field whose value is null is a field the event has. rsigma 0.23 counts a null
/// value as an absent field, and vigil cannot hand it a null that is not null (`X: null`
/// must keep matching that field), so the item tests the presence pseudo-field of `X`
/// instead ([`PRESENCE`]), which [`crate::SigmaEvent`] reads as `true` exactly when `X` is
/// there. Inside an array block field names are relative to the member and the item is
/// left as written.
fn presence(item: &mut DetectionItem) {
    if item.field.modifiers == [Modifier::Exists]
        && let Some(field) = &item.field.name
    {
        item.field.name = Some(format!("{PRESENCE}{field}"));
    }
}

/// Rewrite 2: `|windash` stands for the value with each option character written as `-`,
/// `/`, `–` (en dash), `—` (em dash) or `―` (horizontal bar), in every combination. As
/// pySigma reads it, an option character is a `-` or `/` that starts an option: not
/// preceded by a word character and followed by one (`\B[-/]\b`). rsigma 0.23 varies every
/// `-`, inside words too, and never a `/`, so `|windash: ' /c '` never matches `-c`.
///
/// The values are expanded here and the modifier dropped. Under `|all` each value's forms
/// become an item of their own, so that every value must match in one of its forms.
/// Wildcards stay wildcards (rsigma would read them as text). An item that encodes the
/// value before `|windash` (pySigma would vary the encoded text), or has modifiers
/// `|windash` cannot be combined with, is left to rsigma.
fn windash(item: DetectionItem, detection: &str) -> Result<Vec<DetectionItem>, ConformanceError> {
    let modifiers = &item.field.modifiers;
    let Some(at) = modifiers.iter().position(|m| *m == Modifier::WindAsh) else {
        return Ok(vec![item]);
    };
    let combinable = modifiers.iter().enumerate().all(|(i, m)| match m {
        Modifier::WindAsh
        | Modifier::Contains
        | Modifier::StartsWith
        | Modifier::EndsWith
        | Modifier::All
        | Modifier::Cased => true,
        Modifier::Wide
        | Modifier::Utf16be
        | Modifier::Utf16
        | Modifier::Base64
        | Modifier::Base64Offset => i > at,
        _ => false,
    });
    let all = item.field.has_modifier(Modifier::All);
    if !combinable
        || (all && item.values.len() < 2)
        || !item
            .values
            .iter()
            .all(|v| matches!(v, SigmaValue::String(_)))
    {
        return Ok(vec![item]);
    }
    let mut variants = Vec::with_capacity(item.values.len());
    for value in &item.values {
        let SigmaValue::String(s) = value else {
            continue;
        };
        let expanded = windash_variants(s).map_err(|options| ConformanceError::Windash {
            detection: detection.to_string(),
            field: item.field.name.clone().unwrap_or_else(|| "keywords".into()),
            value: s.original.clone(),
            options,
        })?;
        variants.push(expanded.into_iter().map(SigmaValue::String).collect());
    }
    let modifiers = item
        .field
        .modifiers
        .iter()
        .copied()
        .filter(|m| *m != Modifier::WindAsh)
        .collect();
    Ok(per_value(&item.field, modifiers, variants))
}

/// One character of a Sigma string: a character of plain text, or a wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Symbol {
    Char(char),
    Wildcard(bool),
}

fn symbols(s: &SigmaString) -> Vec<Symbol> {
    let mut out = Vec::new();
    for part in &s.parts {
        match part {
            StringPart::Plain(text) => out.extend(text.chars().map(Symbol::Char)),
            StringPart::Special(SpecialChar::WildcardMulti) => out.push(Symbol::Wildcard(true)),
            StringPart::Special(SpecialChar::WildcardSingle) => out.push(Symbol::Wildcard(false)),
        }
    }
    out
}

fn from_symbols(symbols: &[Symbol]) -> SigmaString {
    let mut parts = Vec::new();
    let mut plain = String::new();
    for symbol in symbols {
        match symbol {
            Symbol::Char(c) => plain.push(*c),
            Symbol::Wildcard(multi) => {
                if !plain.is_empty() {
                    parts.push(StringPart::Plain(std::mem::take(&mut plain)));
                }
                parts.push(StringPart::Special(if *multi {
                    SpecialChar::WildcardMulti
                } else {
                    SpecialChar::WildcardSingle
                }));
            }
        }
    }
    if !plain.is_empty() {
        parts.push(StringPart::Plain(plain));
    }
    sigma_string(parts)
}

/// A Sigma string of these parts, with the text a rule would write for it: `*`, `?` and
/// `\` of plain text escaped, so that reading `original` gives the same parts.
fn sigma_string(parts: Vec<StringPart>) -> SigmaString {
    let mut original = String::new();
    for part in &parts {
        match part {
            StringPart::Plain(text) => {
                for c in text.chars() {
                    if matches!(c, '*' | '?' | '\\') {
                        original.push('\\');
                    }
                    original.push(c);
                }
            }
            StringPart::Special(SpecialChar::WildcardMulti) => original.push('*'),
            StringPart::Special(SpecialChar::WildcardSingle) => original.push('?'),
        }
    }
    SigmaString { parts, original }
}

/// Python's `\w` (Unicode word characters), which pySigma's `\B[-/]\b` is written in.
fn is_word(symbol: Option<&Symbol>) -> bool {
    matches!(symbol, Some(Symbol::Char(c)) if c.is_alphanumeric() || *c == '_')
}

/// Every form of a `|windash` value; `Err` with the number of option characters when it
/// has more than [`MAX_WINDASH_OPTIONS`]. A wildcard is not a word character.
fn windash_variants(s: &SigmaString) -> Result<Vec<SigmaString>, usize> {
    let symbols = symbols(s);
    let options: Vec<usize> = (0..symbols.len())
        .filter(|&i| {
            matches!(symbols[i], Symbol::Char('-' | '/'))
                && !is_word(i.checked_sub(1).and_then(|p| symbols.get(p)))
                && is_word(symbols.get(i + 1))
        })
        .collect();
    if options.len() > MAX_WINDASH_OPTIONS {
        return Err(options.len());
    }
    let mut variants = vec![symbols];
    for &i in &options {
        variants = variants
            .into_iter()
            .flat_map(|v| {
                WINDASH.iter().map(move |&c| {
                    let mut v = v.clone();
                    v[i] = Symbol::Char(c);
                    v
                })
            })
            .collect();
    }
    Ok(variants.iter().map(|v| from_symbols(v)).collect())
}

/// Rewrite 3: "There are three variants for shifts by zero to two bytes and except the
/// first and last byte the encoded values have a static part in the middle that can be
/// recognized." Each variant is the Base64 of the value's bytes (after `|wide` /
/// `|utf16le`, `|utf16be` or `|utf16`, when one comes before `|base64offset`) behind 0, 1
/// or 2 unknown bytes, without the characters that depend on unknown bytes: the first 0, 2
/// or 3, and at the end none when the shifted length is a multiple of three, 3 (a character
/// and the `==` padding) when one byte is left over and 2 (a character and `=`) when two
/// are. rsigma 0.23 keeps that last character, which depends on the bytes that follow the
/// value in the encoded text, and so misses the value at most offsets.
///
/// The item becomes a `|contains` item (rsigma reads `|base64offset` as one, with or
/// without `|contains`) over the variants, keeping `|all` and `|cased`. Values with
/// wildcards and other modifiers are left to rsigma.
fn base64offset(item: DetectionItem) -> Vec<DetectionItem> {
    let modifiers = &item.field.modifiers;
    let Some(at) = modifiers.iter().position(|m| *m == Modifier::Base64Offset) else {
        return vec![item];
    };
    let mut encoding = None;
    for (i, m) in modifiers.iter().enumerate() {
        match m {
            Modifier::Wide | Modifier::Utf16be | Modifier::Utf16
                if i < at && encoding.is_none() =>
            {
                encoding = Some(*m);
            }
            Modifier::Base64Offset | Modifier::Contains | Modifier::All | Modifier::Cased => {}
            _ => return vec![item],
        }
    }
    let all = item.field.has_modifier(Modifier::All);
    if all && item.values.len() < 2 {
        return vec![item];
    }
    let mut variants = Vec::with_capacity(item.values.len());
    for value in &item.values {
        let text = match value {
            SigmaValue::String(s) => match s.as_plain() {
                Some(text) => text,
                None => return vec![item],
            },
            SigmaValue::Integer(n) => n.to_string(),
            SigmaValue::Float(f) => f.to_string(),
            SigmaValue::Bool(_) | SigmaValue::Null => return vec![item],
        };
        let offsets = base64_offsets(&encode(&text, encoding));
        if offsets.is_empty() {
            return vec![item];
        }
        variants.push(
            offsets
                .into_iter()
                .map(|o| SigmaValue::String(sigma_string(vec![StringPart::Plain(o)])))
                .collect(),
        );
    }
    let mut modifiers = vec![Modifier::Contains];
    modifiers.extend(
        [Modifier::All, Modifier::Cased]
            .into_iter()
            .filter(|m| item.field.has_modifier(*m)),
    );
    per_value(&item.field, modifiers, variants)
}

/// The bytes a value stands for under an optional UTF-16 modifier.
fn encode(text: &str, encoding: Option<Modifier>) -> Vec<u8> {
    match encoding {
        Some(Modifier::Wide) => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        Some(Modifier::Utf16be) => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        Some(Modifier::Utf16) => [0xff, 0xfe]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect(),
        _ => text.as_bytes().to_vec(),
    }
}

/// The three `|base64offset` forms of `bytes` (fewer when short values leave a form
/// empty, or two forms are the same).
fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const LEADING: [usize; 3] = [0, 2, 3];
    const TRAILING: [usize; 3] = [0, 3, 2];
    let mut forms: Vec<String> = Vec::with_capacity(3);
    for offset in 0..3 {
        let mut shifted = vec![0; offset];
        shifted.extend_from_slice(bytes);
        let encoded = base64(&shifted);
        let end = encoded
            .len()
            .saturating_sub(TRAILING[(bytes.len() + offset) % 3]);
        if let Some(form) = encoded.get(LEADING[offset]..end)
            && !form.is_empty()
            && !forms.iter().any(|f| f == form)
        {
            forms.push(form.to_string());
        }
    }
    forms
}

/// Standard Base64 (RFC 4648), with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(
                    ALPHABET[((group >> (18 - 6 * i)) & 63) as usize],
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The item's values replaced by these variants, one list per value: under `|all` (in
/// `modifiers`), one item per value whose variants are alternatives, so that every value
/// must match in one of its forms; otherwise one item of all the variants.
fn per_value(
    field: &FieldSpec,
    modifiers: Vec<Modifier>,
    variants: Vec<Vec<SigmaValue>>,
) -> Vec<DetectionItem> {
    if modifiers.contains(&Modifier::All) {
        let modifiers: Vec<Modifier> = modifiers
            .into_iter()
            .filter(|m| *m != Modifier::All)
            .collect();
        variants
            .into_iter()
            .map(|values| DetectionItem {
                field: FieldSpec::new(field.name.clone(), modifiers.clone()),
                values,
            })
            .collect()
    } else {
        vec![DetectionItem {
            field: FieldSpec::new(field.name.clone(), modifiers),
            values: variants.into_iter().flatten().collect(),
        }]
    }
}

/// Rewrite 4: `|startswith` matches values that begin with the value and `|endswith` values
/// that end with it, and `*` and `?` in the value are wildcards as anywhere else. rsigma
/// 0.23 anchors a value with wildcards at the wrong end: `|endswith: '\prog?.exe'` matches
/// fields that start with `\prog` and one character and `.exe`. The item becomes a plain
/// item whose values write the open end out: `*` in front for `|endswith`, behind for
/// `|startswith`. Values of the same item without wildcards get it too (one item keeps one
/// set of modifiers; the meaning is the same). Only `|all` and `|cased` may come with the
/// anchor; escapes stay as they are.
fn anchors(mut item: DetectionItem) -> DetectionItem {
    let modifiers = &item.field.modifiers;
    let (start, end) = (
        modifiers.contains(&Modifier::StartsWith),
        modifiers.contains(&Modifier::EndsWith),
    );
    if start == end
        || !modifiers.iter().all(|m| {
            matches!(
                m,
                Modifier::StartsWith | Modifier::EndsWith | Modifier::All | Modifier::Cased
            )
        })
        || !item
            .values
            .iter()
            .any(|v| matches!(v, SigmaValue::String(s) if s.contains_wildcards()))
    {
        return item;
    }
    let mut values = Vec::with_capacity(item.values.len());
    for value in &item.values {
        let s = match value {
            SigmaValue::String(s) => s.clone(),
            SigmaValue::Integer(n) => sigma_string(vec![StringPart::Plain(n.to_string())]),
            SigmaValue::Float(f) => sigma_string(vec![StringPart::Plain(f.to_string())]),
            SigmaValue::Bool(_) | SigmaValue::Null => return item,
        };
        let open = StringPart::Special(SpecialChar::WildcardMulti);
        let mut parts = s.parts;
        if end && parts.first() != Some(&open) {
            parts.insert(0, open);
        } else if start && parts.last() != Some(&open) {
            parts.push(open);
        }
        values.push(SigmaValue::String(sigma_string(parts)));
    }
    item.values = values;
    item.field
        .modifiers
        .retain(|m| !matches!(m, Modifier::StartsWith | Modifier::EndsWith));
    item
}

/// Rewrite 5: a keyword list under `'|all'` matches when every keyword occurs in the
/// event, each anywhere in any value, as the keywords of a plain list do. rsigma 0.23
/// reads the field-less item like a field item tested against each value in turn: a
/// keyword must equal a whole value (there is no `|contains`), and all of them the same
/// value. The item becomes one field-less `|contains` item per keyword (rsigma tests a
/// field-less item against every value of the event); `|cased` stays. Only items with
/// `|all` and no modifiers but `|contains` and `|cased` are rewritten.
fn keywords_all(item: DetectionItem) -> Vec<DetectionItem> {
    let modifiers = &item.field.modifiers;
    if item.field.name.is_some()
        || !modifiers.contains(&Modifier::All)
        || item.values.len() < 2
        || !modifiers
            .iter()
            .all(|m| matches!(m, Modifier::All | Modifier::Contains | Modifier::Cased))
    {
        return vec![item];
    }
    let mut modifiers = vec![Modifier::Contains];
    if item.field.has_modifier(Modifier::Cased) {
        modifiers.push(Modifier::Cased);
    }
    item.values
        .into_iter()
        .map(|value| DetectionItem {
            field: FieldSpec::new(None, modifiers.clone()),
            values: vec![value],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rsigma_eval::{JsonEvent, compile_rule, evaluate_rule};
    use rsigma_parser::parse_sigma_yaml;
    use serde_json::json;

    use super::*;

    /// A rule with this `detection:` body, parsed (not rewritten).
    fn parsed(detection: &str) -> SigmaRule {
        let yaml = format!(
            "title: Test\nid: 00000000-0000-4000-8000-000000000001\nlogsource:\n    product: windows\ndetection:\n{detection}\n"
        );
        let collection = parse_sigma_yaml(&yaml).unwrap();
        assert!(collection.errors.is_empty(), "{:?}", collection.errors);
        collection.rules.into_iter().next().unwrap()
    }

    /// The items of the rule's `selection` after the rewrites.
    fn selection(detection: &str) -> Vec<DetectionItem> {
        let rule = rule(parsed(detection)).unwrap();
        match &rule.detection.named["selection"] {
            Detection::AllOf(items) => items.clone(),
            other => panic!("not a mapping: {other:?}"),
        }
    }

    /// Whether the rewritten rule matches the JSON event.
    fn matches(detection: &str, event: serde_json::Value) -> bool {
        let compiled = compile_rule(&rule(parsed(detection)).unwrap()).unwrap();
        evaluate_rule(&compiled, &JsonEvent::borrow(&event)).is_some()
    }

    fn texts(item: &DetectionItem) -> Vec<String> {
        item.values
            .iter()
            .map(|v| match v {
                SigmaValue::String(s) => s.original.clone(),
                other => other.to_string(),
            })
            .collect()
    }

    #[test]
    fn a_rewritten_value_reads_back_as_the_same_parts() {
        for text in [
            r"C:\Windows\*.exe",
            r"dir \*.kdbx",
            r"a\\*b?c",
            r"\\server\share\",
            "x",
        ] {
            let parts = SigmaString::new(text).parts;
            let rewritten = sigma_string(parts.clone());
            assert_eq!(SigmaString::new(&rewritten.original).parts, parts, "{text}");
        }
    }

    // --- 1. exists -------------------------------------------------------------------

    #[test]
    fn exists_tests_the_presence_pseudo_field() {
        let items = selection(
            "    selection:\n        PasswordLastSet|exists: true\n    condition: selection",
        );
        assert_eq!(
            items[0].field.name.as_deref(),
            Some(format!("{PRESENCE}PasswordLastSet").as_str())
        );
        assert_eq!(items[0].field.modifiers, [Modifier::Exists]);
    }

    #[test]
    fn exists_inside_an_array_block_is_left_alone() {
        let mut item = DetectionItem {
            field: FieldSpec::new(Some("name".into()), vec![Modifier::Exists]),
            values: vec![SigmaValue::Bool(true)],
        };
        let mut detection = Detection::ArrayMatch {
            field: "items".into(),
            quantifier: rsigma_parser::ArrayQuantifier::Any,
            body: Box::new(Detection::AllOf(vec![item.clone()])),
        };
        rewrite_detection(&mut detection, Scope::Event, "selection").unwrap();
        let Detection::ArrayMatch { body, .. } = detection else {
            unreachable!()
        };
        assert_eq!(*body, Detection::AllOf(vec![item.clone()]));
        // At event scope the same item is rewritten.
        presence(&mut item);
        assert!(item.field.name.unwrap().starts_with(PRESENCE));
    }

    // --- 2. windash ------------------------------------------------------------------

    #[test]
    fn windash_varies_a_slash_that_starts_an_option() {
        let items = selection(
            "    selection:\n        CommandLine|windash|contains: ' /c '\n    condition: selection",
        );
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].field.modifiers, [Modifier::Contains]);
        assert_eq!(texts(&items[0]), [" -c ", " /c ", " –c ", " —c ", " ―c "]);
    }

    #[test]
    fn windash_leaves_dashes_inside_words() {
        let items = selection(
            "    selection:\n        CommandLine|windash|contains: 'Invoke-Expression -Command'\n    condition: selection",
        );
        assert_eq!(texts(&items[0]).len(), 5);
        assert!(
            texts(&items[0])
                .iter()
                .all(|t| t.starts_with("Invoke-Expression "))
        );
    }

    #[test]
    fn windash_varies_every_option_in_every_combination() {
        let variants = windash_variants(&SigmaString::new("-a /b")).unwrap();
        assert_eq!(variants.len(), 25);
        assert!(variants.iter().any(|v| v.original == "/a -b"));
        assert!(variants.iter().any(|v| v.original == "—a ―b"));
    }

    #[test]
    fn windash_keeps_wildcards_and_escapes() {
        let variants = windash_variants(&SigmaString::new(r"*-enc \*")).unwrap();
        assert_eq!(variants.len(), 5);
        assert_eq!(variants[1].original, r"*/enc \*");
        assert_eq!(
            variants[1].parts,
            [
                StringPart::Special(SpecialChar::WildcardMulti),
                StringPart::Plain("/enc *".into())
            ]
        );
    }

    #[test]
    fn windash_under_all_needs_every_value_in_one_of_its_forms() {
        let items = selection(
            "    selection:\n        CommandLine|windash|contains|all:\n            - ' -a '\n            - ' -b '\n    condition: selection",
        );
        assert_eq!(items.len(), 2);
        for item in &items {
            assert_eq!(item.field.modifiers, [Modifier::Contains]);
            assert_eq!(item.values.len(), 5);
        }
        let detection = "    selection:\n        CommandLine|windash|contains|all:\n            - ' -a '\n            - ' -b '\n    condition: selection";
        assert!(matches(detection, json!({"CommandLine": "x /a /b y"})));
        assert!(matches(detection, json!({"CommandLine": "x -a ―b y"})));
        assert!(!matches(detection, json!({"CommandLine": "x /a y"})));
    }

    #[test]
    fn windash_with_too_many_options_fails() {
        let rule = parsed(
            "    selection:\n        CommandLine|windash|contains: '-a -b -c -d -e -f -g -h -i'\n    condition: selection",
        );
        let error = super::rule(rule).unwrap_err().to_string();
        assert!(error.contains("detection.selection"), "{error}");
        assert!(error.contains("CommandLine|windash"), "{error}");
        assert!(error.contains("9 option characters"), "{error}");
    }

    #[test]
    fn windash_after_an_encoding_is_left_to_rsigma() {
        let items = selection(
            "    selection:\n        CommandLine|base64|windash|contains: '-a'\n    condition: selection",
        );
        assert!(items[0].field.has_modifier(Modifier::WindAsh));
    }

    // --- 3. base64offset -------------------------------------------------------------

    #[test]
    fn base64_offsets_drop_the_characters_unknown_bytes_decide() {
        // 61 62 63 behind 0, 1 and 2 zero bytes: "YWJj", "AGFiYw==", "AABhYmM=".
        assert_eq!(base64_offsets(b"abc"), ["YWJj", "FiY", "hYm"]);
        // One byte: only the character made of its first six bits survives, at offset 0
        // and 2; at offset 1 nothing does.
        assert_eq!(base64_offsets(b"a"), ["Y", "h"]);
        assert!(base64_offsets(b"").is_empty());
    }

    #[test]
    fn base64offset_becomes_contains_over_the_offsets() {
        let items = selection(
            "    selection:\n        CommandLine|base64offset|contains: 'abc'\n    condition: selection",
        );
        assert_eq!(items[0].field.modifiers, [Modifier::Contains]);
        assert_eq!(texts(&items[0]), ["YWJj", "FiY", "hYm"]);
    }

    #[test]
    fn base64offset_encodes_after_the_utf16_modifier() {
        for (modifier, bytes) in [
            ("wide", vec![b'a', 0, b'b', 0]),
            ("utf16le", vec![b'a', 0, b'b', 0]),
            ("utf16be", vec![0, b'a', 0, b'b']),
            ("utf16", vec![0xff, 0xfe, b'a', 0, b'b', 0]),
        ] {
            let items = selection(&format!(
                "    selection:\n        Payload|{modifier}|base64offset|contains: 'ab'\n    condition: selection"
            ));
            assert_eq!(items[0].field.modifiers, [Modifier::Contains], "{modifier}");
            assert_eq!(texts(&items[0]), base64_offsets(&bytes), "{modifier}");
        }
    }

    #[test]
    fn base64offset_under_all_and_cased_keeps_them_per_value() {
        let items = selection(
            "    selection:\n        CommandLine|base64offset|contains|all|cased:\n            - 'abc'\n            - 'def'\n    condition: selection",
        );
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0].field.modifiers,
            [Modifier::Contains, Modifier::Cased]
        );
        assert_eq!(texts(&items[0]), ["YWJj", "FiY", "hYm"]);
    }

    #[test]
    fn base64offset_finds_the_value_behind_any_prefix() {
        let detection = "    selection:\n        CommandLine|base64offset|contains: 'Invoke-Mimikatz'\n    condition: selection";
        for prefix in ["", "x", "xy", "xyz"] {
            let encoded = base64(format!("{prefix}Invoke-Mimikatz -DumpCreds").as_bytes());
            assert!(
                matches(
                    detection,
                    json!({"CommandLine": format!("powershell -e {encoded}")})
                ),
                "{prefix:?}"
            );
        }
    }

    #[test]
    fn base64offset_of_a_wildcard_value_is_left_to_rsigma() {
        let items = selection(
            "    selection:\n        CommandLine|base64offset|contains: 'a*b'\n    condition: selection",
        );
        assert!(items[0].field.has_modifier(Modifier::Base64Offset));
    }

    // --- 4. startswith / endswith with wildcards -------------------------------------

    #[test]
    fn endswith_a_wildcard_value_opens_its_start() {
        let detection =
            "    selection:\n        Image|endswith: '\\prog?.exe'\n    condition: selection";
        let items = selection(detection);
        assert!(items[0].field.modifiers.is_empty());
        assert_eq!(texts(&items[0]), [r"*\\prog?.exe"]);
        assert!(matches(detection, json!({"Image": r"C:\Tools\progA.exe"})));
        assert!(!matches(
            detection,
            json!({"Image": r"C:\Tools\progA.exe.bak"})
        ));
    }

    #[test]
    fn startswith_a_wildcard_value_opens_its_end() {
        let detection = "    selection:\n        CommandLine|startswith: 'reg* save '\n    condition: selection";
        let items = selection(detection);
        assert_eq!(texts(&items[0]), ["reg* save *"]);
        assert!(matches(
            detection,
            json!({"CommandLine": "reg.exe save HKLM\\SAM x"})
        ));
        assert!(!matches(
            detection,
            json!({"CommandLine": "cmd /c reg.exe save x"})
        ));
    }

    #[test]
    fn an_anchor_keeps_escapes_all_and_cased() {
        let items = selection(
            "    selection:\n        Name|endswith|all|cased:\n            - 'a\\*?'\n            - 'b'\n    condition: selection",
        );
        assert_eq!(items[0].field.modifiers, [Modifier::All, Modifier::Cased]);
        assert_eq!(texts(&items[0]), [r"*a\*?", "*b"]);
        assert_eq!(
            items[0].values[0],
            SigmaValue::String(SigmaString {
                parts: vec![
                    StringPart::Special(SpecialChar::WildcardMulti),
                    StringPart::Plain("a*".into()),
                    StringPart::Special(SpecialChar::WildcardSingle),
                ],
                original: r"*a\*?".into(),
            })
        );
    }

    #[test]
    fn an_anchor_without_wildcards_is_left_to_rsigma() {
        let items = selection(
            "    selection:\n        Image|endswith: '\\cmd.exe'\n    condition: selection",
        );
        assert_eq!(items[0].field.modifiers, [Modifier::EndsWith]);
    }

    // --- 5. keywords under '|all' ----------------------------------------------------

    #[test]
    fn keywords_under_all_become_one_contains_item_each() {
        let detection = "    selection:\n        '|all':\n            - 'OabVirtualDirectory'\n            - ' -ExternalUrl '\n    condition: selection";
        let items = selection(detection);
        assert_eq!(items.len(), 2);
        for item in &items {
            assert_eq!(item.field.name, None);
            assert_eq!(item.field.modifiers, [Modifier::Contains]);
            assert_eq!(item.values.len(), 1);
        }
        assert!(matches(
            detection,
            json!({"CommandLine": "Set-OabVirtualDirectory", "Parent": "x -ExternalUrl y"})
        ));
        assert!(!matches(
            detection,
            json!({"CommandLine": "Set-OabVirtualDirectory -Identity y"})
        ));
    }

    #[test]
    fn field_items_under_all_are_left_alone() {
        let items = selection(
            "    selection:\n        CommandLine|contains|all:\n            - 'a'\n            - 'b'\n    condition: selection",
        );
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0].field.modifiers,
            [Modifier::Contains, Modifier::All]
        );
    }

    // --- 6 and 7. correlations -------------------------------------------------------

    fn correlation_document(kind: &str, condition: &str) -> String {
        format!(
            "title: C\nid: 00000000-0000-4000-8000-0000000000c1\ncorrelation:\n    type: {kind}\n    rules:\n        - a\n        - b\n        - c\n    group-by:\n        - User\n    timespan: 5m\n{condition}level: high\n"
        )
    }

    fn corrected(document: &str) -> Result<CorrelationRule, ConformanceError> {
        let mut rule = parse_sigma_yaml(document)
            .unwrap()
            .correlations
            .into_iter()
            .next()
            .unwrap();
        correlation(&mut rule, document).map(|()| rule)
    }

    #[test]
    fn temporal_without_a_condition_needs_every_rule() {
        let rule = corrected(&correlation_document("temporal", "")).unwrap();
        assert_eq!(
            rule.condition,
            CorrelationCondition::Threshold {
                predicates: vec![(ConditionOperator::Gte, 3)],
                field: None,
                percentile: None,
            }
        );
    }

    #[test]
    fn a_written_temporal_condition_stays() {
        let document = correlation_document("temporal", "    condition:\n        gte: 1\n");
        let rule = corrected(&document).unwrap();
        assert_eq!(
            rule.condition,
            CorrelationCondition::Threshold {
                predicates: vec![(ConditionOperator::Gte, 1)],
                field: None,
                percentile: None,
            }
        );
    }

    #[test]
    fn value_percentile_is_the_median_for_the_engine() {
        for condition in [
            "    condition:\n        field: bytes\n        gt: 10\n",
            "    condition:\n        field: bytes\n        percentile: 50\n        gt: 10\n",
        ] {
            let rule = corrected(&correlation_document("value_percentile", condition)).unwrap();
            assert_eq!(rule.correlation_type, CorrelationType::ValuePercentile);
            assert_eq!(
                engine_correlation(&rule).correlation_type,
                CorrelationType::ValueMedian
            );
        }
    }

    #[test]
    fn value_percentile_at_another_percentile_fails() {
        let document = correlation_document(
            "value_percentile",
            "    condition:\n        field: bytes\n        percentile: 95\n        gt: 10\n",
        );
        let error = corrected(&document).unwrap_err().to_string();
        assert!(
            error.contains("correlation.condition.percentile"),
            "{error}"
        );
        assert!(error.contains("95"), "{error}");
    }

    // --- 8. filters ------------------------------------------------------------------

    fn info(id: Option<&str>, name: Option<&str>, title: &str) -> RuleInfo {
        RuleInfo {
            id: id.map(Into::into),
            name: name.map(Into::into),
            title: title.into(),
            description: None,
            level: None,
            status: None,
            tags: Vec::new(),
            path: "rules.yml".into(),
            logsource: Default::default(),
            kind: crate::RuleKind::Detection,
            generate: true,
            correlated: false,
        }
    }

    fn filter_of(rules: &str) -> FilterRule {
        let yaml = format!(
            "title: F\nid: 00000000-0000-4000-8000-0000000000f1\nlogsource:\n    product: windows\nfilter:\n    rules:\n{rules}    selection:\n        User|startswith: 'adm_'\n    condition: not selection\n"
        );
        parse_sigma_yaml(&yaml)
            .unwrap()
            .filters
            .into_iter()
            .next()
            .unwrap()
    }

    #[test]
    fn a_filter_names_rules_by_id_or_name() {
        let rules = [
            info(Some("id-1"), Some("one"), "One"),
            info(None, Some("two"), "Two"),
        ];
        let filter = filter(
            &filter_of("        - one\n        - two\n        - id-1\n"),
            &rules,
        )
        .unwrap();
        assert_eq!(
            filter.rules,
            FilterRuleTarget::Specific(vec!["id-1".into(), "Two".into(), "id-1".into()])
        );
    }

    #[test]
    fn a_filter_naming_no_loaded_rule_fails() {
        let rules = [info(Some("id-1"), Some("one"), "One")];
        let error = filter(
            &filter_of("        - one\n        - nothing\n        - One\n"),
            &rules,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("filter.rules"), "{error}");
        assert!(error.contains("nothing, One"), "{error}");
    }

    #[test]
    fn a_filter_of_any_rule_is_left_alone() {
        let filter = filter(&filter_of("        - any\n"), &[]);
        // `rules: [any]` is a list naming a rule called "any"; only `rules: any` is all.
        assert!(filter.is_err());
        let yaml = "title: F\nlogsource:\n    product: windows\nfilter:\n    rules: any\n    selection:\n        User: x\n    condition: not selection\n";
        let any = parse_sigma_yaml(yaml).unwrap().filters.remove(0);
        assert_eq!(
            super::filter(&any, &[]).unwrap().rules,
            FilterRuleTarget::Any
        );
    }
}
