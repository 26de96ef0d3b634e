//! Structured output: finding the JSON in an answer, checking it against a schema, and
//! turning a schema into a grammar that constrains an in-process model.
//!
//! vigil's own schemas use a small subset of JSON Schema: `type`, `properties`, `required`,
//! `additionalProperties`, `items`, `enum`, `minItems`/`maxItems`, `minLength`/`maxLength`,
//! `minimum`/`maximum` (and `description`/`title`, ignored). Any other keyword is reported
//! as an error by [`validate`], so a schema cannot rely on a check that is not made.

use std::fmt::Write as _;

use serde_json::Value;

/// Keywords [`validate`] checks, or knowingly ignores.
const KNOWN: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "description",
    "title",
];

/// The JSON object in a model's answer: the text itself, or the part of it between the
/// first `{` and the last `}` (models wrap JSON in prose or code fences).
pub fn extract_json(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if let Ok(value) = serde_json::from_str(trimmed) {
        return Ok(value);
    }
    let (Some(start), Some(end)) = (trimmed.find('{'), trimmed.rfind('}')) else {
        return Err("the answer holds no JSON object".to_owned());
    };
    if end < start {
        return Err("the answer holds no JSON object".to_owned());
    }
    serde_json::from_str(&trimmed[start..=end])
        .map_err(|e| format!("the answer's JSON does not parse: {e}"))
}

/// Every way `value` breaks `schema`, each naming the JSON path (`$.steps[2].tool`).
pub fn validate(value: &Value, schema: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(value, schema, "$", &mut errors);
    errors.sort();
    errors
}

fn check(value: &Value, schema: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            errors.push(format!("{path}: not allowed"));
        }
        return;
    };
    for key in schema.keys() {
        if !KNOWN.contains(&key.as_str()) {
            errors.push(format!(
                "{path}: the schema uses `{key}`, which is not checked"
            ));
        }
    }
    if let Some(expected) = schema.get("type") {
        let types: Vec<&str> = match expected {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.iter().any(|t| is_type(value, t)) {
            errors.push(format!(
                "{path}: expected {}, found {}",
                types.join(" or "),
                type_of(value)
            ));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        let listed: Vec<String> = options.iter().map(Value::to_string).collect();
        errors.push(format!(
            "{path}: {value} is not one of {}",
            listed.join(", ")
        ));
    }
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = name.as_str()
                    && !map.contains_key(name)
                {
                    errors.push(format!("{path}: `{name}` is missing"));
                }
            }
            for (key, item) in map {
                let at = format!("{path}.{key}");
                match properties.and_then(|p| p.get(key)) {
                    Some(sub) => check(item, sub, &at, errors),
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => errors.push(format!("{at}: not allowed")),
                        Some(sub @ Value::Object(_)) => check(item, sub, &at, errors),
                        _ => {}
                    },
                }
            }
        }
        Value::Array(items) => {
            let len = items.len() as u64;
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && len < min
            {
                errors.push(format!("{path}: {len} items, at least {min} expected"));
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && len > max
            {
                errors.push(format!("{path}: {len} items, at most {max} allowed"));
            }
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item, sub, &format!("{path}[{i}]"), errors);
                }
            }
        }
        Value::String(text) => {
            let len = text.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && len < min
            {
                errors.push(format!("{path}: {len} characters, at least {min} expected"));
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && len > max
            {
                errors.push(format!("{path}: {len} characters, at most {max} allowed"));
            }
        }
        Value::Number(number) => {
            let n = number.as_f64().unwrap_or(f64::NAN);
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && n < min
            {
                errors.push(format!("{path}: {n} is below the minimum {min}"));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && n > max
            {
                errors.push(format!("{path}: {n} is above the maximum {max}"));
            }
        }
        _ => {}
    }
}

fn is_type(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.as_i64().is_some() || value.as_u64().is_some(),
        _ => false,
    }
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A GBNF grammar (llama.cpp's grammar format) whose sentences are the JSON documents
/// matching `schema`: objects with every listed property in order, arrays within their
/// bounds, strings within `maxLength`, enums as their literals. An object without
/// `properties` takes any JSON value.
pub fn grammar_for(schema: &Value) -> String {
    let mut grammar = Grammar::default();
    let root = grammar.rule(schema);
    let mut text = format!("root ::= {root}\n");
    for (name, body) in &grammar.rules {
        let _ = writeln!(text, "{name} ::= {body}");
    }
    text.push_str(concat!(
        "ws ::= [ \\t\\n]{0,2}\n",
        "char ::= [^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4})\n",
        "string ::= \"\\\"\" char{0,2000} \"\\\"\"\n",
        "integer ::= \"-\"? ([0-9] | [1-9] [0-9]{1,15})\n",
        "number ::= integer (\".\" [0-9]{1,15})? ([eE] [-+]? [0-9]{1,3})?\n",
        "boolean ::= \"true\" | \"false\"\n",
        "null ::= \"null\"\n",
        "value ::= object | array | string | number | boolean | null\n",
        "object ::= \"{\" ws (string ws \":\" ws value (ws \",\" ws string ws \":\" ws value){0,30})? ws \"}\"\n",
        "array ::= \"[\" ws (value (ws \",\" ws value){0,50})? ws \"]\"\n",
    ));
    text
}

#[derive(Default)]
struct Grammar {
    rules: Vec<(String, String)>,
}

impl Grammar {
    /// The name of a rule for `schema`, adding the rules it needs.
    fn rule(&mut self, schema: &Value) -> String {
        let body = self.body(schema);
        if let Some((name, _)) = self.rules.iter().find(|(_, b)| *b == body) {
            return name.clone();
        }
        let name = format!("r{}", self.rules.len());
        self.rules.push((name.clone(), body));
        name
    }

    fn body(&mut self, schema: &Value) -> String {
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            let literals: Vec<String> = options.iter().map(|o| literal(&o.to_string())).collect();
            return literals.join(" | ");
        }
        let kinds: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        match kinds.as_slice() {
            [] => "value".to_owned(),
            [kind] => self.body_of(kind, schema),
            // `["string", "null"]`: any of the types, each with the schema's other keywords.
            _ => {
                let bodies: Vec<String> = kinds
                    .iter()
                    .map(|kind| self.body_of(kind, schema))
                    .collect();
                format!("({})", bodies.join(") | ("))
            }
        }
    }

    /// The rule body for one `type` of `schema`.
    fn body_of(&mut self, kind: &str, schema: &Value) -> String {
        match kind {
            "object" => {
                let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                    return "object".to_owned();
                };
                if properties.is_empty() {
                    return "\"{\" ws \"}\"".to_owned();
                }
                let mut parts = Vec::new();
                for (key, sub) in properties {
                    let rule = self.rule(sub);
                    parts.push(format!(
                        "{} ws \":\" ws {rule}",
                        literal(&Value::from(key.as_str()).to_string())
                    ));
                }
                format!("\"{{\" ws {} ws \"}}\"", parts.join(" ws \",\" ws "))
            }
            "array" => {
                let item = match schema.get("items") {
                    Some(items) => self.rule(items),
                    None => "value".to_owned(),
                };
                let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
                let max = schema
                    .get("maxItems")
                    .and_then(Value::as_u64)
                    .unwrap_or(20)
                    .max(min.max(1));
                let more = format!(
                    "(ws \",\" ws {item}){{{},{}}}",
                    min.saturating_sub(1),
                    max - 1
                );
                if min == 0 {
                    format!("\"[\" ws ({item} {more})? ws \"]\"")
                } else {
                    format!("\"[\" ws {item} {more} ws \"]\"")
                }
            }
            "string" => match schema.get("maxLength").and_then(Value::as_u64) {
                Some(max) => {
                    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
                    format!("\"\\\"\" char{{{min},{max}}} \"\\\"\"")
                }
                None => "string".to_owned(),
            },
            "integer" => "integer".to_owned(),
            "number" => "number".to_owned(),
            "boolean" => "boolean".to_owned(),
            "null" => "null".to_owned(),
            _ => "value".to_owned(),
        }
    }
}

/// `text` as a GBNF string literal.
fn literal(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "summary": {"type": "string", "maxLength": 40},
                "severity": {"enum": ["low", "high"]},
                "steps": {"type": "array", "items": {"type": "integer", "minimum": 0}, "maxItems": 2}
            },
            "required": ["summary", "severity", "steps"],
            "additionalProperties": false
        })
    }

    #[test]
    fn valid_json_passes_and_every_fault_is_named_with_its_path() {
        assert!(
            validate(
                &json!({"summary": "x", "severity": "low", "steps": [1]}),
                &schema()
            )
            .is_empty()
        );
        let errors = validate(
            &json!({"summary": 3, "severity": "grave", "steps": [1, -2, 3], "extra": true}),
            &schema(),
        );
        assert_eq!(
            errors,
            [
                "$.extra: not allowed",
                "$.severity: \"grave\" is not one of \"low\", \"high\"",
                "$.steps: 3 items, at most 2 allowed",
                "$.steps[1]: -2 is below the minimum 0",
                "$.summary: expected string, found number",
            ]
        );
        assert_eq!(validate(&json!({}), &schema()).len(), 3);
    }

    #[test]
    fn a_keyword_that_is_not_checked_is_an_error() {
        let errors = validate(&json!("a"), &json!({"type": "string", "pattern": "^b"}));
        assert_eq!(
            errors,
            ["$: the schema uses `pattern`, which is not checked"]
        );
    }

    #[test]
    fn json_is_found_inside_prose_and_fences() {
        let value = extract_json("Sure!\n```json\n{\"a\": [1, {\"b\": 2}]}\n```\nDone.").unwrap();
        assert_eq!(value, json!({"a": [1, {"b": 2}]}));
        assert!(extract_json("no json here").is_err());
        assert!(extract_json("} {").is_err());
    }

    #[test]
    fn a_grammar_lists_each_property_in_order() {
        let grammar = grammar_for(&schema());
        assert!(grammar.starts_with("root ::= r"), "{grammar}");
        assert!(
            grammar.contains("\"\\\"summary\\\"\" ws \":\" ws"),
            "{grammar}"
        );
        assert!(
            grammar.contains("\"\\\"low\\\"\" | \"\\\"high\\\"\""),
            "{grammar}"
        );
        assert!(grammar.contains("char{0,40}"), "{grammar}");
        // The rule numbers follow the schema's key order, which depends on serde_json's
        // features in the build; find the integer rule by its body.
        let integer = grammar
            .lines()
            .find_map(|l| l.strip_suffix(" ::= integer"))
            .expect("a rule for the items");
        assert!(
            grammar.contains(&format!("(ws \",\" ws {integer}){{0,1}}")),
            "{grammar}"
        );
    }

    #[test]
    fn a_grammar_takes_each_type_of_a_type_list() {
        let grammar = grammar_for(&json!({"type": ["string", "null"], "maxLength": 8}));
        assert!(
            grammar.contains("r0 ::= (\"\\\"\" char{0,8} \"\\\"\") | (null)"),
            "{grammar}"
        );
    }
}
