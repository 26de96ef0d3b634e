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
    &[
        &Json,
        &MARKDOWN,
        &HTML,
        #[cfg(feature = "pdf")]
        &crate::pdf::Pdf,
        &crate::docx::Docx,
        &TimelineCsv,
        &TimelineJsonl,
    ]
}

/// Formats that exist behind a cargo feature, with the feature.
const OPTIONAL: &[(&str, &str)] = &[("pdf", "pdf")];

/// The renderer called `name`.
pub fn renderer(name: &str) -> Result<&'static dyn Renderer> {
    if let Some((_, feature)) = OPTIONAL.iter().find(|(n, _)| *n == name)
        && !renderers().iter().any(|r| r.name() == name)
    {
        return Err(Error::NotBuilt {
            name: name.to_string(),
            feature,
        });
    }
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
    typst: String,
}

/// The minijinja templates.
const BUILTIN: &[(&str, &str)] = &[
    ("report.md", include_str!("../templates/report.md")),
    ("report.html", include_str!("../templates/report.html")),
];

/// The Typst template of the PDF (not a minijinja one: it reads the model as data).
const TYPST: (&str, &str) = ("report.typ", include_str!("../templates/report.typ"));

impl Templates {
    /// The built-in templates, overridden by `dir/<name>` where such a file exists.
    pub fn new(dir: Option<&std::path::Path>) -> Result<Templates> {
        let text_of = |name: &str, builtin: &str| -> Result<String> {
            match dir.map(|d| d.join(name)) {
                Some(path) if path.is_file() => {
                    std::fs::read_to_string(&path).map_err(|e| Error::Read {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    })
                }
                _ => Ok(builtin.to_string()),
            }
        };
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_filter("truncate", truncate);
        env.add_filter("number", number);
        for (name, builtin) in BUILTIN {
            env.add_template_owned(*name, text_of(name, builtin)?)
                .map_err(|e| Error::Template {
                    name: (*name).to_string(),
                    reason: e.to_string(),
                })?;
        }
        Ok(Templates {
            env,
            typst: text_of(TYPST.0, TYPST.1)?,
        })
    }

    /// The text of a template that is not a minijinja one (`report.typ`).
    #[cfg_attr(not(feature = "pdf"), allow(dead_code))]
    pub(crate) fn source(&self, name: &str) -> Result<&str> {
        if name == TYPST.0 {
            Ok(&self.typst)
        } else {
            Err(Error::Template {
                name: name.to_string(),
                reason: "no such template".into(),
            })
        }
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

/// `x | number`: at most one decimal, none when whole (`47`, `6.4`, `-1`).
pub(crate) fn number(x: f64) -> String {
    let x = (x * 10.0).round() / 10.0;
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
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
    fn an_incident_with_only_some_fields_renders_in_every_format() {
        // As stored by another tool or an older vigil: no confidence, stage, factors,
        // techniques; entities half there.
        let incident = serde_json::json!({"id": "inc-1", "title": "Brute force", "score": 90,
            "severity": "high", "entities": {"hosts": ["web01"]}, "detections": ["d-1"],
            "techniques": [{"id": "T1110"}]});
        let run = crate::Run::new(serde_json::json!({}), vec![incident], Vec::new());
        let model = crate::build(&run, &vigil_attack::Attack::embedded().unwrap());
        let templates = Templates::new(None).unwrap();
        for renderer in renderers() {
            let mut out = Vec::new();
            renderer
                .render(&model, &templates, &mut out)
                .unwrap_or_else(|e| panic!("{}: {e}", renderer.name()));
            // A timeline of no detection is empty (JSON Lines) or a header (CSV).
            assert!(
                !out.is_empty() || renderer.name() == "jsonl",
                "{}",
                renderer.name()
            );
        }
    }

    #[test]
    fn numbers_show_one_decimal_at_most() {
        assert_eq!(number(47.0), "47");
        assert_eq!(number(6.4), "6.4");
        assert_eq!(number(-1.0), "-1");
        assert_eq!(number(22.456), "22.5");
    }

    #[test]
    fn csv_cells_are_quoted_when_needed() {
        assert_eq!(csv_cell(&Value::from("a,b")), "\"a,b\"");
        assert_eq!(csv_cell(&Value::from("say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell(&Value::from(5)), "5");
        assert_eq!(csv_cell(&Value::Null), "");
    }

    #[test]
    fn unknown_formats_name_the_known_ones() {
        let err = renderer("rtf")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("no report format \"rtf\"; formats: json, md, html, ")
                && err.ends_with("docx, csv, jsonl"),
            "{err}"
        );
    }

    #[test]
    fn pdf_is_there_or_says_how_to_get_it() {
        match renderer("pdf") {
            Ok(r) => assert!(cfg!(feature = "pdf") && r.extension() == "pdf"),
            Err(e) => assert!(
                !cfg!(feature = "pdf") && e.to_string().contains("--features pdf"),
                "{e}"
            ),
        }
    }
}
