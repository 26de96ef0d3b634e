//! Correlation: folding 100,000 and 1,000,000 synthetic detections (benign noise over many
//! hosts with attack chains injected, `vigil_correlate::synthetic`) into incidents. The
//! detections are generated once, outside the timed loop.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use vigil_attack::Attack;
use vigil_correlate::synthetic::Synthetic;
use vigil_correlate::{CorrelateOptions, Correlator};

fn correlate(c: &mut Criterion) {
    let attack = Attack::embedded().expect("the embedded table loads");
    let correlator =
        Correlator::new(&attack, CorrelateOptions::default()).expect("the built-in data loads");
    let mut group = c.benchmark_group("correlate");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    // 50 benign detections per host over 7 days, one chain per 10,000 detections.
    for (name, hosts, chains) in [("100k", 2_000, 10), ("1m", 20_000, 100)] {
        let data = Synthetic::new(2026)
            .hosts(hosts)
            .benign_per_host(50)
            .chains(chains)
            .generate(&attack);
        let incidents = correlator.correlate(&data.detections).len();
        eprintln!(
            "correlate/{name}: {} detections -> {incidents} incidents",
            data.detections.len()
        );
        group.throughput(Throughput::Elements(data.detections.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| correlator.correlate(black_box(&data.detections)))
        });
    }
    group.finish();
}

criterion_group!(benches, correlate);
criterion_main!(benches);
