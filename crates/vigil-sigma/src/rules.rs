//! Loading rules: files, directories and texts of Sigma YAML, strictly validated, each rule
//! compiled once.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rsigma_eval::{CompiledRule, Engine};
use rsigma_parser::{
    CorrelationRule, FilterRule, Severity, SigmaCollection, SigmaRule, Status, lint_yaml_str,
    parse_sigma_yaml,
};
use serde::Serialize;
use vigil_event::LogSource;

use crate::conformance;
use crate::level::Level;
use crate::placeholders::Placeholders;

/// Where rules come from.
#[derive(Debug, Clone)]
pub enum RuleSource {
    /// A `.yml`/`.yaml` file, or a directory searched for them.
    Path(PathBuf),
    /// A YAML text with a name for messages (the built-in pack).
    Text {
        /// Shown as the rule's path.
        name: String,
        /// The YAML, possibly several documents.
        yaml: String,
    },
}

/// Whether a rule matches events or counts other rules' matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A detection rule.
    Detection,
    /// A correlation rule.
    Correlation,
}

/// What a match reports about its rule.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    /// The rule's `id`.
    pub id: Option<String>,
    /// The rule's `name` (what correlation rules may refer to).
    pub name: Option<String>,
    /// The rule's `title`.
    pub title: String,
    /// The rule's `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The rule's level, if it has one.
    pub level: Option<Level>,
    /// `stable`, `test`, `experimental`, `deprecated` or `unsupported`.
    pub status: Option<&'static str>,
    /// The rule's tags (`attack.t1059.001`).
    pub tags: Vec<String>,
    /// The file (or built-in name) it was read from.
    pub path: String,
    /// Its log source.
    #[serde(skip)]
    pub logsource: LogSource,
    /// Detection or correlation.
    pub kind: RuleKind,
    /// Whether its own matches are reported. A detection rule that correlation rules use
    /// is reported only when one of them says `generate: true`.
    pub generate: bool,
    /// Whether correlation rules count its matches.
    pub correlated: bool,
}

impl RuleInfo {
    /// The level a match reports: the rule's, or `informational` when it has none.
    pub fn reported_level(&self) -> Level {
        self.level.unwrap_or(Level::Informational)
    }

    /// The rule's id, or its title when it has none: how output names a rule.
    pub fn key(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.title)
    }
}

/// A correlation rule and the detection rules it counts.
#[derive(Debug, Clone)]
pub struct CorrelationInfo {
    /// The correlation as parsed (a `temporal` one without a `condition` has the condition
    /// the specification means: every referenced rule).
    pub rule: CorrelationRule,
    /// What matches of it report.
    pub info: RuleInfo,
    /// The correlation as rsigma's correlation engine is given it (see
    /// `crate::conformance::engine_correlation`).
    pub(crate) engine: CorrelationRule,
}

/// A rule (or file) that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleFailure {
    /// The file.
    pub path: String,
    /// The rule's id, when it got far enough to have one.
    pub id: Option<String>,
    /// Why, naming the field where one is at fault.
    pub reason: String,
}

/// How a load went.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    /// Rules loaded (detection and correlation).
    pub loaded: usize,
    /// Rules that failed.
    pub failed: Vec<RuleFailure>,
    /// Filters applied.
    pub filters: usize,
    /// Rule files read.
    pub files: usize,
}

/// Loaded rules, compiled once.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub(crate) compiled: Vec<CompiledRule>,
    pub(crate) infos: Vec<RuleInfo>,
    /// Parsed detection rules that correlations refer to (the correlation engine needs them).
    pub(crate) correlated: Vec<SigmaRule>,
    pub(crate) correlations: Vec<CorrelationInfo>,
}

/// One file's or text's parsed documents before compilation.
struct Parsed {
    path: String,
    collection: SigmaCollection,
}

impl RuleSet {
    /// Loads rules from every source; bad rules are reported in the [`LoadReport`] and the
    /// rest load. `placeholders` resolves `|expand` values; without it a rule using
    /// `|expand` fails, naming the placeholder.
    pub fn load(sources: &[RuleSource], placeholders: Option<&Placeholders>) -> (Self, LoadReport) {
        let mut report = LoadReport::default();
        // (name, text) of every rule file, in order; files are parsed on all threads.
        let mut texts: Vec<(String, Option<String>)> = Vec::new();
        for source in sources {
            match source {
                RuleSource::Path(path) => {
                    for file in rule_files(path, &mut report) {
                        texts.push((file.display().to_string(), None));
                    }
                }
                RuleSource::Text { name, yaml } => texts.push((name.clone(), Some(yaml.clone()))),
            }
        }
        let results: Vec<(Vec<Parsed>, Vec<RuleFailure>)> = texts
            .into_par_iter()
            .map(|(name, text)| {
                let mut parsed = Vec::new();
                let mut failed = Vec::new();
                let text = match text {
                    Some(text) => Ok(text),
                    None => std::fs::read_to_string(&name),
                };
                match text {
                    Ok(text) => parse_text(&name, &text, &mut parsed, &mut failed),
                    Err(e) => failed.push(RuleFailure {
                        path: name,
                        id: None,
                        reason: format!("cannot read: {e}"),
                    }),
                }
                (parsed, failed)
            })
            .collect();
        let mut parsed = Vec::new();
        for (p, f) in results {
            report.files += 1;
            parsed.extend(p);
            report.failed.extend(f);
        }
        let set = build(parsed, placeholders, &mut report);
        (set, report)
    }

    /// Loads the rules of one YAML text (tests, the built-in pack, uploads).
    pub fn from_yaml(
        name: &str,
        yaml: &str,
        placeholders: Option<&Placeholders>,
    ) -> (Self, LoadReport) {
        Self::load(
            &[RuleSource::Text {
                name: name.to_string(),
                yaml: yaml.to_string(),
            }],
            placeholders,
        )
    }

    /// The rule files (`.yml`, `.yaml`) under a path, sorted, and what could not be read
    /// while looking; a file given by name is returned whatever its extension.
    pub fn files(path: &Path) -> (Vec<PathBuf>, Vec<RuleFailure>) {
        let mut report = LoadReport::default();
        let files = rule_files(path, &mut report);
        (files, report.failed)
    }

    /// Every loaded rule: detection rules, then correlation rules.
    pub fn rules(&self) -> impl Iterator<Item = &RuleInfo> {
        self.infos
            .iter()
            .chain(self.correlations.iter().map(|c| &c.info))
    }

    /// The rule set without the rules whose key (id, else title) `disabled` holds, and
    /// how many were dropped. A correlation that counts a disabled rule no longer sees its
    /// matches.
    pub fn without(self, disabled: &std::collections::HashSet<String>) -> (Self, usize) {
        let before = self.len();
        let (compiled, infos) = self
            .compiled
            .into_iter()
            .zip(self.infos)
            .filter(|(_, info)| !disabled.contains(info.key()))
            .unzip();
        let correlations: Vec<CorrelationInfo> = self
            .correlations
            .into_iter()
            .filter(|c| !disabled.contains(c.info.key()))
            .collect();
        let set = RuleSet {
            compiled,
            infos,
            correlated: self.correlated,
            correlations,
        };
        let dropped = before - set.len();
        (set, dropped)
    }

    /// How many rules are loaded.
    pub fn len(&self) -> usize {
        self.infos.len() + self.correlations.len()
    }

    /// Whether no rule is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The correlation rules.
    pub fn correlations(&self) -> &[CorrelationInfo] {
        &self.correlations
    }
}

/// The rule files under a path, sorted; a file given by name is read whatever its extension.
fn rule_files(path: &Path, report: &mut LoadReport) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    if !path.exists() {
        report.failed.push(RuleFailure {
            path: path.display().to_string(),
            id: None,
            reason: "no such file or directory".to_string(),
        });
        return Vec::new();
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(path).follow_links(true) {
        match entry {
            Ok(entry) if entry.file_type().is_file() => {
                let p = entry.path();
                if matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")) {
                    files.push(p.to_path_buf());
                }
            }
            Ok(_) => {}
            Err(e) => report.failed.push(RuleFailure {
                path: e
                    .path()
                    .map_or_else(|| path.display().to_string(), |p| p.display().to_string()),
                id: None,
                reason: format!("cannot read: {e}"),
            }),
        }
    }
    files.sort();
    files
}

/// Parses and lints one text; documents that fail are reported, the rest kept.
fn parse_text(name: &str, text: &str, parsed: &mut Vec<Parsed>, failed: &mut Vec<RuleFailure>) {
    let documents = split_documents(text);
    for document in documents {
        let errors: Vec<String> = lint_yaml_str(document)
            .into_iter()
            .filter(|w| w.severity == Severity::Error)
            .map(|w| format!("{}: {}", field_of(&w.path), w.message))
            .collect();
        let id = document_id(document);
        if !errors.is_empty() {
            failed.push(RuleFailure {
                path: name.to_string(),
                id,
                reason: errors.join("; "),
            });
            continue;
        }
        match parse_sigma_yaml(document) {
            Ok(mut collection) if collection.errors.is_empty() => {
                let mut correlations = Vec::with_capacity(collection.correlations.len());
                for mut correlation in collection.correlations {
                    match conformance::correlation(&mut correlation, document) {
                        Ok(()) => correlations.push(correlation),
                        Err(e) => failed.push(RuleFailure {
                            path: name.to_string(),
                            id: correlation.id.clone(),
                            reason: e.to_string(),
                        }),
                    }
                }
                collection.correlations = correlations;
                parsed.push(Parsed {
                    path: name.to_string(),
                    collection,
                });
            }
            Ok(collection) => failed.push(RuleFailure {
                path: name.to_string(),
                id,
                reason: collection.errors.join("; "),
            }),
            Err(e) => failed.push(RuleFailure {
                path: name.to_string(),
                id,
                reason: e.to_string(),
            }),
        }
    }
}

/// The field a lint path (`/detection/selection`) names, as `detection.selection`.
fn field_of(path: &str) -> String {
    let field = path.trim_start_matches('/').replace('/', ".");
    if field.is_empty() {
        "rule".to_string()
    } else {
        field
    }
}

/// The documents of a multi-document YAML text, split at `---` lines so each is linted
/// and reported on its own. Empty documents are dropped.
fn split_documents(text: &str) -> Vec<&str> {
    let mut documents = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            documents.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    documents.push(&text[start..]);
    documents
        .into_iter()
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .collect()
}

/// The `id:` of a document, read without parsing it (for reporting a document that fails
/// to parse).
fn document_id(document: &str) -> Option<String> {
    document.lines().find_map(|line| {
        let rest = line.strip_prefix("id:")?;
        let id = rest.trim().trim_matches(|c| c == '\'' || c == '"');
        (!id.is_empty()).then(|| id.to_string())
    })
}

/// What a match reports of a rule's metadata, as a reported detection rule without a log
/// source; callers set the rest. Detection and correlation rules carry the same metadata
/// fields under the same names.
macro_rules! header {
    ($rule:expr, $path:expr) => {
        RuleInfo {
            id: $rule.id.clone(),
            name: $rule.name.clone(),
            title: $rule.title.to_string(),
            description: $rule.description.clone(),
            level: $rule.level.map(Level::from_rsigma),
            status: status_str($rule.status),
            tags: $rule.tags.to_vec(),
            path: $path,
            logsource: LogSource::default(),
            kind: RuleKind::Detection,
            generate: true,
            correlated: false,
        }
    };
}

fn status_str(status: Option<Status>) -> Option<&'static str> {
    status.map(|s| match s {
        Status::Stable => "stable",
        Status::Test => "test",
        Status::Experimental => "experimental",
        Status::Deprecated => "deprecated",
        Status::Unsupported => "unsupported",
    })
}

fn vigil_logsource(ls: &rsigma_parser::LogSource) -> LogSource {
    LogSource {
        category: ls.category.as_deref().map(Into::into),
        product: ls.product.as_deref().map(Into::into),
        service: ls.service.as_deref().map(Into::into),
    }
}

/// Compiles the parsed documents: detection rules, then filters on them, then the
/// correlations whose references resolve.
fn build(
    parsed: Vec<Parsed>,
    placeholders: Option<&Placeholders>,
    report: &mut LoadReport,
) -> RuleSet {
    let mut rules: Vec<(SigmaRule, String)> = Vec::new();
    let mut correlations: Vec<(CorrelationRule, String)> = Vec::new();
    let mut filters: Vec<(FilterRule, String)> = Vec::new();
    for Parsed { path, collection } in parsed {
        rules.extend(collection.rules.into_iter().map(|r| (r, path.clone())));
        correlations.extend(
            collection
                .correlations
                .into_iter()
                .map(|c| (c, path.clone())),
        );
        filters.extend(collection.filters.into_iter().map(|f| (f, path.clone())));
    }

    // Correlations refer to rules by id or name; a reference to nothing fails the
    // correlation, and the rules they do refer to report their own matches only when a
    // correlation says `generate: true`.
    let mut known: HashSet<&str> = HashSet::new();
    for (rule, _) in &rules {
        known.extend(rule.id.as_deref());
        known.extend(rule.name.as_deref());
    }
    for (corr, _) in &correlations {
        known.extend(corr.id.as_deref());
        known.extend(corr.name.as_deref());
    }
    let mut kept_correlations = Vec::new();
    for (corr, path) in &correlations {
        let missing: Vec<&str> = corr
            .rules
            .iter()
            .map(String::as_str)
            .filter(|r| !known.contains(r))
            .collect();
        if missing.is_empty() {
            kept_correlations.push((corr.clone(), path.clone()));
        } else {
            report.failed.push(RuleFailure {
                path: path.clone(),
                id: corr.id.clone(),
                reason: format!(
                    "correlation.rules: no loaded rule has the id or name {}",
                    missing.join(", ")
                ),
            });
        }
    }
    let referenced: HashSet<&str> = kept_correlations
        .iter()
        .flat_map(|(c, _)| c.rules.iter().map(String::as_str))
        .collect();
    let generating: HashSet<&str> = kept_correlations
        .iter()
        .filter(|(c, _)| c.generate)
        .flat_map(|(c, _)| c.rules.iter().map(String::as_str))
        .collect();
    let refers = |rule: &SigmaRule, set: &HashSet<&str>| {
        rule.id.as_deref().is_some_and(|id| set.contains(id))
            || rule.name.as_deref().is_some_and(|n| set.contains(n))
    };

    // Placeholders, conformance rewrites, then compilation, on all threads; results keep
    // the rules' order.
    let outcomes: Vec<Result<(SigmaRule, CompiledRule), String>> = rules
        .par_iter()
        .map(|(rule, _)| {
            let rule = match placeholders {
                Some(p) => p.apply(rule)?,
                None => rule.clone(),
            };
            if let Some(reason) = Placeholders::unresolved(&rule) {
                return Err(reason);
            }
            let rule = conformance::rule(rule).map_err(|e| e.to_string())?;
            let compiled = rsigma_eval::compile_rule(&rule).map_err(|e| e.to_string())?;
            Ok((rule, compiled))
        })
        .collect();
    let mut compiled = Vec::new();
    let mut infos = Vec::new();
    let mut correlated = Vec::new();
    for ((original, path), outcome) in rules.iter().zip(outcomes) {
        let (rule, c) = match outcome {
            Ok(done) => done,
            Err(reason) => {
                report.failed.push(RuleFailure {
                    path: path.clone(),
                    id: original.id.clone(),
                    reason,
                });
                continue;
            }
        };
        let is_referenced = refers(&rule, &referenced);
        infos.push(RuleInfo {
            logsource: vigil_logsource(&rule.logsource),
            generate: !is_referenced || refers(&rule, &generating),
            correlated: is_referenced,
            ..header!(rule, path.clone())
        });
        if is_referenced {
            correlated.push(rule);
        }
        compiled.push(c);
    }

    if !filters.is_empty() {
        let mut engine = Engine::new();
        engine.extend_compiled_rules(compiled);
        for (filter, path) in &filters {
            let filter = match conformance::filter(filter, &infos) {
                Ok(filter) => filter,
                Err(e) => {
                    report.failed.push(RuleFailure {
                        path: path.clone(),
                        id: filter.id.clone(),
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            match engine.apply_filter(&filter) {
                Ok(()) => report.filters += 1,
                Err(e) => report.failed.push(RuleFailure {
                    path: path.clone(),
                    id: filter.id.clone(),
                    reason: format!("filter: {e}"),
                }),
            }
        }
        compiled = engine.rules().to_vec();
    }

    let correlations = kept_correlations
        .into_iter()
        .map(|(rule, path)| {
            let info = RuleInfo {
                kind: RuleKind::Correlation,
                ..header!(rule, path)
            };
            let engine = conformance::engine_correlation(&rule);
            CorrelationInfo { rule, info, engine }
        })
        .collect::<Vec<_>>();
    report.loaded = infos.len() + correlations.len();
    RuleSet {
        compiled,
        infos,
        correlated,
        correlations,
    }
}
