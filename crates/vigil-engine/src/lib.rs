//! The hunt pipeline `vigil hunt` and the server share, so a file hunted from the command
//! line and the same records shipped to the server give the same detections and incidents:
//!
//! 1. rules match events ([`Engine::hunt`] over files, [`Engine::live`] over a stream),
//!    events placed in the taxonomy first;
//! 2. every detection gets its rule's ATT&CK techniques ([`Engine::annotate`]; `hunt`
//!    does it itself);
//! 3. [`Engine::fold`]: identical detections once, suppressed ones set aside, the rest
//!    folded into incidents by shared entities and time, scored and ranked.

use std::sync::{Arc, OnceLock};

use vigil_attack::{Attack, TextMapper};
use vigil_correlate::{CorrelateOptions, Correlator};
use vigil_detect::{Detection, HuntOptions, HuntReport, LiveHunt};
use vigil_ingest::{Ingest, Plan, RecordError};
use vigil_normalize::Taxonomy;
use vigil_sigma::{Detector, Level};
use vigil_triage::{SuppressionReport, Suppressions, TriageConfig, TriagedIncident};

/// What can stop the engine from starting.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The built-in taxonomy did not load.
    #[error("the built-in taxonomy: {0}")]
    Taxonomy(#[from] vigil_normalize::Error),
    /// The built-in correlation data did not load.
    #[error("correlation settings: {0}")]
    Correlate(#[from] vigil_correlate::Error),
    /// The built-in rule pack or log-source routing did not load.
    #[error("the built-in rules: {0}")]
    Rules(String),
    /// The embedded ATT&CK table did not load.
    #[error("the embedded ATT&CK table: {0}")]
    Attack(#[from] vigil_attack::Error),
}

/// How the engine keeps, suppresses, folds and scores.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Detections of rules below this level are not reported.
    pub min_level: Level,
    /// Suppression rules (none: identical detections are still removed).
    pub suppressions: Suppressions,
    /// Scoring settings.
    pub triage: TriageConfig,
    /// Two detections sharing an entity join an incident when at most this many seconds
    /// apart.
    pub window_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_level: Level::Informational,
            suppressions: Suppressions::default(),
            triage: TriageConfig::default(),
            window_secs: CorrelateOptions::default().window_secs,
        }
    }
}

/// Detections folded into incidents.
#[derive(Debug)]
pub struct Folded {
    /// The detections kept: identical ones once, suppressed ones out.
    pub detections: Vec<Detection>,
    /// The detections a suppression rule removed.
    pub suppressed: Vec<Detection>,
    /// What suppression removed, rule by rule.
    pub suppression: SuppressionReport,
    /// The incidents, ranked: highest score first.
    pub incidents: Vec<TriagedIncident>,
}

/// Rules, taxonomy, ATT&CK and settings, loaded once.
pub struct Engine {
    detector: Detector,
    taxonomy: Arc<Taxonomy>,
    attack: Arc<Attack>,
    /// Built on first need: most hunts never map a rule's text.
    mapper: OnceLock<TextMapper>,
    settings: Settings,
}

impl Engine {
    /// An engine matching with `detector`, mapping to `attack`, folding with `settings`.
    pub fn new(detector: Detector, attack: Attack, settings: Settings) -> Result<Engine, Error> {
        // The correlation data is built in; reading it now makes a broken build fail at
        // start, not after a long hunt.
        Correlator::new(&attack, CorrelateOptions::default())?;
        Ok(Engine {
            detector,
            taxonomy: Arc::new(Taxonomy::builtin()?),
            attack: Arc::new(attack),
            mapper: OnceLock::new(),
            settings,
        })
    }

    /// The field taxonomy events are placed in (`vigil parse`'s normalized names).
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// An engine with other rules and settings and this one's taxonomy and ATT&CK (the
    /// server's, after rules or suppressions change).
    pub fn with(&self, detector: Detector, settings: Settings) -> Engine {
        Engine {
            detector,
            taxonomy: self.taxonomy.clone(),
            attack: self.attack.clone(),
            mapper: OnceLock::new(),
            settings,
        }
    }

    /// An engine with the built-in rule pack and the embedded ATT&CK release.
    pub fn builtin(settings: Settings) -> Result<Engine, Error> {
        let (rules, report) = vigil_sigma::RuleSet::load(&vigil_sigma::builtin::sources(), None);
        if let Some(failure) = report.failed.first() {
            return Err(Error::Rules(format!("{failure:?}")));
        }
        let routing = vigil_sigma::Routing::builtin().map_err(|e| Error::Rules(e.to_string()))?;
        Engine::new(Detector::new(rules, routing), Attack::embedded()?, settings)
    }

    /// The rules.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// The ATT&CK knowledge base.
    pub fn attack(&self) -> &Attack {
        &self.attack
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn options(&self) -> HuntOptions {
        HuntOptions {
            min_level: self.settings.min_level,
        }
    }

    /// Hunts every input of `plan`; the detections carry their ATT&CK techniques.
    /// `on_error` hears of every record that could not be read.
    pub fn hunt(
        &self,
        ingest: &Ingest,
        plan: Plan,
        on_error: impl Fn(&RecordError) + Sync,
    ) -> HuntReport {
        let mut report = vigil_detect::hunt(
            &self.detector,
            self.taxonomy.as_ref(),
            ingest,
            plan,
            self.options(),
            on_error,
        );
        self.annotate(&mut report.detections);
        report
    }

    /// A hunt over inputs that arrive one by one; annotate what it returns.
    pub fn live(&self) -> LiveHunt<'_> {
        LiveHunt::new(&self.detector, self.taxonomy.as_ref(), self.options())
    }

    /// Sets every detection's ATT&CK techniques and tactics: its rule's tags, or its
    /// rule's title and description when the tags name no technique this release knows.
    pub fn annotate(&self, detections: &mut [Detection]) {
        let text = |parts: &[(&str, f32)]| {
            self.mapper
                .get_or_init(|| TextMapper::new(&self.attack))
                .map_parts(parts, 2)
        };
        vigil_detect::RuleTechniques::new(&self.attack, Some(&text))
            .annotate(detections, self.detector.rules());
    }

    /// The ATT&CK coverage of the rules: each rule's techniques, counted per technique.
    pub fn coverage(&self) -> vigil_attack::Coverage<'_> {
        let text = |parts: &[(&str, f32)]| {
            self.mapper
                .get_or_init(|| TextMapper::new(&self.attack))
                .map_parts(parts, 1)
        };
        let mut techniques = vigil_detect::RuleTechniques::new(&self.attack, Some(&text));
        let mut coverage = vigil_attack::Coverage::new(&self.attack);
        for rule in self.detector.rules().rules() {
            coverage.add_mapping(&techniques.of(rule), &rule.title);
        }
        coverage
    }

    /// Removes identical and suppressed detections and folds the rest into ranked
    /// incidents. The same detections, in any order, give the same incidents.
    pub fn fold(&self, detections: Vec<Detection>) -> Result<Folded, Error> {
        let (detections, suppressed, suppression) =
            self.settings.suppressions.partition(detections);
        let correlator = Correlator::new(
            &self.attack,
            CorrelateOptions {
                window_secs: self.settings.window_secs,
                ..CorrelateOptions::default()
            },
        )?;
        let incidents = vigil_triage::triage(
            correlator.correlate(&detections),
            &detections,
            &self.settings.triage,
        );
        Ok(Folded {
            detections,
            suppressed,
            suppression,
            incidents,
        })
    }
}
