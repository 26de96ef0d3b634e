//! Scores [`TextMapper`] against the ATT&CK tags of SigmaHQ rules: the mapper sees a rule's
//! title, description and detection (field names and values) with its tags stripped, and
//! its hits are compared with the techniques the tags name.
//!
//! Shared by the `eval_text_mapping` example (all rules) and the `text_mapping`
//! integration test (a deterministic subset).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use vigil_attack::{Attack, TextMapper};

/// One scored rule: the text the mapper sees and the techniques its tags name.
pub(crate) struct RuleCase {
    /// Where the rule came from (for reports only; the mapper never sees it).
    pub(crate) path: PathBuf,
    /// The title.
    pub(crate) title: String,
    /// The description.
    pub(crate) description: String,
    /// The detection's field names and values, one per line.
    pub(crate) detection: String,
    /// The current ids its technique tags resolve to.
    pub(crate) gold: BTreeSet<String>,
}

/// The rules of a folder, sorted out into those scored and those excluded.
#[derive(Default)]
pub(crate) struct RuleSet {
    /// Rules scored.
    pub(crate) cases: Vec<RuleCase>,
    /// Rule files read.
    pub(crate) files: usize,
    /// Rules that did not parse as YAML mappings.
    pub(crate) unparsable: usize,
    /// Rules without any `attack.tNNNN` tag.
    pub(crate) no_technique_tags: usize,
    /// Rules with a technique tag the release does not know as a current technique (or
    /// revoked one with a replacement), e.g. ATT&CK v19 ids in an 18.1 table.
    pub(crate) unknown_technique_tags: usize,
}

/// Reads every `.yml` rule under `dir`; `keep(i)` chooses rules by their position in path
/// order (all of them for the full evaluation, every n-th for a quick one).
pub(crate) fn load(attack: &Attack, dir: &Path, keep: impl Fn(usize) -> bool) -> RuleSet {
    let mut set = RuleSet::default();
    let files = vigil_test_support::files_with_extension(dir, "yml");
    for (i, path) in files.into_iter().enumerate() {
        if !keep(i) {
            continue;
        }
        set.files += 1;
        let Ok(source) = std::fs::read_to_string(&path) else {
            set.unparsable += 1;
            continue;
        };
        let Ok(rule) = yaml_serde::from_str::<yaml_serde::Value>(&source) else {
            set.unparsable += 1;
            continue;
        };
        let Some(rule) = rule.as_mapping() else {
            set.unparsable += 1;
            continue;
        };
        let tags: Vec<&str> = rule
            .get("tags")
            .and_then(|t| t.as_sequence())
            .map(|s| s.iter().filter_map(|t| t.as_str()).collect())
            .unwrap_or_default();
        let technique_tags: Vec<&str> = tags.iter().filter_map(|t| technique_tag(t)).collect();
        if technique_tags.is_empty() {
            set.no_technique_tags += 1;
            continue;
        }
        let mut gold = BTreeSet::new();
        let mut unknown = false;
        for id in technique_tags {
            match attack.resolve(id) {
                Some((technique, _)) if technique.status.is_active() => {
                    gold.insert(technique.id.clone());
                }
                _ => unknown = true,
            }
        }
        if unknown {
            set.unknown_technique_tags += 1;
            continue;
        }
        let text = |key: &str| {
            rule.get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let mut detection = String::new();
        if let Some(value) = rule.get("detection") {
            flatten(value, &mut detection);
        }
        set.cases.push(RuleCase {
            path,
            title: text("title"),
            description: text("description"),
            detection,
            gold,
        });
    }
    set
}

impl RuleCase {
    /// The rule's text as weighted parts for [`TextMapper::map_parts`]: title,
    /// description, detection, weighted by `weights` in that order.
    pub(crate) fn parts(&self, weights: [f32; 3]) -> [(&str, f32); 3] {
        [
            (&self.title, weights[0]),
            (&self.description, weights[1]),
            (&self.detection, weights[2]),
        ]
    }
}

/// The weights of a rule's title, description and detection in the evaluation (the ones
/// hunts use, [`vigil_attack::RULE_PART_WEIGHTS`]).
pub(crate) const PART_WEIGHTS: [f32; 3] = vigil_attack::RULE_PART_WEIGHTS;

/// `attack.t1003.001` gives `t1003.001`; other tags give nothing.
fn technique_tag(tag: &str) -> Option<&str> {
    let id = tag.strip_prefix("attack.")?;
    let digits = id.strip_prefix(['t', 'T'])?;
    let (main, sub) = digits.split_once('.').unwrap_or((digits, "000"));
    let numeric = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    (numeric(main, 4) && numeric(sub, 3)).then_some(id)
}

/// Field names and values of a detection section, one per line; the condition is left out
/// (it only names the selections).
fn flatten(value: &yaml_serde::Value, out: &mut String) {
    use yaml_serde::Value;
    match value {
        Value::Mapping(map) => {
            for (key, value) in map {
                let key = key.as_str().unwrap_or_default();
                if key == "condition" {
                    continue;
                }
                out.push_str(key);
                out.push('\n');
                flatten(value, out);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|v| flatten(v, out)),
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        Value::Tagged(tagged) => flatten(&tagged.value, out),
        Value::Bool(_) | Value::Null => {}
    }
}

/// Set-based figures, micro-averaged per technique id: each predicted id is a true or a
/// false positive, each gold id not predicted a false negative, summed over all rules.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counts {
    /// Predicted and gold.
    pub(crate) tp: usize,
    /// Predicted, not gold.
    pub(crate) fp: usize,
    /// Gold, not predicted.
    pub(crate) fn_: usize,
    /// Rules with at least one gold technique predicted.
    pub(crate) hit_rules: usize,
    /// Rules with at least one hit predicted.
    pub(crate) answered: usize,
    /// Rules scored.
    pub(crate) rules: usize,
}

impl Counts {
    fn add(&mut self, predicted: &BTreeSet<String>, gold: &BTreeSet<String>) {
        let tp = predicted.intersection(gold).count();
        self.tp += tp;
        self.fp += predicted.len() - tp;
        self.fn_ += gold.len() - tp;
        self.hit_rules += usize::from(tp > 0);
        self.answered += usize::from(!predicted.is_empty());
        self.rules += 1;
    }

    /// TP / (TP + FP).
    pub(crate) fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// TP / (TP + FN).
    pub(crate) fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// Harmonic mean of precision and recall.
    pub(crate) fn f1(&self) -> f64 {
        harmonic(self.precision(), self.recall())
    }
}

impl Counts {
    /// Rule-level precision: of the rules given at least one hit, the share with a gold
    /// technique among their top k.
    pub(crate) fn rule_precision(&self) -> f64 {
        ratio(self.hit_rules, self.answered)
    }

    /// Rule-level recall: of all rules scored, the share with a gold technique among their
    /// top k (hit@k).
    pub(crate) fn rule_recall(&self) -> f64 {
        ratio(self.hit_rules, self.rules)
    }

    /// Harmonic mean of rule-level precision and recall.
    pub(crate) fn rule_f1(&self) -> f64 {
        harmonic(self.rule_precision(), self.rule_recall())
    }
}

fn harmonic(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The figures of one evaluation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Report {
    /// Rules scored.
    pub(crate) rules: usize,
    /// Rules with at least one hit returned.
    pub(crate) answered: usize,
    /// `[k=1, k=3]` at technique level (sub-techniques truncated to their parent).
    pub(crate) technique: [Counts; 2],
    /// `[k=1, k=3]` at sub-technique level (exact ids).
    pub(crate) subtechnique: [Counts; 2],
    /// Returned hits (up to 3 per rule) per confidence decile, and how many of them were
    /// right at technique level: `(hits, right)`.
    pub(crate) calibration: [(usize, usize); 10],
}

/// Maps every case and scores the hits against the gold techniques.
pub(crate) fn evaluate(mapper: &TextMapper, cases: &[RuleCase], weights: [f32; 3]) -> Report {
    let mut report = Report {
        rules: cases.len(),
        ..Report::default()
    };
    for case in cases {
        let hits = mapper.map_parts(&case.parts(weights), 3);
        report.answered += usize::from(!hits.is_empty());
        let gold_base: BTreeSet<String> = case.gold.iter().map(|g| base(g)).collect();
        for (slot, k) in [1usize, 3].into_iter().enumerate() {
            let top = &hits[..hits.len().min(k)];
            let exact: BTreeSet<String> = top.iter().map(|h| h.id.clone()).collect();
            let truncated: BTreeSet<String> = top.iter().map(|h| base(&h.id)).collect();
            report.technique[slot].add(&truncated, &gold_base);
            report.subtechnique[slot].add(&exact, &case.gold);
        }
        for hit in &hits {
            let decile = ((hit.confidence * 10.0) as usize).min(9);
            report.calibration[decile].0 += 1;
            report.calibration[decile].1 += usize::from(gold_base.contains(&base(&hit.id)));
        }
    }
    report
}

fn base(id: &str) -> String {
    id.split_once('.')
        .map_or(id, |(parent, _)| parent)
        .to_string()
}
