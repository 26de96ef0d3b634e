//! Field names and the compact field table an [`Event`](crate::Event) keeps.
//!
//! Events from logs have few fields (ten to fifty), and detection looks the same names up in
//! every event. The table keeps a 32-bit hash of each name in its own array, so a lookup is a
//! scan over a few cache lines of integers followed by one string comparison: no tree, no
//! per-event hash map. Names of up to 24 bytes are stored inline, without an allocation.

use compact_str::CompactString;

use crate::value::Value;

/// The name of a field, as Sigma rules address it (`CommandLine`, `source.ip`).
pub type FieldName = CompactString;

/// A field name with its hash computed once, for names looked up in many events.
///
/// ```
/// use vigil_event::{Event, FieldKey, Origin, Value};
/// let key = FieldKey::new("EventID");
/// let mut event = Event::new(Origin::default(), "example");
/// event.push("EventID", Value::Int(4688));
/// assert_eq!(event.get_key(&key), Some(&Value::Int(4688)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldKey {
    hash: u32,
    name: FieldName,
}

impl FieldKey {
    /// Prepares `name` for repeated lookups.
    pub fn new(name: &str) -> Self {
        FieldKey {
            hash: name_hash(name),
            name: FieldName::from(name),
        }
    }

    /// The name this key looks up.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A fast, stable hash of a field name (FNV-1a folded with a multiply; names are short).
#[inline]
pub(crate) fn name_hash(name: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in name.as_bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h
}

/// A 256-bit set of name hashes: [`NameFilter::may_contain`] answers `false` only for a name
/// the fields surely lack, so code that tries many names against one event (the taxonomy,
/// rules) skips most scans for absent names.
///
/// ```
/// use vigil_event::{Event, FieldKey, Origin, Value};
/// let mut event = Event::new(Origin::default(), "example");
/// event.push("EventID", Value::Int(1));
/// let mut filter = event.fields().name_filter();
/// assert!(filter.may_contain(&FieldKey::new("EventID")));
/// let image = FieldKey::new("Image");
/// filter.insert(&image);
/// assert!(filter.may_contain(&image));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NameFilter([u64; 4]);

impl NameFilter {
    #[inline]
    fn slot(hash: u32) -> (usize, u64) {
        // The top byte of a multiplicative remix: FNV's low bits alone cluster for names
        // that differ only in their last characters.
        let bit = hash.wrapping_mul(0x9e37_79b1) >> 24;
        ((bit >> 6) as usize, 1u64 << (bit & 63))
    }

    #[inline]
    fn insert_hash(&mut self, hash: u32) {
        let (word, bit) = Self::slot(hash);
        self.0[word] |= bit;
    }

    /// Records that the fields now hold `key`'s name.
    #[inline]
    pub fn insert(&mut self, key: &FieldKey) {
        self.insert_hash(key.hash);
    }

    /// Whether the fields may hold `key`'s name; `false` is certain.
    #[inline]
    pub fn may_contain(&self, key: &FieldKey) -> bool {
        let (word, bit) = Self::slot(key.hash);
        self.0[word] & bit != 0
    }
}

/// The fields of one event, in the order the source gave them.
///
/// Names are unique unless a reader pushed a duplicate on purpose with [`Fields::push`];
/// [`Fields::insert`] keeps them unique.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields {
    hashes: Vec<u32>,
    names: Vec<FieldName>,
    values: Vec<Value>,
}

impl Fields {
    /// An empty table with room for `n` fields.
    pub fn with_capacity(n: usize) -> Self {
        Fields {
            hashes: Vec::with_capacity(n),
            names: Vec::with_capacity(n),
            values: Vec::with_capacity(n),
        }
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Appends a field without checking whether the name is already present. Readers use it
    /// when the source guarantees unique names; it is the fastest way in.
    #[inline]
    pub fn push(&mut self, name: impl Into<FieldName>, value: Value) {
        let name = name.into();
        self.hashes.push(name_hash(&name));
        self.names.push(name);
        self.values.push(value);
    }

    /// Appends a field named by `key` without checking whether it is present (see
    /// [`Fields::push`]), reusing the key's hash.
    #[inline]
    pub fn push_key(&mut self, key: &FieldKey, value: Value) {
        self.hashes.push(key.hash);
        self.names.push(key.name.clone());
        self.values.push(value);
    }

    /// A summary of which names the table holds, to rule names out without a scan.
    pub fn name_filter(&self) -> NameFilter {
        let mut filter = NameFilter::default();
        for &hash in &self.hashes {
            filter.insert_hash(hash);
        }
        filter
    }

    /// Sets a field, replacing the value of an existing field of that name. Returns the value
    /// it replaced.
    pub fn insert(&mut self, name: impl Into<FieldName>, value: Value) -> Option<Value> {
        let name = name.into();
        let hash = name_hash(&name);
        match self.position(hash, &name) {
            Some(i) => Some(std::mem::replace(&mut self.values[i], value)),
            None => {
                self.hashes.push(hash);
                self.names.push(name);
                self.values.push(value);
                None
            }
        }
    }

    /// Adds `value` to a field: sets it when absent, otherwise turns the field into a list
    /// (or extends the list it already is). Used for repeated keys.
    pub fn append(&mut self, name: impl Into<FieldName>, value: Value) {
        let name = name.into();
        let hash = name_hash(&name);
        match self.position(hash, &name) {
            None => {
                self.hashes.push(hash);
                self.names.push(name);
                self.values.push(value);
            }
            Some(i) => {
                let slot = &mut self.values[i];
                if let Value::List(items) = slot {
                    items.push(value);
                } else {
                    let first = std::mem::replace(slot, Value::Null);
                    *slot = Value::List(vec![first, value]);
                }
            }
        }
    }

    #[inline]
    fn position(&self, hash: u32, name: &str) -> Option<usize> {
        // Hash collisions between names of one event are rare; the loop checks the text
        // of every candidate so a collision costs one more comparison, never a wrong answer.
        let mut start = 0;
        while let Some(offset) = self.hashes[start..].iter().position(|&h| h == hash) {
            let i = start + offset;
            if self.names[i] == name {
                return Some(i);
            }
            start = i + 1;
        }
        None
    }

    /// The value of the field called `name`.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.position(name_hash(name), name)
            .map(|i| &self.values[i])
    }

    /// The value of the field `key` names, without hashing the name again.
    #[inline]
    pub fn get_key(&self, key: &FieldKey) -> Option<&Value> {
        self.position(key.hash, &key.name).map(|i| &self.values[i])
    }

    /// A mutable reference to the value of the field called `name`.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.position(name_hash(name), name)
            .map(|i| &mut self.values[i])
    }

    /// Removes the field called `name` and returns its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.position(name_hash(name), name)?;
        self.hashes.remove(i);
        self.names.remove(i);
        Some(self.values.remove(i))
    }

    /// Renames the field at `old` to `new`, keeping its place. Returns whether it did:
    /// nothing changes when `old` is absent or a field called `new` exists already.
    pub fn rename(&mut self, old: &str, new: &str) -> bool {
        if self.position(name_hash(new), new).is_some() {
            return false;
        }
        let Some(i) = self.position(name_hash(old), old) else {
            return false;
        };
        self.hashes[i] = name_hash(new);
        self.names[i] = FieldName::from(new);
        true
    }

    /// The fields in order, as `(name, value)` pairs.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.names
            .iter()
            .map(|n| n.as_str())
            .zip(self.values.iter())
    }

    /// The fields in order, with their values open to change.
    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = (&str, &mut Value)> {
        self.names
            .iter()
            .map(|n| n.as_str())
            .zip(self.values.iter_mut())
    }
}

/// Fields serialize as one JSON object, `{"name": value, ...}`, in field order.
impl serde::Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (name, value) in self.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<N: Into<FieldName>> FromIterator<(N, Value)> for Fields {
    fn from_iter<I: IntoIterator<Item = (N, Value)>>(iter: I) -> Self {
        let mut fields = Fields::default();
        for (name, value) in iter {
            fields.insert(name, value);
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn insert_replaces_and_append_collects_repeats() {
        let mut f = Fields::default();
        assert_eq!(f.insert("a", Value::Int(1)), None);
        assert_eq!(f.insert("a", Value::Int(2)), Some(Value::Int(1)));
        assert_eq!(f.len(), 1);
        f.append("b", Value::Int(1));
        f.append("b", Value::Int(2));
        f.append("b", Value::Int(3));
        assert_eq!(
            f.get("b"),
            Some(&Value::List(vec![
                Value::Int(1),
                Value::Int(2),
                Value::Int(3)
            ]))
        );
    }

    #[test]
    fn rename_and_remove_keep_lookups_right() {
        let mut f: Fields = [("x", Value::Int(1)), ("y", Value::Int(2))]
            .into_iter()
            .collect();
        assert!(f.rename("x", "z"));
        assert!(
            !f.rename("z", "y"),
            "an existing name is not overwritten or duplicated"
        );
        assert_eq!(f.get("x"), None);
        assert_eq!(f.get("z"), Some(&Value::Int(1)));
        assert_eq!(f.remove("y"), Some(Value::Int(2)));
        assert_eq!(f.get("y"), None);
        assert_eq!(f.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["z"]);
    }

    proptest! {
        /// Whatever the names, every inserted field is found by name and by key, and absent
        /// names are not.
        #[test]
        fn lookup_finds_exactly_what_was_inserted(names in proptest::collection::hash_set("[A-Za-z_.]{0,30}", 0..60)) {
            let mut f = Fields::default();
            for (i, n) in names.iter().enumerate() {
                f.push(n.as_str(), Value::Int(i as i64));
            }
            for (i, n) in names.iter().enumerate() {
                prop_assert_eq!(f.get(n), Some(&Value::Int(i as i64)));
                prop_assert_eq!(f.get_key(&FieldKey::new(n)), Some(&Value::Int(i as i64)));
                let absent = format!("{n}#");
                prop_assert_eq!(f.get(&absent), None);
            }
        }
    }
}
