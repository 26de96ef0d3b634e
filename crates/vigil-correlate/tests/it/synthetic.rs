//! Attack chains injected among benign noise each become one incident of their own.

use std::collections::{BTreeSet, HashMap};

use vigil_attack::Attack;
use vigil_correlate::synthetic::Synthetic;
use vigil_correlate::{CorrelateOptions, Correlator};

use crate::support::assert_incidents_linked;

#[test]
fn every_injected_chain_is_one_incident_of_its_own() {
    let attack = Attack::embedded().unwrap();
    let data = Synthetic::new(2026)
        .hosts(200)
        .benign_per_host(50)
        .chains(5)
        .generate(&attack);
    assert_eq!(data.detections.len(), 200 * 50 + 5 * 5);
    let incidents = Correlator::new(&attack, CorrelateOptions::default())
        .unwrap()
        .correlate(&data.detections);
    eprintln!(
        "synthetic: {} detections -> {} incidents",
        data.detections.len(),
        incidents.len()
    );
    assert_incidents_linked(&data.detections, &incidents);

    let chain_of: HashMap<&str, usize> = data
        .chains
        .iter()
        .enumerate()
        .flat_map(|(c, ids)| ids.iter().map(move |id| (id.as_str(), c)))
        .collect();
    // No incident mixes two chains.
    for incident in &incidents {
        let chains: BTreeSet<usize> = incident
            .detections
            .iter()
            .filter_map(|id| chain_of.get(id.as_str()).copied())
            .collect();
        assert!(chains.len() <= 1, "{}: chains {chains:?}", incident.title);
    }
    // Each chain is whole in one incident, whose stage shows the steps in order.
    for (c, ids) in data.chains.iter().enumerate() {
        let holding: Vec<_> = incidents
            .iter()
            .filter(|i| ids.iter().any(|id| i.detections.contains(id)))
            .collect();
        assert_eq!(holding.len(), 1, "chain {c} is split");
        let incident = holding[0];
        assert!(ids.iter().all(|id| incident.detections.contains(id)));
        assert_eq!(incident.stage.reached.as_deref(), Some("exfiltration"));
        assert_eq!(
            incident.stage.progression.as_deref(),
            Some("intrusion through exfiltration"),
            "{:?}",
            incident.stage
        );
        eprintln!(
            "chain {c}: {} ({} detections, {} hosts): {:?}",
            incident.title,
            incident.detections.len(),
            incident.entities.hosts.len(),
            incident.stage.sequence
        );
        // ranked in vigil-triage: the top-N precision/recall of chains over benign
        // incidents is tested there.
    }
    // The shared addresses and the admin seen everywhere are hubs: no incident spans
    // more than a chain's two hosts.
    assert!(incidents.iter().all(|i| i.entities.hosts.len() <= 2));
}
