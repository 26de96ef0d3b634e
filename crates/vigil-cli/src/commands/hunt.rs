//! `vigil hunt`: match Sigma rules over logs.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use vigil_detect::{Detection, Level, Summary};
use vigil_ingest::Plan;
use vigil_sigma::{Detector, Routing, RuleSet};

use crate::Outcome;
use crate::args::{EngineArgs, GlobalArgs, HuntArgs, UsageError};
use crate::commands::rules::{describe, placeholders, rule_sources};
use crate::output::{say, thousands};
use crate::progress::Progress;

pub(crate) fn run(global: &GlobalArgs, args: HuntArgs) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let ingest = args.read.ingest(global)?;
    // Settings that can be wrong are read before the hunt, so a typo costs no time.
    let reports = args
        .report
        .iter()
        .map(|f| vigil_report::renderer(f.trim()).map_err(|e| UsageError(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let templates = (!reports.is_empty())
        .then(|| vigil_report::Templates::new(args.template_dir.as_deref()))
        .transpose()
        .map_err(|e| UsageError(e.to_string()))?;
    let chain = if reports.is_empty() {
        None
    } else {
        super::llm::chain(&args.llm)?
    };
    let (engine, report) = engine(global, &args.engine, args.read.show_errors)?;

    let mut plan = Plan::new(&args.paths);
    if let Some(out) = &args.out
        && let Ok(out) = out.canonicalize()
    {
        plan.files
            .retain(|f| f.path.canonicalize().map_or(true, |p| !p.starts_with(&out)));
    }
    let progress = Progress::new(plan.total_bytes(), !global.quiet && !global.no_progress);
    let ingest = ingest.progress(progress.counter());
    let shown = AtomicUsize::new(0);
    let limit = args.read.show_errors;
    // Rules over events, each detection with its ATT&CK techniques.
    let mut hunted = engine.hunt(&ingest, plan, |error| {
        if !global.quiet && shown.fetch_add(1, Ordering::Relaxed) < limit {
            progress.suspend(|| say!("warning: {error}"));
        }
    });
    progress.finish();

    // Noise control, then incidents: identical detections once, suppressed ones set aside,
    // the rest folded by shared entities and time, scored and ranked.
    let folded = engine.fold(std::mem::take(&mut hunted.detections))?;
    hunted.detections = folded.detections;
    let (incidents, suppressed, report_of_suppression) =
        (folded.incidents, folded.suppressed, folded.suppression);

    let outcome = super::account_inputs(&hunted.inputs);
    let hidden = hunted.summary.parse_errors as usize;
    if !global.quiet && hidden > limit {
        say!(
            "warning: {} more record error(s) not shown (see --show-errors)",
            thousands((hidden - limit) as u64)
        );
    }

    let mut summary = hunted.summary;
    summary.rules_loaded = report.loaded;
    summary.rules_failed = report.failed.len();
    summary.incidents = incidents.len() as u64;
    summary.suppressed =
        (report_of_suppression.suppressed + report_of_suppression.duplicates_removed) as u64;
    summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if let Some(out) = &args.out {
        write_out(out, &hunted.detections, &summary)?;
        write_json(&out.join("incidents.json"), &incidents)?;
        write_lines(&out.join("suppressed.jsonl"), &suppressed)?;
        write_json(&out.join("suppression.json"), &report_of_suppression)?;
        if let Some(templates) = &templates {
            // Read back what was written: the reports show the numbers exactly as the
            // files hold them (f32 scores widen when turned into JSON values in memory).
            let run = vigil_report::Run::load(out)?;
            let mut model = vigil_report::build(&run, engine.attack());
            if let Some(chain) = &chain {
                super::report::narrate(chain, &mut model, None)?;
            }
            for renderer in &reports {
                let path = out.join(format!("report.{}", renderer.extension()));
                let mut text = Vec::new();
                renderer.render(&model, templates, &mut text)?;
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else if !global.quiet {
        print_table(&hunted.detections, &summary, args.out.as_deref())?;
        print_incidents(&incidents, args.top)?;
        print_suppression(&report_of_suppression);
    }
    Ok(outcome)
}

/// What the options ask the engine to be built from: rule sources (given, else installed,
/// plus the built-in pack), placeholders, settings, ATT&CK.
pub(crate) struct Setup {
    pub(crate) sources: Vec<vigil_sigma::RuleSource>,
    pub(crate) placeholders: Option<vigil_sigma::Placeholders>,
    pub(crate) settings: vigil_engine::Settings,
    pub(crate) attack: vigil_attack::Attack,
}

/// Reads the engine options; settings that can be wrong fail here, before any work.
pub(crate) fn setup(args: &EngineArgs) -> anyhow::Result<Setup> {
    let min_level: Level = args.min_level.parse().map_err(UsageError)?;
    let (suppressions, triage) = triage_settings(args)?;
    let window_secs = parse_duration(&args.window)?;
    Ok(Setup {
        sources: rule_sources(&args.rules, args.no_builtin),
        placeholders: placeholders(args.placeholders.as_deref())?,
        settings: vigil_engine::Settings {
            min_level,
            suppressions,
            triage,
            window_secs,
        },
        attack: super::attack::load(&args.attack)?,
    })
}

/// Warns of rules that failed to load (at most `show` of them).
pub(crate) fn warn_rules(global: &GlobalArgs, report: &vigil_sigma::LoadReport, show: usize) {
    if !global.quiet && !report.failed.is_empty() {
        for failure in report.failed.iter().take(show) {
            say!("warning: rule {}", describe(failure));
        }
        say!(
            "warning: {} rule(s) failed to load (`vigil rules lint` lists them all)",
            report.failed.len()
        );
    }
}

/// The engine the options ask for. Rules that fail to load are warned about (at most
/// `show` of them); the load report is returned.
pub(crate) fn engine(
    global: &GlobalArgs,
    args: &EngineArgs,
    show: usize,
) -> anyhow::Result<(vigil_engine::Engine, vigil_sigma::LoadReport)> {
    let setup = setup(args)?;
    let (rules, report) = RuleSet::load(&setup.sources, setup.placeholders.as_ref());
    warn_rules(global, &report, show);
    if rules.is_empty() {
        return Err(no_rules());
    }
    let detector = Detector::new(rules, Routing::builtin()?);
    let engine = vigil_engine::Engine::new(detector, setup.attack, setup.settings)?;
    Ok((engine, report))
}

/// The error when no rule loaded.
pub(crate) fn no_rules() -> anyhow::Error {
    UsageError(
        "no rules to hunt with: give --rules DIR, run `vigil rules update`, or drop --no-builtin"
            .to_string(),
    )
    .into()
}

/// The suppression rules and triage settings `--suppressions` and `--triage` name (or
/// none: deduplication only, default scoring).
fn triage_settings(
    args: &EngineArgs,
) -> anyhow::Result<(vigil_triage::Suppressions, vigil_triage::TriageConfig)> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let suppressions = match &args.suppressions {
        Some(path) => {
            vigil_triage::Suppressions::from_toml(&read(path)?, &path.display().to_string())
                .map_err(|e| UsageError(e.to_string()))?
        }
        None => vigil_triage::Suppressions::default(),
    };
    let config = match &args.triage {
        Some(path) => {
            vigil_triage::TriageConfig::from_toml(&read(path)?, &path.display().to_string())
                .map_err(|e| UsageError(e.to_string()))?
        }
        None => vigil_triage::TriageConfig::default(),
    };
    Ok((suppressions, config))
}

/// The top incidents, ranked.
fn print_incidents(incidents: &[vigil_triage::TriagedIncident], top: usize) -> anyhow::Result<()> {
    if incidents.is_empty() || top == 0 {
        return Ok(());
    }
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    writeln!(w)?;
    writeln!(
        w,
        "{:>4} {:>5}  {:<9} {:>4}  {:<20} {:<30} incident",
        "rank", "score", "severity", "det", "first seen", "stage"
    )?;
    for (rank, incident) in incidents.iter().take(top).enumerate() {
        let first = incident
            .first_seen
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "-".into());
        let stage = incident
            .stage
            .progression
            .clone()
            .or_else(|| incident.stage.reached.clone())
            .unwrap_or_else(|| "-".into());
        writeln!(
            w,
            "{:>4} {:>5}  {:<9} {:>4}  {:<20} {:<30.30} {}",
            rank + 1,
            incident.score,
            incident.severity.as_str(),
            incident.detections.len(),
            first,
            stage,
            incident.title
        )?;
    }
    if incidents.len() > top {
        writeln!(
            w,
            "... and {} more incident(s) (--top N)",
            incidents.len() - top
        )?;
    }
    Ok(())
}

fn print_suppression(report: &vigil_triage::SuppressionReport) {
    for rule in report.rules.iter().filter(|r| r.removed > 0 || r.expired) {
        say!(
            "suppression {} ({}): removed {} detection(s){}",
            rule.index,
            rule.reason,
            rule.removed,
            if rule.expired {
                "; expired, not applied"
            } else {
                ""
            }
        );
    }
}

/// `90m`, `2h`, `1d`, `45s` or plain seconds.
fn parse_duration(text: &str) -> anyhow::Result<i64> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<i64>() {
        Ok(n) if scale > 0 => Ok(n * scale),
        _ => Err(UsageError(format!(
            "--window {text:?}: expected a duration such as 90m, 2h, 1d or seconds"
        ))
        .into()),
    }
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn write_out(dir: &Path, detections: &[Detection], summary: &Summary) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_lines(&dir.join("detections.jsonl"), detections)?;
    write_json(&dir.join("summary.json"), summary)
}

/// One JSON object per line.
fn write_lines(path: &Path, items: &[impl serde::Serialize]) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for item in items {
        serde_json::to_writer(&mut out, item)?;
        out.write_all(b"\n")?;
    }
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The terminal summary: counts, then the rules that fired most, highest level first.
fn print_table(
    detections: &[Detection],
    summary: &Summary,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let mut by_rule: BTreeMap<(&str, &str), (Level, u64, &str)> = BTreeMap::new();
    for d in detections {
        let technique = d.attack.techniques.first().map_or("", |t| t.id.as_str());
        let entry = by_rule
            .entry((d.rule_id.as_str(), d.rule_title.as_str()))
            .or_insert((d.level, 0, technique));
        entry.1 += 1;
    }
    let mut rows: Vec<_> = by_rule.into_iter().collect();
    rows.sort_by(|a, b| {
        b.1.0
            .cmp(&a.1.0)
            .then(b.1.1.cmp(&a.1.1))
            .then(a.0.cmp(&b.0))
    });
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    if !rows.is_empty() {
        writeln!(
            w,
            "{:<13} {:>7}  {:<10} rule",
            "level", "count", "technique"
        )?;
        for ((_, title), (level, count, technique)) in rows.iter().take(25) {
            writeln!(
                w,
                "{:<13} {:>7}  {technique:<10} {title}",
                level.as_str(),
                thousands(*count)
            )?;
        }
        if rows.len() > 25 {
            writeln!(w, "... and {} more rule(s)", rows.len() - 25)?;
        }
    }
    writeln!(
        w,
        "vigil: {} records ({} events, {} errors) in {} file(s), {} rules: {} detections ({} correlations) in {} ms{}",
        thousands(summary.records),
        thousands(summary.events),
        thousands(summary.parse_errors),
        thousands(summary.files),
        thousands(summary.rules_loaded as u64),
        thousands(summary.detections),
        thousands(summary.correlations),
        thousands(summary.elapsed_ms),
        out.map(|o| format!("; written to {}", o.display()))
            .unwrap_or_default()
    )?;
    Ok(())
}
