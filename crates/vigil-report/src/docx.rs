//! The DOCX renderer: the report as a Word document for teams that edit reports, with real
//! heading styles (Word's navigation pane and table of contents see them), tables and page
//! numbers, written with `docx-rs`.

use std::io::{Cursor, Write};

use docx_rs::{
    AlignmentType, BreakType, Docx as Document, Footer, LineSpacing, NumPages, PageMargin, PageNum,
    Paragraph, Run, RunFonts, Shading, Style, StyleType, Table, TableCell, TableLayoutType,
    TableRow, WidthType,
};
use serde_json::Value;

use crate::error::Result;
use crate::render::{Renderer, Templates};

/// A Word document (Office Open XML).
pub(crate) struct Docx;

impl Renderer for Docx {
    fn name(&self) -> &'static str {
        "docx"
    }
    fn extension(&self) -> &'static str {
        "docx"
    }
    fn render(&self, model: &Value, _: &Templates, out: &mut dyn Write) -> Result<()> {
        let mut bytes = Cursor::new(Vec::new());
        document(model)
            .build()
            .pack(&mut bytes)
            .map_err(std::io::Error::other)?;
        out.write_all(&deflated(bytes.get_ref())?)?;
        Ok(())
    }
}

/// The package with its parts deflated, as Word writes them: docx-rs stores them
/// uncompressed, ten times the size. Order (content types first) and names are kept; the
/// time stamps are fixed so the same report gives the same bytes.
fn deflated(stored: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(stored)).map_err(std::io::Error::other)?;
    let mut packed = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for index in 0..archive.len() {
        let mut part = archive.by_index(index).map_err(std::io::Error::other)?;
        if part.is_dir() {
            continue;
        }
        packed
            .start_file(
                part.name().map_err(std::io::Error::other)?.into_owned(),
                options,
            )
            .map_err(std::io::Error::other)?;
        std::io::copy(&mut part, &mut packed)?;
    }
    Ok(packed.finish().map_err(std::io::Error::other)?.into_inner())
}

/// A4 in twentieths of a point, with 2 cm margins: the width tables share.
const PAGE: (u32, u32) = (11906, 16838);
const MARGIN: i32 = 1134;
const TEXT_WIDTH: usize = 11906 - 2 * 1134;

const ACCENT: &str = "0B4F6C";
const MUTED: &str = "616E7C";
const HEADER_FILL: &str = "EEF2F6";

fn severity_colour(severity: &str) -> &'static str {
    match severity {
        "critical" => "9B1C1C",
        "high" => "C2410C",
        "medium" => "A16207",
        "low" => "3F6212",
        _ => MUTED,
    }
}

/// Text as Word may hold it: XML 1.0 has no place for most control characters.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\t' | '\n') {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

fn text_of(value: &Value) -> String {
    match value {
        Value::Null => "-".to_string(),
        Value::String(s) => clean(s),
        // Scores and weights: at most one decimal, none when whole (47, 6.4, -1).
        Value::Number(n) => match n.as_f64() {
            Some(x) if n.is_f64() => crate::render::number(x),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(text_of)
        .collect()
}

fn joined(value: &Value, empty: &str) -> String {
    let items = strings(value);
    if items.is_empty() {
        empty.to_string()
    } else {
        items.join(", ")
    }
}

fn run(text: impl AsRef<str>) -> Run {
    Run::new().add_text(clean(text.as_ref()))
}

fn para(text: impl AsRef<str>) -> Paragraph {
    Paragraph::new().add_run(run(text))
}

fn heading(level: usize, text: impl AsRef<str>) -> Paragraph {
    Paragraph::new()
        .style(&format!("Heading{level}"))
        .keep_next(true)
        .add_run(run(text))
}

fn bullet(text: impl AsRef<str>) -> Paragraph {
    Paragraph::new()
        .style("ListBullet")
        .add_run(run(format!("•\t{}", text.as_ref())))
}

fn cell(paragraphs: Vec<Paragraph>, width: usize) -> TableCell {
    paragraphs
        .into_iter()
        .fold(TableCell::new().width(width, WidthType::Dxa), |cell, p| {
            cell.add_paragraph(p)
        })
}

/// A full-width table with a shaded, bold header row; `columns` are (header, relative
/// width).
fn table(columns: &[(&str, usize)], rows: Vec<Vec<Vec<Paragraph>>>) -> Table {
    let total: usize = columns.iter().map(|(_, w)| w).sum::<usize>().max(1);
    let widths: Vec<usize> = columns
        .iter()
        .map(|(_, w)| TEXT_WIDTH * w / total)
        .collect();
    let head = TableRow::new(
        columns
            .iter()
            .zip(&widths)
            .map(|((h, _), &width)| {
                cell(
                    vec![Paragraph::new().add_run(run(h).bold().size(18))],
                    width,
                )
                .shading(Shading::new().fill(HEADER_FILL))
            })
            .collect(),
    );
    let body = rows.into_iter().map(|row| {
        TableRow::new(
            row.into_iter()
                .zip(&widths)
                .map(|(paragraphs, &width)| cell(paragraphs, width))
                .collect(),
        )
    });
    Table::new(std::iter::once(head).chain(body).collect())
        .set_grid(widths)
        .layout(TableLayoutType::Fixed)
        .width(TEXT_WIDTH, WidthType::Dxa)
}

/// A table whose cells are each one paragraph of small text per line.
fn text_table(header: &[(&str, usize)], rows: Vec<Vec<String>>) -> Table {
    table(
        header,
        rows.into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|t| {
                        t.split('\n')
                            .map(|line| Paragraph::new().add_run(run(line).size(18)))
                            .collect()
                    })
                    .collect()
            })
            .collect(),
    )
}

fn styles(doc: Document) -> Document {
    let heading = |id: &str, name: &str, size: usize, level: usize| {
        Style::new(id, StyleType::Paragraph)
            .line_spacing(LineSpacing::new().before(240).after(80))
            .name(name)
            .based_on("Normal")
            .next("Normal")
            .q_format(true)
            .size(size)
            .bold()
            .color(ACCENT)
            .outline_lvl(level)
    };
    doc.add_style(heading("Title", "Title", 56, 0).outline_lvl(9))
        .add_style(heading("Heading1", "heading 1", 32, 0))
        .add_style(heading("Heading2", "heading 2", 24, 1))
        .add_style(heading("Heading3", "heading 3", 21, 2))
        .add_style(
            Style::new("ListBullet", StyleType::Paragraph)
                .name("List Bullet")
                .based_on("Normal")
                .indent(
                    Some(360),
                    Some(docx_rs::SpecialIndentType::Hanging(360)),
                    None,
                    None,
                ),
        )
}

/// The whole report as a Word document.
fn document(model: &Value) -> Document {
    let overview = &model["overview"];
    let incidents: Vec<&Value> = model["incidents"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let footer = Footer::new().add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Right)
            .add_run(run("Page ").size(16).color(MUTED))
            .add_page_num(PageNum::new())
            .add_run(run(" of ").size(16).color(MUTED))
            .add_num_pages(NumPages::new()),
    );
    let mut doc = styles(Document::new())
        .page_size(PAGE.0, PAGE.1)
        .page_margin(
            PageMargin::new()
                .top(MARGIN)
                .bottom(MARGIN)
                .left(MARGIN)
                .right(MARGIN),
        )
        .default_fonts(
            RunFonts::new()
                .ascii("Calibri")
                .hi_ansi("Calibri")
                .cs("Calibri"),
        )
        .default_size(20)
        .default_line_spacing(LineSpacing::new().after(80))
        .footer(footer);

    // Title page.
    doc = doc
        .add_paragraph(
            Paragraph::new()
                .style("Title")
                .line_spacing(LineSpacing::new().before(3600).after(120))
                .add_run(run("Incident report")),
        )
        .add_paragraph(Paragraph::new().add_run(run("vigil threat hunt").size(28).color(MUTED)))
        .add_paragraph(para(format!(
            "{} incident(s) from {} detection(s){}.",
            overview["incidents"],
            overview["detections"],
            match model["summary"]["records"].as_u64() {
                Some(records) => format!(
                    " in {records} record(s) of {} file(s), {} rules",
                    model["summary"]["files"], model["summary"]["rules_loaded"]
                ),
                None => String::new(),
            }
        )))
        .add_table(text_table(
            &[("Severity", 3), ("Incidents", 2)],
            overview["by_severity"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| vec![text_of(&s["severity"]), text_of(&s["incidents"])])
                .collect(),
        ))
        .add_paragraph(
            Paragraph::new().add_run(
                run(format!(
                    "Findings are mapped to MITRE ATT&CK {}. Scores, severities and summaries are \
                     computed deterministically from the detections; no language model decided \
                     any verdict.",
                    text_of(&overview["attack_version"])
                ))
                .size(16)
                .color(MUTED),
            ),
        )
        .add_paragraph(Paragraph::new().add_run(Run::new().add_break(BreakType::Page)));

    doc = doc.add_paragraph(heading(1, "Overview"));
    doc = if incidents.is_empty() {
        doc.add_paragraph(para(
            "No incidents: the hunt found nothing that correlated into an incident.",
        ))
    } else {
        doc.add_table(text_table(
            &[
                ("#", 4),
                ("Score", 8),
                ("Severity", 12),
                ("Hosts", 16),
                ("Incident", 60),
            ],
            incidents
                .iter()
                .enumerate()
                .map(|(n, i)| {
                    vec![
                        (n + 1).to_string(),
                        text_of(&i["score"]),
                        text_of(&i["severity"]),
                        joined(&i["entities"]["hosts"], "-"),
                        text_of(&i["title"]),
                    ]
                })
                .collect(),
        ))
    };
    for (n, incident) in incidents.iter().enumerate() {
        doc = add_incident(doc, n + 1, incident);
    }
    doc
}

fn add_incident(mut doc: Document, number: usize, i: &Value) -> Document {
    let severity = i["severity"].as_str().unwrap_or("unrated");
    doc = doc
        .add_paragraph(
            heading(1, format!("{number}. {}", text_of(&i["title"]))).page_break_before(true),
        )
        .add_paragraph(
            Paragraph::new()
                .add_run(
                    run(severity.to_uppercase())
                        .bold()
                        .color(severity_colour(severity)),
                )
                .add_run(run(format!(
                    " — risk {}/100, confidence {}% · {}",
                    text_of(&i["score"]),
                    (i["confidence"].as_f64().unwrap_or(0.0) * 100.0).round(),
                    text_of(&i["id"])
                ))),
        )
        .add_paragraph(para(text_of(&i["executive_summary"])));
    if let Some(narrative) = i["narrative"].as_object() {
        let low = if narrative.get("low_confidence").and_then(Value::as_bool) == Some(true) {
            "; a small local model's draft: low confidence"
        } else {
            ""
        };
        doc = doc
            .add_paragraph(para(format!(
                "Summary and narrative written by {} ({}) from this incident's facts and checked against them{low}. Scores and severity are vigil's.",
                narrative.get("model").map(text_of).unwrap_or_default(),
                narrative.get("provider").map(text_of).unwrap_or_default(),
            )))
            .add_paragraph(heading(2, "Analyst narrative"))
            .add_paragraph(para(
                narrative.get("analyst_narrative").map(text_of).unwrap_or_default(),
            ));
    }

    doc = doc
        .add_paragraph(heading(2, "Why this score"))
        .add_table(text_table(
            &[("Factor", 28), ("Points", 9), ("Detail", 63)],
            i["factors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    vec![
                        text_of(&f["name"]),
                        text_of(&f["weight"]),
                        text_of(&f["detail"]),
                    ]
                })
                .collect(),
        ));

    let mut affected = vec![
        vec![
            "Hosts".to_string(),
            joined(&i["entities"]["hosts"], "none identified"),
        ],
        vec![
            "Users".to_string(),
            joined(&i["entities"]["users"], "none identified"),
        ],
        vec![
            "IP addresses".to_string(),
            joined(&i["entities"]["ips"], "none identified"),
        ],
    ];
    if let Some(reached) = i["stage"]["reached"].as_str() {
        let progression = i["stage"]["progression"]
            .as_str()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        affected.push(vec![
            "Stage reached".into(),
            format!("{reached}{progression}"),
        ]);
    }
    doc = doc
        .add_paragraph(heading(2, "Affected"))
        .add_table(text_table(&[("Kind", 20), ("Values", 80)], affected));

    let timeline = i["timeline"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let small = |t: String| vec![Paragraph::new().add_run(run(t).size(16))];
            let evidence = e["evidence"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|ev| {
                    Paragraph::new()
                        .add_run(run(format!("{}: ", text_of(&ev["field"]))).bold().size(16))
                        .add_run(
                            run(text_of(&ev["value"]))
                                .size(15)
                                .fonts(RunFonts::new().ascii("Consolas").hi_ansi("Consolas")),
                        )
                })
                .collect();
            vec![
                small(text_of(&e["timestamp"])),
                small(text_of(&e["level"])),
                small(text_of(&e["rule"])),
                small(text_of(&e["host"])),
                small(strings(&e["techniques"]).join(" ")),
                evidence,
            ]
        })
        .collect();
    doc = doc.add_paragraph(heading(2, "Timeline")).add_table(table(
        &[
            ("Time", 16),
            ("Level", 10),
            ("Rule", 18),
            ("Host", 11),
            ("Techniques", 14),
            ("Key evidence", 31),
        ],
        timeline,
    ));

    doc = doc
        .add_paragraph(heading(2, "ATT&CK techniques"))
        .add_table(text_table(
            &[
                ("Technique", 14),
                ("Name", 56),
                ("Confidence", 15),
                ("Detections", 15),
            ],
            i["techniques"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| {
                    vec![
                        text_of(&t["id"]),
                        text_of(&t["name"]),
                        format!(
                            "{}%",
                            (t["confidence"].as_f64().unwrap_or(0.0) * 100.0).round()
                        ),
                        text_of(&t["detections"]),
                    ]
                })
                .collect(),
        ));
    let heatmap: Vec<Vec<String>> = i["heatmap"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            let cells: Vec<String> = row["techniques"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| format!("{} ({})", text_of(&t["id"]), text_of(&t["detections"])))
                .collect();
            vec![text_of(&row["name"]), cells.join(", ")]
        })
        .collect();
    if !heatmap.is_empty() {
        doc = doc
            .add_paragraph(heading(3, "Tactics by technique"))
            .add_table(text_table(
                &[("Tactic", 25), ("Techniques (detections)", 75)],
                heatmap,
            ));
    }

    let indicators: Vec<Vec<String>> = [
        ("IPs", "ips"),
        ("Domains", "domains"),
        ("Hashes", "hashes"),
        ("Files", "files"),
    ]
    .iter()
    .filter_map(|(label, key)| {
        let values = strings(&i["indicators"][key]);
        (!values.is_empty()).then(|| vec![label.to_string(), values.join("\n")])
    })
    .collect();
    if !indicators.is_empty() {
        doc = doc
            .add_paragraph(heading(2, "Indicators"))
            .add_table(text_table(&[("Kind", 20), ("Values", 80)], indicators));
    }

    doc = doc.add_paragraph(heading(2, "Recommendations"));
    for r in i["recommendations"].as_array().into_iter().flatten() {
        doc = doc.add_paragraph(
            Paragraph::new()
                .keep_next(true)
                .add_run(run(text_of(&r["title"])).bold())
                .add_run(run(format!(" ({})", text_of(&r["key"]))).color(MUTED)),
        );
        for step in strings(&r["steps"]) {
            doc = doc.add_paragraph(bullet(step));
        }
    }
    let mitigations: Vec<String> = i["mitigations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| format!("{} {}", text_of(&m["id"]), text_of(&m["name"])))
        .collect();
    if !mitigations.is_empty() {
        doc = doc.add_paragraph(
            Paragraph::new()
                .add_run(run("ATT&CK mitigations: ").bold())
                .add_run(run(format!("{}.", mitigations.join("; ")))),
        );
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_break_the_xml() {
        assert_eq!(
            clean("a\u{0}b\u{1b}[31m\tc\n"),
            "a\u{FFFD}b\u{FFFD}[31m\tc\n"
        );
    }

    #[test]
    fn an_empty_run_makes_a_document() {
        let mut out = Vec::new();
        let templates = Templates::new(None).expect("templates");
        Docx.render(
            &serde_json::json!({"overview": {}, "incidents": []}),
            &templates,
            &mut out,
        )
        .expect("renders");
        assert!(out.starts_with(b"PK"), "a zip archive");
        let mut archive = zip::ZipArchive::new(Cursor::new(&out)).expect("a zip archive");
        assert_eq!(
            archive.by_index(0).expect("a part").name().expect("a name"),
            "[Content_Types].xml"
        );
        let document = archive.by_name("word/document.xml").expect("the document");
        assert_eq!(document.compression(), zip::CompressionMethod::Deflated);
    }
}
