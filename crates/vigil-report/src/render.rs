//! The renderers, behind one trait and one registration site ([`renderers`]).

use std::io::Write;

use minijinja::Environment;
use serde_json::Value;

use crate::error::{Error, Result};

/// A report format.
pub trait Renderer: Sync {
    /// The name `--format` takes (`md`).
    fn name(&self) -> &'static str;
    /// The file extension of its output.
    fn extension(&self) -> &'static str;
    /// Writes the report of `model` (see [`crate::build`]).
    fn render(&self, model: &Value, templates: &Templates, out: &mut dyn Write) -> Result<()>;
}

/// Every renderer: the one place a new format is registered.
pub fn renderers() -> &'static [&'static dyn Renderer] {
    &[&Json, &MARKDOWN, &HTML, &TimelineCsv, &TimelineJsonl]
}

/// The renderer called `name`.
pub fn renderer(name: &str) -> Result<&'static dyn Renderer> {
    renderers()
        .iter()
        .copied()
        .find(|r| r.name() == name)
        .ok_or_else(|| Error::UnknownFormat {
            name: name.to_string(),
            known: renderers()
                .iter()
                .map(|r| r.name())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The templates of the text formats: the built-in ones, each replaceable by a file of the
/// same name in a user's template directory.
pub struct Templates {
    env: Environment<'static>,
}

const BUILTIN: &[(&str, &str)] = &[
    ("report.md", include_str!("../templates/report.md")),
    ("report.html", include_str!("../templates/report.html")),
];

impl Templates {
    /// The built-in templates, overridden by `dir/<name>` where such a file exists.
    pub fn new(dir: Option<&std::path::Path>) -> Result<Templates> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_filter("truncate", truncate);
        for (name, builtin) in BUILTIN {
            let text = match dir.map(|d| d.join(name)) {
                Some(path) if path.is_file() => {
                    std::fs::read_to_string(&path).map_err(|e| Error::Read {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    })?
                }
                _ => (*builtin).to_string(),
            };
            env.add_template_owned(*name, text)
                .map_err(|e| Error::Template {
                    name: (*name).to_string(),
                    reason: e.to_string(),
                })?;
        }
        Ok(Templates { env })
    }

    fn render(&self, name: &str, model: &Value) -> Result<String> {
        let template = self.env.get_template(name).map_err(|e| Error::Template {
            name: name.to_string(),
            reason: e.to_string(),
        })?;
        template.render(model).map_err(|e| Error::Template {
            name: name.to_string(),
            reason: format!("{e:#}"),
        })
    }
}

/// `text | truncate(n)`: at most `n` characters, ending in `…` when cut.
fn truncate(text: String, width: usize) -> String {
    if text.chars().count() <= width {
        return text;
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The model as JSON: every incident with its summary, timeline, indicators, heat map,
/// recommendations and mitigations.
struct Json;

impl Renderer for Json {
    fn name(&self) -> &'static str {
        "json"
    }
    fn extension(&self) -> &'static str {
        "json"
    }
    fn render(&self, model: &Value, _: &Templates, out: &mut dyn Write) -> Result<()> {
        serde_json::to_writer_pretty(&mut *out, model).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
        Ok(())
    }
}

/// A format written by a template of [`Templates`].
struct Templated {
    name: &'static str,
    template: &'static str,
}

/// Markdown, from the `report.md` template.
const MARKDOWN: Templated = Templated {
    name: "md",
    template: "report.md",
};

/// One self-contained HTML file (styles inline, no script, no network request), from the
/// `report.html` template; every value is HTML-escaped.
const HTML: Templated = Templated {
    name: "html",
    template: "report.html",
};

impl Renderer for Templated {
    fn name(&self) -> &'static str {
        self.name
    }
    fn extension(&self) -> &'static str {
        self.name
    }
    fn render(&self, model: &Value, templates: &Templates, out: &mut dyn Write) -> Result<()> {
        out.write_all(templates.render(self.template, model)?.as_bytes())?;
        Ok(())
    }
}

/// One timeline row per detection of an incident, in time order, with the Timesketch
/// columns `datetime`, `timestamp_desc` and `message` first.
fn timeline_rows(model: &Value) -> Vec<Value> {
    let mut rows = Vec::new();
    for incident in model["incidents"].as_array().into_iter().flatten() {
        for entry in incident["timeline"].as_array().into_iter().flatten() {
            let evidence: Vec<String> = entry["evidence"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| Some(format!("{}={}", e["field"].as_str()?, e["value"].as_str()?)))
                .collect();
            let techniques: Vec<&str> = entry["techniques"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str())
                .collect();
            rows.push(serde_json::json!({
                "datetime": entry["timestamp"],
                "timestamp_desc": "Detection time",
                "message": format!(
                    "[{}] {}{}",
                    entry["level"].as_str().unwrap_or(""),
                    entry["rule"].as_str().unwrap_or(""),
                    entry["host"].as_str().map(|h| format!(" on {h}")).unwrap_or_default()
                ),
                "incident": incident["id"],
                "incident_title": incident["title"],
                "severity": incident["severity"],
                "score": incident["score"],
                "detection": entry["id"],
                "rule": entry["rule"],
                "level": entry["level"],
                "host": entry["host"],
                "techniques": techniques.join(" "),
                "evidence": evidence.join("; "),
                "source": format!(
                    "{}:{}",
                    entry["source"]["path"].as_str().unwrap_or(""),
                    entry["source"]["record"]
                ),
            }));
        }
    }
    rows.sort_by(|a, b| {
        a["datetime"]
            .as_str()
            .cmp(&b["datetime"].as_str())
            .then(a["detection"].as_str().cmp(&b["detection"].as_str()))
    });
    rows
}

const TIMELINE_COLUMNS: &[&str] = &[
    "datetime",
    "timestamp_desc",
    "message",
    "incident",
    "incident_title",
    "severity",
    "score",
    "detection",
    "rule",
    "level",
    "host",
    "techniques",
    "evidence",
    "source",
];

/// The timeline as CSV (RFC 4180 quoting).
struct TimelineCsv;

impl Renderer for TimelineCsv {
    fn name(&self) -> &'static str {
        "csv"
    }
    fn extension(&self) -> &'static str {
        "csv"
    }
    fn render(&self, model: &Value, _: &Templates, out: &mut dyn Write) -> Result<()> {
        writeln!(out, "{}", TIMELINE_COLUMNS.join(","))?;
        for row in timeline_rows(model) {
            let cells: Vec<String> = TIMELINE_COLUMNS
                .iter()
                .map(|c| csv_cell(&row[*c]))
                .collect();
            writeln!(out, "{}", cells.join(","))?;
        }
        Ok(())
    }
}

fn csv_cell(value: &Value) -> String {
    let text = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The timeline as JSON Lines.
struct TimelineJsonl;

impl Renderer for TimelineJsonl {
    fn name(&self) -> &'static str {
        "jsonl"
    }
    fn extension(&self) -> &'static str {
        "jsonl"
    }
    fn render(&self, model: &Value, _: &Templates, out: &mut dyn Write) -> Result<()> {
        for row in timeline_rows(model) {
            serde_json::to_writer(&mut *out, &row).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_when_needed() {
        assert_eq!(csv_cell(&Value::from("a,b")), "\"a,b\"");
        assert_eq!(csv_cell(&Value::from("say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell(&Value::from(5)), "5");
        assert_eq!(csv_cell(&Value::Null), "");
    }

    #[test]
    fn unknown_formats_name_the_known_ones() {
        let err = renderer("pdf").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("no report format \"pdf\"; formats: json, md, html, csv, jsonl")
        );
    }
}
