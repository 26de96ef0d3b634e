//! [`Coverage`]: which techniques a set of rules (or detections) covers, per tactic, as
//! numbers, a terminal summary and an ATT&CK Navigator [`Layer`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use crate::kb::Attack;
use crate::layer::{Gradient, Layer, LayerTechnique, Layout, LayoutKind, Metadata, Sorting};
use crate::mapping::Mapping;
use crate::model::Technique;

/// How many labels a technique's comment in a layer lists by default.
pub const COMMENT_LABELS: usize = 10;

/// The layer's colour scale, light to dark green (ColorBrewer "Greens"): pale cells are
/// thinly covered, dark ones by many labels.
const GRADIENT_COLORS: [&str; 3] = ["#e5f5e0", "#74c476", "#00441b"];

/// The width [`Coverage::summary`] keeps within.
const SUMMARY_WIDTH: usize = 100;
/// The width of a tactic's bar in the summary.
const BAR_WIDTH: usize = 10;
/// How many techniques the summary's closing list shows.
const SUMMARY_TOP: usize = 10;

/// Coverage of ATT&CK techniques, accumulated from labelled hits.
///
/// Each [`add`](Coverage::add) says that something named by a label (a rule's title, a
/// detection's rule) covers a technique, under one of its tactics or under all of them.
/// A technique's count is the number of distinct labels that cover it; adding a label again
/// keeps the higher confidence and counts once. Revoked ids count for their replacement;
/// ids the release does not know are kept apart ([`Coverage::unknown`]).
///
/// ```
/// use vigil_attack::{Attack, Coverage};
/// let attack = Attack::embedded()?;
/// let mut coverage = Coverage::new(&attack);
/// coverage.add("T1003.001", None, "LSASS access", 1.0);
/// coverage.add("T1003.001", Some("credential-access"), "Mimikatz command line", 0.9);
/// assert_eq!(coverage.count("T1003.001"), 2);
/// let layer = coverage.layer("Sigma rules", "Techniques the rule set covers");
/// assert!(layer.techniques.iter().any(|t| t.technique_id == "T1003.001"));
/// # Ok::<(), vigil_attack::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Coverage<'a> {
    attack: &'a Attack,
    /// Per technique (current id), per tactic (kill-chain position; `None` for a technique
    /// without tactics), the labels.
    hits: BTreeMap<String, BTreeMap<Option<usize>, Vec<Label>>>,
    unknown: BTreeMap<String, Vec<Label>>,
    comment_labels: usize,
}

/// A label that covers a technique, and how sure its mapping is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Label {
    /// The rule title, detection name or other text the caller chose.
    pub text: String,
    /// In [0, 1].
    pub confidence: f32,
}

/// A technique id the loaded release does not know, and what named it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnknownTechnique {
    /// The id as given, upper-cased (`T1234.567`).
    pub id: String,
    /// The labels that named it.
    pub labels: Vec<Label>,
}

/// How much of one tactic is covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TacticRow {
    /// `TA0006`.
    pub id: String,
    /// `credential-access`.
    pub tactic: String,
    /// `Credential Access`.
    pub name: String,
    /// Current techniques (not sub-techniques) of the tactic covered under it, directly or
    /// through one of their sub-techniques.
    pub covered: usize,
    /// Current techniques (not sub-techniques) of the tactic.
    pub total: usize,
    /// Current sub-techniques of the tactic covered under it.
    pub subtechniques_covered: usize,
    /// Current sub-techniques of the tactic.
    pub subtechniques_total: usize,
    /// The techniques and sub-techniques covered under the tactic, most labels first.
    pub techniques: Vec<TechniqueCount>,
}

/// A covered technique and how many labels cover it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TechniqueCount {
    /// `T1003.001`.
    pub id: String,
    /// `LSASS Memory`.
    pub name: String,
    /// Distinct labels.
    pub count: usize,
}

/// Coverage over the whole release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Current techniques (not sub-techniques) covered directly or through a sub-technique.
    pub techniques_covered: usize,
    /// Current techniques (not sub-techniques).
    pub techniques_total: usize,
    /// Current sub-techniques covered.
    pub subtechniques_covered: usize,
    /// Current sub-techniques.
    pub subtechniques_total: usize,
    /// Distinct labels that cover at least one known technique.
    pub labels: usize,
    /// Deprecated techniques (no replacement) that were covered; they are counted but
    /// left out of layers and of the numbers above.
    pub deprecated: Vec<String>,
    /// Distinct ids the release does not know.
    pub unknown: usize,
}

impl<'a> Coverage<'a> {
    /// Empty coverage of a knowledge base's techniques.
    pub fn new(attack: &'a Attack) -> Coverage<'a> {
        Coverage {
            attack,
            hits: BTreeMap::new(),
            unknown: BTreeMap::new(),
            comment_labels: COMMENT_LABELS,
        }
    }

    /// Sets how many labels a technique's comment in a layer lists (default
    /// [`COMMENT_LABELS`]); the rest are counted.
    pub fn with_comment_labels(mut self, labels: usize) -> Coverage<'a> {
        self.comment_labels = labels;
        self
    }

    /// Records that `label` covers a technique with some confidence in [0, 1].
    ///
    /// With a tactic (`credential-access`, `Credential Access` or `TA0006`) that the technique
    /// serves, the hit counts under that tactic only; without one, or with one the
    /// technique does not serve, under each of its tactics. Revoked ids count for their
    /// replacement; unknown ids go to [`Coverage::unknown`].
    pub fn add(&mut self, technique_id: &str, tactic: Option<&str>, label: &str, confidence: f32) {
        let Some((technique, _)) = self.attack.resolve(technique_id) else {
            let id = technique_id.trim().to_ascii_uppercase();
            push_label(self.unknown.entry(id).or_default(), label, confidence);
            return;
        };
        let cells = self.cells(technique, tactic);
        let hits = self.hits.entry(technique.id.clone()).or_default();
        for cell in cells {
            push_label(hits.entry(cell).or_default(), label, confidence);
        }
    }

    /// Records what a [`Mapping`] (from [`Attack::map_tags`]) found for one labelled rule:
    /// each technique under those of its tactics the mapping also found (all of its tactics
    /// when the mapping names none or all of them), with the hit's confidence; unresolved
    /// technique tags count as unknown ids.
    pub fn add_mapping(&mut self, mapping: &Mapping, label: &str) {
        for hit in &mapping.techniques {
            let named: Vec<&str> = hit
                .tactics
                .iter()
                .filter(|t| mapping.tactics.iter().any(|m| m.shortname == **t))
                .map(String::as_str)
                .collect();
            if named.is_empty() || named.len() == hit.tactics.len() {
                self.add(&hit.id, None, label, hit.confidence);
            } else {
                for tactic in named {
                    self.add(&hit.id, Some(tactic), label, hit.confidence);
                }
            }
        }
        for unresolved in &mapping.unresolved {
            let name = unresolved.tag.get(7..).unwrap_or_default();
            let mut chars = name.chars();
            if chars.next().is_some_and(|c| c.eq_ignore_ascii_case(&'t'))
                && chars.next().is_some_and(|c| c.is_ascii_digit())
            {
                self.add(name, None, label, 0.0);
            }
        }
    }

    /// The tactic cells a hit counts under.
    fn cells(&self, technique: &Technique, tactic: Option<&str>) -> Vec<Option<usize>> {
        let own: Vec<usize> = technique
            .tactics
            .iter()
            .filter_map(|t| self.attack.tactic_order(t))
            .collect();
        if own.is_empty() {
            return vec![None];
        }
        if let Some(order) = tactic.and_then(|t| self.attack.tactic_order(t))
            && own.contains(&order)
        {
            return vec![Some(order)];
        }
        own.into_iter().map(Some).collect()
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty() && self.unknown.is_empty()
    }

    /// How many distinct labels cover a technique (by its current id), under any tactic.
    pub fn count(&self, technique_id: &str) -> usize {
        let Some((technique, _)) = self.attack.resolve(technique_id) else {
            return 0;
        };
        self.hits
            .get(&technique.id)
            .map(|cells| distinct_labels(cells.values()).len())
            .unwrap_or(0)
    }

    /// The labels that cover a technique (by its current id), most confident first.
    pub fn labels(&self, technique_id: &str) -> Vec<Label> {
        let Some(cells) = self
            .attack
            .resolve(technique_id)
            .and_then(|(t, _)| self.hits.get(&t.id))
        else {
            return Vec::new();
        };
        let mut labels: Vec<Label> = distinct_labels(cells.values())
            .into_iter()
            .map(|(text, confidence)| Label {
                text: text.to_string(),
                confidence,
            })
            .collect();
        sort_labels(&mut labels);
        labels
    }

    /// Ids the release does not know, in id order.
    pub fn unknown(&self) -> Vec<UnknownTechnique> {
        self.unknown
            .iter()
            .map(|(id, labels)| UnknownTechnique {
                id: id.clone(),
                labels: labels.clone(),
            })
            .collect()
    }

    /// Every covered technique (current or deprecated) and its count, in id order.
    pub fn techniques(&self) -> Vec<TechniqueCount> {
        self.hits
            .iter()
            .map(|(id, cells)| TechniqueCount {
                id: id.clone(),
                name: self.name_of(id),
                count: distinct_labels(cells.values()).len(),
            })
            .collect()
    }

    fn name_of(&self, id: &str) -> String {
        self.attack
            .technique(id)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    }

    fn is_active(&self, id: &str) -> bool {
        self.attack
            .technique(id)
            .is_some_and(|t| t.status.is_active())
    }

    /// Coverage per tactic, in kill-chain order.
    pub fn tactic_rows(&self) -> Vec<TacticRow> {
        let mut rows = Vec::with_capacity(self.attack.tactics().len());
        for (order, tactic) in self.attack.tactics().iter().enumerate() {
            let mut techniques: Vec<TechniqueCount> = self
                .hits
                .iter()
                .filter(|(id, _)| self.is_active(id))
                .filter_map(|(id, cells)| {
                    cells.get(&Some(order)).map(|labels| TechniqueCount {
                        id: id.clone(),
                        name: self.name_of(id),
                        count: labels.len(),
                    })
                })
                .collect();
            techniques.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
            let covered_bases: BTreeSet<&str> = techniques
                .iter()
                .map(|t| t.id.split('.').next().unwrap_or(&t.id))
                .collect();
            let (mut covered, mut total, mut sub_covered, mut sub_total) = (0, 0, 0, 0);
            for technique in self.attack.techniques_of(tactic) {
                if technique.is_subtechnique() {
                    sub_total += 1;
                    if techniques.iter().any(|t| t.id == technique.id) {
                        sub_covered += 1;
                    }
                } else {
                    total += 1;
                    if covered_bases.contains(technique.id.as_str()) {
                        covered += 1;
                    }
                }
            }
            rows.push(TacticRow {
                id: tactic.id.clone(),
                tactic: tactic.shortname.clone(),
                name: tactic.name.clone(),
                covered,
                total,
                subtechniques_covered: sub_covered,
                subtechniques_total: sub_total,
                techniques,
            });
        }
        rows
    }

    /// Coverage over the whole release.
    pub fn totals(&self) -> Totals {
        let covered_bases: BTreeSet<&str> = self
            .hits
            .keys()
            .filter(|id| self.is_active(id))
            .map(|id| id.split('.').next().unwrap_or(id))
            .collect();
        let mut totals = Totals {
            techniques_covered: 0,
            techniques_total: 0,
            subtechniques_covered: 0,
            subtechniques_total: 0,
            labels: distinct_labels(self.hits.values().flat_map(|cells| cells.values())).len(),
            deprecated: self
                .hits
                .keys()
                .filter(|id| !self.is_active(id))
                .cloned()
                .collect(),
            unknown: self.unknown.len(),
        };
        for technique in self.attack.active_techniques() {
            if technique.is_subtechnique() {
                totals.subtechniques_total += 1;
                if self.hits.contains_key(&technique.id) {
                    totals.subtechniques_covered += 1;
                }
            } else {
                totals.techniques_total += 1;
                if covered_bases.contains(technique.id.as_str()) {
                    totals.techniques_covered += 1;
                }
            }
        }
        totals
    }

    /// An ATT&CK Navigator layer of the coverage.
    ///
    /// One entry per covered (technique, tactic) pair, so a technique of several tactics is
    /// coloured only where it is covered; its score is the number of labels, its comment
    /// lists the first labels (most confident first). A parent of a covered sub-technique
    /// gets `showSubtechniques` under that tactic. The gradient runs from 0 to the highest
    /// score. Deprecated techniques are left out: the Navigator does not show them.
    pub fn layer(&self, name: &str, description: &str) -> Layer {
        let tactics = self.attack.tactics();
        let shortname = |cell: &Option<usize>| {
            cell.and_then(|order| tactics.get(order))
                .map(|t| t.shortname.clone())
        };
        let mut entries: Vec<LayerTechnique> = Vec::new();
        let mut parents: BTreeSet<(String, Option<usize>)> = BTreeSet::new();
        for (id, cells) in self.hits.iter().filter(|(id, _)| self.is_active(id)) {
            for (cell, labels) in cells {
                if let Some((parent, _)) = id.split_once('.') {
                    parents.insert((parent.to_string(), *cell));
                }
                let mut sorted = labels.clone();
                sort_labels(&mut sorted);
                let best = sorted.first().map(|l| l.confidence).unwrap_or(0.0);
                entries.push(LayerTechnique {
                    technique_id: id.clone(),
                    tactic: shortname(cell),
                    score: Some(labels.len() as f64),
                    comment: Some(self.comment(&sorted)),
                    metadata: vec![
                        Metadata::entry("labels", labels.len().to_string()),
                        Metadata::entry("highest confidence", format!("{best:.2}")),
                    ],
                    ..LayerTechnique::default()
                });
            }
        }
        for (parent, cell) in parents {
            let tactic = shortname(&cell);
            match entries
                .iter_mut()
                .find(|e| e.technique_id == parent && e.tactic == tactic)
            {
                Some(entry) => entry.show_subtechniques = Some(true),
                None => entries.push(LayerTechnique {
                    technique_id: parent,
                    tactic,
                    show_subtechniques: Some(true),
                    ..LayerTechnique::default()
                }),
            }
        }
        let order = |e: &LayerTechnique| {
            (
                e.technique_id.clone(),
                e.tactic
                    .as_deref()
                    .and_then(|t| self.attack.tactic_order(t)),
            )
        };
        entries.sort_by_key(order);
        let max = entries
            .iter()
            .filter_map(|e| e.score)
            .fold(0.0_f64, f64::max);
        let totals = self.totals();
        let mut layer = Layer::new(name, self.attack);
        layer.description = description.to_string();
        layer.sorting = Some(Sorting::ScoreDescending);
        layer.layout = Some(Layout {
            layout: Some(LayoutKind::Side),
            show_id: Some(true),
            show_name: Some(true),
            ..Layout::default()
        });
        layer.techniques = entries;
        layer.gradient = Some(Gradient {
            colors: GRADIENT_COLORS.iter().map(|c| c.to_string()).collect(),
            min_value: 0.0,
            // The format requires maxValue > minValue, even for an empty layer.
            max_value: max.max(1.0),
        });
        layer.metadata = vec![
            Metadata::entry("generator", format!("vigil {}", env!("CARGO_PKG_VERSION"))),
            Metadata::entry(
                "ATT&CK version",
                self.attack.version().unwrap_or("unknown").to_string(),
            ),
            Metadata::entry(
                "techniques covered",
                format!(
                    "{} of {}",
                    totals.techniques_covered, totals.techniques_total
                ),
            ),
            Metadata::entry(
                "sub-techniques covered",
                format!(
                    "{} of {}",
                    totals.subtechniques_covered, totals.subtechniques_total
                ),
            ),
        ];
        layer
    }

    /// A technique's comment: its first labels, one a line, and how many more there are.
    fn comment(&self, sorted: &[Label]) -> String {
        let mut lines: Vec<String> = sorted
            .iter()
            .take(self.comment_labels)
            .map(|l| {
                if l.confidence >= 1.0 {
                    l.text.clone()
                } else {
                    format!("{} (confidence {:.2})", l.text, l.confidence)
                }
            })
            .collect();
        if sorted.len() > self.comment_labels {
            lines.push(format!(
                "... and {} more",
                sorted.len() - self.comment_labels
            ));
        }
        lines.join("\n")
    }

    /// A tactic-by-tactic summary for a terminal, within 100 columns: per tactic in
    /// kill-chain order the techniques covered of its total, a bar and the most covered
    /// techniques with their counts; then totals and the most covered techniques overall.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let totals = self.totals();
        let release = match self.attack.version() {
            Some(version) => format!("{} {version}", self.attack.meta().domain),
            None => self.attack.meta().domain.clone(),
        };
        let _ = writeln!(out, "ATT&CK coverage ({release})");
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<20}  {:>7} {:>4}  {:<BAR_WIDTH$}  Most covered (labels)",
            "Tactic", "Covered", "", ""
        );
        let lead = 20 + 2 + 7 + 1 + 4 + 2 + BAR_WIDTH + 2;
        for row in self.tactic_rows() {
            let mut line = format!(
                "{:<20}  {:>3}/{:<3} {:>3}%  {}  ",
                truncate(&row.name, 20),
                row.covered,
                row.total,
                percent(row.covered, row.total),
                bar(row.covered, row.total),
            );
            line.push_str(&fit_list(
                row.techniques
                    .iter()
                    .map(|t| format!("{} {}", t.id, t.count)),
                SUMMARY_WIDTH - lead,
            ));
            let _ = writeln!(out, "{}", line.trim_end());
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<16}{:>4}/{:<4} {:>3}%  covered directly or through a sub-technique",
            "Techniques",
            totals.techniques_covered,
            totals.techniques_total,
            percent(totals.techniques_covered, totals.techniques_total)
        );
        let _ = writeln!(
            out,
            "{:<16}{:>4}/{:<4} {:>3}%",
            "Sub-techniques",
            totals.subtechniques_covered,
            totals.subtechniques_total,
            percent(totals.subtechniques_covered, totals.subtechniques_total)
        );
        let _ = writeln!(out, "{:<16}{:>4}", "Labels", totals.labels);
        if !self.unknown.is_empty() {
            let lead = format!(
                "{:<16}{:>4}  not in this release: ",
                "Unknown ids", totals.unknown
            );
            let ids = self
                .unknown
                .iter()
                .map(|(id, labels)| format!("{id} {}", labels.len()));
            let list = fit_list(ids, SUMMARY_WIDTH - lead.chars().count());
            let _ = writeln!(out, "{lead}{list}");
        }
        if !totals.deprecated.is_empty() {
            let lead = format!(
                "{:<16}{:>4}  not in the layer: ",
                "Deprecated",
                totals.deprecated.len()
            );
            let ids = totals.deprecated.iter().cloned();
            let list = fit_list(ids, SUMMARY_WIDTH - lead.chars().count());
            let _ = writeln!(out, "{lead}{list}");
        }
        let mut top: Vec<TechniqueCount> = self
            .techniques()
            .into_iter()
            .filter(|t| self.is_active(&t.id))
            .collect();
        top.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
        if !top.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "Most covered techniques");
            for t in top.iter().take(SUMMARY_TOP) {
                let _ = writeln!(
                    out,
                    "  {:<10} {:<60} {:>6}",
                    t.id,
                    truncate(&t.name, 60),
                    t.count
                );
            }
        }
        out
    }
}

/// Adds a label to a cell, once: a repeated label keeps the higher confidence.
fn push_label(labels: &mut Vec<Label>, text: &str, confidence: f32) {
    match labels.iter_mut().find(|l| l.text == text) {
        Some(label) => label.confidence = label.confidence.max(confidence),
        None => labels.push(Label {
            text: text.to_string(),
            confidence,
        }),
    }
}

/// The distinct label texts of some cells, with the highest confidence of each.
fn distinct_labels<'l>(cells: impl Iterator<Item = &'l Vec<Label>>) -> HashMap<&'l str, f32> {
    let mut labels: HashMap<&str, f32> = HashMap::new();
    for label in cells.flatten() {
        let best = labels
            .entry(label.text.as_str())
            .or_insert(label.confidence);
        *best = best.max(label.confidence);
    }
    labels
}

/// Most confident first, then by text.
fn sort_labels(labels: &mut [Label]) {
    labels.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then_with(|| a.text.cmp(&b.text))
    });
}

/// `part` of `whole` in `scale`ths, rounded; 0 of nothing.
fn share(part: usize, whole: usize, scale: usize) -> usize {
    (part * scale + whole / 2).checked_div(whole).unwrap_or(0)
}

fn percent(part: usize, whole: usize) -> usize {
    share(part, whole, 100)
}

/// `███░░░░░░░`: the covered share in [`BAR_WIDTH`] cells; any coverage shows one cell.
fn bar(part: usize, whole: usize) -> String {
    let mut filled = share(part, whole, BAR_WIDTH);
    if part > 0 {
        filled = filled.max(1);
    }
    let filled = filled.min(BAR_WIDTH);
    format!("{}{}", "█".repeat(filled), "░".repeat(BAR_WIDTH - filled))
}

/// Items joined by `, ` within `width` characters, ending in `...` when some are left out.
fn fit_list(items: impl Iterator<Item = String>, width: usize) -> String {
    let mut out = String::new();
    let mut items = items.peekable();
    while let Some(item) = items.next() {
        let sep = if out.is_empty() { "" } else { ", " };
        // Room for `, ...` must remain unless this is the last item.
        let reserve = if items.peek().is_some() { 5 } else { 0 };
        if out.chars().count() + sep.len() + item.chars().count() + reserve > width {
            out.push_str(if out.is_empty() { "..." } else { ", ..." });
            return out;
        }
        out.push_str(sep);
        out.push_str(&item);
    }
    out
}

/// At most `width` characters, ending in `…` when cut.
fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A release of three tactics and a handful of techniques, so the numbers are small
    /// enough to check by hand and do not move with ATT&CK releases.
    const TABLE: &str = r#"{"row":"attack","version":"18.1","domain":"enterprise-attack"}
{"row":"tactic","id":"TA0002","name":"Execution","shortname":"execution"}
{"row":"tactic","id":"TA0003","name":"Persistence","shortname":"persistence"}
{"row":"tactic","id":"TA0006","name":"Credential Access","shortname":"credential-access"}
{"row":"technique","id":"T1059","name":"Command and Scripting Interpreter","tactics":["execution"]}
{"row":"technique","id":"T1059.001","name":"PowerShell","tactics":["execution"]}
{"row":"technique","id":"T1059.003","name":"Windows Command Shell","tactics":["execution"]}
{"row":"technique","id":"T1053","name":"Scheduled Task/Job","tactics":["execution","persistence"]}
{"row":"technique","id":"T1053.005","name":"Scheduled Task","tactics":["execution","persistence"]}
{"row":"technique","id":"T1547","name":"Boot or Logon Autostart Execution","tactics":["persistence"]}
{"row":"technique","id":"T1003","name":"OS Credential Dumping","tactics":["credential-access"]}
{"row":"technique","id":"T1003.001","name":"LSASS Memory","tactics":["credential-access"]}
{"row":"technique","id":"T1110","name":"Brute Force","tactics":["credential-access"]}
{"row":"technique","id":"T1086","name":"PowerShell","tactics":["execution"],"status":{"state":"revoked","by":"T1059.001"}}
{"row":"technique","id":"T1064","name":"Scripting","tactics":["execution"],"status":{"state":"deprecated"}}
"#;

    fn attack() -> Attack {
        Attack::from_table(TABLE, None, "test").expect("valid table")
    }

    fn sample(attack: &Attack) -> Coverage<'_> {
        let mut coverage = Coverage::new(attack);
        coverage.add("T1059.001", None, "Encoded PowerShell", 1.0);
        coverage.add("t1086", None, "PowerShell download cradle", 0.9);
        coverage.add("T1059.001", None, "Encoded PowerShell", 0.5);
        coverage.add("T1053.005", Some("persistence"), "Schtasks creation", 1.0);
        coverage.add("T1053", None, "Cron or schtasks", 0.5);
        coverage.add("T1003.001", Some("TA0006"), "LSASS access", 1.0);
        coverage.add("T1003", Some("impact"), "Credential dumping tool", 1.0);
        coverage.add("T1064", None, "Old scripting rule", 0.6);
        coverage.add("T9999", None, "Future technique", 1.0);
        coverage
    }

    #[test]
    fn counts_distinct_labels_and_follows_revocations() {
        let attack = attack();
        let coverage = sample(&attack);
        assert_eq!(coverage.count("T1059.001"), 2);
        assert_eq!(
            coverage.count("T1086"),
            2,
            "a revoked id reads its replacement"
        );
        assert_eq!(
            coverage.labels("T1059.001")[0],
            Label {
                text: "Encoded PowerShell".into(),
                confidence: 1.0
            }
        );
        assert_eq!(coverage.unknown()[0].id, "T9999");
    }

    #[test]
    fn a_tactic_the_technique_serves_narrows_the_hit() {
        let attack = attack();
        let coverage = sample(&attack);
        let rows = coverage.tactic_rows();
        let count_in = |tactic: &str, id: &str| {
            rows.iter()
                .find(|r| r.tactic == tactic)
                .and_then(|r| r.techniques.iter().find(|t| t.id == id))
                .map(|t| t.count)
        };
        assert_eq!(count_in("persistence", "T1053.005"), Some(1));
        assert_eq!(count_in("execution", "T1053.005"), None);
        assert_eq!(count_in("execution", "T1053"), Some(1));
        assert_eq!(count_in("persistence", "T1053"), Some(1));
        // `impact` is not a tactic of T1003: the hit counts under its own tactics.
        assert_eq!(count_in("credential-access", "T1003"), Some(1));
    }

    #[test]
    fn rows_and_totals_count_techniques_through_their_subtechniques() {
        let attack = attack();
        let coverage = sample(&attack);
        let rows = coverage.tactic_rows();
        let execution = &rows[0];
        assert_eq!((execution.covered, execution.total), (2, 2));
        assert_eq!(
            (
                execution.subtechniques_covered,
                execution.subtechniques_total
            ),
            (1, 3)
        );
        let persistence = &rows[1];
        assert_eq!((persistence.covered, persistence.total), (1, 2));
        let totals = coverage.totals();
        assert_eq!((totals.techniques_covered, totals.techniques_total), (3, 5));
        assert_eq!(
            (totals.subtechniques_covered, totals.subtechniques_total),
            (3, 4)
        );
        assert_eq!(totals.deprecated, ["T1064"]);
        assert_eq!(totals.unknown, 1);
        assert_eq!(totals.labels, 7);
    }

    #[test]
    fn the_layer_has_one_entry_per_technique_and_tactic() {
        let attack = attack();
        let coverage = sample(&attack).with_comment_labels(1);
        let layer = coverage.layer("test", "a test");
        type Cell<'l> = (&'l str, Option<&'l str>, Option<f64>, Option<bool>);
        let cells: Vec<Cell<'_>> = layer
            .techniques
            .iter()
            .map(|t| {
                (
                    t.technique_id.as_str(),
                    t.tactic.as_deref(),
                    t.score,
                    t.show_subtechniques,
                )
            })
            .collect();
        assert_eq!(
            cells,
            [
                ("T1003", Some("credential-access"), Some(1.0), Some(true)),
                ("T1003.001", Some("credential-access"), Some(1.0), None),
                ("T1053", Some("execution"), Some(1.0), None),
                ("T1053", Some("persistence"), Some(1.0), Some(true)),
                ("T1053.005", Some("persistence"), Some(1.0), None),
                ("T1059", Some("execution"), None, Some(true)),
                ("T1059.001", Some("execution"), Some(2.0), None),
            ]
        );
        let comment = layer.techniques[6].comment.as_deref();
        assert_eq!(comment, Some("Encoded PowerShell\n... and 1 more"));
        let gradient = layer.gradient.expect("set");
        assert_eq!((gradient.min_value, gradient.max_value), (0.0, 2.0));
        assert_eq!(layer.versions.and_then(|v| v.attack).as_deref(), Some("18"));
    }

    #[test]
    fn an_empty_layer_keeps_a_valid_gradient() {
        let attack = attack();
        let layer = Coverage::new(&attack).layer("empty", "");
        assert!(layer.techniques.is_empty());
        let gradient = layer.gradient.expect("set");
        assert!(gradient.max_value > gradient.min_value);
    }

    #[test]
    fn mappings_keep_the_tactics_their_tags_name() {
        let attack = attack();
        let mut coverage = Coverage::new(&attack);
        let mapping = attack.map_tags(&["attack.persistence", "attack.t1053.005", "attack.t1234"]);
        coverage.add_mapping(&mapping, "Schtasks");
        let layer = coverage.layer("m", "");
        let task = layer
            .techniques
            .iter()
            .find(|t| t.technique_id == "T1053.005")
            .expect("covered");
        assert_eq!(task.tactic.as_deref(), Some("persistence"));
        assert_eq!(layer.techniques.len(), 2, "T1053.005 and its parent");
        assert_eq!(coverage.unknown()[0].id, "T1234");
    }

    #[test]
    fn summary_fits_in_100_columns() {
        let attack = attack();
        let summary = sample(&attack).summary();
        assert!(
            summary.lines().all(|l| l.chars().count() <= SUMMARY_WIDTH),
            "{summary}"
        );
        insta::assert_snapshot!(summary);
    }

    #[test]
    fn fit_list_ends_with_an_ellipsis_when_cut() {
        let items = ["T1059 12", "T1053 3", "T1003 1"].map(String::from);
        assert_eq!(
            fit_list(items.clone().into_iter(), 100),
            "T1059 12, T1053 3, T1003 1"
        );
        assert_eq!(
            fit_list(items.clone().into_iter(), 22),
            "T1059 12, T1053 3, ..."
        );
        assert_eq!(fit_list(items.into_iter(), 20), "T1059 12, ...");
    }
}
