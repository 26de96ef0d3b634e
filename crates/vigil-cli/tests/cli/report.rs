//! `vigil report` over a real hunt of the examples: Markdown and JSON snapshots, timelines
//! in the shape Timesketch imports.

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
        &["report", "--from", path_arg(dir.path()), "--format", "pdf"],
        &data,
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("no report format \"pdf\""),
        "{}",
        stderr(&run)
    );

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
            "docx",
        ],
        &data,
    );
    assert_eq!(run.status.code(), Some(2));
}
