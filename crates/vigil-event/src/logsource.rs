//! The Sigma log source an event belongs to: `product`, `category`, `service`.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::value::Text;

/// Which Sigma rules can apply to an event: a rule's log source matches when every
/// attribute it sets equals the event's (`product: windows, category: process_creation`
/// matches a Sysmon event 1, whose service is `sysmon`).
///
/// ```
/// use vigil_event::LogSource;
/// let sshd = LogSource { product: Some("linux".into()), service: Some("sshd".into()), ..LogSource::default() };
/// assert!(sshd.matches(None, Some("linux"), Some("sshd")));
/// assert!(!sshd.matches(Some("process_creation"), Some("linux"), None));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LogSource {
    /// What kind of event (`process_creation`, `firewall`, `webserver`, `dns`).
    pub category: Option<Text>,
    /// What produced it (`windows`, `linux`, `aws`, `azure`, `okta`, `zeek`).
    pub product: Option<Text>,
    /// Which log of the product (`security`, `sysmon`, `sshd`, `cloudtrail`, `signinlogs`).
    pub service: Option<Text>,
}

impl LogSource {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.category.is_none() && self.product.is_none() && self.service.is_none()
    }

    /// Whether a rule's log source with these attributes (`None`: not set by the rule)
    /// applies to events of this log source. Names compare without regard to case.
    pub fn matches(
        &self,
        category: Option<&str>,
        product: Option<&str>,
        service: Option<&str>,
    ) -> bool {
        fn one(want: Option<&str>, have: &Option<Text>) -> bool {
            match want {
                None => true,
                Some(want) => have
                    .as_deref()
                    .is_some_and(|have| have.eq_ignore_ascii_case(want)),
            }
        }
        one(category, &self.category) && one(product, &self.product) && one(service, &self.service)
    }
}

impl Serialize for LogSource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in [
            ("category", &self.category),
            ("product", &self.product),
            ("service", &self.service),
        ] {
            if let Some(value) = value {
                map.serialize_entry(key, value.as_str())?;
            }
        }
        map.end()
    }
}
