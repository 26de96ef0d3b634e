//! `vigil report` over a real hunt of the examples: Markdown and JSON snapshots, timelines
//! in the shape Timesketch imports.

use std::path::Path;

use serde_json::Value;

use crate::{hunt_examples_into, path_arg, stderr, stdout, vigil_with_data_dir};

/// Hunts the examples into a temporary directory and returns it.
fn hunted() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let run = hunt_examples_into(out.path(), &["-q"]);
    assert!(run.status.success(), "{}", stderr(&run));
    out
}

fn report(dir: &tempfile::TempDir, format: &str) -> String {
    let data = dir.path().join("data");
    let run = vigil_with_data_dir(
        &["report", "--from", path_arg(dir.path()), "--format", format],
        &data,
    );
    assert!(run.status.success(), "{}", stderr(&run));
    stdout(&run)
}

#[test]
fn markdown_and_json_reports_of_the_examples() {
    let dir = hunted();
    let markdown = report(&dir, "md");
    insta::with_settings!({filters => vec![(r"examples/[^ |:]+", "[example]")]}, {
        insta::assert_snapshot!("report_md", markdown);
    });

    let json: Value = serde_json::from_str(&report(&dir, "json")).unwrap();
    assert_documented(&json);
    let incidents = json["incidents"].as_array().unwrap();
    assert_eq!(
        json["overview"]["incidents"].as_u64().unwrap() as usize,
        incidents.len()
    );
    for incident in incidents {
        for key in [
            "executive_summary",
            "timeline",
            "indicators",
            "heatmap",
            "recommendations",
            "mitigations",
        ] {
            assert!(
                !incident[key].is_null(),
                "{key} missing in {}",
                incident["id"]
            );
        }
        // Every incident title and host is in the Markdown.
        assert!(markdown.contains(incident["title"].as_str().unwrap()));
        for host in incident["entities"]["hosts"].as_array().unwrap() {
            assert!(markdown.contains(host.as_str().unwrap()));
        }
    }
    let first = &incidents[0];
    assert!(
        first["executive_summary"]
            .as_str()
            .unwrap()
            .starts_with("A critical-severity incident (risk 95/100)"),
        "{}",
        first["executive_summary"]
    );
    assert!(
        first["mitigations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "M1032")
    );
}

/// Reports of a hunt over real samples of the shared corpus (Windows credential-access
/// EVTX and an OpenSSH server log), snapshotted as Markdown and JSON.
#[test]
fn reports_of_a_corpus_hunt() {
    let (Some(evtx), Some(sshd)) = (
        vigil_test_support::corpus_path("evtx/Credential Access"),
        vigil_test_support::corpus_path("logs/linux-auth-sshd"),
    ) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let run = vigil_with_data_dir(
        &[
            "hunt",
            "--year",
            "2024",
            path_arg(&evtx),
            path_arg(&sshd),
            "--out",
            path_arg(out.path()),
            "-q",
            "--report",
            "md,json,html",
        ],
        &out.path().join("data"),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let corpus = evtx
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .display()
        .to_string();
    let filters = [
        (regex_escape(&corpus), "[corpus]".to_string()),
        (
            r#""elapsed_ms": \d+"#.to_string(),
            r#""elapsed_ms": "[ms]""#.to_string(),
        ),
    ];
    let markdown = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let json = std::fs::read_to_string(out.path().join("report.json")).unwrap();
    insta::with_settings!({filters => filters.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect::<Vec<_>>()}, {
        insta::assert_snapshot!("corpus_report_md", markdown);
        insta::assert_snapshot!("corpus_report_json", json);
    });
    // The HTML holds every incident, technique and host too.
    let html = unescape(&std::fs::read_to_string(out.path().join("report.html")).unwrap());
    let model: Value = serde_json::from_str(&json).unwrap();
    assert_documented(&model);
    let incidents = model["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 9, "the corpus hunt's incidents");
    for incident in incidents {
        for needle in std::iter::once(&incident["title"])
            .chain(incident["entities"]["hosts"].as_array().unwrap())
            .chain(
                incident["techniques"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| &t["id"]),
            )
        {
            assert!(
                html.contains(needle.as_str().unwrap()),
                "{needle} not in the HTML"
            );
        }
    }
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = "\\.+*?()|[]{}^$#&-~".contains(c);
            escape.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

#[test]
fn one_incident_is_reported_alone() {
    let dir = hunted();
    let data = dir.path().join("data");
    let all: Value = serde_json::from_str(&report(&dir, "json")).unwrap();
    let second = &all["incidents"][1];
    let id = second["id"].as_str().unwrap();
    let run = vigil_with_data_dir(
        &[
            "report",
            "--from",
            path_arg(dir.path()),
            "--format",
            "json",
            "--incident",
            &id[..8],
        ],
        &data,
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let one: Value = serde_json::from_str(&stdout(&run)).unwrap();
    assert_eq!(one["overview"]["incidents"], 1);
    assert_eq!(one["incidents"].as_array().unwrap().len(), 1);
    // The same incident, enriched the same way as in the report of the whole hunt.
    assert_eq!(one["incidents"][0], *second);
    assert_eq!(
        one["overview"]["detections"],
        second["detections"].as_array().unwrap().len()
    );

    let run = vigil_with_data_dir(
        &[
            "report",
            "--from",
            path_arg(dir.path()),
            "--incident",
            "inc-nope",
        ],
        &data,
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("no incident \"inc-nope\""),
        "{}",
        stderr(&run)
    );
}

#[test]
fn timelines_have_the_timesketch_columns_in_time_order() {
    let dir = hunted();
    let csv = report(&dir, "csv");
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("datetime,timestamp_desc,message,incident,"),
        "{header}"
    );
    let jsonl = report(&dir, "jsonl");
    let rows: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), lines.count());
    let times: Vec<&str> = rows
        .iter()
        .map(|r| r["datetime"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    assert!(rows.iter().all(|r| r["timestamp_desc"] == "Detection time"));
    assert!(rows.iter().any(|r| {
        r["message"]
            .as_str()
            .unwrap()
            .contains("SSH Brute Force From One Address on web01")
    }));
}

#[test]
fn templates_can_be_overridden_and_errors_are_clear() {
    let dir = hunted();
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(
        templates.path().join("report.md"),
        "{% for i in incidents %}{{ i.score }} {{ i.title }}\n{% endfor %}",
    )
    .unwrap();
    let data = dir.path().join("data");
    let run = vigil_with_data_dir(
        &[
            "report",
            "--from",
            path_arg(dir.path()),
            "--template-dir",
            path_arg(templates.path()),
        ],
        &data,
    );
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stdout(&run).starts_with("95 SSH Login After Brute Force"),
        "{}",
        stdout(&run)
    );

    let run = vigil_with_data_dir(
        &["report", "--from", path_arg(dir.path()), "--format", "rtf"],
        &data,
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("no report format \"rtf\""),
        "{}",
        stderr(&run)
    );

    // A broken Typst template names itself and the line.
    std::fs::write(
        templates.path().join("report.typ"),
        "= Report\n#let x = (\n",
    )
    .unwrap();
    let run = vigil_with_data_dir(
        &[
            "report",
            "--from",
            path_arg(dir.path()),
            "--format",
            "pdf",
            "--template-dir",
            path_arg(templates.path()),
        ],
        &data,
    );
    if cfg!(feature = "pdf") {
        assert_eq!(run.status.code(), Some(1));
        assert!(
            stderr(&run).contains("template report.typ: line 2"),
            "{}",
            stderr(&run)
        );
    } else {
        // Without the feature, the error says how to get PDF reports.
        assert_eq!(run.status.code(), Some(2));
        assert!(
            stderr(&run).contains("rebuild with `--features pdf`"),
            "{}",
            stderr(&run)
        );
    }

    let run = vigil_with_data_dir(&["report", "--from", path_arg(templates.path())], &data);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("detections.jsonl: not found"),
        "{}",
        stderr(&run)
    );
}

/// The text of escaped HTML, for the few entities minijinja writes.
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&apos;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn hunt_writes_a_self_contained_html_report_with_every_incident() {
    let out = tempfile::tempdir().unwrap();
    let data = out.path().join("data");
    let run = hunt_examples_into(out.path(), &["-q", "--report", "html,md"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(out.path().join("report.md").is_file());
    assert!(html.starts_with("<!doctype html>") && html.trim_end().ends_with("</html>"));
    // Self-contained: no script, no external style sheet, image or link.
    for forbidden in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!html.contains(forbidden), "{forbidden} in the report");
    }
    assert!(
        html.split("href=\"")
            .skip(1)
            .all(|rest| rest.starts_with('#'))
    );
    // Balanced structure for the elements the template opens.
    for tag in ["table", "tr", "ul", "h2", "main"] {
        assert_eq!(
            html.matches(&format!("<{tag}")).count(),
            html.matches(&format!("</{tag}>")).count(),
            "<{tag}>"
        );
    }
    let text = unescape(&html);
    let incidents: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("incidents.json")).unwrap())
            .unwrap();
    for incident in incidents.as_array().unwrap() {
        assert!(
            text.contains(incident["title"].as_str().unwrap()),
            "{}",
            incident["title"]
        );
        for technique in incident["techniques"].as_array().unwrap() {
            assert!(text.contains(technique["id"].as_str().unwrap()));
        }
        for host in incident["entities"]["hosts"].as_array().unwrap() {
            assert!(text.contains(host.as_str().unwrap()));
        }
    }
    // Log content is escaped, never markup.
    assert!(!html.contains("| sh\"") && html.contains("&quot;"));

    let run = vigil_with_data_dir(
        &[
            "hunt",
            "examples/",
            "--out",
            path_arg(out.path()),
            "--report",
            "rtf",
        ],
        &data,
    );
    assert_eq!(run.status.code(), Some(2));
}

/// Checks a JSON report against the documented schema, docs/report.schema.json.
fn assert_documented(report: &Value) {
    let path = vigil_test_support::workspace_root().join("docs/report.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let errors = vigil_test_support::schema_errors(&schema, report);
    assert!(
        errors.is_empty(),
        "the report breaks its schema:\n{}",
        errors.join("\n")
    );
}

/// Whitespace folded to single spaces: text extracted from a laid-out page breaks lines
/// anywhere.
fn folded(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text without whitespace and hyphens: pdftotext joins a word broken at a hyphen at the end
/// of a line (`asa-` / `edge-01` gives `asaedge-01`).
#[cfg(feature = "pdf")]
fn squeezed(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// The incidents of the JSON report `vigil hunt --report json` wrote into `dir`, each with
/// its executive summary.
fn incidents_of(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("report.json")).unwrap();
    let incidents = serde_json::from_str::<Value>(&text).unwrap()["incidents"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!incidents.is_empty());
    incidents
}

/// The text of the paragraphs of a DOCX (`w:t` elements of word/document.xml).
fn docx_text(path: &Path) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("word/document.xml").unwrap(), &mut xml)
        .unwrap();
    let mut text = String::new();
    for piece in xml.split("<w:t").skip(1) {
        let Some(start) = piece.find('>') else {
            continue;
        };
        let body = &piece[start + 1..];
        if let Some(end) = body.find("</w:t>") {
            text.push_str(&unescape(&body[..end]));
            text.push(' ');
        }
    }
    text
}

/// Runs a poppler tool on `pdf` and returns its standard output.
fn poppler(tool: &str, args: &[&str], pdf: &Path) -> String {
    let mut command = std::process::Command::new(tool);
    command.args(args).arg(pdf);
    if tool == "pdftotext" {
        command.arg("-");
    }
    let run = command.output().unwrap();
    assert!(run.status.success(), "{tool}: {}", stderr(&run));
    stdout(&run)
}

#[test]
fn docx_report_opens_in_libreoffice_with_every_incident() {
    let out = tempfile::tempdir().unwrap();
    let run = hunt_examples_into(out.path(), &["-q", "--report", "docx,json"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let docx = out.path().join("report.docx");
    let incidents = incidents_of(out.path());

    // The document's own text: headings, summaries, hostile log content as text.
    let text = folded(&docx_text(&docx));
    for incident in &incidents {
        let title = incident["title"].as_str().unwrap();
        assert!(text.contains(title), "{title}");
        let summary = folded(incident["executive_summary"].as_str().unwrap());
        assert!(text.contains(&summary), "summary of {title}:\n{summary}");
    }

    // It opens: LibreOffice converts it to a PDF holding every incident title.
    if !(vigil_test_support::tool("soffice") && vigil_test_support::tool("pdftotext")) {
        return;
    }
    let converted = tempfile::tempdir().unwrap();
    let profile = format!(
        "-env:UserInstallation=file://{}",
        converted.path().join("profile").display()
    );
    let run = std::process::Command::new("soffice")
        .args([
            profile.as_str(),
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(converted.path())
        .arg(&docx)
        .output()
        .unwrap();
    let pdf = converted.path().join("report.pdf");
    assert!(pdf.is_file(), "soffice: {}{}", stdout(&run), stderr(&run));
    let text = folded(&poppler("pdftotext", &[], &pdf));
    assert!(text.contains("Incident report") && text.contains("Overview"));
    for incident in &incidents {
        let title = incident["title"].as_str().unwrap();
        assert!(
            text.contains(title),
            "{title} missing from the converted DOCX"
        );
    }
}

#[cfg(feature = "pdf")]
#[test]
fn pdf_report_has_a_title_page_numbers_fonts_and_every_incident() {
    let out = tempfile::tempdir().unwrap();
    let run = hunt_examples_into(out.path(), &["-q", "--report", "pdf,json"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let pdf = out.path().join("report.pdf");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-") && bytes.windows(5).any(|w| w == b"%%EOF"));
    let incidents = incidents_of(out.path());
    if !vigil_test_support::tool("pdftotext") {
        return;
    }
    let info = poppler("pdfinfo", &[], &pdf);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap();
    // A title page, an overview, then each incident on pages of its own.
    assert!(
        (2 + incidents.len()..=2 + 6 * incidents.len()).contains(&pages),
        "{pages} pages for {} incidents",
        incidents.len()
    );
    assert!(info.contains("(A4)") && info.contains("Title:           vigil hunt report"));
    // Every font is embedded.
    let fonts = poppler("pdffonts", &[], &pdf);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty());
    for row in rows {
        let columns: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(columns[columns.len() - 5], "yes", "not embedded: {row}");
    }
    // The title page, page numbers, every incident's title and executive summary.
    let text = poppler("pdftotext", &["-layout"], &pdf);
    let first_page = text.split('\u{c}').next().unwrap();
    assert!(first_page.contains("Incident report") && !first_page.contains("Page 1"));
    assert!(text.contains(&format!("Page 1 of {}", pages - 1)));
    let text = squeezed(&poppler("pdftotext", &[], &pdf));
    for incident in &incidents {
        let title = incident["title"].as_str().unwrap();
        assert!(text.contains(&squeezed(title)), "{title}");
        let summary = incident["executive_summary"].as_str().unwrap();
        assert!(
            text.contains(&squeezed(summary)),
            "summary of {title}:\n{summary}"
        );
    }
}
