//! Matching events: a compiled engine per event log source, built once on first sight.

use std::sync::Arc;

use rsigma_eval::{
    CorrelationConfig, CorrelationEngine, Engine, EvaluationResult, TimestampFallback,
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

/// Loaded rules ready to match events from any number of threads.
///
/// All detection rules live in one rsigma engine, so its candidate index and literal
/// automata are built once for the whole set. Routing is rsigma's exact log-source test,
/// made to honour broader categories by giving a rule one copy per event category it
/// covers (a `registry_event` rule is also compiled as `registry_set`, ...): an event has
/// one category, so at most one copy of a rule can match it.
pub struct Detector {
    rules: RuleSet,
    routing: Routing,
    engine: Engine,
}

impl Detector {
    /// A detector for these rules with this routing.
    pub fn new(mut rules: RuleSet, routing: Routing) -> Self {
        let narrower = routing.narrower_categories();
        let mut compiled = Vec::with_capacity(rules.compiled.len());
        for (index, rule) in rules.compiled.iter_mut().enumerate() {
            let mut attributes = (*rule.custom_attributes).clone();
            attributes.insert(INDEX.to_string(), Json::from(index));
            rule.custom_attributes = Arc::new(attributes);
            compiled.push(rule.clone());
            let covered = rule
                .logsource
                .category
                .as_deref()
                .and_then(|c| narrower.get(&c.to_ascii_lowercase()));
            for category in covered.into_iter().flatten() {
                let mut copy = rule.clone();
                copy.logsource.category = Some(category.clone());
                compiled.push(copy);
            }
        }
        let mut engine = Engine::new();
        if std::env::var_os("VIGIL_NO_BLOOM").is_some() {
            engine.set_bloom_prefilter(false);
        }
        engine.extend_compiled_rules(compiled);
        Detector {
            rules,
            routing,
            engine,
        }
    }

    /// The rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// A matcher for one thread (it caches the log sources it has converted).
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher {
            detector: self,
            cache: Vec::new(),
        }
    }

    /// Whether a rule's log source applies to events of this one: every attribute the rule
    /// sets equals the event's, a category also matching the broader categories routing
    /// says it belongs to (`registry_set` events are `registry_event` events).
    pub fn applies(&self, rule: &LogSource, event: &LogSource) -> bool {
        fn same(want: &Option<vigil_event::Text>, have: &Option<vigil_event::Text>) -> bool {
            match want {
                None => true,
                Some(w) => have.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(w)),
            }
        }
        let category = match (&rule.category, &event.category) {
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
        category && same(&rule.product, &event.product) && same(&rule.service, &event.service)
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
        self.rules
            .infos
            .iter()
            .zip(&self.rules.compiled)
            .filter(|(info, _)| self.applies(&info.logsource, &event.logsource))
            .filter_map(|(_, rule)| rsigma_eval::evaluate_rule(rule, &view))
            .filter_map(|result| self.to_match(result))
            .collect()
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
            if let Err(error) = engine.add_correlation(&correlation.rule) {
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
    cache: Vec<(LogSource, rsigma_parser::LogSource, Option<&'d Aliases>)>,
}

impl<'d> Matcher<'d> {
    /// The matches of an event, routed by its log source.
    pub fn detect(&mut self, event: &Event) -> Vec<Match<'d>> {
        let detector = self.detector;
        let slot = match self
            .cache
            .iter()
            .position(|(ls, _, _)| *ls == event.logsource)
        {
            Some(slot) => slot,
            None => {
                let aliases = detector.routing.aliases(&event.logsource);
                self.cache.push((
                    event.logsource.clone(),
                    to_rsigma(&event.logsource),
                    aliases,
                ));
                self.cache.len() - 1
            }
        };
        let (_, logsource, aliases) = &self.cache[slot];
        let view = SigmaEvent::new(event, *aliases);
        detector
            .engine
            .evaluate_with_logsource(&view, logsource)
            .into_iter()
            .filter_map(|result| detector.to_match(result))
            .collect()
    }
}

/// rsigma's log source for a vigil event's.
fn to_rsigma(logsource: &LogSource) -> rsigma_parser::LogSource {
    rsigma_parser::LogSource {
        category: logsource
            .category
            .as_ref()
            .map(|s| s.as_str().to_ascii_lowercase()),
        product: logsource
            .product
            .as_ref()
            .map(|s| s.as_str().to_ascii_lowercase()),
        service: logsource
            .service
            .as_ref()
            .map(|s| s.as_str().to_ascii_lowercase()),
        ..rsigma_parser::LogSource::default()
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
                let kind = serde_json::to_value(body.correlation_type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
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
