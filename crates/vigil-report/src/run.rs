//! [`Run`]: what `vigil hunt --out DIR` wrote, read back.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};

/// A hunt's output: `summary.json`, `incidents.json` and `detections.jsonl`.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// `summary.json`.
    pub summary: Value,
    /// `incidents.json`, ranked.
    pub incidents: Vec<Value>,
    /// `detections.jsonl`, in the hunt's order (time, file, record, rule).
    pub detections: Vec<Value>,
    by_id: HashMap<String, usize>,
}

impl Run {
    /// Reads the files `vigil hunt --out DIR` writes. `incidents.json` may be absent
    /// (a hunt from before incidents existed): the report then has no incidents.
    pub fn load(dir: &Path) -> Result<Run> {
        let read = |name: &str| -> Result<Option<String>> {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::Read {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                }),
            }
        };
        let parse = |name: &str, text: &str, line: Option<usize>| -> Result<Value> {
            serde_json::from_str(text).map_err(|e| Error::Parse {
                path: dir.join(name).display().to_string(),
                line,
                reason: e.to_string(),
            })
        };
        let Some(detections_text) = read("detections.jsonl")? else {
            return Err(Error::Read {
                path: dir.join("detections.jsonl").display().to_string(),
                reason: "not found: is this a directory `vigil hunt --out` wrote?".into(),
            });
        };
        let mut detections = Vec::new();
        for (i, line) in detections_text.lines().enumerate() {
            if !line.trim().is_empty() {
                detections.push(parse("detections.jsonl", line, Some(i + 1))?);
            }
        }
        let summary = match read("summary.json")? {
            Some(text) => parse("summary.json", &text, None)?,
            None => Value::Null,
        };
        let incidents = match read("incidents.json")? {
            Some(text) => match parse("incidents.json", &text, None)? {
                Value::Array(items) => items,
                _ => {
                    return Err(Error::Parse {
                        path: dir.join("incidents.json").display().to_string(),
                        line: None,
                        reason: "expected a JSON array of incidents".into(),
                    });
                }
            },
            None => Vec::new(),
        };
        Ok(Run::new(summary, incidents, detections))
    }

    /// A run from its parts.
    pub fn new(summary: Value, incidents: Vec<Value>, detections: Vec<Value>) -> Run {
        let by_id = detections
            .iter()
            .enumerate()
            .filter_map(|(i, d)| Some((d["id"].as_str()?.to_string(), i)))
            .collect();
        Run {
            summary,
            incidents,
            detections,
            by_id,
        }
    }

    /// A detection by its id.
    pub fn detection(&self, id: &str) -> Option<&Value> {
        self.by_id.get(id).map(|&i| &self.detections[i])
    }
}
