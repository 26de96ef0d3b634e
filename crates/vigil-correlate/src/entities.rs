//! The entities of a detection: hosts, users, IP addresses, logon sessions, processes and
//! cloud identities, normalized so that one account or address is one key.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::fields::Fields;

const ENTITIES: &str = include_str!("../data/entities.toml");

/// A kind of entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// A host name, lowercase, without its domain.
    Host,
    /// An account name, lowercase, without domain or UPN suffix.
    User,
    /// An IP address.
    Ip,
    /// A logon session, as `host/id`.
    Session,
    /// A process GUID.
    Process,
    /// A cloud identity (ARN, account, principal).
    Cloud,
}

impl EntityKind {
    /// `host`, `user`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Host => "host",
            EntityKind::User => "user",
            EntityKind::Ip => "ip",
            EntityKind::Session => "session",
            EntityKind::Process => "process",
            EntityKind::Cloud => "cloud",
        }
    }
}

/// One entity: its kind and normalized value.
pub type EntityKey = (EntityKind, String);

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct KindSpec {
    fields: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    ignore_suffix: Vec<String>,
    #[serde(default)]
    ignore_prefix: Vec<String>,
    #[serde(default)]
    sid_pairs: Vec<[String; 2]>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    host: KindSpec,
    user: KindSpec,
    ip: KindSpec,
    session: KindSpec,
    process: KindSpec,
    cloud: KindSpec,
}

/// Where entities are found and which values never link (`data/entities.toml`).
#[derive(Debug)]
pub struct EntityRules {
    spec: Spec,
}

impl EntityRules {
    /// The built-in rules.
    pub fn builtin() -> Result<EntityRules> {
        let spec = toml::from_str(ENTITIES).map_err(|e| Error::Data {
            file: "crates/vigil-correlate/data/entities.toml".into(),
            reason: e.to_string(),
        })?;
        Ok(EntityRules { spec })
    }

    fn kinds(&self) -> [(EntityKind, &KindSpec); 6] {
        [
            (EntityKind::Host, &self.spec.host),
            (EntityKind::User, &self.spec.user),
            (EntityKind::Ip, &self.spec.ip),
            (EntityKind::Session, &self.spec.session),
            (EntityKind::Process, &self.spec.process),
            (EntityKind::Cloud, &self.spec.cloud),
        ]
    }

    /// SID -> account name pairs a detection's fields carry, added to `into` (the first
    /// name seen for a SID stays).
    pub fn sid_names(&self, fields: &Map<String, Value>, into: &mut HashMap<String, String>) {
        self.sid_names_in(fields, into);
    }

    pub(crate) fn sid_names_in<F: Fields + ?Sized>(
        &self,
        fields: &F,
        into: &mut HashMap<String, String>,
    ) {
        for [sid, name] in &self.spec.user.sid_pairs {
            let (Some(sid), Some(name)) = (fields.text(sid), fields.text(name)) else {
                continue;
            };
            let sid = sid.to_ascii_lowercase();
            if !sid.starts_with("s-1-") {
                continue;
            }
            if let Some(name) = self.normalize(EntityKind::User, &self.spec.user, name) {
                into.entry(sid).or_insert(name);
            }
        }
    }

    /// The entities of one detection: its host (`host`, else the host fields) and every
    /// field the rules name. SIDs are replaced by the names `sids` knows.
    pub fn extract(
        &self,
        host: Option<&str>,
        fields: &Map<String, Value>,
        sids: &HashMap<String, String>,
    ) -> BTreeSet<EntityKey> {
        self.extract_from(host, fields, sids)
    }

    /// The field names any kind of entity, or a SID's name, is read from.
    pub(crate) fn field_names(&self) -> HashSet<&str> {
        self.kinds()
            .iter()
            .flat_map(|(_, spec)| spec.fields.iter().map(String::as_str))
            .chain(
                self.spec
                    .user
                    .sid_pairs
                    .iter()
                    .flat_map(|pair| pair.iter().map(String::as_str)),
            )
            .collect()
    }

    /// [`EntityRules::extract`] over any [`Fields`].
    pub(crate) fn extract_from<F: Fields + ?Sized>(
        &self,
        host: Option<&str>,
        fields: &F,
        sids: &HashMap<String, String>,
    ) -> BTreeSet<EntityKey> {
        let mut out = BTreeSet::new();
        let mut host_key = host.and_then(|h| self.normalize(EntityKind::Host, &self.spec.host, h));
        let mut values: Vec<&str> = Vec::new();
        for (kind, spec) in self.kinds() {
            for field in &spec.fields {
                values.clear();
                fields.texts(field, &mut values);
                for &raw in &values {
                    let Some(mut value) = self.normalize(kind, spec, raw) else {
                        continue;
                    };
                    match kind {
                        EntityKind::Host => {
                            if host_key.is_none() {
                                host_key = Some(value);
                            }
                            continue;
                        }
                        EntityKind::User if value.starts_with("s-1-") => match sids.get(&value) {
                            Some(name) => value = name.clone(),
                            None => continue,
                        },
                        EntityKind::Session => {
                            let Some(host) = &host_key else { continue };
                            value = format!("{host}/{value}");
                        }
                        _ => {}
                    }
                    out.insert((kind, value));
                }
            }
        }
        if let Some(host) = host_key {
            // Sessions found before the host was known.
            out.insert((EntityKind::Host, host));
        }
        out
    }

    /// The normalized value, or `None` when it never links.
    fn normalize(&self, kind: EntityKind, spec: &KindSpec, raw: &str) -> Option<String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        let value = match kind {
            EntityKind::Host => {
                let name = raw.split('.').next().unwrap_or(raw);
                // An address given as a host name is an address, not a host.
                if raw.parse::<IpAddr>().is_ok() {
                    return None;
                }
                name.to_lowercase()
            }
            EntityKind::User => user_name(raw),
            EntityKind::Ip => {
                let ip: IpAddr = raw.parse().ok()?;
                if ip.is_loopback()
                    || ip.is_unspecified()
                    || ip.is_multicast()
                    || is_link_local(&ip)
                {
                    return None;
                }
                ip.to_string()
            }
            EntityKind::Session | EntityKind::Process | EntityKind::Cloud => raw.to_lowercase(),
        };
        // Every kind's value is lowercase already (IPv6 addresses print in lowercase).
        let lower = &value;
        if value.is_empty()
            || spec.ignore.iter().any(|i| i.eq_ignore_ascii_case(lower))
            || spec
                .ignore_suffix
                .iter()
                .any(|s| lower.ends_with(s.as_str()))
            || spec
                .ignore_prefix
                .iter()
                .any(|p| lower.starts_with(p.as_str()))
        {
            return None;
        }
        Some(value)
    }
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// The account part of a user name, lowercase: `CORP\Alice`, `alice@corp.com`,
/// `arn:aws:iam::1:user/alice` and `alice` all give `alice`; an assumed role gives its
/// session name. SIDs stay as they are (lowercase).
pub fn user_name(raw: &str) -> String {
    let raw = raw.trim();
    let lower = raw.to_lowercase();
    if lower.starts_with("s-1-") {
        return lower;
    }
    let account = if lower.starts_with("arn:") {
        lower.rsplit('/').next().unwrap_or(&lower).to_string()
    } else if let Some((_, user)) = lower.rsplit_once('\\') {
        user.to_string()
    } else if let Some((user, _)) = lower.split_once('@') {
        user.to_string()
    } else {
        lower
    };
    account.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_rules_load() {
        assert!(EntityRules::builtin().is_ok());
    }

    #[test]
    fn user_names_normalize_across_spellings() {
        for spelling in [
            "CORP\\Alice",
            "alice@corp.example.com",
            "alice",
            "arn:aws:iam::123456789012:user/alice",
            "ALICE",
        ] {
            assert_eq!(user_name(spelling), "alice", "{spelling}");
        }
        assert_eq!(
            user_name("arn:aws:sts::1:assumed-role/Admin/alice"),
            "alice"
        );
        assert_eq!(user_name("S-1-5-21-1-2-3-500"), "s-1-5-21-1-2-3-500");
    }

    #[test]
    fn entities_are_extracted_and_noise_never_links() {
        let rules = EntityRules::builtin().unwrap();
        let fields: Map<String, Value> = serde_json::from_str(
            r#"{"Computer":"WS01.corp.local","SubjectUserName":"WS01$","TargetUserName":"bob",
                "TargetUserSid":"S-1-5-21-9-9-9-1104","IpAddress":"10.0.0.5",
                "TargetLogonId":"0x1234","SubjectLogonId":"0x3e7","source.ip":"127.0.0.1",
                "user.name":"SYSTEM"}"#,
        )
        .unwrap();
        let mut sids = HashMap::new();
        rules.sid_names(&fields, &mut sids);
        assert_eq!(
            sids.get("s-1-5-21-9-9-9-1104").map(String::as_str),
            Some("bob")
        );
        let keys: Vec<String> = rules
            .extract(None, &fields, &sids)
            .into_iter()
            .map(|(k, v)| format!("{}:{v}", k.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                "host:ws01",
                "user:bob",
                "ip:10.0.0.5",
                "session:ws01/0x1234"
            ]
        );
    }
}
