//! Reports: building the report model of a hunt with 1,000 incidents and rendering it in
//! every format (PDF when built with `--features pdf`); the whole path from a hunt's
//! detections to a report of every incident; and the time from one new detection to its
//! updated incident report (correlate and triage everything, then build and render the
//! report of the incident the detection joined).

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
    for format in ["json", "md", "html", "docx", "pdf", "csv"] {
        let Ok(renderer) = renderer(format) else {
            eprintln!("report: {format} is not in this build (cargo bench --features pdf)");
            continue;
        };
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

    // One chain's last step arrives after everything else: correlate and triage all
    // detections again, then report the incident it joined, as Markdown and HTML.
    let arrival = data
        .chains
        .first()
        .and_then(|chain| chain.last())
        .expect("a chain")
        .clone();
    let detections_json: Vec<serde_json::Value> = data
        .detections
        .iter()
        .map(|d| serde_json::to_value(d).expect("serializes"))
        .collect();
    let by_id: std::collections::HashMap<&str, usize> = data
        .detections
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    group.bench_function("one_new_detection_to_its_incident_report", |b| {
        b.iter(|| {
            let ranked = triage(
                correlator.correlate(black_box(&data.detections)),
                &data.detections,
                &config,
            );
            let incident = ranked
                .iter()
                .find(|i| i.detections.contains(&arrival))
                .expect("the arrival joins an incident");
            let detections = incident
                .detections
                .iter()
                .filter_map(|d| by_id.get(d.as_str()).map(|&i| detections_json[i].clone()))
                .collect();
            let run = Run::new(
                serde_json::json!({}),
                vec![serde_json::to_value(incident).expect("serializes")],
                detections,
            );
            let model = build(&run, &attack);
            let mut out = Vec::new();
            for format in ["md", "html"] {
                renderer(format)
                    .expect("registered")
                    .render(&model, &templates, &mut out)
                    .expect("renders");
            }
            out
        })
    });
    group.finish();
}

criterion_group!(benches, report);
criterion_main!(benches);
