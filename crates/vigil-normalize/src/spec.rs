//! The data file format (see `data/README.md`) and its compilation into tables and rules.

use std::collections::HashMap;

use serde::Deserialize;
use toml::{Table as TomlTable, Value as TomlValue};
use vigil_event::{FieldKey, Value};

use crate::{Derive, Part, Rule, Scope, Table, Template};

/// A data file that is not valid.
#[derive(Debug, thiserror::Error)]
#[error("taxonomy file {file}: {reason}")]
pub struct Error {
    /// The file's name.
    pub file: String,
    /// What is wrong, with the line where TOML says.
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    format: OneOrMany,
    variant: Option<OneOrMany>,
    #[serde(default)]
    fields: TomlTable,
    #[serde(default)]
    derive: TomlTable,
    #[serde(default)]
    logsource: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    when: Option<WhenSpec>,
    product: Option<String>,
    category: Option<String>,
    service: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhenSpec {
    variant: Option<OneOrMany>,
    #[serde(default)]
    fields: TomlTable,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeriveSpec {
    from: String,
    map: TomlTable,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

/// Parses and checks one data file.
pub(crate) fn parse(file: &str, text: &str) -> Result<(Table, Vec<Rule>), Error> {
    let error = |reason: String| Error {
        file: file.to_string(),
        reason,
    };
    let spec: FileSpec = toml::from_str(text).map_err(|e| error(e.to_string()))?;
    let variants = spec.variant.map(OneOrMany::into_vec);
    // `reader` or `reader/variant`; entries of one reader with variants merge.
    let mut scope: Scope = Vec::new();
    for entry in spec.format.into_vec() {
        let (format, variant) = match entry.split_once('/') {
            Some((format, variant)) => (format.to_string(), Some(variant.to_string())),
            None => (entry, None),
        };
        if format.is_empty() || variant.as_deref() == Some("") {
            return Err(error(format!("`format` entry `{format}`: an empty name")));
        }
        match (scope.iter_mut().find(|(f, _)| *f == format), variant) {
            (Some((_, Some(list))), Some(variant)) => list.push(variant),
            (Some(_), _) => return Err(error(format!("`format` names {format} twice"))),
            (None, Some(variant)) => scope.push((format, Some(vec![variant]))),
            (None, None) => scope.push((format, variants.clone())),
        }
    }
    if scope.is_empty() {
        return Err(error("`format` names no reader".into()));
    }

    let mut copies = Vec::new();
    for (from, targets) in spec.fields {
        let targets = strings(&targets).ok_or_else(|| {
            error(format!(
                "fields.{from}: a target is a name or a list of names"
            ))
        })?;
        if targets.iter().any(|t| t == &from || t.is_empty()) {
            return Err(error(format!(
                "fields.{from}: a target must be a new, non-empty name"
            )));
        }
        copies.push((
            FieldKey::new(&from),
            targets.iter().map(|t| FieldKey::new(t)).collect(),
        ));
    }

    let mut derives = Vec::new();
    for (target, value) in spec.derive {
        let derive: DeriveSpec = value
            .try_into()
            .map_err(|e| error(format!("derive.{target}: {e}")))?;
        let mut map = HashMap::new();
        for (from, to) in derive.map {
            let to = scalar(&to).ok_or_else(|| {
                error(format!(
                    "derive.{target}.map.{from}: a value is a string, number or boolean"
                ))
            })?;
            map.insert(from.to_lowercase(), to);
        }
        derives.push(Derive {
            target: FieldKey::new(&target),
            from: FieldKey::new(&derive.from),
            map,
        });
    }

    let mut rules = Vec::new();
    for (n, rule) in spec.logsource.into_iter().enumerate() {
        let at = |what: &str| format!("logsource #{}: {what}", n + 1);
        if rule.product.is_none() && rule.category.is_none() && rule.service.is_none() {
            return Err(error(at("sets none of product, category, service")));
        }
        let (rule_variants, fields) = match rule.when {
            None => (None, Vec::new()),
            Some(when) => {
                let mut fields = Vec::new();
                for (name, wanted) in when.fields {
                    let wanted = match &wanted {
                        TomlValue::Array(items) => items.iter().map(scalar_text).collect(),
                        one => scalar_text(one).map(|t| vec![t]),
                    }
                    .ok_or_else(|| {
                        error(at(&format!(
                            "when.fields.{name}: a value is a string, number or list of them"
                        )))
                    })?;
                    fields.push((FieldKey::new(&name), wanted));
                }
                (when.variant.map(OneOrMany::into_vec), fields)
            }
        };
        let template = |t: Option<String>| -> Result<Option<Template>, Error> {
            t.map(|t| Template::parse(&t).map_err(|e| error(at(&e))))
                .transpose()
        };
        rules.push(Rule {
            scope: scope.clone(),
            variants: rule_variants,
            fields,
            product: template(rule.product)?,
            category: template(rule.category)?,
            service: template(rule.service)?,
        });
    }

    Ok((
        Table {
            scope,
            copies,
            derives,
        },
        rules,
    ))
}

fn strings(value: &TomlValue) -> Option<Vec<String>> {
    match value {
        TomlValue::String(s) => Some(vec![s.clone()]),
        TomlValue::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => None,
    }
}

fn scalar(value: &TomlValue) -> Option<Value> {
    Some(match value {
        TomlValue::String(s) => Value::from(s.as_str()),
        TomlValue::Integer(i) => Value::Int(*i),
        TomlValue::Boolean(b) => Value::Bool(*b),
        _ => return None,
    })
}

fn scalar_text(value: &TomlValue) -> Option<String> {
    match value {
        TomlValue::String(s) => Some(s.clone()),
        TomlValue::Integer(i) => Some(i.to_string()),
        TomlValue::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Template {
    /// `text{field}text`: the field's value, lower-cased, in place of `{field}`.
    fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("`{text}`: a `{{` without its `}}`"))?;
            if close == 0 {
                return Err(format!("`{text}`: `{{}}` names no field"));
            }
            parts.push(Part::Field(FieldKey::new(&after[..close])));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if parts.is_empty() {
            return Err("an empty log source value".into());
        }
        Ok(Template(parts))
    }
}
