//! The field taxonomy: the Elastic Common Schema (ECS) and Sigma names an event's fields
//! also go by, beside the reader's own, and the Sigma log source (`product`, `category`,
//! `service`) the event belongs to, so that rules written for `linux/sshd`, `webserver`,
//! `firewall` or `aws/cloudtrail` reach it.
//!
//! The mapping is data, not code: one TOML file per source under `data/` (the format is
//! described in `data/README.md`), built into the binary. [`Taxonomy::apply`] adds names and
//! never removes or changes a field the reader set.
//!
//! ```
//! use vigil_event::{Event, Origin, Value};
//! let taxonomy = vigil_normalize::Taxonomy::from_sources(&[(
//!     "fw.toml",
//!     r#"
//!     format = "kv"
//!     [fields]
//!     srcip = ["source.ip", "src_ip"]
//!     [derive]
//!     "event.outcome" = { from = "action", map = { deny = "failure", accept = "success" } }
//!     [[logsource]]
//!     category = "firewall"
//!     "#,
//! )])?;
//! let mut event = Event::new(Origin::default(), "kv");
//! event.push("srcip", Value::from("10.0.0.1"));
//! event.push("action", Value::from("Deny"));
//! taxonomy.apply(&mut event);
//! assert_eq!(event.get_str("source.ip"), Some("10.0.0.1"));
//! assert_eq!(event.get_str("src_ip"), Some("10.0.0.1"));
//! assert_eq!(event.get_str("event.outcome"), Some("failure"));
//! assert_eq!(event.logsource.category.as_deref(), Some("firewall"));
//! # Ok::<(), vigil_normalize::Error>(())
//! ```

mod spec;

use std::collections::HashMap;

use vigil_event::{Event, FieldKey, LogSource, NameFilter, Text, Value};

pub use spec::Error;

mod files {
    include!(concat!(env!("OUT_DIR"), "/files.rs"));
}

/// The compiled taxonomy: what to add to the events of each reader.
#[derive(Debug, Default)]
pub struct Taxonomy {
    tables: Vec<Table>,
    rules: Vec<Rule>,
    /// For each reader's name, the tables and rules that may apply, in the order they are
    /// tried.
    by_format: HashMap<String, Plan>,
}

/// Indexes of tables and rules, each with the variants of the reader it is limited to.
#[derive(Debug, Default)]
struct Plan {
    tables: Vec<(usize, Option<Vec<String>>)>,
    rules: Vec<(usize, Option<Vec<String>>)>,
}

/// The readers a data file applies to, each limited to some of its variants or not.
type Scope = Vec<(String, Option<Vec<String>>)>;

/// The field names and lookups of one data file.
#[derive(Debug)]
struct Table {
    scope: Scope,
    copies: Vec<(FieldKey, Vec<FieldKey>)>,
    derives: Vec<Derive>,
}

#[derive(Debug)]
struct Derive {
    target: FieldKey,
    from: FieldKey,
    /// Lower-case source values to the value set.
    map: HashMap<String, Value>,
}

/// One log source rule.
#[derive(Debug)]
struct Rule {
    scope: Scope,
    /// The variants the rule's own `when` names.
    variants: Option<Vec<String>>,
    /// Fields and the values (lower case) any of which they must hold.
    fields: Vec<(FieldKey, Vec<String>)>,
    product: Option<Template>,
    category: Option<Template>,
    service: Option<Template>,
}

/// A log source value: literal text with `{field}` parts.
#[derive(Debug)]
struct Template(Vec<Part>);

#[derive(Debug)]
enum Part {
    Text(String),
    Field(FieldKey),
}

impl Taxonomy {
    /// The taxonomy built into vigil (the files in `data/`).
    pub fn builtin() -> Result<Taxonomy, Error> {
        Taxonomy::from_sources(files::FILES)
    }

    /// The names of the built-in data files, in the order they are applied.
    pub fn builtin_files() -> impl Iterator<Item = &'static str> {
        files::FILES.iter().map(|(name, _)| *name)
    }

    /// A taxonomy from data files given as `(name, TOML text)`, applied in the order given.
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Taxonomy, Error> {
        let mut taxonomy = Taxonomy::default();
        for (name, text) in sources {
            let (table, rules) = spec::parse(name, text)?;
            taxonomy.tables.push(table);
            taxonomy.rules.extend(rules);
        }
        for (i, table) in taxonomy.tables.iter().enumerate() {
            for (format, variants) in &table.scope {
                let plan = taxonomy.by_format.entry(format.clone()).or_default();
                plan.tables.push((i, variants.clone()));
            }
        }
        for (i, rule) in taxonomy.rules.iter().enumerate() {
            for (format, variants) in &rule.scope {
                let plan = taxonomy.by_format.entry(format.clone()).or_default();
                plan.rules.push((i, variants.clone()));
            }
        }
        // Rules that test something come before catch-alls, whatever file they are in.
        let rules = &taxonomy.rules;
        for plan in taxonomy.by_format.values_mut() {
            plan.rules
                .sort_by_key(|(i, variants)| !(variants.is_some() || rules[*i].is_specific()));
        }
        Ok(taxonomy)
    }

    /// The readers the taxonomy knows something about.
    pub fn formats(&self) -> impl Iterator<Item = &str> {
        self.by_format.keys().map(String::as_str)
    }

    /// The log sources the events of reader `format` can be placed in, as Sigma writes them
    /// (`product/category/service` parts that are set, `{field}` where a field's value is
    /// taken), in the order the rules are tried, without repeats.
    pub fn log_sources(&self, format: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (i, _) in self.by_format.get(format).map_or(&[][..], |p| &p.rules) {
            let rule = &self.rules[*i];
            let text = [&rule.product, &rule.category, &rule.service]
                .into_iter()
                .flatten()
                .map(Template::to_string)
                .collect::<Vec<_>>()
                .join("/");
            if !out.contains(&text) {
                out.push(text);
            }
        }
        out
    }

    /// Adds the taxonomy's names to `event`, derives values, sets `host.name` from the
    /// event's host, and sets its log source from the first rule that holds (a log source
    /// the reader already set is kept).
    pub fn apply(&self, event: &mut Event) {
        if let Some(plan) = self.by_format.get(event.format) {
            let mut names = event.fields().name_filter();
            for (i, variants) in &plan.tables {
                if variant_holds(variants.as_deref(), event.variant) {
                    self.tables[*i].apply(event, &mut names);
                }
            }
            if event.logsource.is_empty() {
                for (i, variants) in &plan.rules {
                    if !variant_holds(variants.as_deref(), event.variant) {
                        continue;
                    }
                    if let Some(source) = self.rules[*i].log_source(event, &names) {
                        event.logsource = source;
                        break;
                    }
                }
            }
        }
        if let Some(host) = &event.host
            && event.get("host.name").is_none()
        {
            let host = Value::Str(host.clone());
            event.push("host.name", host);
        }
    }
}

fn variant_holds(variants: Option<&[String]>, variant: Option<&str>) -> bool {
    match variants {
        None => true,
        Some(list) => variant.is_some_and(|v| list.iter().any(|w| w == v)),
    }
}

impl Table {
    /// Copies and derives; `names` rules out absent names without a scan and learns the
    /// names added.
    fn apply(&self, event: &mut Event, names: &mut NameFilter) {
        let has = |event: &Event, names: &NameFilter, key: &FieldKey| {
            names.may_contain(key) && event.get_key(key).is_some()
        };
        for (from, targets) in &self.copies {
            if !names.may_contain(from) {
                continue;
            }
            let Some(value) = event.get_key(from) else {
                continue;
            };
            // `-` is how Windows and web logs write "none"; an empty value says nothing.
            if value.is_null() || matches!(value.as_str(), Some("-" | "")) {
                continue;
            }
            let value = value.clone();
            for target in targets {
                if !has(event, names, target) {
                    event.fields_mut().push_key(target, value.clone());
                    names.insert(target);
                }
            }
        }
        for derive in &self.derives {
            if has(event, names, &derive.target) || !names.may_contain(&derive.from) {
                continue;
            }
            let Some(value) = event.get_key(&derive.from) else {
                continue;
            };
            let key = value.to_text().to_lowercase();
            if let Some(mapped) = derive.map.get(&key) {
                let mapped = mapped.clone();
                event.fields_mut().push_key(&derive.target, mapped);
                names.insert(&derive.target);
            }
        }
    }
}

impl Rule {
    fn is_specific(&self) -> bool {
        self.variants.is_some() || !self.fields.is_empty()
    }

    fn log_source(&self, event: &Event, names: &NameFilter) -> Option<LogSource> {
        if !variant_holds(self.variants.as_deref(), event.variant) {
            return None;
        }
        for (key, wanted) in &self.fields {
            if !names.may_contain(key) {
                return None;
            }
            let value = event.get_key(key)?;
            let holds = match value {
                Value::List(items) => items.iter().any(|v| one_of(v, wanted)),
                v => one_of(v, wanted),
            };
            if !holds {
                return None;
            }
        }
        let render = |t: &Option<Template>| -> Option<Option<Text>> {
            match t {
                None => Some(None),
                Some(t) => t.render(event).map(Some),
            }
        };
        Some(LogSource {
            product: render(&self.product)?,
            category: render(&self.category)?,
            service: render(&self.service)?,
        })
    }
}

fn one_of(value: &Value, wanted: &[String]) -> bool {
    let text = value.to_text();
    wanted.iter().any(|w| w.eq_ignore_ascii_case(&text))
}

impl std::fmt::Display for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for part in &self.0 {
            match part {
                Part::Text(text) => f.write_str(text)?,
                Part::Field(key) => write!(f, "{{{}}}", key.name())?,
            }
        }
        Ok(())
    }
}

impl Template {
    /// The text, or `None` when a field it takes is missing or empty.
    fn render(&self, event: &Event) -> Option<Text> {
        let mut out = Text::default();
        for part in &self.0 {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Field(key) => {
                    let value = event.get_key(key)?.to_text();
                    if value.is_empty() {
                        return None;
                    }
                    out.push_str(&value.to_lowercase());
                }
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests;
