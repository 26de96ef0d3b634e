//! Reports: building the report model of a hunt with 1,000 incidents and rendering it as
//! JSON, Markdown, HTML and a CSV timeline; and the path from a hunt's detections to an
//! updated report (correlate, triage, build, render Markdown) for the same data set, as the
//! time from one new detection to its updated incident report.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use vigil_attack::Attack;
use vigil_correlate::synthetic::Synthetic;
use vigil_correlate::{CorrelateOptions, Correlator};
use vigil_report::{Run, Templates, build, renderer};
use vigil_triage::{TriageConfig, triage};

fn report(c: &mut Criterion) {
    let attack = Attack::embedded().expect("the embedded table loads");
    let correlator =
        Correlator::new(&attack, CorrelateOptions::default()).expect("the built-in data loads");
    // Enough hosts that the top 1,000 incidents are real multi-detection incidents.
    let data = Synthetic::new(2026)
        .hosts(400)
        .benign_per_host(20)
        .chains(20)
        .generate(&attack);
    let config = TriageConfig::default();
    let incidents = triage(
        correlator.correlate(&data.detections),
        &data.detections,
        &config,
    );
    let incidents: Vec<serde_json::Value> = incidents
        .iter()
        .take(1_000)
        .map(|i| serde_json::to_value(i).expect("serializes"))
        .collect();
    let detections: Vec<serde_json::Value> = data
        .detections
        .iter()
        .map(|d| serde_json::to_value(d).expect("serializes"))
        .collect();
    eprintln!(
        "report: {} incidents of {} detections",
        incidents.len(),
        detections.len()
    );
    let run = Run::new(serde_json::json!({}), incidents, detections);
    let templates = Templates::new(None).expect("the built-in templates load");

    let mut group = c.benchmark_group("report");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.bench_function("model_1000_incidents", |b| {
        b.iter(|| build(black_box(&run), &attack))
    });
    let model = build(&run, &attack);
    for format in ["json", "md", "html", "csv"] {
        let renderer = renderer(format).expect("registered");
        group.bench_function(format!("render_{format}_1000_incidents"), |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(1 << 20);
                renderer
                    .render(black_box(&model), &templates, &mut out)
                    .expect("renders");
                out
            })
        });
    }
    group.bench_function("detections_to_markdown", |b| {
        b.iter(|| {
            let ranked = triage(
                correlator.correlate(&data.detections),
                &data.detections,
                &config,
            );
            let incidents = ranked
                .iter()
                .map(|i| serde_json::to_value(i).expect("serializes"))
                .collect();
            let detections = data
                .detections
                .iter()
                .map(|d| serde_json::to_value(d).expect("serializes"))
                .collect();
            let model = build(
                &Run::new(serde_json::json!({}), incidents, detections),
                &attack,
            );
            let mut out = Vec::new();
            renderer("md")
                .expect("registered")
                .render(&model, &templates, &mut out)
                .expect("renders");
            out
        })
    });
    group.finish();
}

criterion_group!(benches, report);
criterion_main!(benches);
