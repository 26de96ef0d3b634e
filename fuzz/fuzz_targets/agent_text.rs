//! What a model writes is untrusted, and so is a question: finding JSON in an answer,
//! checking it against a schema, reading it as a query, running that query, checking a
//! narrative's entities and reading a question never panic.
#![no_main]

use serde_json::json;
use vigil_agent::grounding::{Facts, sentences};
use vigil_agent::query::{self, Data, Query};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(value) = vigil_llm::extract_json(text) {
        let _ = vigil_llm::validate(&value, &vigil_agent::narrative::schema());
        let _ = vigil_llm::validate(&value, &query::schema());
        if let Ok(query) = serde_json::from_value::<Query>(value) {
            let detections = [json!({"id": "d-1", "timestamp": "2024-01-01T00:00:00Z", "host": "h", "rule_title": "r", "level": "high", "fields": {"user.name": "u", "source.ip": "10.0.0.1"}, "techniques": [{"id": "T1110"}], "tactics": [{"shortname": "credential-access"}]})];
            let incidents = [json!({"id": "inc-1", "detections": ["d-1"], "severity": "high"})];
            let _ = query::run(&query, Data { detections: &detections, incidents: &incidents, events: Some(&detections) }, None);
        }
    }
    let mut facts = Facts::new();
    facts.add("10.0.0.1");
    facts.add_text("C:\\Windows\\System32\\lsass.exe");
    facts.add_foreign("other-host");
    let _ = facts.check(text);
    let _ = sentences(text);
    if let Some(parsed) = vigil_agent::parse::parse(text) {
        let _ = query::run(&parsed.query, Data::default(), None);
    }
});
