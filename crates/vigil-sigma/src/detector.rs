//! Matching events: rules partitioned by log source, each partition compiled into one
//! engine the first time an event needs it.

use std::sync::{Arc, Mutex, OnceLock};

use rsigma_eval::{
    CompiledRule, CorrelationConfig, CorrelationEngine, Engine, EvaluationResult, TimestampFallback,
};
use serde_json::Value as Json;
use vigil_event::{Event, LogSource};

use crate::event::SigmaEvent;
use crate::routing::{Aliases, Routing};
use crate::rules::{RuleInfo, RuleSet};

/// The custom attribute that carries a rule's index in the [`RuleSet`] through rsigma's
/// match results.
const INDEX: &str = "vigil.index";

/// A detection rule that matched an event.
#[derive(Debug, Clone)]
pub struct Match<'d> {
    /// The rule.
    pub rule: &'d RuleInfo,
    /// The rule's index among the detection rules.
    pub index: usize,
    /// The named selections that matched.
    pub selections: Vec<String>,
    result: EvaluationResult,
}

/// Rules that share one log source (as the rules write it), compiled into one engine on
/// first use.
struct Partition {
    logsource: LogSource,
    pending: Mutex<Vec<CompiledRule>>,
    engine: OnceLock<Engine>,
}

impl Partition {
    fn engine(&self) -> &Engine {
        self.engine.get_or_init(|| {
            let rules = self
                .pending
                .lock()
                .map(|mut pending| std::mem::take(&mut *pending))
                .unwrap_or_default();
            let mut engine = Engine::new();
            engine.extend_compiled_rules(rules);
            engine
        })
    }
}

/// Loaded rules ready to match events from any number of threads.
///
/// Rules are partitioned by their log source. An event is matched against the partitions
/// whose log source applies to its own (see [`Detector::applies`]), so every rule an
/// engine evaluates can match the event by log source, and each partition's candidate
/// index and literal automata hold only its own rules' literals. A partition is compiled
/// the first time an event needs it: a hunt over Windows logs never builds the automata
/// of the cloud rules.
pub struct Detector {
    rules: RuleSet,
    routing: Routing,
    partitions: Vec<Partition>,
}

impl Detector {
    /// A detector for these rules with this routing.
    pub fn new(mut rules: RuleSet, routing: Routing) -> Self {
        let mut partitions: Vec<Partition> = Vec::new();
        let compiled = std::mem::take(&mut rules.compiled);
        for (index, (mut rule, info)) in compiled.into_iter().zip(&rules.infos).enumerate() {
            let mut attributes = (*rule.custom_attributes).clone();
            attributes.insert(INDEX.to_string(), Json::from(index));
            rule.custom_attributes = Arc::new(attributes);
            let key = lower(&info.logsource);
            match partitions.iter_mut().find(|p| p.logsource == key) {
                Some(partition) => {
                    if let Ok(pending) = partition.pending.get_mut() {
                        pending.push(rule);
                    }
                }
                None => partitions.push(Partition {
                    logsource: key,
                    pending: Mutex::new(vec![rule]),
                    engine: OnceLock::new(),
                }),
            }
        }
        Detector {
            rules,
            routing,
            partitions,
        }
    }

    /// The rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// A matcher for one thread (it remembers which partitions each log source needs).
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher {
            detector: self,
            cache: Vec::new(),
        }
    }

    /// The partitions whose rules apply to events of this log source.
    fn partitions_for(&self, logsource: &LogSource) -> Vec<usize> {
        self.partitions
            .iter()
            .enumerate()
            .filter(|(_, p)| self.applies(&p.logsource, logsource))
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether a rule's log source applies to events of this one: every attribute the rule
    /// sets equals the event's, a category also matching the broader categories routing
    /// says it belongs to (`registry_set` events are `registry_event` events).
    pub fn applies(&self, rule: &LogSource, event: &LogSource) -> bool {
        let category = match (rule.category.as_deref(), event.category.as_deref()) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(want), Some(have)) => {
                want.eq_ignore_ascii_case(have)
                    || self
                        .routing
                        .broader_categories(have)
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(want))
            }
        };
        category && event.matches(None, rule.product.as_deref(), rule.service.as_deref())
    }

    fn to_match(&self, result: EvaluationResult) -> Option<Match<'_>> {
        let index = result
            .header
            .custom_attributes
            .get(INDEX)
            .and_then(Json::as_u64)
            .and_then(|i| usize::try_from(i).ok())?;
        let rule = self.rules.infos.get(index)?;
        let selections = result
            .as_detection()
            .map(|d| d.matched_selections.clone())
            .unwrap_or_default();
        Some(Match {
            rule,
            index,
            selections,
            result,
        })
    }

    /// Every match of every rule on an event without the candidate index or prefilters,
    /// each rule's log source tested with [`Detector::applies`]: the reference the fast
    /// path is tested against.
    pub fn detect_exhaustive(&self, event: &Event) -> Vec<Match<'_>> {
        let aliases = self.routing.aliases(&event.logsource);
        let view = SigmaEvent::new(event, aliases);
        let mut matches: Vec<Match<'_>> = self
            .partitions
            .iter()
            .flat_map(|p| p.engine().rules())
            .filter(|rule| {
                let index = rule
                    .custom_attributes
                    .get(INDEX)
                    .and_then(Json::as_u64)
                    .and_then(|i| usize::try_from(i).ok());
                index
                    .and_then(|i| self.rules.infos.get(i))
                    .is_some_and(|info| self.applies(&info.logsource, &event.logsource))
            })
            .filter_map(|rule| rsigma_eval::evaluate_rule(rule, &view))
            .filter_map(|result| self.to_match(result))
            .collect();
        matches.sort_by_key(|m| m.index);
        matches
    }

    /// A correlation engine for the correlation rules, fed by [`Correlator::feed`]; `None`
    /// when no correlation rule is loaded.
    pub fn correlator(&self) -> Option<Correlator<'_>> {
        if self.rules.correlations.is_empty() {
            return None;
        }
        let config = CorrelationConfig {
            timestamp_fallback: TimestampFallback::Skip,
            ..CorrelationConfig::default()
        };
        let mut engine = CorrelationEngine::new(config);
        // The rules correlations count compiled once already and loaded without error;
        // the correlation engine compiles them again to learn their ids and names.
        for rule in &self.rules.correlated {
            if let Err(error) = engine.add_rule(rule) {
                tracing::warn!(rule = %rule.title, %error, "Correlation engine refused a rule.");
            }
        }
        for correlation in &self.rules.correlations {
            if let Err(error) = engine.add_correlation(&correlation.engine) {
                tracing::warn!(rule = %correlation.rule.title, %error, "Correlation engine refused a correlation.");
            }
        }
        Some(Correlator {
            detector: self,
            engine,
        })
    }
}

/// One thread's handle for matching events.
pub struct Matcher<'d> {
    detector: &'d Detector,
    cache: Vec<(LogSource, Vec<usize>, Option<&'d Aliases>)>,
}

impl<'d> Matcher<'d> {
    /// The matches of an event, routed by its log source, in rule order.
    pub fn detect(&mut self, event: &Event) -> Vec<Match<'d>> {
        let detector = self.detector;
        let slot = match self
            .cache
            .iter()
            .position(|(ls, _, _)| *ls == event.logsource)
        {
            Some(slot) => slot,
            None => {
                self.cache.push((
                    event.logsource.clone(),
                    detector.partitions_for(&event.logsource),
                    detector.routing.aliases(&event.logsource),
                ));
                self.cache.len() - 1
            }
        };
        let (_, partitions, aliases) = &self.cache[slot];
        if partitions.is_empty() {
            return Vec::new();
        }
        let view = SigmaEvent::new(event, *aliases);
        let mut matches = Vec::new();
        for &p in partitions {
            let engine = detector.partitions[p].engine();
            matches.extend(
                engine
                    .evaluate(&view)
                    .into_iter()
                    .filter_map(|result| detector.to_match(result)),
            );
        }
        if partitions.len() > 1 {
            matches.sort_by_key(|m| m.index);
        }
        matches
    }
}

/// A log source with its names in lower case (rules and events may differ in case).
fn lower(logsource: &LogSource) -> LogSource {
    let l = |t: &Option<vigil_event::Text>| t.as_deref().map(|s| s.to_ascii_lowercase().into());
    LogSource {
        category: l(&logsource.category),
        product: l(&logsource.product),
        service: l(&logsource.service),
    }
}

/// A correlation rule that fired.
#[derive(Debug, Clone)]
pub struct CorrelationMatch<'d> {
    /// The correlation rule.
    pub rule: &'d RuleInfo,
    /// `event_count`, `value_count`, `temporal`, `temporal_ordered`, `value_sum`, ...
    pub kind: String,
    /// The group-by fields and their values.
    pub group: Vec<(String, String)>,
    /// The count, sum or other aggregate that met the condition.
    pub value: f64,
    /// The window in seconds.
    pub timespan_secs: u64,
}

/// Correlation state: detections in time order in, correlation matches out.
pub struct Correlator<'d> {
    detector: &'d Detector,
    engine: CorrelationEngine,
}

impl<'d> Correlator<'d> {
    /// Feeds one event's matches (of rules correlations use) at its time, in seconds since
    /// the epoch; returns the correlations that fired. Events must come in time order.
    pub fn feed(
        &mut self,
        event: &Event,
        matches: &[Match<'_>],
        at: i64,
    ) -> Vec<CorrelationMatch<'d>> {
        let aliases = self.detector.routing.aliases(&event.logsource);
        let view = SigmaEvent::new(event, aliases);
        let results = matches.iter().map(|m| m.result.clone()).collect();
        let out = self.engine.process_with_detections(&view, results, at);
        out.into_iter()
            .filter_map(|r| {
                let body = match &r.body {
                    rsigma_eval::ResultBody::Correlation(c) => c,
                    rsigma_eval::ResultBody::Detection(_) => return None,
                };
                let rule = self.detector.rules.correlations.iter().find(|c| {
                    c.info.id.is_some() && c.info.id == r.header.rule_id
                        || c.info.title == r.header.rule_title
                })?;
                // The type as written: the engine may have been given another
                // (`crate::conformance::engine_correlation`).
                let kind = rule.rule.correlation_type.as_str().to_string();
                Some(CorrelationMatch {
                    rule: &rule.info,
                    kind,
                    group: body.group_key.clone(),
                    value: body.aggregated_value,
                    timespan_secs: body.timespan_secs,
                })
            })
            .collect()
    }
}
