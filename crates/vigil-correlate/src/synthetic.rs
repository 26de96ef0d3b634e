//! Synthetic detections: the generator correlation's tests and benches share.
//!
//! It lives here rather than in `vigil-test-support` because it builds
//! [`vigil_detect::Detection`]s, and test support must stay a leaf crate.
//!
//! A [`Dataset`] is benign noise over many hosts with a few attack chains injected:
//!
//! - **Benign noise**, spread over [`Synthetic::days`]: each host's own user logging on
//!   from the host's own address or through the domain controller (informational), services
//!   starting (low), an IT admin account logging on to every host, and a few medium-level
//!   noisy rules that fire on many hosts. The DNS server and the domain controller's address
//!   appear on every host: with ten hosts or more they are hubs and must not merge hosts.
//! - **Attack chains**, each on two hosts of its own with its own user and addresses, steps
//!   minutes apart: SSH brute force from an external address (T1110.001), a login from that
//!   address (T1078), sudo (T1548.003), SSH on to a second host as the same user
//!   (T1021.004), and exfiltration from there (T1048). [`Dataset::chains`] lists each
//!   chain's detection ids in step order.
//!
//! The same seed and sizes give the same detections.
//!
//! ```
//! use vigil_attack::Attack;
//! use vigil_correlate::synthetic::Synthetic;
//!
//! let attack = Attack::embedded().unwrap();
//! let data = Synthetic::new(7).hosts(12).benign_per_host(5).chains(2).generate(&attack);
//! assert_eq!(data.detections.len(), 12 * 5 + 2 * 5);
//! assert_eq!(data.chains.len(), 2);
//! ```

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::value::RawValue;
use vigil_attack::{Attack, Mapping};
use vigil_detect::{Detection, DetectionSource, Level};

/// When synthetic time starts: 2026-11-01T00:00:00Z.
const START: i64 = 1_793_491_200;
/// The DNS server every host asks.
const DNS_SERVER: &str = "10.0.0.53";
/// The domain controller every host logs on through.
const DOMAIN_CONTROLLER: &str = "10.0.0.10";
/// The IT admin account that logs on to every host.
const IT_ADMIN: &str = "CORP\\it-admin";

const HOST_NAME: &str = "host.name";
const USER_NAME: &str = "user.name";
const SOURCE_IP: &str = "source.ip";
const DESTINATION_IP: &str = "destination.ip";

/// A rule the generator fires.
struct SynthRule {
    id: &'static str,
    title: &'static str,
    level: Level,
    tags: &'static [&'static str],
}

const LOGON: SynthRule = SynthRule {
    id: "synth-benign-logon",
    title: "Successful Logon",
    level: Level::Informational,
    tags: &[],
};
const SERVICE: SynthRule = SynthRule {
    id: "synth-benign-service",
    title: "Service Started",
    level: Level::Low,
    tags: &[],
};
const DNS_QUERY: SynthRule = SynthRule {
    id: "synth-benign-dns",
    title: "DNS Query To Uncommon Domain",
    level: Level::Low,
    tags: &["attack.command-and-control", "attack.t1071.004"],
};
/// Medium-level rules that fire on many hosts for benign reasons.
const NOISY: [SynthRule; 3] = [
    SynthRule {
        id: "synth-noisy-powershell",
        title: "PowerShell Web Request",
        level: Level::Medium,
        tags: &["attack.execution", "attack.t1059.001"],
    },
    SynthRule {
        id: "synth-noisy-schtask",
        title: "Scheduled Task Created",
        level: Level::Medium,
        tags: &["attack.persistence", "attack.t1053.005"],
    },
    SynthRule {
        id: "synth-noisy-whoami",
        title: "Whoami Execution",
        level: Level::Medium,
        tags: &["attack.discovery", "attack.t1033"],
    },
];
/// The steps of an injected chain, in order.
const CHAIN: [SynthRule; 5] = [
    SynthRule {
        id: "synth-chain-brute-force",
        title: "SSH Brute Force From One Address",
        level: Level::High,
        tags: &["attack.credential-access", "attack.t1110.001"],
    },
    SynthRule {
        id: "synth-chain-login",
        title: "SSH Login After Brute Force",
        level: Level::High,
        tags: &["attack.initial-access", "attack.t1078"],
    },
    SynthRule {
        id: "synth-chain-sudo",
        title: "Sudo To Root Shell",
        level: Level::High,
        tags: &["attack.privilege-escalation", "attack.t1548.003"],
    },
    SynthRule {
        id: "synth-chain-lateral",
        title: "SSH Lateral Movement With Same Account",
        level: Level::High,
        tags: &["attack.lateral-movement", "attack.t1021.004"],
    },
    SynthRule {
        id: "synth-chain-exfiltration",
        title: "Large Outbound Transfer Over Alternative Protocol",
        level: Level::Critical,
        tags: &["attack.exfiltration", "attack.t1048"],
    },
];

/// SplitMix64: small, fast, and enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Whether an event of probability `percent`/100 happens.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Settings of a synthetic data set; [`Synthetic::generate`] builds it.
#[derive(Debug, Clone)]
pub struct Synthetic {
    seed: u64,
    hosts: usize,
    benign_per_host: usize,
    chains: usize,
    days: u32,
}

/// Synthetic detections and the attack chains injected among them.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// All detections: benign noise and chain steps, in no particular order.
    pub detections: Vec<Detection>,
    /// The detection ids of each injected chain, in step order.
    pub chains: Vec<Vec<String>>,
}

impl Synthetic {
    /// 20 hosts, 10 benign detections per host, 2 chains over 7 days, from `seed`.
    pub fn new(seed: u64) -> Self {
        Synthetic {
            seed,
            hosts: 20,
            benign_per_host: 10,
            chains: 2,
            days: 7,
        }
    }

    /// How many hosts (at least one). Chains get hosts of their own while there are at
    /// least two per chain; beyond that they share hosts and may merge.
    pub fn hosts(mut self, n: usize) -> Self {
        self.hosts = n.max(1);
        self
    }

    /// How many benign detections each host has.
    pub fn benign_per_host(mut self, n: usize) -> Self {
        self.benign_per_host = n;
        self
    }

    /// How many attack chains to inject.
    pub fn chains(mut self, n: usize) -> Self {
        self.chains = n;
        self
    }

    /// Over how many days benign noise and chains are spread (at least one).
    pub fn days(mut self, n: u32) -> Self {
        self.days = n.max(1);
        self
    }

    /// Builds the data set; `attack` maps each rule's tags as a hunt would.
    pub fn generate(&self, attack: &Attack) -> Dataset {
        let mut rng = Rng(self.seed);
        let span = i64::from(self.days) * 86_400;
        let mapped = |rule: &SynthRule| Arc::new(attack.map_tags(rule.tags));
        let (logon, service, dns) = (mapped(&LOGON), mapped(&SERVICE), mapped(&DNS_QUERY));
        let noisy: Vec<Arc<Mapping>> = NOISY.iter().map(mapped).collect();
        let chain: Vec<Arc<Mapping>> = CHAIN.iter().map(mapped).collect();

        let host_name = |h: usize| format!("ws-{h:05}");
        let host_ip = |h: usize| format!("10.{}.{}.{}", 1 + h / 65_025, h / 255 % 255, 1 + h % 255);
        let mut out = Vec::with_capacity(self.hosts * self.benign_per_host + self.chains * 5);
        let mut sequence = 0u64;
        let mut emit = |rule: &SynthRule,
                        mapping: &Arc<Mapping>,
                        at: i64,
                        host: &str,
                        fields: &[(&str, &str)]| {
            sequence += 1;
            let mut map = serde_json::Map::new();
            map.insert(HOST_NAME.into(), host.into());
            for (name, value) in fields {
                map.insert((*name).into(), (*value).into());
            }
            // Real events carry a record id; it keeps otherwise equal detections apart.
            map.insert("event.sequence".into(), sequence.into());
            let text = serde_json::Value::Object(map).to_string();
            let mut detection = Detection {
                id: String::new(),
                rule_id: rule.id.to_string(),
                rule_title: rule.title.to_string(),
                level: rule.level,
                status: Some("test"),
                tags: rule.tags.iter().map(|t| t.to_string()).collect(),
                attack: mapping.clone(),
                timestamp: Timestamp::from_second(START + at).ok(),
                host: Some(host.to_string()),
                source: DetectionSource {
                    path: format!("synthetic/{host}.jsonl"),
                    record: sequence,
                },
                selections: Vec::new(),
                correlation: None,
                fields: RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned()),
            };
            detection.id = detection.content_id();
            let id = detection.id.clone();
            out.push(detection);
            id
        };

        for h in 0..self.hosts {
            let host = host_name(h);
            let ip = host_ip(h);
            let user = format!("CORP\\user{h:05}");
            for _ in 0..self.benign_per_host {
                let at = rng.below(span as u64) as i64;
                match rng.below(100) {
                    0..=44 => {
                        let from = if rng.chance(50) {
                            ip.as_str()
                        } else {
                            DOMAIN_CONTROLLER
                        };
                        emit(
                            &LOGON,
                            &logon,
                            at,
                            &host,
                            &[(USER_NAME, &user), (SOURCE_IP, from)],
                        )
                    }
                    45..=54 => emit(
                        &LOGON,
                        &logon,
                        at,
                        &host,
                        &[(USER_NAME, IT_ADMIN), (SOURCE_IP, DOMAIN_CONTROLLER)],
                    ),
                    55..=79 => emit(
                        &SERVICE,
                        &service,
                        at,
                        &host,
                        &[
                            (USER_NAME, "NT AUTHORITY\\SYSTEM"),
                            ("service.name", "wuauserv"),
                        ],
                    ),
                    80..=91 => emit(
                        &DNS_QUERY,
                        &dns,
                        at,
                        &host,
                        &[
                            (USER_NAME, &user),
                            (SOURCE_IP, &ip),
                            (DESTINATION_IP, DNS_SERVER),
                        ],
                    ),
                    _ => {
                        let which = rng.below(NOISY.len() as u64) as usize;
                        emit(
                            &NOISY[which],
                            &noisy[which],
                            at,
                            &host,
                            &[(USER_NAME, &user), (SOURCE_IP, &ip)],
                        )
                    }
                };
            }
        }

        let mut chains = Vec::with_capacity(self.chains);
        for c in 0..self.chains {
            // Two hosts per chain, spread over the host range.
            let stride = (self.hosts / self.chains).max(1);
            let first = (c * stride) % self.hosts;
            let second = (first + 1) % self.hosts;
            let (a, b) = (host_name(first), host_name(second));
            let a_ip = host_ip(first);
            let attacker = format!("203.0.{}.{}", 113 + c / 254 % 100, 1 + c % 254);
            let drop = format!("198.51.{}.{}", 100 + c / 254 % 100, 1 + c % 254);
            let user = format!("deploy{c:03}");
            let mut at = rng.below((span - 3_600).max(1) as u64) as i64;
            let mut step = |rng: &mut Rng| {
                at += 60 + rng.below(15 * 60) as i64;
                at
            };
            let ids = vec![
                emit(
                    &CHAIN[0],
                    &chain[0],
                    step(&mut rng),
                    &a,
                    &[(USER_NAME, &user), (SOURCE_IP, &attacker)],
                ),
                emit(
                    &CHAIN[1],
                    &chain[1],
                    step(&mut rng),
                    &a,
                    &[(USER_NAME, &user), (SOURCE_IP, &attacker)],
                ),
                emit(
                    &CHAIN[2],
                    &chain[2],
                    step(&mut rng),
                    &a,
                    &[(USER_NAME, &user), ("process.command_line", "sudo -i")],
                ),
                emit(
                    &CHAIN[3],
                    &chain[3],
                    step(&mut rng),
                    &b,
                    &[(USER_NAME, &user), (SOURCE_IP, &a_ip)],
                ),
                emit(
                    &CHAIN[4],
                    &chain[4],
                    step(&mut rng),
                    &b,
                    &[(USER_NAME, &user), (DESTINATION_IP, &drop)],
                ),
            ];
            chains.push(ids);
        }
        Dataset {
            detections: out,
            chains,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_detections() {
        let attack = Attack::embedded().unwrap();
        let one = Synthetic::new(3).hosts(15).generate(&attack);
        let two = Synthetic::new(3).hosts(15).generate(&attack);
        assert_eq!(one.detections, two.detections);
        assert_eq!(one.chains, two.chains);
        let other = Synthetic::new(4).hosts(15).generate(&attack);
        assert_ne!(one.detections, other.detections);
    }

    #[test]
    fn chain_steps_carry_their_techniques_and_levels() {
        let attack = Attack::embedded().unwrap();
        let data = Synthetic::new(1).chains(1).generate(&attack);
        let steps: Vec<&Detection> = data.chains[0]
            .iter()
            .map(|id| data.detections.iter().find(|d| &d.id == id).unwrap())
            .collect();
        let techniques: Vec<&str> = steps
            .iter()
            .map(|d| d.attack.techniques[0].id.as_str())
            .collect();
        assert_eq!(
            techniques,
            ["T1110.001", "T1078", "T1548.003", "T1021.004", "T1048"]
        );
        assert!(steps.iter().all(|d| d.level >= Level::High));
        assert!(steps.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
    }
}
