//! A detection's fields as entity extraction reads them, parsed from the detection's JSON
//! text without building a map of every field: a hunt's detections carry dozens of fields,
//! entities need a few.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Fields entities are read from: the text of a field, or the texts of a list field (other
/// values are never entities).
pub(crate) trait Fields {
    /// Adds the texts of `name` to `out`: the string, or a list's strings.
    fn texts<'s>(&'s self, name: &str, out: &mut Vec<&'s str>);

    /// The text of `name` when it is a string.
    fn text(&self, name: &str) -> Option<&str>;
}

impl Fields for Map<String, Value> {
    fn texts<'s>(&'s self, name: &str, out: &mut Vec<&'s str>) {
        match self.get(name) {
            Some(Value::Array(items)) => out.extend(items.iter().filter_map(|v| v.as_str())),
            Some(Value::String(s)) => out.push(s),
            _ => {}
        }
    }

    fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }
}

/// A field's texts, borrowed from the JSON where it has no escapes.
#[derive(Debug)]
enum FieldText<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
    Other,
}

/// The wanted fields of one detection.
#[derive(Debug, Default)]
pub(crate) struct EntityFields<'a> {
    fields: Vec<(Cow<'a, str>, FieldText<'a>)>,
}

impl<'a> EntityFields<'a> {
    /// The fields of `json` named in `wanted`; none when `json` is not an object.
    pub(crate) fn parse(json: &'a str, wanted: &HashSet<&str>) -> Self {
        let mut de = serde_json::Deserializer::from_str(json);
        de.deserialize_map(FieldsVisitor { wanted })
            .unwrap_or_default()
    }

    fn get(&self, name: &str) -> Option<&FieldText<'a>> {
        // The last of duplicate keys wins, as in a parsed map.
        self.fields
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }
}

impl Fields for EntityFields<'_> {
    fn texts<'s>(&'s self, name: &str, out: &mut Vec<&'s str>) {
        match self.get(name) {
            Some(FieldText::One(s)) => out.push(s),
            Some(FieldText::Many(items)) => out.extend(items.iter().map(|s| s.as_ref())),
            _ => {}
        }
    }

    fn text(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            FieldText::One(s) => Some(s),
            _ => None,
        }
    }
}

struct FieldsVisitor<'w> {
    wanted: &'w HashSet<&'w str>,
}

impl<'de> Visitor<'de> for FieldsVisitor<'_> {
    type Value = EntityFields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of fields")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::new();
        while let Some(key) = map.next_key_seed(Seed(Shape::Text))? {
            match key {
                FieldText::One(key) if self.wanted.contains(key.as_ref()) => {
                    fields.push((key, map.next_value_seed(Seed(Shape::Value))?));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(EntityFields { fields })
    }
}

/// What a value is read as: a text (anything else is `Other`), or a field's value (a text
/// or a list of texts).
#[derive(Clone, Copy)]
enum Shape {
    Text,
    Value,
}

struct Seed(Shape);

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = FieldText<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! other {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method<E>(self, _: $ty) -> Result<Self::Value, E> {
            Ok(FieldText::Other)
        })*
    };
}

impl<'de> Visitor<'de> for Seed {
    type Value = FieldText<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(FieldText::One(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(FieldText::One(Cow::Owned(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(FieldText::One(Cow::Owned(v)))
    }

    other!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64);

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(FieldText::Other)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(FieldText::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        match self.0 {
            Shape::Value => {
                while let Some(item) = seq.next_element_seed(Seed(Shape::Text))? {
                    if let FieldText::One(text) = item {
                        items.push(text);
                    }
                }
                Ok(FieldText::Many(items))
            }
            Shape::Text => {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FieldText::Other)
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(FieldText::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_fields_read_like_a_parsed_map() {
        let json = r#"{"a":"x","b":["y",1,"z\"",[2]],"c":3,"d":{"e":"f"},"skip":"s","a":"w"}"#;
        let wanted: HashSet<&str> = ["a", "b", "c", "d", "missing"].into_iter().collect();
        let parsed = EntityFields::parse(json, &wanted);
        let map: Map<String, Value> = serde_json::from_str(json).unwrap();
        for name in ["a", "b", "c", "d", "missing"] {
            let (mut one, mut two) = (Vec::new(), Vec::new());
            parsed.texts(name, &mut one);
            map.texts(name, &mut two);
            assert_eq!(one, two, "{name}");
            assert_eq!(parsed.text(name), map.text(name), "{name}");
        }
        assert!(EntityFields::parse("null", &wanted).fields.is_empty());
    }
}
