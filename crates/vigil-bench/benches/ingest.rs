//! Readers over in-memory samples: records per second for EVTX (one and two threads),
//! syslog with auth parsing, JSON with shape detection (Windows events, CloudTrail), CEF,
//! FortiGate key=value and Zeek TSV.

use std::hint::black_box;
use std::ops::ControlFlow;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_bench::Samples;
use vigil_event::Event;
use vigil_ingest::{Input, ReadOptions, reader_named};
use vigil_normalize::Taxonomy;

/// Reads `bytes` with `format`, returning how many events came out.
fn read(format: &str, bytes: &[u8], threads: usize) -> u64 {
    read_then(format, bytes, threads, |_| {})
}

/// Reads `bytes` with `format`, handing each event to `then`.
fn read_then(format: &str, bytes: &[u8], threads: usize, then: impl Fn(&mut Event)) -> u64 {
    let reader = reader_named(format).expect("known reader");
    let options = ReadOptions {
        threads,
        year: Some(2024),
        ..ReadOptions::default()
    };
    let mut events = 0u64;
    reader
        .read(Input::from_slice("bench", bytes), &options, &mut |record| {
            if let Ok(mut event) = record {
                then(&mut event);
                black_box(&event);
                events += 1;
            }
            ControlFlow::Continue(())
        })
        .expect("readable sample");
    events
}

fn ingest(c: &mut Criterion) {
    let samples = Samples::load();
    let taxonomy = Taxonomy::builtin().expect("the built-in taxonomy loads");
    let mut group = c.benchmark_group("ingest");
    if let Some(evtx) = &samples.evtx {
        group.throughput(Throughput::Bytes(evtx.len() as u64));
        for threads in [1, 2] {
            group.bench_function(format!("evtx_{threads}_threads"), |b| {
                b.iter(|| read("evtx", evtx, threads))
            });
        }
    } else {
        eprintln!("note: the corpus is absent; the EVTX benchmark is skipped");
    }
    group.throughput(Throughput::Bytes(samples.syslog.len() as u64));
    group.bench_function("syslog_auth", |b| {
        b.iter(|| read("syslog", &samples.syslog, 1))
    });
    group.throughput(Throughput::Bytes(samples.json.len() as u64));
    group.bench_function("json_windows", |b| {
        b.iter(|| read("json", &samples.json, 1))
    });
    // Formats whose samples come only with the corpus, repeated to about 1 MiB.
    for (name, format, bytes) in [
        ("cef", "cef", &samples.cef),
        ("kv_fortigate", "kv", &samples.kv),
        ("json_cloudtrail", "json", &samples.cloudtrail),
        ("zeek_tsv", "zeek", &samples.zeek),
    ] {
        let Some(bytes) = bytes else {
            eprintln!("note: the corpus is absent; the {name} benchmark is skipped");
            continue;
        };
        if reader_named(format).is_err() {
            continue;
        }
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| b.iter(|| read(format, bytes, 1)));
        // The same with the taxonomy's names and log source added, as `vigil parse` does.
        group.bench_function(format!("{name}_with_taxonomy"), |b| {
            b.iter(|| read_then(format, bytes, 1, |e| taxonomy.apply(e)))
        });
    }
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
