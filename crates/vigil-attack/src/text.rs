//! Free-text mapping: which techniques a piece of prose (a rule's title and description, an
//! alert, an analyst's note) describes.
//!
//! [`TextMapper`] is a BM25F index over every current technique and sub-technique, built
//! once from an [`Attack`]. A technique is a document of five fields, each with its own
//! weight and length normalization: its name, its parent's name (sub-techniques only), its
//! description, the prose of its detection strategies and its procedure examples. Text and
//! query go through the same tokenizer, written for security prose (see [`tokenize`]).
//!
//! Scores are turned into confidences in [0, 1] (see [`TextMapper::map`]), and hits below a
//! minimum confidence are dropped, so a threshold means the same for a short phrase and a
//! long rule.

use std::collections::{HashMap, HashSet};

use crate::kb::Attack;
use crate::mapping::TechniqueHit;
use crate::model::{Technique, TechniqueText};

const STOPWORDS: &str = include_str!("../data/text-stopwords.txt");
const FIELD_COMPONENTS: &str = include_str!("../data/text-field-components.toml");

/// The fields of a technique's document, in [`TextParams::field_weights`] order.
const FIELDS: [&str; 5] = [
    "name",
    "parent name",
    "description",
    "detection",
    "procedures",
];

/// The tuning of a [`TextMapper`]. [`Default`] holds the values measured best on the SigmaHQ
/// rule set (see `docs/BENCHMARKS.md`, "ATT&CK text mapping quality").
#[derive(Debug, Clone, PartialEq)]
pub struct TextParams {
    /// BM25 term-frequency saturation: how quickly repeats of a term stop adding score.
    pub k1: f32,
    /// Weight of a term occurrence per field: name, parent name, description, detection,
    /// procedures.
    pub field_weights: [f32; 5],
    /// Length normalization per field (BM25 `b`, 0 = none, 1 = full), same order.
    pub field_b: [f32; 5],
    /// Saturation of a term's frequency in the query (BM25 `k3`): a long text that repeats
    /// a word says it matters, but less than linearly.
    pub query_k3: f32,
    /// Confidence offset `c` in `r = s / (s_top + c)` (see [`TextMapper::map`]): how much
    /// a weak best match is discounted.
    pub confidence_scale: f32,
    /// Confidence of a hit with `r = 1`: the share of best hits that were right in the
    /// evaluation when they clearly led.
    pub confidence_ceiling: f32,
    /// Exponent `e` in `ceiling * r^e`: how fast confidence falls with distance from the best.
    pub confidence_exponent: f32,
    /// Hits below this confidence are not returned.
    pub min_confidence: f32,
    /// When a sub-technique ranks above its parent, drop the parent and add its evidence to
    /// the sub-technique; the parent is implied by its sub-technique.
    pub collapse_parents: bool,
    /// Share of a sub-technique's best score a parent inherits: a text about one way of
    /// doing a technique is also evidence for the technique.
    pub parent_inherit: f32,
    /// Weight of a technique's prior, `ln(1 + procedure examples / 10)` (a technique many
    /// groups and tools use is more often what a text describes); added to the score of
    /// techniques the text matches at all.
    pub prior_weight: f32,
    /// Weight of a log field name as evidence of a data component (`TargetObject` is a
    /// registry key, `ImageLoaded` a module load; see `data/text-field-components.toml`):
    /// techniques the text matches whose data components include it gain
    /// `field_weight * idf(component)`.
    pub field_weight: f32,
}

impl Default for TextParams {
    fn default() -> Self {
        TextParams {
            k1: 1.2,
            field_weights: [4.0, 1.5, 1.0, 0.5, 0.5],
            field_b: [0.3, 0.3, 0.75, 0.75, 0.75],
            query_k3: 1.5,
            confidence_scale: 1.0,
            confidence_ceiling: 0.7,
            confidence_exponent: 4.0,
            min_confidence: TextMapper::MIN_CONFIDENCE,
            collapse_parents: true,
            parent_inherit: 0.0,
            prior_weight: 0.5,
            field_weight: 0.5,
        }
    }
}

struct Doc {
    prior: f32,
    id: String,
    name: String,
    tactics: Vec<String>,
    parent: Option<usize>,
}

#[derive(Clone, Copy)]
struct Posting {
    doc: u32,
    /// The BM25F pseudo term frequency: weighted, length-normalized field frequencies.
    tf: f32,
    /// Which fields hold the term, one bit per field.
    fields: u8,
}

/// A data component a log field name points to.
struct Component {
    name: String,
    /// Indexes of the current techniques that list it.
    docs: Vec<usize>,
    /// BM25 idf of the component over techniques.
    idf: f32,
}

/// The weights of a Sigma rule's title, description and detection text as parts of a
/// query ([`TextMapper::map_parts`]): a title names what the rule is about; detection
/// values are mostly paths and tool names. Measured on SigmaHQ's rules
/// (`docs/BENCHMARKS.md`, "ATT&CK text mapping quality").
pub const RULE_PART_WEIGHTS: [f32; 3] = [2.0, 1.0, 0.5];

/// Maps free text to ATT&CK techniques by BM25F retrieval over technique prose.
///
/// ```
/// let attack = vigil_attack::Attack::embedded()?;
/// let mapper = vigil_attack::TextMapper::new(&attack);
/// let hits = mapper.map("procdump of lsass memory", 3);
/// assert_eq!(hits[0].id, "T1003.001");
/// # Ok::<(), vigil_attack::Error>(())
/// ```
pub struct TextMapper {
    params: TextParams,
    stop: HashSet<String>,
    docs: Vec<Doc>,
    terms: HashMap<String, usize>,
    postings: Vec<Vec<Posting>>,
    idf: Vec<f32>,
    components: Vec<Component>,
    /// Lowercased log field name to component indexes.
    field_components: HashMap<String, Vec<usize>>,
}

impl std::fmt::Debug for TextMapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextMapper")
            .field("params", &self.params)
            .field("techniques", &self.docs.len())
            .field("terms", &self.terms.len())
            .finish()
    }
}

impl TextMapper {
    /// The default minimum confidence of a returned hit.
    pub const MIN_CONFIDENCE: f32 = 0.35;

    /// Indexes the current techniques of a knowledge base with the default parameters.
    pub fn new(attack: &Attack) -> TextMapper {
        TextMapper::with_params(attack, TextParams::default())
    }

    /// Indexes the current techniques of a knowledge base with the given parameters.
    pub fn with_params(attack: &Attack, params: TextParams) -> TextMapper {
        let stop = stopwords();
        let active: Vec<_> = attack.active_techniques().collect();
        let index_of: HashMap<&str, usize> = active
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        let docs: Vec<Doc> = active
            .iter()
            .map(|t| Doc {
                prior: attack.text(&t.id).map_or(0.0, |text| {
                    (1.0 + text.procedure_examples as f32 / 10.0).ln()
                }),
                id: t.id.clone(),
                name: t.name.clone(),
                tactics: t.tactics.clone(),
                parent: t.parent_id().and_then(|p| index_of.get(p).copied()),
            })
            .collect();

        let mut terms: HashMap<String, usize> = HashMap::new();
        // Per term: (doc, frequency per field).
        let mut raw: Vec<Vec<(u32, [u16; 5])>> = Vec::new();
        let mut lengths: Vec<[u32; 5]> = Vec::with_capacity(docs.len());
        let mut tokens = Vec::new();
        for (i, technique) in active.iter().enumerate() {
            let text = attack.text(&technique.id);
            let parent_name = docs[i].parent.map(|p| docs[p].name.as_str()).unwrap_or("");
            let fields: [&str; 5] = [
                &technique.name,
                parent_name,
                text.map(|t| t.description.as_str()).unwrap_or(""),
                text.map(|t| t.detection.as_str()).unwrap_or(""),
                text.map(|t| t.procedures.as_str()).unwrap_or(""),
            ];
            // Names are prose in every table; the other fields are index terms already
            // when the table holds terms.
            let pre_stemmed = text.is_some_and(|t| t.terms);
            let mut counts: HashMap<usize, [u16; 5]> = HashMap::new();
            let mut length = [0u32; 5];
            for (f, field) in fields.iter().enumerate() {
                tokens.clear();
                if pre_stemmed && f >= 2 {
                    tokens.extend(field.split_whitespace().map(|stem| Token {
                        stem: stem.to_string(),
                        surface: String::new(),
                    }));
                } else {
                    tokenize_into(field, &stop, &mut tokens);
                }
                length[f] = tokens.len() as u32;
                for token in &tokens {
                    let next = terms.len();
                    let term = *terms.entry(token.stem.clone()).or_insert(next);
                    if term == raw.len() {
                        raw.push(Vec::new());
                    }
                    let count = counts.entry(term).or_default();
                    count[f] = count[f].saturating_add(1);
                }
            }
            let mut counts: Vec<_> = counts.into_iter().collect();
            counts.sort_unstable_by_key(|(term, _)| *term);
            for (term, count) in counts {
                raw[term].push((i as u32, count));
            }
            lengths.push(length);
        }

        let n = docs.len().max(1) as f32;
        let mut average = [0f32; 5];
        for length in &lengths {
            for f in 0..5 {
                average[f] += length[f] as f32;
            }
        }
        for a in &mut average {
            *a = (*a / n).max(1.0);
        }
        let mut idf = Vec::with_capacity(raw.len());
        let postings = raw
            .into_iter()
            .map(|list| {
                let df = list.len() as f32;
                idf.push((1.0 + (n - df + 0.5) / (df + 0.5)).ln());
                list.into_iter()
                    .map(|(doc, count)| {
                        let mut tf = 0.0;
                        let mut fields = 0u8;
                        for f in 0..5 {
                            if count[f] == 0 {
                                continue;
                            }
                            fields |= 1 << f;
                            let norm = 1.0 - params.field_b[f]
                                + params.field_b[f] * lengths[doc as usize][f] as f32 / average[f];
                            tf += params.field_weights[f] * count[f] as f32 / norm;
                        }
                        Posting { doc, tf, fields }
                    })
                    .collect()
            })
            .collect();
        let (components, field_components) = component_index(&active, n);
        TextMapper {
            params,
            stop,
            docs,
            terms,
            postings,
            idf,
            components,
            field_components,
        }
    }

    /// The parameters the index was built with.
    pub fn params(&self) -> &TextParams {
        &self.params
    }

    /// Sets the minimum confidence of a returned hit (default [`Self::MIN_CONFIDENCE`]).
    pub fn with_min_confidence(mut self, min_confidence: f32) -> TextMapper {
        self.params.min_confidence = min_confidence;
        self
    }

    /// The techniques `text` describes, best first, at most `limit` of them.
    ///
    /// Each current technique is scored by BM25F over its fields. A sub-technique that
    /// ranks above its parent replaces it (the parent's matched terms are added to its
    /// evidence), so a list does not spend two places on one family; a parent that ranks
    /// above its sub-techniques stays, and so do they.
    ///
    /// Confidence is `ceiling * r^e` with `r = s / (s_top + c)`, `s` the hit's score and
    /// `s_top` the best score of the text ([`TextParams::confidence_ceiling`],
    /// [`TextParams::confidence_exponent`], [`TextParams::confidence_scale`]). `r` says how
    /// close a hit comes to the best one, discounted when the best match is itself weak (a
    /// handful of rare shared terms scores 10 to 30, one common word 1 to 3); the power
    /// makes it fall fast below the lead, and the ceiling keeps it near the share of hits
    /// that were right at that level on the SigmaHQ evaluation (`docs/BENCHMARKS.md`), so
    /// a threshold reads roughly as a precision. Hits below
    /// [`TextParams::min_confidence`] are dropped.
    ///
    /// Evidence names each matched term (as written in the text, most contributing first)
    /// and the fields it matched: `text: "lsass" in name, description`.
    pub fn map(&self, text: &str, limit: usize) -> Vec<TechniqueHit> {
        self.map_parts(&[(text, 1.0)], limit)
    }

    /// Like [`Self::map`] for a text in weighted parts (a rule's title, its description,
    /// the values it matches): each occurrence of a term counts `weight` times in the
    /// query, so a word of a title weighted 2 counts as if written twice.
    pub fn map_parts(&self, parts: &[(&str, f32)], limit: usize) -> Vec<TechniqueHit> {
        if limit == 0 {
            return Vec::new();
        }
        // Query terms in order of first appearance, with weighted frequency and surface form.
        let mut query: Vec<(usize, f32, String)> = Vec::new();
        let mut seen: HashMap<usize, usize> = HashMap::new();
        // Data components named by log fields: (component, the field as written).
        let mut fields: Vec<(usize, String)> = Vec::new();
        let mut tokens = Vec::new();
        for &(text, weight) in parts {
            tokens.clear();
            tokenize_into(text, &self.stop, &mut tokens);
            if self.params.field_weight > 0.0 {
                for word in text.split(|c: char| !c.is_alphanumeric()) {
                    if let Some(list) = self.field_components.get(&word.to_lowercase()) {
                        for &c in list {
                            if !fields.iter().any(|(f, _)| *f == c) {
                                fields.push((c, word.to_string()));
                            }
                        }
                    }
                }
            }
            for token in tokens.drain(..) {
                let Some(&term) = self.terms.get(&token.stem) else {
                    continue;
                };
                match seen.get(&term) {
                    Some(&q) => query[q].1 += weight,
                    None => {
                        seen.insert(term, query.len());
                        query.push((term, weight, token.surface));
                    }
                }
            }
        }
        let k1 = self.params.k1;
        let k3 = self.params.query_k3;
        let mut scores = vec![0f32; self.docs.len()];
        // Per document: (query term index, contribution, field bits).
        let mut matched: HashMap<u32, Vec<(usize, f32, u8)>> = HashMap::new();
        for (q, (term, qtf, _)) in query.iter().enumerate() {
            let qtf = *qtf;
            let weight = self.idf[*term] * (k3 + 1.0) * qtf / (k3 + qtf);
            for posting in &self.postings[*term] {
                let contribution = weight * posting.tf / (k1 + posting.tf);
                scores[posting.doc as usize] += contribution;
                matched
                    .entry(posting.doc)
                    .or_default()
                    .push((q, contribution, posting.fields));
            }
        }
        if self.params.parent_inherit > 0.0 {
            let mut best_child = vec![0f32; self.docs.len()];
            for (i, doc) in self.docs.iter().enumerate() {
                if let Some(p) = doc.parent {
                    best_child[p] = best_child[p].max(scores[i]);
                }
            }
            for (score, child) in scores.iter_mut().zip(best_child) {
                *score += self.params.parent_inherit * child;
            }
        }

        // Field names only rerank techniques the words already point to.
        let mut components: HashMap<usize, Vec<String>> = HashMap::new();
        for (c, field) in &fields {
            let component = &self.components[*c];
            for &doc in &component.docs {
                if scores[doc] > 0.0 {
                    scores[doc] += self.params.field_weight * component.idf;
                    components.entry(doc).or_default().push(format!(
                        "field: \"{field}\" is data component {}",
                        component.name
                    ));
                }
            }
        }
        if self.params.prior_weight > 0.0 {
            for (score, doc) in scores.iter_mut().zip(&self.docs) {
                if *score > 0.0 {
                    *score += self.params.prior_weight * doc.prior;
                }
            }
        }
        let mut ranked: Vec<usize> = (0..self.docs.len()).filter(|&i| scores[i] > 0.0).collect();
        // Documents are in id order, so ties break the same way every time.
        ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let Some(&top) = ranked.first() else {
            return Vec::new();
        };
        let top_score = scores[top];
        let denominator = top_score + self.params.confidence_scale;

        let mut hits: Vec<TechniqueHit> = Vec::new();
        let mut placed: HashMap<usize, usize> = HashMap::new();
        let evidence = |doc: usize| -> Vec<String> {
            let mut terms = matched.get(&(doc as u32)).cloned().unwrap_or_default();
            terms.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let fields = components.get(&doc).into_iter().flatten().cloned();
            terms
                .iter()
                .take(EVIDENCE_TERMS)
                .map(|&(q, _, fields)| {
                    let names: Vec<&str> = (0..5)
                        .filter(|f| fields & (1 << f) != 0)
                        .map(|f| FIELDS[f])
                        .collect();
                    format!("text: \"{}\" in {}", query[q].2, names.join(", "))
                })
                .chain(fields)
                .collect()
        };
        for &doc in &ranked {
            let relative = (scores[doc] / denominator).clamp(0.0, 1.0);
            let confidence = (self.params.confidence_ceiling
                * relative.powf(self.params.confidence_exponent))
            .clamp(0.0, 1.0);
            if confidence < self.params.min_confidence {
                break;
            }
            let info = &self.docs[doc];
            if self.params.collapse_parents
                && info.parent.is_none()
                && let Some(&child) = placed.get(&doc)
            {
                // A sub-technique of this technique ranked above it: the technique is
                // implied; its matched terms support the sub-technique.
                for line in evidence(doc) {
                    let line = format!("{line} (of parent {})", info.id);
                    if !hits[child].evidence.contains(&line) {
                        hits[child].evidence.push(line);
                    }
                }
                continue;
            }
            if let Some(parent) = info.parent {
                placed.entry(parent).or_insert(hits.len());
            }
            placed.insert(doc, hits.len());
            hits.push(TechniqueHit {
                id: info.id.clone(),
                name: info.name.clone(),
                tactics: info.tactics.clone(),
                confidence,
                evidence: evidence(doc),
            });
            if hits.len() == limit {
                break;
            }
        }
        hits
    }
}

/// The data components log field names point to, from `data/text-field-components.toml`.
fn component_index(active: &[&Technique], n: f32) -> (Vec<Component>, HashMap<String, Vec<usize>>) {
    // The file is part of the crate and checked by a test; a broken one maps no fields.
    let table: HashMap<String, Vec<String>> =
        toml::from_str::<HashMap<String, HashMap<String, Vec<String>>>>(FIELD_COMPONENTS)
            .ok()
            .and_then(|mut t| t.remove("fields"))
            .unwrap_or_default();
    let mut components: Vec<Component> = Vec::new();
    let mut fields: HashMap<String, Vec<usize>> = HashMap::new();
    let mut keys: Vec<_> = table.into_iter().collect();
    keys.sort();
    for (field, names) in keys {
        for name in names {
            let c = match components.iter().position(|c| c.name == name) {
                Some(c) => c,
                None => {
                    let docs: Vec<usize> = active
                        .iter()
                        .enumerate()
                        .filter(|(_, t)| t.data_components.contains(&name))
                        .map(|(i, _)| i)
                        .collect();
                    let df = docs.len() as f32;
                    components.push(Component {
                        name: name.clone(),
                        docs,
                        idf: (1.0 + (n - df + 0.5) / (df + 0.5)).ln(),
                    });
                    components.len() - 1
                }
            };
            fields.entry(field.to_lowercase()).or_default().push(c);
        }
    }
    (components, fields)
}

/// How many matched terms a hit's evidence names.
const EVIDENCE_TERMS: usize = 6;

/// A technique's text as index terms: each prose field replaced by its stems, sorted (see
/// [`TechniqueText`]). Mapping over it gives what mapping over the prose gives.
pub(crate) fn to_terms(text: &TechniqueText) -> TechniqueText {
    if text.terms {
        return text.clone();
    }
    let stop = stopwords();
    let stems = |prose: &str| {
        let mut tokens = Vec::new();
        tokenize_into(prose, &stop, &mut tokens);
        let mut stems: Vec<String> = tokens.into_iter().map(|t| t.stem).collect();
        stems.sort_unstable();
        stems.join(" ")
    };
    TechniqueText {
        id: text.id.clone(),
        terms: true,
        procedure_examples: text.procedure_examples,
        description: stems(&text.description),
        detection: stems(&text.detection),
        procedures: stems(&text.procedures),
    }
}

fn stopwords() -> HashSet<String> {
    STOPWORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// One token of a text: its stem (what is matched) and its lowercase form (what evidence
/// shows).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    stem: String,
    surface: String,
}

/// Tokens of security prose: runs of letters and digits, lowercased and lightly stemmed,
/// stop words and short numbers dropped.
///
/// `rundll32.exe` gives `rundll32` (`exe` is a stop word); `HKLM\Software\Run` gives
/// `hklm`, `software`, `run`; a camelCase word gives itself and its parts (`MiniDump`
/// gives `minidump`, `mini`, `dump`), so it matches both the joined spelling of tool names
/// and prose, unless the joined word is a stop word (the Sigma field names `CommandLine`,
/// `TargetObject`, ...): those are dropped with their parts.
fn tokenize_into(text: &str, stop: &HashSet<String>, out: &mut Vec<Token>) {
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let lower = word.to_lowercase();
        if stop.contains(&lower) {
            continue;
        }
        let parts = camel_parts(word);
        push_token(&lower, stop, out);
        if parts.len() > 1 {
            for part in parts {
                push_token(&part.to_lowercase(), stop, out);
            }
        }
    }
}

fn push_token(word: &str, stop: &HashSet<String>, out: &mut Vec<Token>) {
    let digits = word.chars().all(|c| c.is_ascii_digit());
    // One-letter words and short numbers are noise; longer numbers are event ids (4688),
    // ports and ordinals.
    if word.chars().count() < 2 || (digits && word.len() < 3) || stop.contains(word) {
        return;
    }
    let stem = stem(word);
    if stem.is_empty() || stop.contains(&stem) {
        return;
    }
    out.push(Token {
        stem,
        surface: word.to_string(),
    });
}

/// Splits `CommandLine` into `Command`, `Line` and `NTDSDump` into `NTDS`, `Dump`;
/// digits stay with the letters before them (`Win32`, `rundll32`).
fn camel_parts(word: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..chars.len() {
        let (at, c) = chars[i];
        let prev = chars[i - 1].1;
        let next_lower = chars.get(i + 1).is_some_and(|(_, n)| n.is_lowercase());
        let boundary = c.is_uppercase()
            && (prev.is_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_uppercase() && next_lower));
        if boundary {
            parts.push(&word[start..at]);
            start = at;
        }
    }
    parts.push(&word[start..]);
    parts
}

/// A light suffix stemmer: plurals, `-ing`, `-ed` and a final `e`, so that `dump`,
/// `dumps`, `dumped` and `dumping` meet, and so do `schedule`, `scheduled` and `scheduling`.
/// Words of three letters or fewer are kept as they are.
fn stem(word: &str) -> String {
    if word.len() <= 3 || !word.is_ascii() {
        return word.to_string();
    }
    let mut s = word.to_string();
    if s.ends_with("ies") && s.len() > 4 {
        s.truncate(s.len() - 3);
        s.push('y');
    } else if s.ends_with("sses") {
        s.truncate(s.len() - 2);
    } else if s.ends_with('s') && !s.ends_with("ss") && !s.ends_with("us") && !s.ends_with("is") {
        s.pop();
    }
    let suffix = if s.ends_with("ing") && s.len() >= 6 {
        3
    } else if s.ends_with("ed") && s.len() >= 5 {
        2
    } else {
        0
    };
    if suffix > 0 {
        s.truncate(s.len() - suffix);
        let bytes = s.as_bytes();
        let n = bytes.len();
        if n >= 2
            && bytes[n - 1] == bytes[n - 2]
            && !matches!(
                bytes[n - 1],
                b'l' | b's' | b'z' | b'a' | b'e' | b'i' | b'o' | b'u'
            )
        {
            s.pop();
        }
    }
    if s.ends_with('e') && s.len() > 3 {
        s.pop();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapper() -> TextMapper {
        let attack = Attack::embedded().expect("embedded table");
        TextMapper::new(&attack)
    }

    fn ids(hits: &[TechniqueHit]) -> Vec<&str> {
        hits.iter().map(|h| h.id.as_str()).collect()
    }

    fn stems(text: &str) -> Vec<String> {
        let mut tokens = Vec::new();
        tokenize_into(text, &stopwords(), &mut tokens);
        tokens.into_iter().map(|t| t.stem).collect()
    }

    #[test]
    fn tokenizer_keeps_tool_names_and_splits_paths_and_camel_case() {
        assert_eq!(
            stems("rundll32.exe comsvcs.dll"),
            ["rundll32", "comsvc", "dll"]
        );
        assert_eq!(
            stems(r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run"),
            [
                "hklm",
                "softwar",
                "microsoft",
                "window",
                "currentversion",
                "current",
                "version",
                "run"
            ]
        );
        assert_eq!(
            stems("ProcessAccess"),
            ["processaccess", "process", "access"]
        );
        // A Sigma field name is boilerplate, parts and all.
        assert!(stems("CommandLine TargetObject").is_empty());
        assert_eq!(stems("NTDSDump"), ["ntdsdump", "ntd", "dump"]);
    }

    #[test]
    fn stemmer_joins_plurals_and_verb_forms() {
        for (a, b) in [
            ("dump", "dumping"),
            ("dump", "dumped"),
            ("dumps", "dump"),
            ("schedule", "scheduled"),
            ("scheduling", "schedule"),
            ("processes", "process"),
            ("dropped", "drop"),
            ("policies", "policy"),
        ] {
            assert_eq!(stem(a), stem(b), "{a} / {b}");
        }
        assert_eq!(stem("lsass"), "lsass");
    }

    #[test]
    fn stop_words_and_boilerplate_are_dropped() {
        assert!(stems("Detects when adversaries may use the selection condition").is_empty());
        assert_eq!(stems("a 1 12 4688"), ["4688"]);
    }

    #[test]
    fn procdump_of_lsass_maps_to_lsass_memory() {
        let hits = mapper().map("procdump of lsass memory", 3);
        assert!(ids(&hits).contains(&"T1003.001"), "{hits:#?}");
        let lsass = hits.iter().find(|h| h.id == "T1003.001").expect("hit");
        assert!(
            lsass
                .evidence
                .iter()
                .any(|e| e.starts_with("text: \"lsass\" in name")),
            "{:?}",
            lsass.evidence
        );
    }

    #[test]
    fn schtasks_maps_to_scheduled_task() {
        let hits = mapper().map("scheduled task created with schtasks", 3);
        assert!(ids(&hits).contains(&"T1053.005"), "{hits:#?}");
    }

    #[test]
    fn ssh_brute_force_maps_to_the_brute_force_family() {
        let hits = mapper().map("SSH brute force", 3);
        assert!(
            hits.first().is_some_and(|h| h.id.starts_with("T1110")),
            "{hits:#?}"
        );
    }

    #[test]
    fn encoded_powershell_maps_to_powershell() {
        let hits = mapper().map("powershell started with an encoded command", 3);
        assert!(ids(&hits).contains(&"T1059.001"), "{hits:#?}");
    }

    #[test]
    fn confidences_are_ordered_bounded_and_above_the_minimum() {
        let hits = mapper().map("mimikatz sekurlsa logonpasswords dumps credentials", 10);
        assert!(!hits.is_empty());
        for pair in hits.windows(2) {
            assert!(pair[0].confidence >= pair[1].confidence);
        }
        for hit in &hits {
            assert!((TextMapper::MIN_CONFIDENCE..=1.0).contains(&hit.confidence));
        }
    }

    #[test]
    fn unrelated_or_empty_text_maps_to_nothing() {
        let mapper = mapper();
        assert!(mapper.map("", 5).is_empty());
        assert!(mapper.map("the of and may detects", 5).is_empty());
        assert!(mapper.map("lsass", 0).is_empty());
    }

    #[test]
    fn a_parent_below_its_sub_technique_is_folded_into_it() {
        let hits = mapper().map("procdump of lsass memory credential dumping", 10);
        let ids = ids(&hits);
        let child = ids.iter().position(|&i| i == "T1003.001").expect("child");
        assert!(!ids[child..].contains(&"T1003"), "{ids:?}");
    }

    #[test]
    fn every_field_names_a_data_component_of_some_technique() {
        let mapper = mapper();
        assert!(mapper.field_components.len() > 20);
        for component in &mapper.components {
            assert!(!component.docs.is_empty(), "{}", component.name);
        }
    }

    #[test]
    fn a_registry_field_is_evidence_for_registry_techniques() {
        let hits = mapper().map("TargetObject: CurrentVersion Run", 5);
        let run_keys = hits.iter().find(|h| h.id == "T1547.001").expect("run keys");
        assert!(
            run_keys.evidence.iter().any(|e| e
                == "field: \"TargetObject\" is data component Windows Registry Key Modification"),
            "{:?}",
            run_keys.evidence
        );
    }

    #[test]
    fn one_part_is_the_whole_text_and_weights_favour_their_part() {
        let mapper = mapper();
        let text = "scheduled task created with schtasks";
        assert_eq!(mapper.map(text, 3), mapper.map_parts(&[(text, 1.0)], 3));
        let title = "lsass memory dump";
        let values = "schtasks create";
        let favour_title = mapper.map_parts(&[(title, 3.0), (values, 0.5)], 1);
        let favour_values = mapper.map_parts(&[(title, 0.5), (values, 3.0)], 1);
        assert_eq!(favour_title[0].id, "T1003.001", "{favour_title:#?}");
        assert_eq!(favour_values[0].id, "T1053.005", "{favour_values:#?}");
    }

    #[test]
    fn mapping_is_deterministic() {
        let mapper = mapper();
        let text = "rundll32 comsvcs MiniDump full";
        assert_eq!(mapper.map(text, 5), mapper.map(text, 5));
    }
}
