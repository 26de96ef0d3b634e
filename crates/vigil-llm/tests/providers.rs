//! The remote providers and the chain against a mock server that speaks each provider's
//! wire format (`vigil_test_support::mock_llm`): what goes out, what comes back, and how
//! the chain handles each way a provider fails.
//!
//! Tests that need an API key from the environment run again in a child process of this
//! test binary with the variable set ([`with_env`]): setting a variable in this process
//! takes `unsafe` in edition 2024, which the workspace forbids.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use vigil_llm::{
    Chain, ChainError, Completion, Config, Message, ProviderConfig, ProviderError, Request,
    StreamEvent,
};
use vigil_test_support::mock_llm::{
    MockServer, Reply, STREAM_INPUT_TOKENS, anthropic_stream, gemini_stream, ollama_stream,
    openai_stream, pieces,
};

const ANSWER: &str = "The logon came from 10.0.0.5, a host of the finance subnet.";

/// What a caller saw while the chain streamed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Start(String, String),
    Token(String),
    Discard,
}

/// Runs `ask` and records the stream events it sends.
fn watch<T>(ask: impl FnOnce(&mut dyn FnMut(StreamEvent<'_>)) -> T) -> (T, Vec<Seen>) {
    let mut seen = Vec::new();
    let result = ask(&mut |event| {
        seen.push(match event {
            StreamEvent::Start { provider, model } => Seen::Start(provider.into(), model.into()),
            StreamEvent::Token(token) => Seen::Token(token.into()),
            StreamEvent::Discard => Seen::Discard,
        });
    });
    (result, seen)
}

/// The tokens of `seen`, in order.
fn tokens(seen: &[Seen]) -> Vec<String> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Token(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// A provider at `url` with no retries, short backoffs and a breaker that stays shut.
fn provider(name: &str, kind: &str, model: &str, url: &str) -> ProviderConfig {
    let mut config = ProviderConfig::new(name, kind, model);
    config.url = Some(url.to_owned());
    config.retries = 0;
    config.backoff_ms = 1;
    config.max_backoff_ms = 10;
    config.breaker_failures = 100;
    config.timeout_secs = 20.0;
    config.idle_timeout_secs = 10.0;
    config
}

fn chain(providers: Vec<ProviderConfig>) -> Chain {
    Chain::from_config(&Config { providers }, "test").expect("the chain builds")
}

fn ask() -> Request {
    Request::new(vec![
        Message::system("You are a security analyst."),
        Message::user("Where did the logon on WS-042 come from?"),
    ])
    .with_max_tokens(300)
}

fn verdict_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "verdict": {"type": "string", "enum": ["benign", "suspicious", "malicious"]},
            "reason": {"type": "string"}
        },
        "required": ["verdict", "reason"],
        "additionalProperties": false
    })
}

fn ask_json() -> Request {
    ask().with_schema("verdict", verdict_schema())
}

const VALID: &str = r#"{"verdict":"suspicious","reason":"encoded PowerShell from Word"}"#;

/// Runs `body` with the environment variables `vars` set. This process cannot set them
/// (see the module comment), so unless they are set already the test named `test` runs
/// again in a child process of this binary with them, and must pass there.
fn with_env(test: &str, vars: &[(&str, &str)], body: impl FnOnce()) {
    if vars
        .iter()
        .all(|(name, value)| std::env::var(name).as_deref() == Ok(*value))
    {
        body();
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe);
    child.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    for (name, value) in vars {
        child.env(name, value);
    }
    let output = child.output().expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{test} failed in the child process:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "{test} did not run in the child process:\n{stdout}"
    );
}

fn the_error(result: Result<Completion, ChainError>) -> ChainError {
    match result {
        Ok(completion) => panic!("expected every provider to fail, got {completion:?}"),
        Err(error) => error,
    }
}

/// The messages of a recorded OpenAI or Ollama request body, as (role, content).
fn messages(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap_or_default().to_owned(),
                m["content"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Each provider: a streamed answer, the request it sends, its error shapes.

#[test]
fn openai_streams_an_answer_and_sends_a_chat_completion_request() {
    const KEY_VAR: &str = "VIGIL_TEST_OPENAI_STREAM_KEY";
    with_env(
        "openai_streams_an_answer_and_sends_a_chat_completion_request",
        &[(KEY_VAR, "sk-test-openai-0001")],
        || {
            let server = MockServer::start(vec![openai_stream(ANSWER, "stop")]);
            let mut config = provider(
                "cloud",
                "openai",
                "gpt-4o-mini",
                &format!("{}/v1", server.url()),
            );
            config.api_key_env = Some(KEY_VAR.to_owned());
            let chain = chain(vec![config]);

            let (result, seen) = watch(|on| chain.complete(&ask(), on));
            let completion = result.expect("openai answers");

            assert_eq!(completion.text, ANSWER);
            assert_eq!(
                (
                    completion.provider.as_str(),
                    completion.kind.as_str(),
                    completion.model.as_str()
                ),
                ("cloud", "openai", "gpt-4o-mini")
            );
            assert_eq!(completion.input_tokens, Some(STREAM_INPUT_TOKENS));
            assert_eq!(completion.output_tokens, Some(pieces(ANSWER).len() as u64));
            assert!(completion.fallbacks.is_empty());
            assert!(completion.first_token.is_some() && completion.total.is_some());
            assert!(!completion.low_confidence);
            assert_eq!(seen[0], Seen::Start("cloud".into(), "gpt-4o-mini".into()));
            assert!(!seen.contains(&Seen::Discard));
            // The role chunk's empty content is no token: the text arrives in the pieces
            // the server sent.
            assert_eq!(tokens(&seen), pieces(ANSWER));

            let requests = server.requests();
            assert_eq!(requests.len(), 1);
            let request = &requests[0];
            assert_eq!(
                (request.method.as_str(), request.path.as_str()),
                ("POST", "/v1/chat/completions")
            );
            assert_eq!(
                request.header("authorization"),
                Some("Bearer sk-test-openai-0001")
            );
            assert_eq!(request.header("content-type"), Some("application/json"));
            let body = request.json();
            assert_eq!(body["model"], "gpt-4o-mini");
            assert_eq!(body["stream"], true);
            assert_eq!(body["stream_options"]["include_usage"], true);
            assert_eq!(body["max_tokens"], 300);
            assert_eq!(
                messages(&body),
                [
                    (
                        "system".to_owned(),
                        "You are a security analyst.".to_owned()
                    ),
                    (
                        "user".to_owned(),
                        "Where did the logon on WS-042 come from?".to_owned()
                    )
                ]
            );
            assert!(body.get("response_format").is_none());
        },
    );
}

#[test]
fn openai_gets_the_schema_as_a_json_schema_response_format() {
    let server = MockServer::start(vec![openai_stream(VALID, "stop")]);
    let chain = chain(vec![provider(
        "cloud",
        "openai",
        "gpt-4o-mini",
        &format!("{}/v1", server.url()),
    )]);

    let (value, completion) = chain
        .complete_json(&ask_json(), &mut |_| {})
        .expect("a valid answer");

    assert_eq!(value["verdict"], "suspicious");
    assert_eq!(completion.text, VALID);
    let body = server.requests()[0].json();
    // Without a configured key no authorization header is sent (local OpenAI-compatible
    // servers need none).
    assert_eq!(server.requests()[0].header("authorization"), None);
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["response_format"]["json_schema"]["name"], "verdict");
    assert_eq!(body["response_format"]["json_schema"]["strict"], true);
    assert_eq!(
        body["response_format"]["json_schema"]["schema"],
        verdict_schema()
    );
    // The schema is spelt out in the system message too.
    let system = &messages(&body)[0];
    assert_eq!(system.0, "system");
    assert!(
        system.1.starts_with("You are a security analyst.") && system.1.contains("\"enum\""),
        "{}",
        system.1
    );
}

#[test]
fn ollama_streams_an_answer_and_sends_a_native_chat_request() {
    let server = MockServer::start(vec![ollama_stream(ANSWER, "stop")]);
    let chain = chain(vec![provider("box", "ollama", "qwen2.5:7b", &server.url())]);

    let (result, seen) = watch(|on| chain.complete(&ask(), on));
    let completion = result.expect("ollama answers");

    assert_eq!(completion.text, ANSWER);
    assert_eq!(
        (
            completion.provider.as_str(),
            completion.kind.as_str(),
            completion.model.as_str()
        ),
        ("box", "ollama", "qwen2.5:7b")
    );
    assert_eq!(completion.input_tokens, Some(STREAM_INPUT_TOKENS));
    assert_eq!(completion.output_tokens, Some(pieces(ANSWER).len() as u64));
    assert_eq!(tokens(&seen), pieces(ANSWER));
    assert_eq!(seen[0], Seen::Start("box".into(), "qwen2.5:7b".into()));

    let request = &server.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/api/chat")
    );
    assert_eq!(request.header("authorization"), None);
    let body = request.json();
    assert_eq!(body["model"], "qwen2.5:7b");
    assert_eq!(body["stream"], true);
    assert_eq!(body["options"]["num_predict"], 300);
    assert_eq!(messages(&body).len(), 2);
    assert_eq!(messages(&body)[0].0, "system");
    assert!(body.get("format").is_none());
}

#[test]
fn ollama_gets_the_schema_as_its_format() {
    let server = MockServer::start(vec![ollama_stream(VALID, "stop")]);
    let chain = chain(vec![provider("box", "ollama", "qwen2.5:7b", &server.url())]);

    let (value, _) = chain
        .complete_json(&ask_json(), &mut |_| {})
        .expect("a valid answer");

    assert_eq!(value["reason"], "encoded PowerShell from Word");
    let body = server.requests()[0].json();
    assert_eq!(body["format"], verdict_schema());
    assert!(messages(&body)[0].1.contains("JSON Schema"));
}

#[test]
fn anthropic_streams_an_answer_and_sends_a_messages_request() {
    const KEY_VAR: &str = "VIGIL_TEST_ANTHROPIC_STREAM_KEY";
    with_env(
        "anthropic_streams_an_answer_and_sends_a_messages_request",
        &[(KEY_VAR, "sk-ant-test-0001")],
        || {
            let server = MockServer::start(vec![anthropic_stream(ANSWER, "end_turn")]);
            let mut config = provider(
                "claude",
                "anthropic",
                "claude-sonnet-4-20250514",
                &server.url(),
            );
            config.api_key_env = Some(KEY_VAR.to_owned());
            let chain = chain(vec![config]);

            let (result, seen) = watch(|on| chain.complete(&ask(), on));
            let completion = result.expect("anthropic answers");

            assert_eq!(completion.text, ANSWER);
            assert_eq!(
                (
                    completion.provider.as_str(),
                    completion.kind.as_str(),
                    completion.model.as_str()
                ),
                ("claude", "anthropic", "claude-sonnet-4-20250514")
            );
            assert_eq!(completion.input_tokens, Some(STREAM_INPUT_TOKENS));
            assert_eq!(completion.output_tokens, Some(pieces(ANSWER).len() as u64));
            assert_eq!(tokens(&seen), pieces(ANSWER));

            let request = &server.requests()[0];
            assert_eq!(
                (request.method.as_str(), request.path.as_str()),
                ("POST", "/v1/messages")
            );
            assert_eq!(request.header("x-api-key"), Some("sk-ant-test-0001"));
            assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
            assert_eq!(request.header("authorization"), None);
            let body = request.json();
            assert_eq!(body["model"], "claude-sonnet-4-20250514");
            assert_eq!(body["stream"], true);
            assert_eq!(body["max_tokens"], 300);
            assert_eq!(body["system"], "You are a security analyst.");
            assert_eq!(
                body["messages"],
                json!([{"role": "user", "content": "Where did the logon on WS-042 come from?"}])
            );
        },
    );
}

#[test]
fn anthropic_gets_the_schema_only_in_the_system_prompt() {
    const KEY_VAR: &str = "VIGIL_TEST_ANTHROPIC_SCHEMA_KEY";
    with_env(
        "anthropic_gets_the_schema_only_in_the_system_prompt",
        &[(KEY_VAR, "sk-ant-test-0002")],
        || {
            let server = MockServer::start(vec![anthropic_stream(VALID, "end_turn")]);
            let mut config = provider(
                "claude",
                "anthropic",
                "claude-sonnet-4-20250514",
                &server.url(),
            );
            config.api_key_env = Some(KEY_VAR.to_owned());
            let chain = chain(vec![config]);

            let (value, _) = chain
                .complete_json(&ask_json(), &mut |_| {})
                .expect("a valid answer");

            assert_eq!(value["verdict"], "suspicious");
            let body = server.requests()[0].json();
            let system = body["system"].as_str().expect("a system prompt");
            assert!(
                system.starts_with("You are a security analyst."),
                "{system}"
            );
            assert!(system.contains(&verdict_schema().to_string()), "{system}");
            let keys: Vec<&str> = body
                .as_object()
                .expect("an object")
                .keys()
                .map(String::as_str)
                .collect();
            let mut keys = keys;
            keys.sort_unstable();
            assert_eq!(
                keys,
                [
                    "max_tokens",
                    "messages",
                    "model",
                    "stream",
                    "system",
                    "temperature"
                ]
            );
            assert!(!body["messages"].to_string().contains("\"enum\""));
        },
    );
}

#[test]
fn gemini_streams_an_answer_and_sends_a_generate_content_request() {
    const KEY_VAR: &str = "VIGIL_TEST_GEMINI_STREAM_KEY";
    with_env(
        "gemini_streams_an_answer_and_sends_a_generate_content_request",
        &[(KEY_VAR, "AIzaTest0001")],
        || {
            let server = MockServer::start(vec![gemini_stream(ANSWER, "STOP")]);
            let mut config = provider("google", "gemini", "gemini-2.0-flash", &server.url());
            config.api_key_env = Some(KEY_VAR.to_owned());
            let chain = chain(vec![config]);

            let (result, seen) = watch(|on| chain.complete(&ask(), on));
            let completion = result.expect("gemini answers");

            assert_eq!(completion.text, ANSWER);
            assert_eq!(
                (
                    completion.provider.as_str(),
                    completion.kind.as_str(),
                    completion.model.as_str()
                ),
                ("google", "gemini", "gemini-2.0-flash")
            );
            assert_eq!(completion.input_tokens, Some(STREAM_INPUT_TOKENS));
            assert_eq!(completion.output_tokens, Some(pieces(ANSWER).len() as u64));
            assert_eq!(tokens(&seen), pieces(ANSWER));

            let request = &server.requests()[0];
            assert_eq!(request.method, "POST");
            assert_eq!(
                request.path,
                "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
            );
            assert_eq!(request.header("x-goog-api-key"), Some("AIzaTest0001"));
            assert_eq!(request.header("authorization"), None);
            let body = request.json();
            assert_eq!(
                body["contents"],
                json!([{"role": "user", "parts": [{"text": "Where did the logon on WS-042 come from?"}]}])
            );
            assert_eq!(
                body["systemInstruction"],
                json!({"parts": [{"text": "You are a security analyst."}]})
            );
            assert_eq!(body["generationConfig"]["maxOutputTokens"], 300);
            assert!(body["generationConfig"].get("responseJsonSchema").is_none());
        },
    );
}

#[test]
fn gemini_gets_the_schema_as_its_response_json_schema() {
    const KEY_VAR: &str = "VIGIL_TEST_GEMINI_SCHEMA_KEY";
    with_env(
        "gemini_gets_the_schema_as_its_response_json_schema",
        &[(KEY_VAR, "AIzaTest0002")],
        || {
            let server = MockServer::start(vec![gemini_stream(VALID, "STOP")]);
            let mut config = provider("google", "gemini", "gemini-2.0-flash", &server.url());
            config.api_key_env = Some(KEY_VAR.to_owned());
            let chain = chain(vec![config]);

            let (value, _) = chain
                .complete_json(&ask_json(), &mut |_| {})
                .expect("a valid answer");

            assert_eq!(value["verdict"], "suspicious");
            let body = server.requests()[0].json();
            assert_eq!(
                body["generationConfig"]["responseMimeType"],
                "application/json"
            );
            assert_eq!(
                body["generationConfig"]["responseJsonSchema"],
                verdict_schema()
            );
        },
    );
}

#[test]
fn an_openai_key_echoed_in_a_401_is_redacted() {
    const KEY_VAR: &str = "VIGIL_TEST_OPENAI_401_KEY";
    const KEY: &str = "sk-proj-wrongkey0123456789";
    with_env(
        "an_openai_key_echoed_in_a_401_is_redacted",
        &[(KEY_VAR, KEY)],
        || {
            let server = MockServer::start(vec![Reply::json(
            401,
            &json!({"error": {
                "message": format!("Incorrect API key provided: {KEY}. You can find your API key at https://platform.openai.com/account/api-keys."),
                "type": "invalid_request_error",
                "param": null,
                "code": "invalid_api_key"
            }})
            .to_string(),
        )]);
            let mut config = provider(
                "cloud",
                "openai",
                "gpt-4o-mini",
                &format!("{}/v1", server.url()),
            );
            config.api_key_env = Some(KEY_VAR.to_owned());
            config.retries = 2;
            let chain = chain(vec![config]);

            let error = the_error(chain.complete(&ask(), &mut |_| {}));

            let [attempt] = error.attempts.as_slice() else {
                panic!("{error:?}")
            };
            let ProviderError::Client {
                status: 401,
                message,
            } = &attempt.error
            else {
                panic!("{error:?}")
            };
            assert!(
                message.starts_with("Incorrect API key provided: [redacted]."),
                "{message}"
            );
            let text = format!("{error} {error:?}");
            assert!(!text.contains(KEY), "{text}");
            // A refused key is not retried.
            assert_eq!(server.requests().len(), 1);
        },
    );
}

#[test]
fn an_overloaded_anthropic_529_is_a_server_error_and_retried() {
    const KEY_VAR: &str = "VIGIL_TEST_ANTHROPIC_529_KEY";
    with_env(
        "an_overloaded_anthropic_529_is_a_server_error_and_retried",
        &[(KEY_VAR, "sk-ant-test-0003")],
        || {
            let overloaded = || {
                Reply::json(
                    529,
                    r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#,
                )
            };
            let server = MockServer::start(vec![overloaded(), overloaded()]);
            let mut config = provider(
                "claude",
                "anthropic",
                "claude-sonnet-4-20250514",
                &server.url(),
            );
            config.api_key_env = Some(KEY_VAR.to_owned());
            config.retries = 1;
            let chain = chain(vec![config]);

            let error = the_error(chain.complete(&ask(), &mut |_| {}));

            let expected = ProviderError::Server {
                status: 529,
                message: "Overloaded".to_owned(),
            };
            let errors: Vec<&ProviderError> = error.attempts.iter().map(|a| &a.error).collect();
            assert_eq!(errors, [&expected, &expected]);
            assert_eq!(server.requests().len(), 2);
        },
    );
}

#[test]
fn a_gemini_429_resource_exhausted_is_rate_limited() {
    const KEY_VAR: &str = "VIGIL_TEST_GEMINI_429_KEY";
    with_env(
        "a_gemini_429_resource_exhausted_is_rate_limited",
        &[(KEY_VAR, "AIzaTest0003")],
        || {
            let server = MockServer::start(vec![Reply::json(
                429,
                r#"{
  "error": {
    "code": 429,
    "message": "Resource has been exhausted (e.g. check quota).",
    "status": "RESOURCE_EXHAUSTED"
  }
}
"#,
            )]);
            let mut config = provider("google", "gemini", "gemini-2.0-flash", &server.url());
            config.api_key_env = Some(KEY_VAR.to_owned());
            let chain = chain(vec![config]);

            let error = the_error(chain.complete(&ask(), &mut |_| {}));

            assert_eq!(
                error.attempts[0].error,
                ProviderError::RateLimited {
                    retry_after: None,
                    message: "Resource has been exhausted (e.g. check quota).".to_owned()
                }
            );
        },
    );
}

#[test]
fn an_unknown_ollama_model_is_a_client_error() {
    let server = MockServer::start(vec![Reply::json(
        404,
        r#"{"error":"model 'qwen9:1b' not found"}"#,
    )]);
    let mut config = provider("box", "ollama", "qwen9:1b", &server.url());
    config.retries = 2;
    let chain = chain(vec![config]);

    let error = the_error(chain.complete(&ask(), &mut |_| {}));

    assert_eq!(
        error.attempts[0].error,
        ProviderError::Client {
            status: 404,
            message: "model 'qwen9:1b' not found".to_owned()
        }
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(
        error.to_string(),
        "no LLM provider answered: box: request refused (HTTP 404): model 'qwen9:1b' not found"
    );
}

#[test]
fn an_anthropic_error_event_mid_stream_fails_the_answer() {
    const KEY_VAR: &str = "VIGIL_TEST_ANTHROPIC_EVENT_KEY";
    with_env(
        "an_anthropic_error_event_mid_stream_fails_the_answer",
        &[(KEY_VAR, "sk-ant-test-0004")],
        || {
            let server = MockServer::start(vec![Reply::sse(&[
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-20250514\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n".to_owned(),
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n".to_owned(),
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"The logon\"}}\n\n".to_owned(),
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n".to_owned(),
        ])]);
            let mut config = provider(
                "claude",
                "anthropic",
                "claude-sonnet-4-20250514",
                &server.url(),
            );
            config.api_key_env = Some(KEY_VAR.to_owned());
            let chain = chain(vec![config]);

            let (result, seen) = watch(|on| chain.complete(&ask(), on));
            let error = the_error(result);

            assert_eq!(
                error.attempts[0].error,
                ProviderError::Server {
                    status: 0,
                    message: "overloaded_error: Overloaded".to_owned()
                }
            );
            assert_eq!(
                seen,
                [
                    Seen::Start("claude".into(), "claude-sonnet-4-20250514".into()),
                    Seen::Token("The logon".into()),
                    Seen::Discard
                ]
            );
        },
    );
}

// ---------------------------------------------------------------------------------------
// The chain.

#[test]
fn a_provider_that_does_not_answer_in_time_hands_over_to_the_next() {
    let slow = MockServer::start(vec![
        openai_stream(ANSWER, "stop").delay(Duration::from_secs(5)),
    ]);
    let next = MockServer::start(vec![ollama_stream(ANSWER, "stop")]);
    let mut first = provider("cloud", "openai", "gpt-4o-mini", &slow.url());
    first.idle_timeout_secs = 0.2;
    first.timeout_secs = 0.5;
    let chain = chain(vec![
        first,
        provider("box", "ollama", "qwen2.5:7b", &next.url()),
    ]);

    let (result, seen) = watch(|on| chain.complete(&ask(), on));
    let completion = result.expect("the second provider answers");

    assert_eq!(completion.provider, "box");
    assert_eq!(completion.fallbacks.len(), 1);
    assert_eq!(completion.fallbacks[0].provider, "cloud");
    assert!(
        matches!(completion.fallbacks[0].error, ProviderError::Timeout(_)),
        "{:?}",
        completion.fallbacks[0].error
    );
    assert_eq!(
        seen[..2],
        [
            Seen::Start("cloud".into(), "gpt-4o-mini".into()),
            Seen::Discard
        ]
    );
}

#[test]
fn a_stream_that_stalls_mid_answer_times_out_and_is_discarded() {
    let stalling = MockServer::start(vec![
        ollama_stream(ANSWER, "stop").chunk_delay(Duration::from_secs(5)),
    ]);
    let next = MockServer::start(vec![openai_stream(ANSWER, "stop")]);
    let mut first = provider("box", "ollama", "qwen2.5:7b", &stalling.url());
    first.idle_timeout_secs = 0.2;
    let chain = chain(vec![
        first,
        provider("cloud", "openai", "gpt-4o-mini", &next.url()),
    ]);

    let (result, seen) = watch(|on| chain.complete(&ask(), on));
    let completion = result.expect("the second provider answers");

    assert_eq!(completion.provider, "cloud");
    assert!(
        matches!(completion.fallbacks[0].error, ProviderError::Timeout(_)),
        "{:?}",
        completion.fallbacks[0].error
    );
    let first_piece = pieces(ANSWER)[0].clone();
    assert_eq!(
        seen[..3],
        [
            Seen::Start("box".into(), "qwen2.5:7b".into()),
            Seen::Token(first_piece),
            Seen::Discard
        ]
    );
    assert_eq!(completion.text, ANSWER);
}

#[test]
fn a_429_with_retry_after_is_retried_on_the_same_provider() {
    let server = MockServer::start(vec![
        Reply::json(
            429,
            r#"{"error":{"message":"Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
        )
        .header("Retry-After", "0"),
        openai_stream(ANSWER, "stop"),
    ]);
    let mut config = provider("cloud", "openai", "gpt-4o-mini", &server.url());
    config.retries = 1;
    // Retry-After wins over the backoff: a long backoff would not be waited for.
    config.backoff_ms = 60_000;
    config.max_backoff_ms = 60_000;
    let chain = chain(vec![config]);

    let (result, seen) = watch(|on| chain.complete(&ask(), on));
    let completion = result.expect("the retry answers");

    assert_eq!(completion.provider, "cloud");
    assert_eq!(completion.text, ANSWER);
    assert_eq!(server.requests().len(), 2);
    let [attempt] = completion.fallbacks.as_slice() else {
        panic!("{:?}", completion.fallbacks)
    };
    assert_eq!(attempt.provider, "cloud");
    assert!(
        matches!(&attempt.error, ProviderError::RateLimited { retry_after: Some(d), message } if d.is_zero() && message.starts_with("Rate limit reached")),
        "{:?}",
        attempt.error
    );
    let starts = seen.iter().filter(|s| matches!(s, Seen::Start(..))).count();
    assert_eq!(starts, 2);
}

#[test]
fn server_errors_are_retried_then_the_next_provider_answers_in_order() {
    let failing = MockServer::start(vec![
        Reply::json(
            503,
            r#"{"error":{"message":"The server is overloaded or not ready yet.","type":"server_error"}}"#,
        ),
        Reply::json(502, "<html><body>Bad gateway</body></html>"),
    ]);
    let next = MockServer::start(vec![ollama_stream(ANSWER, "stop")]);
    let mut first = provider("cloud", "openai", "gpt-4o-mini", &failing.url());
    first.retries = 1;
    let chain = chain(vec![
        first,
        provider("box", "ollama", "qwen2.5:7b", &next.url()),
    ]);

    let completion = chain
        .complete(&ask(), &mut |_| {})
        .expect("the second provider answers");

    assert_eq!(completion.provider, "box");
    let fallbacks: Vec<(&str, &ProviderError)> = completion
        .fallbacks
        .iter()
        .map(|a| (a.provider.as_str(), &a.error))
        .collect();
    assert_eq!(
        fallbacks,
        [
            (
                "cloud",
                &ProviderError::Server {
                    status: 503,
                    message: "The server is overloaded or not ready yet.".to_owned()
                }
            ),
            (
                "cloud",
                &ProviderError::Server {
                    status: 502,
                    message: "<html><body>Bad gateway</body></html>".to_owned()
                }
            ),
        ]
    );
}

#[test]
fn a_malformed_chunk_hands_over_to_the_next_provider_and_discards_the_partial_answer() {
    let broken = MockServer::start(vec![Reply::sse(&[
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The logon\"},\"finish_reason\":null}]}\n\n".to_owned(),
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chu\n\n".to_owned(),
    ])]);
    let next = MockServer::start(vec![ollama_stream(ANSWER, "stop")]);
    let mut first = provider("cloud", "openai", "gpt-4o-mini", &broken.url());
    first.retries = 2;
    let chain = chain(vec![
        first,
        provider("box", "ollama", "qwen2.5:7b", &next.url()),
    ]);

    let (result, seen) = watch(|on| chain.complete(&ask(), on));
    let completion = result.expect("the second provider answers");

    assert_eq!(completion.provider, "box");
    assert!(
        matches!(&completion.fallbacks[0].error, ProviderError::Malformed(m) if m.contains("not JSON")),
        "{:?}",
        completion.fallbacks
    );
    // Malformed data is not retried.
    assert_eq!(broken.requests().len(), 1);
    assert_eq!(
        seen[..4],
        [
            Seen::Start("cloud".into(), "gpt-4o-mini".into()),
            Seen::Token("The logon".into()),
            Seen::Discard,
            Seen::Start("box".into(), "qwen2.5:7b".into())
        ]
    );
    assert!(!seen[4..].contains(&Seen::Discard));
}

#[test]
fn every_providers_token_limit_is_a_truncated_answer() {
    const ANTHROPIC: &str = "VIGIL_TEST_TRUNCATED_ANTHROPIC_KEY";
    const GEMINI: &str = "VIGIL_TEST_TRUNCATED_GEMINI_KEY";
    with_env(
        "every_providers_token_limit_is_a_truncated_answer",
        &[(ANTHROPIC, "sk-ant-test-0005"), (GEMINI, "AIzaTest0005")],
        || {
            let openai = MockServer::start(vec![openai_stream(ANSWER, "length")]);
            let ollama = MockServer::start(vec![ollama_stream(ANSWER, "length")]);
            let anthropic = MockServer::start(vec![anthropic_stream(ANSWER, "max_tokens")]);
            let gemini = MockServer::start(vec![gemini_stream(ANSWER, "MAX_TOKENS")]);
            let last = MockServer::start(vec![ollama_stream("Short.", "stop")]);
            let mut claude = provider(
                "claude",
                "anthropic",
                "claude-sonnet-4-20250514",
                &anthropic.url(),
            );
            claude.api_key_env = Some(ANTHROPIC.to_owned());
            let mut google = provider("google", "gemini", "gemini-2.0-flash", &gemini.url());
            google.api_key_env = Some(GEMINI.to_owned());
            let mut openai_config = provider("cloud", "openai", "gpt-4o-mini", &openai.url());
            // A cut-off answer is not retried.
            openai_config.retries = 2;
            let chain = chain(vec![
                openai_config,
                provider("box", "ollama", "qwen2.5:7b", &ollama.url()),
                claude,
                google,
                provider("last", "ollama", "qwen2.5:0.5b", &last.url()),
            ]);

            let (result, seen) = watch(|on| chain.complete(&ask(), on));
            let completion = result.expect("the last provider answers");

            assert_eq!(completion.text, "Short.");
            let fallbacks: Vec<(&str, &ProviderError)> = completion
                .fallbacks
                .iter()
                .map(|a| (a.provider.as_str(), &a.error))
                .collect();
            assert_eq!(
                fallbacks,
                [
                    ("cloud", &ProviderError::Truncated),
                    ("box", &ProviderError::Truncated),
                    ("claude", &ProviderError::Truncated),
                    ("google", &ProviderError::Truncated),
                ]
            );
            assert_eq!(openai.requests().len(), 1);
            assert_eq!(seen.iter().filter(|s| **s == Seen::Discard).count(), 4);
        },
    );
}

#[test]
fn a_stream_cut_mid_way_is_a_broken_connection() {
    let role = "data: {\"id\":\"chatcmpl-2\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n";
    let piece = "data: {\"id\":\"chatcmpl-2\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The logon\"},\"finish_reason\":null}]}\n\n";
    let cut_openai =
        MockServer::start(vec![Reply::sse(&[role.to_owned(), piece.to_owned()]).cut()]);
    let cut_ollama = MockServer::start(vec![
        Reply::ndjson(&[r#"{"model":"qwen2.5:7b","created_at":"2025-03-10T08:15:01.120456789Z","message":{"role":"assistant","content":"The"},"done":false}"#.to_owned()])
            .cut(),
    ]);
    let next = MockServer::start(vec![openai_stream(ANSWER, "stop")]);
    let chain = chain(vec![
        provider("cloud", "openai", "gpt-4o-mini", &cut_openai.url()),
        provider("box", "ollama", "qwen2.5:7b", &cut_ollama.url()),
        provider("backup", "openai", "gpt-4o", &next.url()),
    ]);

    let (result, seen) = watch(|on| chain.complete(&ask(), on));
    let completion = result.expect("the third provider answers");

    assert_eq!(completion.provider, "backup");
    let fallbacks: Vec<&str> = completion
        .fallbacks
        .iter()
        .map(|a| a.provider.as_str())
        .collect();
    assert_eq!(fallbacks, ["cloud", "box"]);
    for attempt in &completion.fallbacks {
        assert!(
            matches!(&attempt.error, ProviderError::Connect(m) if m.contains("broke off")),
            "{attempt:?}"
        );
    }
    assert_eq!(seen.iter().filter(|s| **s == Seen::Discard).count(), 2);
    assert!(seen.contains(&Seen::Token("The logon".into())));
    assert_eq!(completion.text, ANSWER);
}

#[test]
fn a_cut_stream_is_retried_on_the_same_provider() {
    let piece = "data: {\"id\":\"chatcmpl-3\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The\"},\"finish_reason\":null}]}\n\n";
    let server = MockServer::start(vec![
        Reply::sse(&[piece.to_owned()]).cut(),
        openai_stream(ANSWER, "stop"),
    ]);
    let mut config = provider("cloud", "openai", "gpt-4o-mini", &server.url());
    config.retries = 1;
    let chain = chain(vec![config]);

    let (result, seen) = watch(|on| chain.complete(&ask(), on));
    let completion = result.expect("the retry answers");

    assert_eq!(completion.text, ANSWER);
    assert_eq!(server.requests().len(), 2);
    assert!(matches!(
        completion.fallbacks[0].error,
        ProviderError::Connect(_)
    ));
    let discard = seen
        .iter()
        .position(|s| *s == Seen::Discard)
        .expect("a discard");
    assert_eq!(seen[discard - 1], Seen::Token("The".into()));
    assert_eq!(
        seen[discard + 1],
        Seen::Start("cloud".into(), "gpt-4o-mini".into())
    );
}

#[test]
fn a_missing_api_key_makes_the_provider_unavailable_and_the_next_answers() {
    let unused = MockServer::start(vec![]);
    let next = MockServer::start(vec![ollama_stream(ANSWER, "stop")]);
    let mut keyed = provider("cloud", "openai", "gpt-4o-mini", &unused.url());
    keyed.api_key_env = Some("VIGIL_TEST_NEVER_SET_OPENAI_KEY".to_owned());
    keyed.retries = 2;
    // Anthropic needs a key, and none is configured.
    let keyless = provider(
        "claude",
        "anthropic",
        "claude-sonnet-4-20250514",
        &unused.url(),
    );
    let chain = chain(vec![
        keyed,
        keyless,
        provider("box", "ollama", "qwen2.5:7b", &next.url()),
    ]);

    let completion = chain
        .complete(&ask(), &mut |_| {})
        .expect("the third provider answers");

    assert_eq!(completion.provider, "box");
    assert_eq!(completion.fallbacks.len(), 2);
    let ProviderError::Unavailable(why) = &completion.fallbacks[0].error else {
        panic!("{:?}", completion.fallbacks)
    };
    assert!(why.contains("VIGIL_TEST_NEVER_SET_OPENAI_KEY"), "{why}");
    assert!(matches!(
        completion.fallbacks[1].error,
        ProviderError::Unavailable(_)
    ));
    assert!(unused.requests().is_empty());

    // An unavailable provider does not trip its breaker: it is tried (and fails at once)
    // on every call.
    for _ in 0..4 {
        let completion = chain.complete(&ask(), &mut |_| {});
        let fallbacks = completion
            .map(|c| c.fallbacks)
            .unwrap_or_else(|e| e.attempts);
        assert!(
            matches!(fallbacks[0].error, ProviderError::Unavailable(_)),
            "{fallbacks:?}"
        );
    }
}

#[test]
fn the_breaker_opens_skips_the_provider_and_lets_one_trial_through_after_the_cooldown() {
    let healthy = Arc::new(AtomicBool::new(false));
    let flaky = {
        let healthy = Arc::clone(&healthy);
        MockServer::with(move |_| {
            if healthy.load(Ordering::SeqCst) {
                openai_stream("Back.", "stop")
            } else {
                Reply::json(
                    500,
                    r#"{"error":{"message":"The server had an error while processing your request."}}"#,
                )
            }
        })
    };
    let backup = MockServer::with(|_| ollama_stream(ANSWER, "stop"));
    let mut first = provider("cloud", "openai", "gpt-4o-mini", &flaky.url());
    first.breaker_failures = 2;
    first.breaker_cooldown_secs = 1.0;
    let chain = chain(vec![
        first,
        provider("box", "ollama", "qwen2.5:7b", &backup.url()),
    ]);
    let call = || {
        chain
            .complete(&ask(), &mut |_| {})
            .expect("the backup answers")
    };
    let first_error = |c: &Completion| c.fallbacks[0].error.clone();

    // Two failed calls open the breaker.
    for _ in 0..2 {
        let completion = call();
        assert!(matches!(
            first_error(&completion),
            ProviderError::Server { status: 500, .. }
        ));
    }
    assert_eq!(flaky.requests().len(), 2);

    // While it is open, the provider is skipped without a request.
    for _ in 0..3 {
        let completion = call();
        assert_eq!(completion.provider, "box");
        assert!(
            matches!(first_error(&completion), ProviderError::CircuitOpen(_)),
            "{:?}",
            completion.fallbacks
        );
    }
    assert_eq!(flaky.requests().len(), 2);

    // After the cooldown one trial request is made; it fails and the breaker reopens.
    std::thread::sleep(Duration::from_millis(1_200));
    let completion = call();
    assert!(matches!(
        first_error(&completion),
        ProviderError::Server { status: 500, .. }
    ));
    assert_eq!(flaky.requests().len(), 3);
    let completion = call();
    assert!(matches!(
        first_error(&completion),
        ProviderError::CircuitOpen(_)
    ));
    assert_eq!(flaky.requests().len(), 3);

    // After the next cooldown the trial succeeds and the breaker closes.
    healthy.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(1_200));
    for expected in 4..=5 {
        let completion = call();
        assert_eq!(completion.provider, "cloud");
        assert_eq!(completion.text, "Back.");
        assert!(completion.fallbacks.is_empty());
        assert_eq!(flaky.requests().len(), expected);
    }
}

#[test]
fn a_trial_after_the_cooldown_is_one_request_even_with_retries() {
    let down = MockServer::with(|_| Reply::json(503, r#"{"error":{"message":"down"}}"#));
    let mut config = provider("cloud", "openai", "gpt-4o-mini", &down.url());
    config.retries = 3;
    config.breaker_failures = 2;
    config.breaker_cooldown_secs = 0.3;
    let chain = chain(vec![config]);

    // Two failed tries open the breaker; the remaining retries are skipped.
    let error = the_error(chain.complete(&ask(), &mut |_| {}));
    assert_eq!(down.requests().len(), 2);
    assert!(
        matches!(
            error.attempts.last().map(|a| &a.error),
            Some(ProviderError::CircuitOpen(_))
        ),
        "{error:?}"
    );

    std::thread::sleep(Duration::from_millis(500));
    let error = the_error(chain.complete(&ask(), &mut |_| {}));
    assert_eq!(down.requests().len(), 3);
    let errors: Vec<&ProviderError> = error.attempts.iter().map(|a| &a.error).collect();
    assert!(
        matches!(
            errors.as_slice(),
            [
                ProviderError::Server { status: 503, .. },
                ProviderError::CircuitOpen(_)
            ]
        ),
        "{errors:?}"
    );
}

#[test]
fn an_invalid_json_answer_is_repaired_once_with_the_errors() {
    let server = MockServer::start(vec![
        openai_stream(
            r#"{"verdict":"maybe","reason":"encoded PowerShell"}"#,
            "stop",
        ),
        openai_stream(VALID, "stop"),
    ]);
    let chain = chain(vec![provider(
        "cloud",
        "openai",
        "gpt-4o-mini",
        &server.url(),
    )]);

    let (result, seen) = watch(|on| chain.complete_json(&ask_json(), on));
    let (value, completion) = result.expect("the repaired answer is accepted");

    assert_eq!(
        value,
        serde_json::from_str::<Value>(VALID).expect("valid JSON")
    );
    assert_eq!(completion.text, VALID);
    assert!(
        completion.fallbacks.is_empty(),
        "{:?}",
        completion.fallbacks
    );
    // Tokens of both requests are counted.
    assert_eq!(completion.input_tokens, Some(2 * STREAM_INPUT_TOKENS));

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let repair = messages(&requests[1].json());
    let first = messages(&requests[0].json());
    assert_eq!(repair.len(), first.len() + 2);
    assert_eq!(repair[..first.len()], first[..]);
    assert_eq!(
        repair[first.len()],
        (
            "assistant".to_owned(),
            r#"{"verdict":"maybe","reason":"encoded PowerShell"}"#.to_owned()
        )
    );
    let (role, content) = &repair[first.len() + 1];
    assert_eq!(role, "user");
    assert_eq!(
        content,
        "That answer is not valid: $.verdict: \"maybe\" is not one of \"benign\", \"suspicious\", \
         \"malicious\". Answer again with only the corrected JSON object."
    );
    assert_eq!(
        requests[1].json()["response_format"]["json_schema"]["schema"],
        verdict_schema()
    );

    // The rejected answer is discarded before the repair streams.
    let starts: Vec<usize> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, Seen::Start(..)))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(starts.len(), 2);
    assert_eq!(seen[starts[1] - 1], Seen::Discard);
    assert!(!seen[starts[1]..].contains(&Seen::Discard));
}

#[test]
fn an_answer_that_is_not_json_is_repaired_too() {
    let server = MockServer::start(vec![
        ollama_stream(
            "I think it is suspicious because of the encoded command.",
            "stop",
        ),
        ollama_stream(&format!("```json\n{VALID}\n```"), "stop"),
    ]);
    let chain = chain(vec![provider("box", "ollama", "qwen2.5:7b", &server.url())]);

    let (value, _) = chain
        .complete_json(&ask_json(), &mut |_| {})
        .expect("the repaired answer is accepted");

    assert_eq!(value["verdict"], "suspicious");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn an_answer_still_invalid_after_the_repair_hands_over_to_the_next_provider() {
    let stubborn = MockServer::start(vec![
        openai_stream(r#"{"verdict":"maybe"}"#, "stop"),
        openai_stream(r#"{"verdict":"perhaps"}"#, "stop"),
    ]);
    let next = MockServer::start(vec![ollama_stream(VALID, "stop")]);
    let mut first = provider("cloud", "openai", "gpt-4o-mini", &stubborn.url());
    first.retries = 2;
    let chain = chain(vec![
        first,
        provider("box", "ollama", "qwen2.5:7b", &next.url()),
    ]);

    let (result, seen) = watch(|on| chain.complete_json(&ask_json(), on));
    let (value, completion) = result.expect("the next provider's answer is accepted");

    assert_eq!(value["verdict"], "suspicious");
    assert_eq!(completion.provider, "box");
    let [attempt] = completion.fallbacks.as_slice() else {
        panic!("{:?}", completion.fallbacks)
    };
    assert_eq!(attempt.provider, "cloud");
    let ProviderError::Invalid(why) = &attempt.error else {
        panic!("{attempt:?}")
    };
    assert_eq!(
        why,
        "$.verdict: \"perhaps\" is not one of \"benign\", \"suspicious\", \"malicious\"; \
         $: `reason` is missing"
    );
    // One answer and one repair; an invalid answer is not retried.
    assert_eq!(stubborn.requests().len(), 2);
    // Each rejected answer is discarded before the next one streams.
    assert_eq!(seen.iter().filter(|s| **s == Seen::Discard).count(), 2);
    let last_start = seen
        .iter()
        .rposition(|s| matches!(s, Seen::Start(..)))
        .expect("a start");
    assert_eq!(
        seen[last_start],
        Seen::Start("box".into(), "qwen2.5:7b".into())
    );
    assert_eq!(seen[last_start - 1], Seen::Discard);
    assert_eq!(tokens(&seen[last_start..]), pieces(VALID));
}

#[test]
fn a_chain_that_gives_up_on_invalid_json_ends_with_a_discard() {
    let stubborn = MockServer::start(vec![
        ollama_stream(r#"{"verdict":"maybe"}"#, "stop"),
        ollama_stream(r#"{"verdict":"maybe"}"#, "stop"),
    ]);
    let chain = chain(vec![provider(
        "box",
        "ollama",
        "qwen2.5:7b",
        &stubborn.url(),
    )]);

    let (result, seen) = watch(|on| chain.complete_json(&ask_json(), on));

    let error = match result {
        Ok(answer) => panic!("an invalid answer was accepted: {answer:?}"),
        Err(error) => error,
    };
    assert!(
        matches!(error.attempts.as_slice(), [a] if matches!(a.error, ProviderError::Invalid(_))),
        "{error:?}"
    );
    assert_eq!(seen.last(), Some(&Seen::Discard));
}

#[test]
fn a_provider_that_is_down_is_a_connection_failure() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let next = MockServer::start(vec![ollama_stream(ANSWER, "stop")]);
    let mut down = provider(
        "cloud",
        "openai",
        "gpt-4o-mini",
        &format!("http://127.0.0.1:{port}/v1"),
    );
    down.retries = 1;
    let chain = chain(vec![
        down,
        provider("box", "ollama", "qwen2.5:7b", &next.url()),
    ]);

    let completion = chain
        .complete(&ask(), &mut |_| {})
        .expect("the second provider answers");

    assert_eq!(completion.provider, "box");
    // A refused connection is transient: tried once more, then handed over.
    assert_eq!(completion.fallbacks.len(), 2);
    for attempt in &completion.fallbacks {
        let ProviderError::Connect(message) = &attempt.error else {
            panic!("{attempt:?}")
        };
        // No answer ever started, so none "broke off".
        assert!(!message.contains("broke off"), "{message}");
    }
}

#[test]
fn a_key_echoed_inside_a_stream_is_redacted_too() {
    const KEY: &str = "sk-ant-api03-streamedkey987654321";
    let dir = std::env::temp_dir().join(format!("vigil-llm-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("anthropic.key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let server = MockServer::start(vec![Reply::sse(&[
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n".to_owned(),
        format!("event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"authentication_error\",\"message\":\"key {KEY} was revoked\"}}}}\n\n"),
    ])]);
    let mut config = provider("claude", "anthropic", "claude-sonnet-4", &server.url());
    config.api_key_file = Some(key_file);
    let error = the_error(chain(vec![config]).complete(&ask(), &mut |_| {}));
    let text = format!("{error} {error:?}");
    assert!(!text.contains(KEY), "{text}");
    assert!(text.contains("key [redacted] was revoked"), "{text}");
    // The key went in the header the API expects.
    assert_eq!(server.requests()[0].header("x-api-key"), Some(KEY));
}

#[test]
fn a_server_that_refuses_json_schema_gets_the_schema_as_json_object() {
    // llama-cpp-python's server answers OpenAI's `json_schema` format with a validation error.
    let server = MockServer::start(vec![
        Reply::json(
            500,
            r#"{"error":{"message":"1 validation error: ('body', 'response_format', 'type') Input should be 'text' or 'json_object'"}}"#,
        ),
        openai_stream(VALID, "stop"),
    ]);
    let chain = chain(vec![provider("llama", "openai", "smollm2", &server.url())]);
    let (value, _) = chain
        .complete_json(&ask_json(), &mut |_| {})
        .expect("a valid answer");
    assert_eq!(value["verdict"], "suspicious");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].json()["response_format"]["type"], "json_schema");
    assert_eq!(requests[1].json()["response_format"]["type"], "json_object");
    assert_eq!(
        requests[1].json()["response_format"]["schema"],
        verdict_schema()
    );
}

#[test]
fn a_refused_json_schema_is_remembered_for_the_next_request() {
    let server = MockServer::start(vec![
        Reply::json(
            500,
            r#"{"error":{"message":"('body', 'response_format', 'type') Input should be 'text' or 'json_object'"}}"#,
        ),
        openai_stream(VALID, "stop"),
        openai_stream(VALID, "stop"),
    ]);
    let chain = chain(vec![provider("llama", "openai", "smollm2", &server.url())]);
    for _ in 0..2 {
        chain
            .complete_json(&ask_json(), &mut |_| {})
            .expect("a valid answer");
    }
    let kinds: Vec<Value> = server
        .requests()
        .iter()
        .map(|r| r.json()["response_format"]["type"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            json!("json_schema"),
            json!("json_object"),
            json!("json_object")
        ]
    );
}
