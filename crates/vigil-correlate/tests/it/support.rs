//! Hunting inputs into annotated detections, and checks every incident must pass.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use serde_json::{Map, Value};
use vigil_attack::Attack;
use vigil_correlate::{EntityKey, EntityRules, Incident};
use vigil_detect::{Detection, HuntOptions, RuleTechniques, hunt};
use vigil_ingest::{Ingest, Plan, ReadOptions};
use vigil_normalize::Taxonomy;
use vigil_sigma::{Detector, Routing, RuleSet, RuleSource};

/// The detections of `rules` over `inputs`, with their ATT&CK techniques and tactics.
pub(crate) fn hunt_annotated(
    attack: &Attack,
    rules: &[RuleSource],
    inputs: &[PathBuf],
) -> Vec<Detection> {
    let (rules, _) = RuleSet::load(rules, None);
    let detector = Detector::new(rules, Routing::builtin().unwrap());
    let ingest = Ingest::new(ReadOptions {
        year: Some(2024),
        ..ReadOptions::default()
    });
    let mut report = hunt(
        &detector,
        &Taxonomy::builtin().unwrap(),
        &ingest,
        Plan::new(inputs),
        HuntOptions::default(),
        |_| {},
    );
    RuleTechniques::new(attack, None).annotate(&mut report.detections, detector.rules());
    report.detections
}

/// The entities of each detection, as correlation reads them.
pub(crate) fn entities_of(detections: &[Detection]) -> Vec<BTreeSet<EntityKey>> {
    let rules = EntityRules::builtin().unwrap();
    let fields: Vec<Map<String, Value>> = detections
        .iter()
        .map(|d| serde_json::from_str(d.fields.get()).unwrap_or_default())
        .collect();
    let mut sids = HashMap::new();
    for f in &fields {
        rules.sid_names(f, &mut sids);
    }
    detections
        .iter()
        .zip(&fields)
        .map(|(d, f)| rules.extract(d.host.as_deref(), f, &sids))
        .collect()
}

/// Every incident's detections are connected through the entities its `links` name: no
/// incident holds two groups of detections that share nothing (two unrelated hosts).
pub(crate) fn assert_incidents_linked(detections: &[Detection], incidents: &[Incident]) {
    let entities = entities_of(detections);
    for incident in incidents {
        let links: HashSet<&str> = incident.links.iter().map(String::as_str).collect();
        let members = &incident.members;
        // Union-find over the incident's members by the linking entities they share.
        let mut parent: Vec<usize> = (0..members.len()).collect();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                x = parent[x];
            }
            x
        }
        let mut first_with: HashMap<String, usize> = HashMap::new();
        for (m, &i) in members.iter().enumerate() {
            for (kind, value) in &entities[i] {
                let key = format!("{} {value}", kind.as_str());
                if !links.contains(key.as_str()) {
                    continue;
                }
                match first_with.get(&key) {
                    Some(&other) => {
                        let (a, b) = (find(&mut parent, m), find(&mut parent, other));
                        parent[a.max(b)] = a.min(b);
                    }
                    None => {
                        first_with.insert(key, m);
                    }
                }
            }
        }
        let roots: BTreeSet<usize> = (0..members.len()).map(|m| find(&mut parent, m)).collect();
        assert!(
            roots.len() <= 1,
            "{}: {} unlinked groups among {} detections (hosts {:?}, links {:?})",
            incident.title,
            roots.len(),
            members.len(),
            incident.entities.hosts,
            incident.links
        );
    }
}

/// Each incident as its id and its sorted detection ids.
pub(crate) fn incident_sets(incidents: &[Incident]) -> BTreeSet<(String, Vec<String>)> {
    incidents
        .iter()
        .map(|i| {
            let mut ids = i.detections.clone();
            ids.sort();
            (i.id.clone(), ids)
        })
        .collect()
}
