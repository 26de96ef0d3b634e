//! Opt-in: the OpenAI-compatible provider against a real `llama-cpp-python[server]` on
//! loopback (`scripts/llama-server-check` installs it, starts it with the SmolLM2 model,
//! and runs this test with `VIGIL_LLAMA_SERVER` set to its URL). Without the variable the
//! test says so and passes: the server takes a long C++ build, so CI does not run it.

use serde_json::json;
use vigil_llm::{Chain, Config, Message, Request, StreamEvent, validate};

fn server() -> Option<String> {
    match std::env::var("VIGIL_LLAMA_SERVER") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("note: VIGIL_LLAMA_SERVER is not set; run scripts/llama-server-check");
            None
        }
    }
}

#[test]
fn a_real_llama_cpp_server_streams_and_answers_schema_valid_json() {
    let Some(url) = server() else { return };
    let config = Config::parse(
        &format!("[[provider]]\nname = \"llama\"\nkind = \"openai\"\nmodel = \"smollm2\"\nurl = \"{url}/v1\"\nretries = 1\n"),
        "test",
    )
    .expect("a providers file");
    let chain = Chain::from_config(&config, "test").expect("a chain");
    let mut tokens = 0;
    let plain = chain.complete(
        &Request::new(vec![Message::user("Say hello in five words.")]).with_max_tokens(40),
        &mut |event| {
            if let StreamEvent::Token(_) = event {
                tokens += 1;
            }
        },
    );
    // A 40-token limit may cut the answer off; either way the server streamed.
    match plain {
        Ok(completion) => assert!(!completion.text.is_empty()),
        Err(error) => assert!(error.to_string().contains("cut off"), "{error}"),
    }
    assert!(tokens > 1, "the answer streamed in {tokens} piece(s)");

    let schema = json!({
        "type": "object",
        "properties": {
            "summary": {"type": "string", "maxLength": 200},
            "severity": {"enum": ["low", "medium", "high"]}
        },
        "required": ["summary", "severity"],
        "additionalProperties": false
    });
    let request = Request::new(vec![Message::user(
        "An attacker dumped LSASS memory on host DC1. Summarise and rate it.",
    )])
    .with_schema("triage", schema.clone())
    .with_max_tokens(200);
    let (value, completion) = chain
        .complete_json(&request, &mut |_| {})
        .expect("schema-valid JSON");
    assert_eq!(validate(&value, &schema), Vec::<String>::new());
    assert_eq!(
        (completion.provider.as_str(), completion.kind.as_str()),
        ("llama", "openai")
    );
}
