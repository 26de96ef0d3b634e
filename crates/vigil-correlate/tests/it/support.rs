//! Helpers the tests share.

use std::collections::BTreeSet;

use vigil_correlate::Incident;

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
