//! Incidents do not depend on the order detections come in, nor on which files they were
//! read from.

use std::sync::OnceLock;

use proptest::prelude::*;
use vigil_attack::Attack;
use vigil_correlate::synthetic::Synthetic;
use vigil_correlate::{CorrelateOptions, Correlator};
use vigil_detect::Detection;

use crate::support::incident_sets;

fn attack() -> &'static Attack {
    static ATTACK: OnceLock<Attack> = OnceLock::new();
    ATTACK.get_or_init(|| Attack::embedded().unwrap())
}

/// Small synthetic data sets: few hosts (so shared addresses are sometimes hubs and
/// sometimes not), a short span (so the window matters), a few chains.
fn dataset() -> impl Strategy<Value = Vec<Detection>> {
    (any::<u64>(), 1usize..16, 0usize..12, 0usize..4, 1u32..3).prop_map(
        |(seed, hosts, per_host, chains, days)| {
            Synthetic::new(seed)
                .hosts(hosts)
                .benign_per_host(per_host)
                .chains(chains)
                .days(days)
                .generate(attack())
                .detections
        },
    )
}

fn correlate(detections: &[Detection]) -> Vec<vigil_correlate::Incident> {
    Correlator::new(attack(), CorrelateOptions::default())
        .unwrap()
        .correlate(detections)
}

/// The title names the highest-level detection, the earliest among equals; ties were once
/// broken by input position, so a reversed input changed the title.
#[test]
fn the_title_does_not_depend_on_input_order() {
    let detections = Synthetic::new(11)
        .hosts(3)
        .benign_per_host(30)
        .chains(0)
        .days(1)
        .generate(attack())
        .detections;
    let forward = correlate(&detections);
    let reversed: Vec<Detection> = detections.iter().rev().cloned().collect();
    let backward = correlate(&reversed);
    assert!(forward.iter().any(|i| i.detections.len() > 2));
    let titles = |incidents: &[vigil_correlate::Incident]| {
        incidents
            .iter()
            .map(|i| i.title.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(titles(&forward), titles(&backward));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn shuffling_detections_gives_the_same_incidents(
        (detections, order) in dataset().prop_flat_map(|d| {
            let n = d.len();
            (Just(d), Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
        })
    ) {
        let before = correlate(&detections);
        let shuffled: Vec<Detection> = order.iter().map(|&i| detections[i].clone()).collect();
        let after = correlate(&shuffled);
        prop_assert_eq!(incident_sets(&before), incident_sets(&after));
        // Incidents come in the same order, with the same content.
        let strip = |incidents: Vec<vigil_correlate::Incident>| {
            incidents
                .into_iter()
                .map(|mut i| {
                    i.members.clear();
                    i
                })
                .collect::<Vec<_>>()
        };
        prop_assert_eq!(strip(before), strip(after));
    }

    #[test]
    fn splitting_detections_across_files_gives_the_same_incidents(
        (detections, moved) in dataset().prop_flat_map(|d| {
            let n = d.len();
            (Just(d), proptest::collection::vec(any::<bool>(), n))
        })
    ) {
        let before = correlate(&detections);
        let mut split = detections.clone();
        for (detection, moved) in split.iter_mut().zip(moved) {
            if moved {
                detection.source.path = format!("other/{}", detection.source.path);
                detection.source.record += 1_000_000;
            }
        }
        let after = correlate(&split);
        prop_assert_eq!(incident_sets(&before), incident_sets(&after));
        prop_assert_eq!(before, after);
    }
}
