//! vigil's [`Event`] seen through rsigma's [`rsigma_eval::Event`] trait: fields are read in
//! place, never copied into JSON, and a rule's field name may reach the event's own name
//! through the log source's aliases (Security 4688 keeps Sysmon's `Image` as `NewProcessName`).

use std::borrow::Cow;

use rsigma_eval::EventValue;
use serde_json::Value as Json;
use vigil_event::{Event, Value};

use crate::routing::Aliases;

/// The prefix of presence pseudo-fields: `PRESENCE` + `X` reads as `true` when field `X`
/// is present, whatever its value (null included), and is absent otherwise.
///
/// The Sigma specification's `X|exists: true` holds when the event has the field, but
/// rsigma-eval 0.23 counts a field whose value is null as absent (`get_field(X)` must be a
/// non-null value), while `X: null` must still match that field (its value must be null).
/// No one value can be both, so `crate::conformance` points `|exists` at this pseudo-field
/// instead. The part before the dot, [`PRESENCE_ROOT`], is one key every event offers in
/// [`rsigma_eval::Event::visit_top_level_keys`], so rsigma's candidate index, which files
/// a dotted field under its first segment, probes the pseudo-fields of every event. The
/// control character keeps the names apart from any real field.
pub(crate) const PRESENCE: &str = "\u{1}present.";

/// [`PRESENCE`] without its dot.
const PRESENCE_ROOT: &str = "\u{1}present";

/// One event as the Sigma engine sees it.
pub struct SigmaEvent<'a> {
    event: &'a Event,
    aliases: Option<&'a Aliases>,
}

impl<'a> SigmaEvent<'a> {
    /// The event with the aliases of its log source (`None`: rule names are event names).
    pub fn new(event: &'a Event, aliases: Option<&'a Aliases>) -> Self {
        SigmaEvent { event, aliases }
    }

    /// The vigil event underneath.
    pub fn event(&self) -> &'a Event {
        self.event
    }

    fn lookup(&self, name: &str) -> Option<&'a Value> {
        if let Some(aliases) = self.aliases
            && let Some(target) = aliases.target(name)
        {
            return self.event.get(target);
        }
        self.event.get(name)
    }
}

fn to_event_value(value: &Value) -> EventValue<'_> {
    match value {
        Value::Null => EventValue::Null,
        Value::Bool(b) => EventValue::Bool(*b),
        Value::Int(n) => EventValue::Int(*n),
        Value::Float(f) => EventValue::Float(*f),
        Value::Str(s) => EventValue::Str(Cow::Borrowed(s.as_str())),
        Value::List(items) => EventValue::Array(items.iter().map(to_event_value).collect()),
    }
}

/// Calls `visit` with the text of every string in a value (list items included).
fn visit_strings<'v>(value: &'v Value, visit: &mut dyn FnMut(&'v str)) {
    match value {
        Value::Str(s) => visit(s.as_str()),
        Value::List(items) => items.iter().for_each(|item| visit_strings(item, visit)),
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
    }
}

impl rsigma_eval::Event for SigmaEvent<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        if let Some(name) = path.strip_prefix(PRESENCE) {
            return self.lookup(name).map(|_| EventValue::Bool(true));
        }
        self.lookup(path).map(to_event_value)
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut found = false;
        for (_, value) in self.event.fields().iter() {
            visit_strings(value, &mut |s| found = found || pred(s));
            if found {
                return true;
            }
        }
        false
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        for (_, value) in self.event.fields().iter() {
            visit_strings(value, &mut |s| out.push(Cow::Borrowed(s)));
        }
        out
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        for (_, value) in self.event.fields().iter() {
            visit_strings(value, &mut |s| visit(s));
        }
    }

    fn to_json(&self) -> Json {
        serde_json::to_value(self.event.fields()).unwrap_or(Json::Null)
    }

    fn top_level_keys(&self) -> Option<Vec<Cow<'_, str>>> {
        let mut keys = Vec::with_capacity(self.event.fields().len());
        self.visit_top_level_keys(&mut |k| keys.push(Cow::Owned(k.to_string())));
        Some(keys)
    }

    /// The event's field names, and the rule names its log source's renames make
    /// available: the candidate index then probes only the fields this event has, not
    /// every field any rule names. Names are flat (`process.executable` is one key),
    /// which the index looks up whole. One more key stands for the presence pseudo-fields
    /// that `|exists` items test (see the `PRESENCE` constant of this module).
    fn visit_top_level_keys(&self, visit: &mut dyn FnMut(&str)) -> bool {
        for (name, _) in self.event.fields().iter() {
            visit(name);
        }
        visit(PRESENCE_ROOT);
        if let Some(aliases) = self.aliases {
            for (rule_name, target) in aliases.iter() {
                if self.event.get(target).is_some() {
                    visit(rule_name);
                }
            }
        }
        true
    }

    fn field_keys(&self) -> Vec<Cow<'_, str>> {
        self.event
            .fields()
            .iter()
            .map(|(name, _)| Cow::Borrowed(name))
            .collect()
    }
}
