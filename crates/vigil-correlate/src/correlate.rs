//! Folding detections into incidents: shared entities within a time window, joined with a
//! union-find over detections in time order.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use std::sync::Arc;

use jiff::Timestamp;
use rayon::prelude::*;
use vigil_attack::{Attack, Mapping, TacticHit};
use vigil_detect::Detection;

use crate::entities::{EntityKey, EntityKind, EntityRules};
use crate::fields::EntityFields;
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
        // The times are sorted beside the positions (not looked up through them), and only
        // equal times compare rule and id; the sort is stable, so the order is the same
        // with one thread or many.
        let mut keyed: Vec<((bool, Option<Timestamp>), usize)> = detections
            .iter()
            .enumerate()
            .map(|(i, d)| ((d.timestamp.is_none(), d.timestamp), i))
            .collect();
        keyed.par_sort_by(|(ta, a), (tb, b)| {
            ta.cmp(tb).then_with(|| {
                let (da, db) = (&detections[*a], &detections[*b]);
                (&da.rule_id, &da.id).cmp(&(&db.rule_id, &db.id))
            })
        });
        let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
        // Fields are parsed once, borrowing from the detections' JSON, in parallel; the
        // results are collected in `order`, so nothing depends on scheduling.
        let wanted = self.rules.field_names();
        let fields: Vec<EntityFields> = order
            .par_iter()
            .map(|&i| EntityFields::parse(detections[i].fields.get(), &wanted))
            .collect();
        let mut sids = HashMap::new();
        for f in &fields {
            self.rules.sid_names_in(f, &mut sids);
        }
        let extracted: Vec<BTreeSet<EntityKey>> = order
            .par_iter()
            .zip(&fields)
            .map(|(&i, f)| {
                self.rules
                    .extract_from(detections[i].host.as_deref(), f, &sids)
            })
            .collect();
        drop(fields);

        // Entities as numbers: `keys[n]` is entity `n`, numbered in order of first sight.
        let mut numbers: HashMap<EntityKey, u32> = HashMap::new();
        let mut keys: Vec<EntityKey> = Vec::new();
        let entities: Vec<Vec<u32>> = extracted
            .into_iter()
            .map(|set| {
                set.into_iter()
                    .map(|key| match numbers.get(&key) {
                        Some(&n) => n,
                        None => {
                            let n = keys.len() as u32;
                            numbers.insert(key.clone(), n);
                            keys.push(key);
                            n
                        }
                    })
                    .collect()
            })
            .collect();
        drop(numbers);

        // Entities seen on many hosts do not link.
        let mut seen_on: Vec<(u32, u32)> = Vec::new();
        for ids in &entities {
            let host = ids
                .iter()
                .copied()
                .find(|&n| keys[n as usize].0 == EntityKind::Host);
            if let Some(host) = host {
                seen_on.extend(
                    ids.iter()
                        .filter(|&&n| keys[n as usize].0 != EntityKind::Host)
                        .map(|&n| (n, host)),
                );
            }
        }
        seen_on.sort_unstable();
        seen_on.dedup();
        // With no threshold every entity but a host is a hub, even one seen on no host.
        let mut hub: Vec<bool> = keys
            .iter()
            .map(|(kind, _)| self.options.hub_hosts == 0 && *kind != EntityKind::Host)
            .collect();
        for run in seen_on.chunk_by(|a, b| a.0 == b.0) {
            if run.len() >= self.options.hub_hosts {
                hub[run[0].0 as usize] = true;
            }
        }
        drop(seen_on);

        // Positions here are positions in `order`.
        let mut sets = UnionFind::new(order.len());
        let mut last: Vec<Option<(usize, Option<i64>)>> = vec![None; keys.len()];
        let mut joined_by: Vec<(usize, u32)> = Vec::new();
        for (pos, ids) in entities.iter().enumerate() {
            let at = detections[order[pos]].timestamp.map(|t| t.as_second());
            for &n in ids {
                if hub[n as usize] {
                    continue;
                }
                let slot = &mut last[n as usize];
                if let Some((prev, prev_at)) = *slot {
                    let near = match (prev_at, at) {
                        (Some(p), Some(a)) => a - p <= self.options.window_secs,
                        _ => true,
                    };
                    if near {
                        sets.union(prev, pos);
                        joined_by.push((prev, n));
                        joined_by.push((pos, n));
                    }
                }
                *slot = Some((pos, at));
            }
        }
        drop(last);

        // Roots are each group's earliest position, so groups come in order of first
        // detection.
        let mut group_of: Vec<usize> = vec![usize::MAX; order.len()];
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for pos in 0..order.len() {
            let root = sets.find(pos);
            if group_of[root] == usize::MAX {
                group_of[root] = groups.len();
                groups.push(Vec::new());
            }
            groups[group_of[root]].push(pos);
        }
        drop(group_of);

        // Detections of one rule share one mapping: its tactics are looked up once, keyed
        // by the mapping's address.
        let mut tactics_of: HashMap<usize, TacticSummary> = HashMap::new();
        for detection in detections {
            tactics_of
                .entry(Arc::as_ptr(&detection.attack).addr())
                .or_insert_with(|| TacticSummary::new(self.attack, &detection.attack));
        }
        let mut links_of: Vec<Vec<u32>> = vec![Vec::new(); order.len()];
        for (pos, n) in joined_by {
            links_of[pos].push(n);
        }
        let folded = Folded {
            detections,
            order: &order,
            entities: &entities,
            keys: &keys,
            tactics_of: &tactics_of,
        };
        groups
            .par_iter()
            .map(|positions| {
                let links: BTreeSet<String> = positions
                    .iter()
                    .flat_map(|&p| &links_of[p])
                    .map(|&n| {
                        let (kind, value) = &keys[n as usize];
                        format!("{} {value}", kind.as_str())
                    })
                    .collect();
                self.incident(&folded, positions, links)
            })
            .collect()
    }

    fn incident(&self, folded: &Folded, positions: &[usize], links: BTreeSet<String>) -> Incident {
        let Folded {
            detections,
            order,
            entities,
            keys,
            tactics_of,
        } = folded;
        let members: Vec<usize> = positions.iter().map(|&p| order[p]).collect();
        let member = |i: usize| &detections[i];
        let mut ids: Vec<String> = Vec::with_capacity(members.len());
        if members.len() <= 16 {
            for &i in &members {
                if !ids.contains(&member(i).id) {
                    ids.push(member(i).id.clone());
                }
            }
        } else {
            let mut seen: HashSet<&str> = HashSet::new();
            for &i in &members {
                if seen.insert(&member(i).id) {
                    ids.push(member(i).id.clone());
                }
            }
        }

        let mut found = IncidentEntities::default();
        let mut sets: [BTreeSet<&str>; 4] = Default::default();
        for &p in positions {
            for (kind, value) in entities[p].iter().map(|&n| &keys[n as usize]) {
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
            let Some(summary) = tactics_of.get(&Arc::as_ptr(attack).addr()) else {
                continue;
            };
            for &(order, name) in &summary.strong {
                tactics.insert(order, name);
            }
            if let Some(main) = summary.main
                && sequence.last().map(String::as_str) != Some(main)
            {
                sequence.push(main.to_string());
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

/// What building an incident reads: the detections, their time order, their entities (as
/// numbers into `keys`) and their mappings' tactics.
struct Folded<'f> {
    detections: &'f [Detection],
    order: &'f [usize],
    entities: &'f [Vec<u32>],
    keys: &'f [EntityKey],
    tactics_of: &'f HashMap<usize, TacticSummary<'f>>,
}

/// What a mapping says about tactics: those of confidence 0.5 or more with their kill-chain
/// order, and its main tactic (the most confident, the earliest in the kill chain among
/// equals).
struct TacticSummary<'m> {
    strong: Vec<(usize, &'m str)>,
    main: Option<&'m str>,
}

impl<'m> TacticSummary<'m> {
    fn new(attack: &Attack, mapping: &'m Mapping) -> Self {
        let ordered: Vec<(&TacticHit, usize)> = mapping
            .tactics
            .iter()
            .filter_map(|t| Some((t, attack.tactic_order(&t.shortname)?)))
            .collect();
        TacticSummary {
            strong: ordered
                .iter()
                .filter(|(t, _)| t.confidence >= 0.5)
                .map(|(t, order)| (*order, t.shortname.as_str()))
                .collect(),
            main: ordered
                .iter()
                .max_by(|(a, oa), (b, ob)| a.confidence.total_cmp(&b.confidence).then(ob.cmp(oa)))
                .map(|(t, _)| t.shortname.as_str()),
        }
    }
}

/// `inc-` and 12 hex digits of [`vigil_detect::fingerprint`] over the sorted detection ids.
fn incident_id(ids: &[String]) -> String {
    let mut sorted: Vec<&String> = ids.iter().collect();
    sorted.sort();
    let hash = vigil_detect::fingerprint(sorted.into_iter().map(String::as_bytes));
    format!("inc-{:012x}", hash >> 16)
}
