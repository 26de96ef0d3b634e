//! Typed field values.

use std::borrow::Cow;
use std::fmt;

use compact_str::CompactString;
use serde::ser::{Serialize, SerializeSeq, Serializer};

/// Text held by a [`Value::Str`]: up to 24 bytes live inline, without an allocation.
pub type Text = CompactString;

/// The value of one field of an [`Event`](crate::Event).
///
/// Readers keep the type the source gave: an EVTX `EventID` is an integer, a JSON `true` a
/// boolean. Lists hold repeated values (a multi-valued field, unnamed `<Data>` elements).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An explicit null or an empty element.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A whole number that fits `i64`.
    Int(i64),
    /// A number with a fraction or exponent.
    Float(f64),
    /// Text.
    Str(Text),
    /// Several values under one name.
    List(Vec<Value>),
}

impl Value {
    /// The text of a string value; `None` for every other kind.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an integer: integers as they are, strings that spell a decimal or
    /// `0x` hexadecimal integer, and floats without a fraction.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Value::Str(s) => parse_int(s),
            _ => None,
        }
    }

    /// The value as a float: numbers, and strings that spell one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The items of a list, or the value itself as a one-item slice.
    pub fn items(&self) -> &[Value] {
        match self {
            Value::List(items) => items,
            other => std::slice::from_ref(other),
        }
    }

    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as text, the way a matcher compares it: strings as they are, numbers in
    /// decimal, booleans as `true`/`false`, null as the empty string, lists joined by `, `.
    pub fn to_text(&self) -> Cow<'_, str> {
        match self {
            Value::Str(s) => Cow::Borrowed(s.as_str()),
            Value::Null => Cow::Borrowed(""),
            other => Cow::Owned(other.to_string()),
        }
    }
}

/// Parses `123`, `-5` or `0x1F` into an integer.
fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok().map(|u| u as i64);
    }
    s.parse().ok()
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            // JSON has no NaN or infinity; they are written as null.
            Value::Float(x) if !x.is_finite() => serializer.serialize_unit(),
            Value::Float(x) => serializer.serialize_f64(*x),
            Value::Str(s) => serializer.serialize_str(s),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(Text::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(Text::from(s))
    }
}

impl From<Text> for Value {
    fn from(s: Text) -> Self {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<u16> for Value {
    fn from(i: u16) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Float(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_read_from_decimal_and_hex_strings() {
        assert_eq!(Value::from("4688").as_i64(), Some(4688));
        assert_eq!(Value::from("0x1F").as_i64(), Some(31));
        assert_eq!(Value::from("-3").as_i64(), Some(-3));
        assert_eq!(Value::from("4688a").as_i64(), None);
        assert_eq!(Value::Float(12.0).as_i64(), Some(12));
        assert_eq!(Value::Float(12.5).as_i64(), None);
    }

    #[test]
    fn text_rendering_matches_what_a_matcher_compares() {
        assert_eq!(Value::Int(4624).to_text(), "4624");
        assert_eq!(Value::Null.to_text(), "");
        assert_eq!(Value::Bool(true).to_text(), "true");
        let list = Value::List(vec![Value::from("a"), Value::Int(2)]);
        assert_eq!(list.to_text(), "a, 2");
        assert_eq!(list.items().len(), 2);
        assert_eq!(Value::Int(1).items(), &[Value::Int(1)]);
    }

    #[test]
    fn serializes_to_plain_json() {
        let v = Value::List(vec![Value::Null, Value::Float(f64::NAN), Value::from("x")]);
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"[null,null,"x"]"#);
    }
}
