//! Scripted models and corpus hunts for the agent's tests.

#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use vigil_llm::{Chain, LlmProvider, ProviderConfig, ProviderError, Request, Streamed};
use vigil_report::Run;

/// What a scripted model answers to a request.
pub type Answer = Box<dyn Fn(&Request) -> Result<String, ProviderError> + Send + Sync>;

/// A model that answers with a function of the request, and keeps every request.
pub struct Scripted {
    answer: Answer,
    pub seen: Arc<Mutex<Vec<Request>>>,
}

impl LlmProvider for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }
    fn kind(&self) -> &'static str {
        "openai"
    }
    fn model(&self) -> &str {
        "script-1"
    }
    fn native_schema(&self) -> bool {
        true
    }
    fn stream(
        &self,
        request: &Request,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProviderError> {
        self.seen.lock().unwrap().push(request.clone());
        let text = (self.answer)(request)?;
        for piece in text.split_inclusive(' ') {
            on_token(piece);
        }
        Ok(Streamed {
            text,
            truncated: false,
            input_tokens: Some(100),
            output_tokens: Some(50),
        })
    }
}

/// A chain of one scripted model, and the requests it saw.
pub fn scripted(
    answer: impl Fn(&Request) -> Result<String, ProviderError> + Send + Sync + 'static,
) -> (Chain, Arc<Mutex<Vec<Request>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let provider = Scripted {
        answer: Box::new(answer),
        seen: seen.clone(),
    };
    let mut config = ProviderConfig::new("scripted", "openai", "script-1");
    config.retries = 0;
    (Chain::of(vec![(Box::new(provider), config)]), seen)
}

/// The quoted data block of the last user message, parsed.
pub fn data_of(request: &Request) -> Value {
    let user = request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == vigil_llm::Role::User)
        .expect("a user message");
    let text = &user.content;
    let open = text
        .find(vigil_agent::prompt::DATA_OPEN)
        .expect("a data block");
    let close = text
        .rfind(vigil_agent::prompt::DATA_CLOSE)
        .expect("the end of the data block");
    let inner = &text[open + vigil_agent::prompt::DATA_OPEN.len()..close];
    serde_json::from_str(inner).expect("the data block is JSON")
}

/// Hunts `paths` with the built-in rules: the run `vigil hunt --out` would write.
pub fn hunt(paths: &[&Path]) -> Run {
    let engine = vigil_engine::Engine::builtin(vigil_engine::Settings::default()).unwrap();
    let ingest = vigil_ingest::Ingest::new(vigil_ingest::ReadOptions::default());
    let paths: Vec<std::path::PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    let mut hunted = engine.hunt(&ingest, vigil_ingest::Plan::new(&paths), |_| {});
    let folded = engine.fold(std::mem::take(&mut hunted.detections)).unwrap();
    // Through text, as `vigil hunt --out` writes and `Run::load` reads.
    let detections = folded
        .detections
        .iter()
        .map(|d| serde_json::from_str(&serde_json::to_string(d).unwrap()).unwrap())
        .collect();
    let incidents = folded
        .incidents
        .iter()
        .map(|i| serde_json::from_str(&serde_json::to_string(i).unwrap()).unwrap())
        .collect();
    Run::new(serde_json::json!({}), incidents, detections)
}

/// The corpus hunt the report tests use: `evtx/Credential Access` and the SSH logs
/// (24 detections, 9 incidents); `None` when the corpus is absent (a failure under CI).
pub fn corpus_run() -> Option<Run> {
    let evtx = vigil_test_support::corpus_path("evtx/Credential Access")?;
    let ssh = vigil_test_support::corpus_path("logs/linux-auth-sshd")?;
    Some(hunt(&[&evtx, &ssh]))
}

pub fn attack() -> vigil_attack::Attack {
    vigil_attack::Attack::embedded().unwrap()
}

/// Every IP address, technique id and dotted or digit-bearing name in `text` that the
/// incident's JSON does not contain: an independent check of a narrative, not the one the
/// agent runs.
pub fn unknown_entities(text: &str, incident: &Value) -> Vec<String> {
    let haystack = incident.to_string().to_lowercase();
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '"'))
        .map(|w| w.trim_matches(|c: char| matches!(c, '.' | ':' | '\'')))
        .filter(|w| {
            let ip = w.parse::<std::net::IpAddr>().is_ok();
            let technique =
                w.len() >= 5 && w.starts_with('T') && w[1..5].chars().all(|c| c.is_ascii_digit());
            let name = w.chars().any(|c| c.is_ascii_digit())
                && w.chars().any(|c| c.is_ascii_alphabetic())
                && !w.contains('-');
            ip || technique || name
        })
        .filter(|w| !haystack.contains(&w.to_lowercase()))
        .map(str::to_owned)
        .collect()
}
