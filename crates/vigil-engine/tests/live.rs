//! A stream of inputs read one by one finds what a hunt of the same files finds.
#![allow(clippy::unwrap_used)] // Test code fails loudly; that is its job.

use vigil_engine::{Engine, Settings};
use vigil_ingest::{Ingest, Input, Plan, ReadOptions};

fn engine() -> Engine {
    Engine::builtin(Settings::default()).unwrap()
}

#[test]
fn a_live_hunt_of_the_examples_equals_the_hunt_of_their_files() {
    let engine = engine();
    let ingest = Ingest::new(ReadOptions {
        year: Some(2024),
        ..ReadOptions::default()
    });
    let examples = vigil_test_support::examples();
    let plan = Plan::new(std::slice::from_ref(&examples));
    let files: Vec<_> = plan.files.iter().map(|f| f.path.clone()).collect();
    let hunted = engine.hunt(&ingest, plan, |_| {});
    assert!(hunted.detections.len() > 20, "{}", hunted.detections.len());

    let mut live = engine.live();
    let mut streamed: Vec<vigil_detect::Detection> = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        live.read(
            &ingest,
            Input::from_bytes(file.display().to_string(), bytes),
            |_| {},
        );
        // Taking after every input: correlations are found across takes all the same,
        // those a later input undoes retracted.
        let taken = live.take();
        streamed.retain(|d: &vigil_detect::Detection| !taken.retracted.contains(&d.id));
        streamed.extend(taken.detections);
    }
    engine.annotate(&mut streamed);
    let ids = |d: &[vigil_detect::Detection]| {
        let mut ids: Vec<String> = d
            .iter()
            .map(|d| format!("{} {:?}", d.id, d.attack.techniques.first().map(|t| &t.id)))
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&streamed), ids(&hunted.detections));
    let fold = |d| {
        engine
            .fold(d)
            .unwrap()
            .incidents
            .into_iter()
            .map(|i| (i.id, i.score))
            .collect::<Vec<_>>()
    };
    assert_eq!(fold(streamed), fold(hunted.detections));
}
