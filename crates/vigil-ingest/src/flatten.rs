//! Flattening a JSON document straight into [`Fields`], without building a JSON tree.
//!
//! Nested objects become dotted names (`{"source":{"ip":"1.2.3.4"}}` gives `source.ip`); a
//! [`KeyMap`] then decides the final name of each leaf, which is how a format turns
//! `Event.EventData.CommandLine` into the `CommandLine` Sigma rules expect. Arrays of scalars
//! become [`Value::List`]; the fields of objects inside arrays, and keys that repeat, are
//! gathered per name into lists. An empty object becomes a null, so the name is not lost.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use vigil_event::{FieldName, Fields, Text, Value};

/// Decides the field name of each leaf of a flattened document.
pub(crate) trait KeyMap {
    /// The field name for the leaf at dotted `path`, or `None` to leave the leaf out.
    fn map<'p>(&self, path: &'p str) -> Option<Cow<'p, str>>;

    /// The same as [`KeyMap::map`], as the name the field table stores; a map can give
    /// its common cases a faster path here.
    fn name(&self, path: &str) -> Option<FieldName> {
        self.map(path).map(|name| FieldName::from(name.as_ref()))
    }
}

/// Keeps dotted paths as they are.
pub(crate) struct Dotted;

impl KeyMap for Dotted {
    fn map<'p>(&self, path: &'p str) -> Option<Cow<'p, str>> {
        Some(Cow::Borrowed(path))
    }
}

/// Parses the JSON object in `bytes` into `fields`, naming leaves with `keymap`.
pub(crate) fn flatten_json<K: KeyMap>(
    bytes: &[u8],
    keymap: &K,
    fields: &mut Fields,
) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut state = State {
        fields,
        path: String::with_capacity(96),
        keymap,
        list_depth: 0,
    };
    de.deserialize_any(Root(&mut state))?;
    de.end()
}

struct State<'f, 'k, K> {
    fields: &'f mut Fields,
    path: String,
    keymap: &'k K,
    /// Above zero while inside an array: the same name may then come several times.
    list_depth: u32,
}

impl<K: KeyMap> State<'_, '_, K> {
    fn emit(&mut self, value: Value) {
        let Some(name) = self.keymap.name(&self.path) else {
            return;
        };
        // A name seen before (inside an array, a key written twice, or two paths that map
        // to one name) gathers its values into a list: a rule must see every value, or a
        // second `CommandLine` could hide behind the first.
        self.fields.append(name, value);
    }

    fn walk_map<'de, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
        let mut any = false;
        loop {
            let base = self.path.len();
            if map.next_key_seed(Key(&mut self.path))?.is_none() {
                break;
            }
            any = true;
            map.next_value_seed(Node(self))?;
            self.path.truncate(base);
        }
        if !any && !self.path.is_empty() {
            self.emit(Value::Null);
        }
        Ok(())
    }

    /// Walks an array: returns its scalar items (nested arrays as lists) and flattens the
    /// objects in it under the array's own path. The flag says whether there were objects.
    fn walk_seq<'de, A: SeqAccess<'de>>(
        &mut self,
        mut seq: A,
    ) -> Result<(Vec<Value>, bool), A::Error> {
        self.list_depth += 1;
        let mut items = Vec::new();
        let mut objects = false;
        while let Some(item) = seq.next_element_seed(Element(self))? {
            match item {
                Some(value) => items.push(value),
                None => objects = true,
            }
        }
        self.list_depth -= 1;
        Ok((items, objects))
    }
}

/// The document itself: must be an object.
struct Root<'s, 'f, 'k, K>(&'s mut State<'f, 'k, K>);

impl<'de, K: KeyMap> Visitor<'de> for Root<'_, '_, '_, K> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.walk_map(map)
    }
}

/// Appends `.key` (or `key` at the top) to the path.
struct Key<'p>(&'p mut String);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<(), E> {
        if !self.0.is_empty() {
            self.0.push('.');
        }
        self.0.push_str(key);
        Ok(())
    }
}

/// A value under a key: objects recurse, arrays become lists, scalars are emitted.
struct Node<'s, 'f, 'k, K>(&'s mut State<'f, 'k, K>);

impl<'de, K: KeyMap> DeserializeSeed<'de> for Node<'_, '_, '_, K> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

macro_rules! scalar_visits {
    ($finish:ident) => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(self.$finish(Value::Bool(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(self.$finish(Value::Int(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            // Integers beyond i64 keep their exact digits as text.
            Ok(self.$finish(match i64::try_from(v) {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Str(Text::from(v.to_string())),
            }))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(self.$finish(Value::Float(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(self.$finish(Value::Str(Text::from(v))))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(self.$finish(Value::Null))
        }
    };
}

impl<K: KeyMap> Node<'_, '_, '_, K> {
    fn finish(self, value: Value) {
        self.0.emit(value);
    }
}

impl<'de, K: KeyMap> Visitor<'de> for Node<'_, '_, '_, K> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    scalar_visits!(finish);

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.walk_map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let (items, objects) = self.0.walk_seq(seq)?;
        if !items.is_empty() || !objects {
            self.0.emit(Value::List(items));
        }
        Ok(())
    }
}

/// An item of an array: scalars and nested arrays are returned, objects are flattened.
struct Element<'s, 'f, 'k, K>(&'s mut State<'f, 'k, K>);

impl<'de, K: KeyMap> DeserializeSeed<'de> for Element<'_, '_, '_, K> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Value>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<K: KeyMap> Element<'_, '_, '_, K> {
    fn finish(self, value: Value) -> Option<Value> {
        Some(value)
    }
}

impl<'de, K: KeyMap> Visitor<'de> for Element<'_, '_, '_, K> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    scalar_visits!(finish);

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Value>, A::Error> {
        self.0.walk_map(map)?;
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<Value>, A::Error> {
        let (items, _) = self.0.walk_seq(seq)?;
        Ok(Some(Value::List(items)))
    }
}

/// The JSON type name of the value in `bytes`, for messages about non-object records.
pub(crate) fn json_kind(bytes: &[u8]) -> &'static str {
    let trimmed = bytes.trim_ascii();
    match trimmed.first() {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'-' | b'0'..=b'9') => "a number",
        None => "nothing",
        _ if trimmed == b"true" || trimmed == b"false" => "a boolean",
        _ if trimmed == b"null" => "null",
        _ => "text",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(json: &str) -> Vec<(String, Value)> {
        let mut fields = Fields::default();
        flatten_json(json.as_bytes(), &Dotted, &mut fields).unwrap();
        fields
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn nested_objects_become_dotted_names_with_typed_values() {
        let got = flat(
            r#"{"a":1,"b":{"c":"x","d":{"e":true}},"f":null,"g":2.5,"h":18446744073709551615}"#,
        );
        assert_eq!(
            got,
            vec![
                ("a".into(), Value::Int(1)),
                ("b.c".into(), Value::from("x")),
                ("b.d.e".into(), Value::Bool(true)),
                ("f".into(), Value::Null),
                ("g".into(), Value::Float(2.5)),
                ("h".into(), Value::from("18446744073709551615")),
            ]
        );
    }

    #[test]
    fn arrays_of_scalars_are_lists_and_objects_in_arrays_gather_by_name() {
        let got =
            flat(r#"{"tags":["a","b"],"r":[{"arn":"x","t":1},{"arn":"y"}],"e":[],"n":[[1,2],3]}"#);
        assert_eq!(
            got,
            vec![
                ("tags".into(), Value::List(vec!["a".into(), "b".into()])),
                ("r.arn".into(), Value::List(vec!["x".into(), "y".into()])),
                ("r.t".into(), Value::Int(1)),
                ("e".into(), Value::List(vec![])),
                (
                    "n".into(),
                    Value::List(vec![
                        Value::List(vec![Value::Int(1), Value::Int(2)]),
                        Value::Int(3)
                    ])
                ),
            ]
        );
    }

    #[test]
    fn repeated_keys_keep_every_value() {
        assert_eq!(
            flat(r#"{"CommandLine":"benign","CommandLine":"evil"}"#),
            vec![(
                "CommandLine".into(),
                Value::List(vec!["benign".into(), "evil".into()])
            )]
        );
    }

    #[test]
    fn empty_objects_keep_their_name_as_null() {
        assert_eq!(flat(r#"{"a":{}}"#), vec![("a".into(), Value::Null)]);
    }

    #[test]
    fn escaped_keys_and_strings_are_decoded() {
        assert_eq!(
            flat(r#"{"k\"ey":"line\nbreak \u00e9"}"#),
            vec![("k\"ey".into(), Value::from("line\nbreak é"))]
        );
    }

    #[test]
    fn non_objects_and_trailing_garbage_are_errors() {
        let mut fields = Fields::default();
        assert!(flatten_json(b"[1,2]", &Dotted, &mut fields).is_err());
        assert!(flatten_json(b"{\"a\":1} x", &Dotted, &mut fields).is_err());
        assert!(flatten_json(b"{\"a\":", &Dotted, &mut fields).is_err());
    }
}
