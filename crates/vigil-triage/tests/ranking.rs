//! The proof for ranking: a benign-heavy synthetic data set (many hosts, normal
//! logons, noisy rules firing everywhere, shared infrastructure) with injected attack
//! chains; every chain becomes one incident ranked above all benign noise. Prints the
//! precision and recall of the top N.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly; that is their job.

use std::collections::HashSet;

use vigil_attack::Attack;
use vigil_correlate::synthetic::Synthetic;
use vigil_correlate::{CorrelateOptions, Correlator};
use vigil_triage::{TriageConfig, triage};

#[test]
fn injected_chains_rank_above_all_benign_noise() {
    let attack = Attack::embedded().unwrap();
    for seed in [1, 2, 3] {
        let data = Synthetic::new(seed)
            .hosts(200)
            .benign_per_host(50)
            .chains(5)
            .generate(&attack);
        let incidents = Correlator::new(&attack, CorrelateOptions::default())
            .unwrap()
            .correlate(&data.detections);
        let ranked = triage(incidents, &data.detections, &TriageConfig::default());

        // Which incident holds each chain: exactly one, holding all of it.
        let chain_of = |incident: &vigil_triage::TriagedIncident| {
            let ids: HashSet<&str> = incident.detections.iter().map(String::as_str).collect();
            data.chains
                .iter()
                .position(|chain| chain.iter().any(|id| ids.contains(id.as_str())))
        };
        let mut ranks = Vec::new();
        for (c, chain) in data.chains.iter().enumerate() {
            let holding: Vec<usize> = ranked
                .iter()
                .enumerate()
                .filter(|(_, i)| chain.iter().any(|id| i.detections.contains(id)))
                .map(|(rank, _)| rank)
                .collect();
            assert_eq!(
                holding.len(),
                1,
                "seed {seed}: chain {c} is split over {holding:?}"
            );
            let incident = &ranked[holding[0]];
            assert!(
                chain.iter().all(|id| incident.detections.contains(id)),
                "seed {seed}: chain {c} is not whole"
            );
            ranks.push(holding[0]);
        }
        let chains = data.chains.len();
        let benign_best = ranked
            .iter()
            .position(|i| chain_of(i).is_none())
            .unwrap_or(ranked.len());
        assert!(
            ranks.iter().all(|&r| r < benign_best),
            "seed {seed}: chains ranked {ranks:?}, first benign incident at {benign_best}"
        );
        for n in [chains, 10, 20] {
            let top = &ranked[..n.min(ranked.len())];
            let hits = top.iter().filter(|i| chain_of(i).is_some()).count();
            eprintln!(
                "seed {seed}: {} detections, {} incidents; top {n}: precision {:.2}, recall {:.2}",
                data.detections.len(),
                ranked.len(),
                hits as f64 / top.len() as f64,
                hits as f64 / chains as f64
            );
        }
    }
}
