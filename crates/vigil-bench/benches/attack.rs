//! ATT&CK: loading the embedded table, building the free-text index, mapping a rule's tags
//! and a sentence. These run once per command (load, index) or once per rule that fires
//! (tags, text), never per event.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use vigil_attack::{Attack, TextMapper};

fn attack(c: &mut Criterion) {
    let mut group = c.benchmark_group("attack");
    group.bench_function("load_embedded", |b| {
        b.iter(|| Attack::embedded().expect("the embedded table loads"))
    });
    let attack = Attack::embedded().expect("the embedded table loads");
    group.bench_function("text_index", |b| {
        b.iter(|| TextMapper::new(black_box(&attack)))
    });
    let tags = [
        "attack.credential-access",
        "attack.t1003.001",
        "attack.t1086",
        "attack.s0002",
    ];
    group.bench_function("map_tags", |b| b.iter(|| attack.map_tags(black_box(&tags))));
    let mapper = TextMapper::new(&attack);
    let text = "Detects the use of procdump or rundll32 with comsvcs.dll MiniDump to dump the \
                memory of lsass.exe, a common way to steal credentials";
    group.bench_function("map_text", |b| b.iter(|| mapper.map(black_box(text), 3)));
    group.finish();
}

criterion_group!(benches, attack);
criterion_main!(benches);
