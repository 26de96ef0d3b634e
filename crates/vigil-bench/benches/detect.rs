//! Sigma matching over the EVTX corpus with the whole SigmaHQ rule set: the per-event cost
//! of detection, beside the cost of reading and placing the same events, so the ratio
//! "detection over parse" can be read off one run. Needs the shared corpus.

use std::hint::black_box;
use std::ops::ControlFlow;
use std::sync::Mutex;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_event::Event;
use vigil_ingest::{Ingest, Plan, ReadOptions, RecordResult};
use vigil_normalize::Taxonomy;
use vigil_sigma::{Detector, Routing, RuleSet, RuleSource};
use vigil_test_support::corpus_path;

/// Reads every corpus EVTX file on one thread and places its events; returns the events.
fn read_corpus(files: &[std::path::PathBuf], taxonomy: &Taxonomy) -> Vec<Event> {
    let events = Mutex::new(Vec::new());
    Ingest::new(ReadOptions::default()).run(Plan::new(files), |_| {
        let events = &events;
        move |record: RecordResult| {
            if let Ok(mut event) = record {
                taxonomy.apply(&mut event);
                if let Ok(mut events) = events.lock() {
                    events.push(event);
                }
            }
            ControlFlow::Continue(())
        }
    });
    events.into_inner().unwrap_or_default()
}

fn detect(c: &mut Criterion) {
    let (Some(evtx), Some(rules)) = (corpus_path("evtx"), corpus_path("sigma/rules")) else {
        eprintln!("note: the corpus is absent; the detection benchmark is skipped");
        return;
    };
    let files = vec![evtx];
    let taxonomy = Taxonomy::builtin().expect("the built-in taxonomy loads");
    let events = read_corpus(&files, &taxonomy);
    let bytes: u64 = vigil_test_support::files_with_extension(&files[0], "evtx")
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();

    let mut group = c.benchmark_group("detect");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("evtx_corpus_read_and_place", |b| {
        b.iter(|| black_box(read_corpus(&files, &taxonomy).len()))
    });
    group.bench_function("sigmahq_load_and_compile", |b| {
        b.iter(|| {
            let (set, _) = RuleSet::load(&[RuleSource::Path(rules.clone())], None);
            black_box(Detector::new(set, Routing::builtin().expect("routing")))
        })
    });
    let (set, _) = RuleSet::load(&[RuleSource::Path(rules.clone())], None);
    let detector = Detector::new(set, Routing::builtin().expect("routing"));
    group.bench_function("evtx_corpus_match_sigmahq", |b| {
        b.iter(|| {
            let mut matcher = detector.matcher();
            let mut n = 0usize;
            for event in &events {
                n += matcher.detect(event).len();
            }
            black_box(n)
        })
    });
    group.finish();
}

criterion_group!(benches, detect);
criterion_main!(benches);
