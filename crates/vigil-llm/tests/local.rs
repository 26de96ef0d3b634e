//! The in-process GGUF provider with a real small model: SmolLM2-135M-Instruct (Q4_1),
//! fetched by `scripts/models`. Without the model these tests say so and pass, except
//! under `CI=true`, where a missing model fails them.
#![cfg(feature = "local")]

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};
use vigil_llm::{
    Chain, Completion, Config, Message, ProviderError, Request, StreamEvent, validate,
};

const MODEL: &str = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf";

/// The test model: `$VIGIL_LLM_MODEL`, else the one `scripts/models` fetches.
fn model() -> Option<PathBuf> {
    let path = std::env::var_os("VIGIL_LLM_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| vigil_test_support::workspace_root().join(MODEL));
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing: run scripts/models",
        path.display()
    );
    eprintln!(
        "note: {} is missing; run scripts/models to test the local model",
        path.display()
    );
    None
}

/// A chain of the model at `path`, on one thread: nextest runs tests side by side, and
/// llama.cpp threads that outnumber the cores slow each other down many times over.
fn chain(path: &Path) -> Chain {
    let mut config = Config::local(path);
    config.providers[0].threads = Some(1);
    Chain::from_config(&config, "test").expect("a local chain builds")
}

fn triage_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "summary": {"type": "string", "maxLength": 200},
            "severity": {"type": "string", "enum": ["low", "medium", "high"]}
        },
        "required": ["summary", "severity"],
        "additionalProperties": false
    })
}

/// Calls `ask` and returns its result with the text streamed for the answer that was kept.
fn streaming<T>(ask: impl FnOnce(&mut dyn FnMut(StreamEvent<'_>)) -> T) -> (T, String) {
    let mut streamed = String::new();
    let result = ask(&mut |event| match event {
        StreamEvent::Start { .. } | StreamEvent::Discard => streamed.clear(),
        StreamEvent::Token(token) => streamed.push_str(token),
    });
    (result, streamed)
}

#[test]
fn a_schema_constrained_answer_is_valid_json_and_streams_whole() {
    let Some(path) = model() else { return };
    let chain = chain(&path);
    let mut request = Request::new(vec![
        Message::system("You are a security analyst. Triage the incident."),
        Message::user(
            "On host WS-042, winword.exe started powershell.exe -enc JABjAD0A..., which connected \
             to 185.220.101.7:443 and wrote C:\\Users\\Public\\svc.exe.",
        ),
    ])
    .with_schema("triage", triage_schema())
    .with_max_tokens(200);
    request.temperature = 0.0;

    let (result, streamed) = streaming(|on| chain.complete_json(&request, on));
    let (value, completion): (Value, Completion) = result.expect("the local model answers");

    assert_eq!(
        validate(&value, &triage_schema()),
        Vec::<String>::new(),
        "{value}"
    );
    assert_eq!(completion.kind, "local");
    assert!(completion.low_confidence);
    assert!(
        completion.fallbacks.is_empty(),
        "{:?}",
        completion.fallbacks
    );
    assert_eq!(streamed, completion.text);
    assert!(
        completion.input_tokens.is_some_and(|n| n > 20),
        "{:?}",
        completion.input_tokens
    );
    assert!(
        completion.output_tokens.is_some_and(|n| n > 3),
        "{:?}",
        completion.output_tokens
    );
    assert!(completion.first_token.is_some());
}

#[test]
fn nullable_fields_enums_arrays_and_numbers_are_held_by_the_grammar() {
    let Some(path) = model() else { return };
    let chain = chain(&path);
    let schema = json!({
        "type": "object",
        "properties": {
            "host": {"type": "string", "maxLength": 40},
            "user": {"type": ["string", "null"], "maxLength": 20},
            "level": {"enum": [null, "low", "high"]},
            "ports": {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 16}, "minItems": 1, "maxItems": 3},
            "benign": {"type": "boolean"}
        },
        "required": ["host", "user", "level", "ports", "tags", "benign"],
        "additionalProperties": false
    });
    let mut request = Request::new(vec![Message::user(
        "Describe this connection: host WS-042 (user alice) connected to 185.220.101.7 on ports 443 and 8443.",
    )])
    .with_schema("connection", schema.clone())
    .with_max_tokens(400);
    request.temperature = 0.0;

    let (result, _) = streaming(|on| chain.complete_json(&request, on));
    let (value, _) = result.expect("the local model answers");
    assert_eq!(validate(&value, &schema), Vec::<String>::new(), "{value}");

    // Strings longer than llama.cpp's 2,000-repetition limit (vigil-agent's narrative asks
    // for 4,000 characters) are still a grammar llama.cpp takes: the answer runs, and is cut.
    let long = json!({
        "type": "object",
        "properties": {"text": {"type": "string", "maxLength": 4000}},
        "required": ["text"],
        "additionalProperties": false
    });
    let mut request = Request::new(vec![Message::user("Tell a long story.")])
        .with_schema("story", long)
        .with_max_tokens(8);
    request.temperature = 0.0;
    let (result, _) = streaming(|on| chain.complete_json(&request, on));
    let error = result.expect_err("eight tokens are not enough");
    let errors: Vec<&ProviderError> = error.attempts.iter().map(|a| &a.error).collect();
    assert_eq!(errors, [&ProviderError::Truncated], "{error}");
}

#[test]
fn an_answer_cut_off_at_the_token_limit_is_a_failure() {
    let Some(path) = model() else { return };
    let chain = chain(&path);
    let mut request = Request::new(vec![Message::user("Write three sentences about the sea.")])
        .with_max_tokens(4);
    request.temperature = 0.0;

    let (result, _) = streaming(|on| chain.complete(&request, on));
    let error = result.expect_err("four tokens are not enough");

    let errors: Vec<&ProviderError> = error.attempts.iter().map(|a| &a.error).collect();
    assert_eq!(errors, [&ProviderError::Truncated], "{error}");
}

#[test]
fn a_prompt_longer_than_the_context_is_refused() {
    let Some(path) = model() else { return };
    let mut config = Config::local(&path);
    config.providers[0].threads = Some(1);
    config.providers[0].context = Some(64);
    let chain = Chain::from_config(&config, "test").expect("a local chain builds");
    let request = Request::new(vec![Message::user("alert ".repeat(200))]);

    let (result, _) = streaming(|on| chain.complete(&request, on));
    let error = result.expect_err("the prompt does not fit");

    assert_eq!(error.attempts.len(), 1, "{error}");
    assert!(
        matches!(&error.attempts[0].error, ProviderError::Client { status: 0, message } if message.contains("context holds 64")),
        "{error}"
    );
}

#[test]
fn a_missing_model_file_is_unavailable() {
    let chain = chain(Path::new("/nonexistent/vigil/model.gguf"));
    let request = Request::new(vec![Message::user("Hello.")]);

    let (result, _) = streaming(|on| chain.complete(&request, on));
    let error = result.expect_err("there is no model");

    assert_eq!(error.attempts.len(), 1, "{error}");
    assert!(
        matches!(&error.attempts[0].error, ProviderError::Unavailable(why) if why.contains("does not exist")),
        "{error}"
    );
}

/// Time to first token and total time for a narrative-sized request (~600 tokens in, up to
/// 200 out, schema-constrained), on the default threads or `$VIGIL_LLM_THREADS`. Run with
/// `cargo nextest run -p vigil-llm --features local --run-ignored only --no-capture`.
#[test]
#[ignore = "a timing run, not a check"]
fn narrative_timing() {
    let Some(path) = model() else { return };
    let mut config = Config::local(&path);
    config.providers[0].threads = std::env::var("VIGIL_LLM_THREADS")
        .ok()
        .and_then(|t| t.parse().ok());
    let chain = Chain::from_config(&config, "test").expect("a local chain builds");
    let events: Vec<String> = (0..12)
        .map(|i| {
            format!(
                "{:02}:{:02} host WS-{:03} user alice process powershell.exe parent winword.exe \
                 connected to 185.220.101.{} port 443.",
                9 + i / 6,
                (i * 7) % 60,
                40 + i % 3,
                i + 1
            )
        })
        .collect();
    let schema = json!({
        "type": "object",
        "properties": {
            "narrative": {"type": "string", "maxLength": 400},
            "severity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
            "next_steps": {"type": "array", "items": {"type": "string", "maxLength": 80}, "maxItems": 2}
        },
        "required": ["narrative", "severity", "next_steps"],
        "additionalProperties": false
    });
    let mut request = Request::new(vec![
        Message::system(
            "You are a security analyst. Write a short incident narrative from the events, \
             rate its severity and suggest next steps.",
        ),
        Message::user(format!("Events:\n{}", events.join("\n"))),
    ])
    .with_schema("narrative", schema.clone())
    .with_max_tokens(200);
    request.temperature = 0.0;

    for run in ["cold (loads the model)", "warm"] {
        let started = Instant::now();
        let mut first = None;
        let mut text = String::new();
        let result = chain.complete(&request, &mut |event| {
            if let StreamEvent::Token(token) = event {
                first.get_or_insert_with(|| started.elapsed());
                text.push_str(token);
            }
        });
        let total = started.elapsed();
        let first = first.unwrap_or_default();
        match result {
            Ok(completion) => {
                let output = completion.output_tokens.unwrap_or(0);
                println!(
                    "{run}: {} tokens in, {output} out; first token {:.0} ms, total {:.0} ms, {:.1} tokens/s after the first",
                    completion.input_tokens.unwrap_or(0),
                    first.as_secs_f64() * 1e3,
                    total.as_secs_f64() * 1e3,
                    output.saturating_sub(1) as f64 / (total - first).as_secs_f64()
                );
            }
            Err(error) => println!(
                "{run}: failed after {:.0} ms (first token {:.0} ms): {error}",
                total.as_secs_f64() * 1e3,
                first.as_secs_f64() * 1e3
            ),
        }
        println!("{text}");
    }
}
