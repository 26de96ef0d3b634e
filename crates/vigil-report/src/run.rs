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
        let Some(detections) = read("detections.jsonl")? else {
            return Err(Error::Read {
                path: dir.join("detections.jsonl").display().to_string(),
                reason: "not found: is this a directory `vigil hunt --out` wrote?".into(),
            });
        };
        let summary = read("summary.json")?;
        let incidents = read("incidents.json")?;
        Run::from_texts(dir, summary.as_deref(), incidents.as_deref(), &detections)
    }

    /// A run from the texts of `summary.json`, `incidents.json` and `detections.jsonl`;
    /// errors name `dir`'s files and the line.
    pub fn from_texts(
        dir: &Path,
        summary: Option<&str>,
        incidents: Option<&str>,
        detections: &str,
    ) -> Result<Run> {
        let parse = |name: &str, text: &str, line: Option<usize>| -> Result<Value> {
            serde_json::from_str(text).map_err(|e| Error::Parse {
                path: dir.join(name).display().to_string(),
                line,
                reason: e.to_string(),
            })
        };
        let mut parsed = Vec::new();
        for (i, line) in detections.lines().enumerate() {
            if !line.trim().is_empty() {
                parsed.push(parse("detections.jsonl", line, Some(i + 1))?);
            }
        }
        let summary = match summary {
            Some(text) => parse("summary.json", text, None)?,
            None => Value::Null,
        };
        let incidents = match incidents {
            Some(text) => match parse("incidents.json", text, None)? {
                Value::Array(items) => {
                    if let Some(n) = items.iter().position(|i| !i.is_object()) {
                        return Err(Error::Parse {
                            path: dir.join("incidents.json").display().to_string(),
                            line: None,
                            reason: format!("incident {} is not a JSON object", n + 1),
                        });
                    }
                    items
                }
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
        Ok(Run::new(summary, incidents, parsed))
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

    /// The run narrowed to one incident (by id, or by a unique id prefix) and its
    /// detections: what a report of that incident alone needs. Building and rendering it
    /// costs what one incident costs, whatever the size of the run.
    pub fn incident(&self, id: &str) -> Option<Run> {
        let mut matches = self
            .incidents
            .iter()
            .filter(|i| i["id"].as_str().is_some_and(|i| i.starts_with(id)));
        let incident = matches.next()?;
        if matches.next().is_some() && incident["id"] != id {
            return None;
        }
        let detections = incident["detections"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| self.detection(d.as_str()?).cloned())
            .collect();
        Some(Run::new(
            self.summary.clone(),
            vec![incident.clone()],
            detections,
        ))
    }

    /// A detection by its id.
    pub fn detection(&self, id: &str) -> Option<&Value> {
        self.by_id.get(id).map(|&i| &self.detections[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn incidents_must_be_objects() {
        let err = Run::from_texts(Path::new("out"), None, Some("[{}, 66]"), "")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("out/incidents.json: incident 2 is not a JSON object")
        );
    }

    #[test]
    fn one_incident_is_narrowed_with_its_detections() {
        let run = Run::new(
            json!({"files": 1}),
            vec![
                json!({"id": "inc-aa11", "detections": ["d1", "d3"]}),
                json!({"id": "inc-aa22", "detections": ["d2"]}),
            ],
            vec![
                json!({"id": "d1"}),
                json!({"id": "d2"}),
                json!({"id": "d3"}),
            ],
        );
        let one = run.incident("inc-aa11").expect("found");
        assert_eq!(one.incidents.len(), 1);
        assert_eq!(
            one.detections,
            vec![json!({"id": "d1"}), json!({"id": "d3"})]
        );
        assert_eq!(one.summary, json!({"files": 1}));
        assert!(run.incident("inc-aa2").is_some(), "a unique prefix");
        assert!(run.incident("inc-aa").is_none(), "an ambiguous prefix");
        assert!(run.incident("inc-bb").is_none());
    }
}
