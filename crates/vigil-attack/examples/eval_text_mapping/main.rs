//! Measures free-text mapping against the SigmaHQ rule set: each rule's title, description
//! and detection (tags stripped) is mapped, and the hits are scored against the techniques
//! its ATT&CK tags name. The figures are in `docs/BENCHMARKS.md`, "ATT&CK text mapping
//! quality".
//!
//! ```text
//! cargo run --release -p vigil-attack --example eval_text_mapping [-- key=value ...]
//! ```
//!
//! Parameters of [`TextParams`] can be overridden for tuning: `k1=1.2`,
//! `weights=4,1.5,1,0.6,0.3`, `b=0.3,0.3,0.75,0.75,0.75`, `k3=1.5`, `scale=8`,
//! `min=0.3`, `collapse=true`, `inherit=0`, `prior=0.5`, `fields=0.5`; `parts=2,1,0.5` sets
//! the weights of a rule's title, description and detection; `show=N` prints N rules spread over
//! the set with their gold techniques and hits. The corpus is `$VIGIL_CORPUS` (by default
//! `../shared/corpus` beside the repository).

mod sigma_eval;

use std::process::ExitCode;
use std::time::Instant;

use vigil_attack::{Attack, TextMapper, TextParams};

fn main() -> ExitCode {
    let mut params = TextParams::default();
    let mut show = 0;
    let mut weights = sigma_eval::PART_WEIGHTS;
    for arg in std::env::args().skip(1) {
        if let Some(n) = arg.strip_prefix("show=") {
            show = n.parse().unwrap_or(0);
            continue;
        }
        if let Some(list) = arg.strip_prefix("parts=") {
            let parsed: Result<Vec<f32>, _> = list.split(',').map(|w| w.trim().parse()).collect();
            match parsed.ok().and_then(|w| <[f32; 3]>::try_from(w).ok()) {
                Some(w) => weights = w,
                None => {
                    eprintln!("error: {arg}: expected three comma-separated numbers");
                    return ExitCode::FAILURE;
                }
            }
            continue;
        }
        if let Err(reason) = set_param(&mut params, &arg) {
            eprintln!("error: {arg}: {reason}");
            return ExitCode::FAILURE;
        }
    }
    let Some(rules) = vigil_test_support::corpus_path("sigma/rules") else {
        return ExitCode::FAILURE;
    };
    let attack = match Attack::embedded() {
        Ok(attack) => attack,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };

    let started = Instant::now();
    let mapper = TextMapper::with_params(&attack, params);
    let build = started.elapsed();
    let set = sigma_eval::load(&attack, &rules, |_| true);
    let started = Instant::now();
    let report = sigma_eval::evaluate(&mapper, &set.cases, weights);
    let mapping = started.elapsed();

    println!(
        "ATT&CK {} ({}), {} techniques indexed in {:.0} ms",
        attack.version().unwrap_or("?"),
        attack.meta().source,
        attack.active_techniques().count(),
        build.as_secs_f64() * 1000.0
    );
    println!("{:?}", mapper.params());
    println!("part weights (title, description, detection): {weights:?}");
    println!(
        "rule files {}: scored {}, excluded {} (no technique tag {}, technique tag unknown to this release {}, unparsable {})",
        set.files,
        set.cases.len(),
        set.files - set.cases.len(),
        set.no_technique_tags,
        set.unknown_technique_tags,
        set.unparsable
    );
    println!(
        "mapped {} rules in {:.0} ms; {} ({:.1}%) got at least one hit",
        report.rules,
        mapping.as_secs_f64() * 1000.0,
        report.answered,
        100.0 * report.answered as f64 / report.rules.max(1) as f64
    );
    println!();
    println!(
        "Set-based (micro, per technique id): each returned id is right or wrong, each gold id found or missed."
    );
    println!(
        "Rule-level (a rule is right when a gold technique is among its top k): precision over rules answered, recall over rules scored."
    );
    println!();
    println!("| Level | k | Set P | Set R | Set F1 | Rule P | Rule R (hit@k) | Rule F1 |");
    println!("|---|---|---|---|---|---|---|---|");
    for (level, counts) in [
        ("technique", &report.technique),
        ("sub-technique", &report.subtechnique),
    ] {
        for (slot, k) in [1, 3].into_iter().enumerate() {
            let c = &counts[slot];
            println!(
                "| {level} | {k} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                c.precision(),
                c.recall(),
                c.f1(),
                c.rule_precision(),
                c.rule_recall(),
                c.rule_f1()
            );
        }
    }
    println!();
    println!("| Confidence | Hits (top 3) | Right (technique level) |");
    println!("|---|---|---|");
    for (decile, (hits, right)) in report.calibration.iter().enumerate() {
        if *hits > 0 {
            println!(
                "| {:.1}–{:.1} | {hits} | {:.1}% |",
                decile as f64 / 10.0,
                (decile + 1) as f64 / 10.0,
                100.0 * *right as f64 / *hits as f64
            );
        }
    }
    if let Some(step) = set.cases.len().checked_div(show) {
        println!();
        let step = step.max(1);
        for case in set.cases.iter().step_by(step).take(show) {
            let hits = mapper.map_parts(&case.parts(weights), 3);
            let predicted: Vec<String> = hits
                .iter()
                .map(|h| format!("{} {} {:.2}", h.id, h.name, h.confidence))
                .collect();
            println!(
                "{}\n  gold: {:?}\n  got:  {:?}",
                case.path.display(),
                case.gold,
                predicted
            );
        }
    }
    ExitCode::SUCCESS
}

fn set_param(params: &mut TextParams, arg: &str) -> Result<(), String> {
    let (key, value) = arg.split_once('=').ok_or("expected key=value")?;
    let number = |s: &str| s.trim().parse::<f32>().map_err(|e| e.to_string());
    let five = |s: &str| -> Result<[f32; 5], String> {
        let values = s.split(',').map(number).collect::<Result<Vec<_>, _>>()?;
        values
            .try_into()
            .map_err(|_| "expected five comma-separated numbers".to_string())
    };
    match key {
        "k1" => params.k1 = number(value)?,
        "weights" => params.field_weights = five(value)?,
        "b" => params.field_b = five(value)?,
        "k3" => params.query_k3 = number(value)?,
        "scale" => params.confidence_scale = number(value)?,
        "min" => params.min_confidence = number(value)?,
        "collapse" => {
            params.collapse_parents = value.parse().map_err(|_| "expected true or false")?
        }
        "inherit" => params.parent_inherit = number(value)?,
        "prior" => params.prior_weight = number(value)?,
        "ceiling" => params.confidence_ceiling = number(value)?,
        "exponent" => params.confidence_exponent = number(value)?,
        "fields" => params.field_weight = number(value)?,
        _ => return Err(format!("unknown parameter `{key}`")),
    }
    Ok(())
}
