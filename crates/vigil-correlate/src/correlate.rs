//! Folding detections into incidents: shared entities within a time window, joined with a
//! union-find over detections in time order.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};
use vigil_attack::Attack;
use vigil_detect::Detection;

use crate::entities::{EntityKey, EntityKind, EntityRules};
use crate::incident::{Incident, IncidentEntities, IncidentTechnique, Stage};
use crate::stage::{Progression, recognise};

/// How detections are folded into incidents.
#[derive(Debug, Clone)]
pub struct CorrelateOptions {
    /// Two detections sharing an entity join when they are at most this far apart (the
    /// gap is measured from the entity's previous detection, so a chain of detections each
    /// within the window of the last joins whole).
    pub window_secs: i64,
    /// An entity other than a host seen on this many hosts or more (a DNS server, a domain
    /// controller's address, `administrator` everywhere) does not join detections: it
    /// would fold unrelated hosts together.
    pub hub_hosts: usize,
}

impl Default for CorrelateOptions {
    fn default() -> Self {
        CorrelateOptions {
            window_secs: 2 * 3600,
            hub_hosts: 10,
        }
    }
}

/// What correlation needs besides the detections: entity rules, ATT&CK and progressions.
pub struct Correlator<'a> {
    attack: &'a Attack,
    rules: EntityRules,
    progressions: Vec<Progression>,
    options: CorrelateOptions,
}

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Joins two sets; the smaller root (the earlier detection in time order) stays root.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[child] = root;
        true
    }
}

impl<'a> Correlator<'a> {
    /// A correlator with the built-in entity rules and progressions.
    pub fn new(attack: &'a Attack, options: CorrelateOptions) -> crate::Result<Self> {
        Ok(Correlator {
            attack,
            rules: EntityRules::builtin()?,
            progressions: crate::stage::progressions()?,
            options,
        })
    }

    /// Folds `detections` into incidents, in order of first detection. The result does
    /// not depend on the order of `detections` nor on which files they were read from.
    pub fn correlate(&self, detections: &[Detection]) -> Vec<Incident> {
        // Time order, ties by rule and content: the same for any input order.
        let mut order: Vec<usize> = (0..detections.len()).collect();
        order.sort_by(|&a, &b| {
            let (da, db) = (&detections[a], &detections[b]);
            (da.timestamp.is_none(), da.timestamp, &da.rule_id, &da.id).cmp(&(
                db.timestamp.is_none(),
                db.timestamp,
                &db.rule_id,
                &db.id,
            ))
        });
        let fields: Vec<Map<String, Value>> = order
            .iter()
            .map(|&i| serde_json::from_str(detections[i].fields.get()).unwrap_or_default())
            .collect();
        let mut sids = HashMap::new();
        for f in &fields {
            self.rules.sid_names(f, &mut sids);
        }
        let entities: Vec<BTreeSet<EntityKey>> = order
            .iter()
            .zip(&fields)
            .map(|(&i, f)| self.rules.extract(detections[i].host.as_deref(), f, &sids))
            .collect();

        // Entities seen on many hosts do not link.
        let mut hosts_of: HashMap<&EntityKey, HashSet<&str>> = HashMap::new();
        for keys in &entities {
            let host = keys
                .iter()
                .find(|(k, _)| *k == EntityKind::Host)
                .map(|(_, h)| h.as_str());
            for key in keys.iter().filter(|(k, _)| *k != EntityKind::Host) {
                let set = hosts_of.entry(key).or_default();
                if let Some(host) = host {
                    set.insert(host);
                }
            }
        }
        let hubs: HashSet<&EntityKey> = hosts_of
            .iter()
            .filter(|(_, hosts)| hosts.len() >= self.options.hub_hosts)
            .map(|(key, _)| *key)
            .collect();

        // Positions here are positions in `order`.
        let mut sets = UnionFind::new(order.len());
        let mut last: HashMap<&EntityKey, (usize, Option<i64>)> = HashMap::new();
        let mut joined_by: BTreeMap<usize, BTreeSet<&EntityKey>> = BTreeMap::new();
        for (pos, keys) in entities.iter().enumerate() {
            let at = detections[order[pos]].timestamp.map(|t| t.as_second());
            for key in keys {
                if hubs.contains(key) {
                    continue;
                }
                if let Some(&(prev, prev_at)) = last.get(key) {
                    let near = match (prev_at, at) {
                        (Some(p), Some(a)) => a - p <= self.options.window_secs,
                        _ => true,
                    };
                    if near {
                        sets.union(prev, pos);
                        joined_by.entry(prev).or_default().insert(key);
                        joined_by.entry(pos).or_default().insert(key);
                    }
                }
                last.insert(key, (pos, at));
            }
        }

        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for pos in 0..order.len() {
            let root = sets.find(pos);
            groups.entry(root).or_default().push(pos);
        }
        groups
            .into_values()
            .map(|positions| {
                let links: BTreeSet<String> = positions
                    .iter()
                    .filter_map(|p| joined_by.get(p))
                    .flatten()
                    .map(|(k, v)| format!("{} {v}", k.as_str()))
                    .collect();
                self.incident(detections, &order, &positions, &entities, links)
            })
            .collect()
    }

    fn incident(
        &self,
        detections: &[Detection],
        order: &[usize],
        positions: &[usize],
        entities: &[BTreeSet<EntityKey>],
        links: BTreeSet<String>,
    ) -> Incident {
        let members: Vec<usize> = positions.iter().map(|&p| order[p]).collect();
        let member = |i: usize| &detections[i];
        let mut ids: Vec<String> = Vec::new();
        for &i in &members {
            if !ids.contains(&member(i).id) {
                ids.push(member(i).id.clone());
            }
        }

        let mut found = IncidentEntities::default();
        let mut sets: [BTreeSet<&str>; 4] = Default::default();
        for &p in positions {
            for (kind, value) in &entities[p] {
                let slot = match kind {
                    EntityKind::Host => 0,
                    EntityKind::User => 1,
                    EntityKind::Ip => 2,
                    EntityKind::Cloud => 3,
                    EntityKind::Session | EntityKind::Process => continue,
                };
                sets[slot].insert(value);
            }
        }
        let owned = |s: &BTreeSet<&str>| s.iter().map(|v| v.to_string()).collect::<Vec<_>>();
        found.hosts = owned(&sets[0]);
        found.users = owned(&sets[1]);
        found.ips = owned(&sets[2]);
        found.cloud = owned(&sets[3]);

        let mut techniques: BTreeMap<&str, IncidentTechnique> = BTreeMap::new();
        let mut tactics: BTreeMap<usize, &str> = BTreeMap::new();
        let mut sequence: Vec<String> = Vec::new();
        for &i in &members {
            let attack = &member(i).attack;
            for hit in &attack.techniques {
                let entry = techniques.entry(&hit.id).or_insert(IncidentTechnique {
                    id: hit.id.clone(),
                    name: hit.name.clone(),
                    confidence: 0.0,
                    detections: 0,
                });
                entry.confidence = entry.confidence.max(hit.confidence);
                entry.detections += 1;
            }
            for tactic in attack.tactics.iter().filter(|t| t.confidence >= 0.5) {
                if let Some(order) = self.attack.tactic_order(&tactic.shortname) {
                    tactics.insert(order, &tactic.shortname);
                }
            }
            // The detection's main tactic: its most confident, the earliest in the kill
            // chain among equals.
            let main = attack
                .tactics
                .iter()
                .filter_map(|t| Some((t, self.attack.tactic_order(&t.shortname)?)))
                .max_by(|(a, oa), (b, ob)| a.confidence.total_cmp(&b.confidence).then(ob.cmp(oa)));
            if let Some((tactic, _)) = main
                && sequence.last() != Some(&tactic.shortname)
            {
                sequence.push(tactic.shortname.clone());
            }
        }
        let mut techniques: Vec<IncidentTechnique> = techniques.into_values().collect();
        techniques.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then(b.detections.cmp(&a.detections))
                .then(a.id.cmp(&b.id))
        });
        let progression = recognise(&sequence, &self.progressions);
        let stage = Stage {
            reached: tactics.values().next_back().map(|t| t.to_string()),
            progression: progression.map(|p| p.name.clone()),
            progression_tactics: progression.map(|p| p.tactics.clone()).unwrap_or_default(),
            sequence,
        };

        // The title: the highest-level detection, earliest among equals. `members` is in
        // time order; their values are input positions, which must not break ties (the
        // title would change with input order).
        let lead = members
            .iter()
            .enumerate()
            .max_by(|(ta, a), (tb, b)| member(**a).level.cmp(&member(**b).level).then(tb.cmp(ta)))
            .map(|(_, &i)| member(i));
        let rules: BTreeSet<&str> = members
            .iter()
            .map(|&i| member(i).rule_id.as_str())
            .collect();
        let place = found
            .hosts
            .first()
            .or(found.users.first())
            .or(found.ips.first())
            .map(|p| format!(" on {p}"))
            .unwrap_or_default();
        let title = match (lead, rules.len()) {
            (Some(lead), 1) => format!("{}{place}", lead.rule_title),
            (Some(lead), n) => format!("{}{place}, and {} more rule(s)", lead.rule_title, n - 1),
            (None, _) => String::new(),
        };

        Incident {
            id: incident_id(&ids),
            title,
            first_seen: members.iter().filter_map(|&i| member(i).timestamp).min(),
            last_seen: members.iter().filter_map(|&i| member(i).timestamp).max(),
            entities: found,
            techniques,
            tactics: tactics.into_values().map(str::to_string).collect(),
            stage,
            detections: ids,
            links: links.into_iter().collect(),
            members,
        }
    }
}

/// `inc-` and 12 hex digits of FNV-1a over the sorted detection ids.
fn incident_id(ids: &[String]) -> String {
    let mut sorted: Vec<&String> = ids.iter().collect();
    sorted.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for id in sorted {
        for b in id.bytes().chain([0xffu8]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("inc-{:012x}", hash >> 16)
}
