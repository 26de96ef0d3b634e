//! A tiny HTTP/1.1 server on loopback that answers like an LLM provider, for tests that must
//! not reach the network.
//!
//! [`MockServer::start`] answers requests with scripted [`Reply`]s in order;
//! [`MockServer::with`] answers each request with what a function returns for it. Every
//! request is recorded ([`MockServer::requests`]) with its method, path, headers and body.
//! Streamed bodies use chunked transfer encoding, one flushed chunk per event or line, so a
//! client sees them arrive in pieces and can tell a stream cut off ([`Reply::cut`]) from one
//! that ended. Every connection answers one request and is closed.
//!
//! [`openai_stream`], [`ollama_stream`], [`anthropic_stream`] and [`gemini_stream`] give
//! each provider's real streamed wire format for an answer.
//!
//! ```
//! use vigil_test_support::mock_llm::{MockServer, Reply};
//!
//! let server = MockServer::start(vec![Reply::json(200, r#"{"ok":true}"#)]);
//! assert!(server.url().starts_with("http://127.0.0.1:"));
//! assert!(server.requests().is_empty());
//! ```

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

/// What answers a request.
type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// What the server's threads share.
struct Shared {
    handler: Box<Handler>,
    requests: Mutex<Vec<Recorded>>,
    stop: AtomicBool,
}

/// A mock LLM provider on `127.0.0.1` with a port of its own; its thread stops when it is
/// dropped.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `POST`, `GET`...
    pub method: String,
    /// The request target, query included (`/v1beta/models/m:streamGenerateContent?alt=sse`).
    pub path: String,
    /// The headers in the order sent, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Recorded {
    /// The value of the first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    /// When the body is not JSON (the message quotes it).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "the {} {} request body is not JSON ({e}): {}",
                self.method, self.path, self.body
            )
        })
    }
}

/// The body of a reply.
#[derive(Debug, Clone)]
enum Body {
    /// Sent whole, with `Content-Length`.
    Whole(String),
    /// Sent with chunked transfer encoding, one flushed chunk per element.
    Chunks(Vec<String>),
}

/// One scripted answer: status, headers, body and how to send it.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
    delay: Duration,
    chunk_delay: Duration,
    cut: bool,
}

impl Reply {
    /// A JSON body with `status` (an answer, or a provider's error shape).
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::new(status, "application/json", Body::Whole(body.to_owned()))
    }

    /// A `text/event-stream` answer: each element is written and flushed as its own chunk,
    /// exactly as given (include the `data: ...\n\n` framing).
    pub fn sse(events: &[String]) -> Reply {
        Reply::new(200, "text/event-stream", Body::Chunks(events.to_vec()))
    }

    /// An `application/x-ndjson` answer, one flushed chunk per line (a `\n` is added to a
    /// line that lacks one).
    pub fn ndjson(lines: &[String]) -> Reply {
        let lines = lines
            .iter()
            .map(|l| {
                if l.ends_with('\n') {
                    l.clone()
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        Reply::new(200, "application/x-ndjson", Body::Chunks(lines))
    }

    /// The same reply with one more header (`Retry-After`...).
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The same reply sent after waiting `d` before the status line (to run into a
    /// client's timeout).
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    /// The same reply with a wait of `d` before each body chunk after the first.
    pub fn chunk_delay(mut self, d: Duration) -> Reply {
        self.chunk_delay = d;
        self
    }

    /// The same reply with its body broken off: a chunked body closes the connection after
    /// its chunks without the final empty chunk; a whole body sends only its first half of
    /// the `Content-Length` it announces.
    pub fn cut(mut self) -> Reply {
        self.cut = true;
        self
    }

    fn new(status: u16, content_type: &str, body: Body) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body,
            delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            cut: false,
        }
    }
}

impl MockServer {
    /// Answers requests with `replies` in order; once they run out, HTTP 500
    /// `{"error":{"message":"no reply scripted"}}`.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start(replies: Vec<Reply>) -> MockServer {
        let replies = Mutex::new(VecDeque::from(replies));
        MockServer::with(move |_| {
            let next = replies
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front();
            next.unwrap_or_else(|| Reply::json(500, r#"{"error":{"message":"no reply scripted"}}"#))
        })
    }

    /// Answers each request with what `handler` returns for it (tests that answer by
    /// request content). Requests are handled on threads of their own, so a delayed reply
    /// does not hold up the next request.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn with(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> MockServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("the mock LLM server cannot bind a loopback port: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the mock LLM server has no address: {e}"));
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            requests: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("mock-llm-{}", addr.port()))
            .spawn(move || accept(&listener, &accepting))
            .unwrap_or_else(|e| panic!("the mock LLM server thread did not start: {e}"));
        MockServer {
            addr,
            shared,
            thread: Some(thread),
        }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far, in the order they arrived.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread, which then sees the stop flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Accepts connections until the server is dropped, each on a thread of its own.
fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(shared);
        let _ = std::thread::Builder::new()
            .name("mock-llm-connection".to_owned())
            .spawn(move || serve(stream, &shared));
    }
}

/// Reads one request, records it and answers it. I/O errors (a client that gave up) end
/// the connection quietly.
fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(reading) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(reading);
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    if shared.stop.load(Ordering::SeqCst) {
        return;
    }
    shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(request.clone());
    let reply = (shared.handler)(&request);
    let _ = write_reply(stream, &reply, &shared.stop);
}

/// Reads the request line, the headers and a body of `Content-Length` bytes (or a chunked
/// body); `None` when the connection ends first or the request is not HTTP.
fn read_request(reader: &mut impl BufRead) -> Option<Recorded> {
    let line = read_line(reader)?;
    let mut words = line.split_whitespace();
    let method = words.next()?.to_owned();
    let path = words.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let chunked = header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let mut body = Vec::new();
    if chunked {
        loop {
            let size = read_line(reader)?;
            let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
            if size == 0 {
                // Trailers, then the empty line.
                while !read_line(reader)?.is_empty() {}
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..]).ok()?;
            read_line(reader)?;
        }
    } else if let Some(length) = header("content-length") {
        let length: usize = length.parse().ok()?;
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some(Recorded {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// One line without its `\r\n`; `None` at the end of the stream.
fn read_line(reader: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_owned()),
    }
}

/// Sleeps `d` in short steps, returning early when the server stops.
fn pause(d: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(10);
    let mut left = d;
    while !left.is_zero() && !stop.load(Ordering::SeqCst) {
        let now = left.min(step);
        std::thread::sleep(now);
        left -= now;
    }
}

fn write_reply(mut stream: TcpStream, reply: &Reply, stop: &AtomicBool) -> std::io::Result<()> {
    pause(reply.delay, stop);
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n");
    match &reply.body {
        Body::Whole(text) => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", text.len()));
            stream.write_all(head.as_bytes())?;
            let bytes = text.as_bytes();
            let sent = if reply.cut {
                &bytes[..bytes.len() / 2]
            } else {
                bytes
            };
            stream.write_all(sent)?;
            stream.flush()?;
        }
        Body::Chunks(chunks) => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            stream.write_all(head.as_bytes())?;
            stream.flush()?;
            for (i, chunk) in chunks.iter().enumerate() {
                if i > 0 {
                    pause(reply.chunk_delay, stop);
                }
                if chunk.is_empty() {
                    // An empty chunk would end the body.
                    continue;
                }
                write!(stream, "{:x}\r\n{chunk}\r\n", chunk.len())?;
                stream.flush()?;
            }
            if !reply.cut {
                stream.write_all(b"0\r\n\r\n")?;
                stream.flush()?;
            }
        }
    }
    stream.shutdown(Shutdown::Both)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Site Overloaded",
        _ => "Status",
    }
}

/// Prompt tokens every `*_stream` helper reports.
pub const STREAM_INPUT_TOKENS: u64 = 25;

/// `text` split into the pieces the `*_stream` helpers send: up to four of about equal
/// length, cut at character boundaries (none for an empty text). Those helpers report one
/// output token per piece.
pub fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let size = chars.len().div_ceil(4);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// Output tokens the `*_stream` helpers report for `text`.
fn output_tokens(text: &str) -> u64 {
    u64::try_from(pieces(text).len()).unwrap_or(u64::MAX)
}

/// An SSE `data:` event.
fn data(value: &Value) -> String {
    format!("data: {value}\n\n")
}

/// OpenAI's streamed chat completion of `text`: a role chunk, content chunks, a chunk with
/// `finish_reason` (`stop`, `length`, `content_filter`...), a usage chunk with no choices
/// (as `stream_options.include_usage` asks) and `data: [DONE]`.
pub fn openai_stream(text: &str, finish_reason: &str) -> Reply {
    let chunk = |choices: Value, usage: Value| {
        json!({
            "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
            "object": "chat.completion.chunk",
            "created": 1_741_569_952,
            "model": "gpt-4o-mini-2024-07-18",
            "service_tier": "default",
            "system_fingerprint": "fp_06737a9306",
            "choices": choices,
            "usage": usage,
        })
    };
    let choice = |delta: Value, finish: Value| json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
    let mut events = vec![data(&chunk(
        choice(
            json!({"role": "assistant", "content": "", "refusal": null}),
            Value::Null,
        ),
        Value::Null,
    ))];
    for piece in pieces(text) {
        events.push(data(&chunk(
            choice(json!({"content": piece}), Value::Null),
            Value::Null,
        )));
    }
    events.push(data(&chunk(
        choice(json!({}), json!(finish_reason)),
        Value::Null,
    )));
    let out = output_tokens(text);
    events.push(data(&chunk(
        json!([]),
        json!({
            "prompt_tokens": STREAM_INPUT_TOKENS,
            "completion_tokens": out,
            "total_tokens": STREAM_INPUT_TOKENS + out,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0
            }
        }),
    )));
    events.push("data: [DONE]\n\n".to_owned());
    Reply::sse(&events)
}

/// Ollama's streamed `/api/chat` answer of `text`: one object a line with `message.content`
/// and `done: false`, then a last one with `done: true`, `done_reason` (`stop`, `length`)
/// and the counts and durations.
pub fn ollama_stream(text: &str, done_reason: &str) -> Reply {
    let model = "qwen2.5:7b";
    let mut lines: Vec<String> = pieces(text)
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            json!({
                "model": model,
                "created_at": format!("2025-03-10T08:15:{:02}.{:09}Z", 1 + i / 10, 120_456_789 + i),
                "message": {"role": "assistant", "content": piece},
                "done": false,
            })
            .to_string()
        })
        .collect();
    lines.push(
        json!({
            "model": model,
            "created_at": "2025-03-10T08:15:02.004819533Z",
            "message": {"role": "assistant", "content": ""},
            "done_reason": done_reason,
            "done": true,
            "total_duration": 4_883_583_458_u64,
            "load_duration": 1_334_875,
            "prompt_eval_count": STREAM_INPUT_TOKENS,
            "prompt_eval_duration": 342_546_000,
            "eval_count": output_tokens(text),
            "eval_duration": 4_535_599_000_u64,
        })
        .to_string(),
    );
    Reply::ndjson(&lines)
}

/// Anthropic's streamed Messages answer of `text`, with `event:` lines: `message_start`,
/// `content_block_start`, `ping`, `content_block_delta`s, `content_block_stop`,
/// `message_delta` with `stop_reason` (`end_turn`, `max_tokens`, `refusal`...) and
/// `message_stop`.
pub fn anthropic_stream(text: &str, stop_reason: &str) -> Reply {
    let event = |name: &str, value: Value| format!("event: {name}\ndata: {value}\n\n");
    let mut events = vec![
        event(
            "message_start",
            json!({
                "type": "message_start",
                "message": {
                    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-20250514",
                    "content": [],
                    "stop_reason": null,
                    "stop_sequence": null,
                    "usage": {
                        "input_tokens": STREAM_INPUT_TOKENS,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                        "output_tokens": 1,
                        "service_tier": "standard"
                    }
                }
            }),
        ),
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        event("ping", json!({"type": "ping"})),
    ];
    for piece in pieces(text) {
        events.push(event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}),
        ));
    }
    events.push(event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push(event(
        "message_delta",
        json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": null},
            "usage": {"output_tokens": output_tokens(text)}
        }),
    ));
    events.push(event("message_stop", json!({"type": "message_stop"})));
    Reply::sse(&events)
}

/// Gemini's `streamGenerateContent?alt=sse` answer of `text`: `GenerateContentResponse`
/// chunks (`\r\n`-framed, as Google sends them), the last with `finishReason` (`STOP`,
/// `MAX_TOKENS`, `SAFETY`...) and the full `usageMetadata`.
pub fn gemini_stream(text: &str, finish_reason: &str) -> Reply {
    let parts = pieces(text);
    let count = parts.len().max(1);
    let out = output_tokens(text);
    let events: Vec<String> = (0..count)
        .map(|i| {
            let piece = parts.get(i).cloned().unwrap_or_default();
            let last = i + 1 == count;
            let mut candidate = json!({
                "content": {"parts": [{"text": piece}], "role": "model"},
                "index": 0
            });
            let mut usage = json!({
                "promptTokenCount": STREAM_INPUT_TOKENS,
                "totalTokenCount": STREAM_INPUT_TOKENS
            });
            if last {
                candidate["finishReason"] = json!(finish_reason);
                usage = json!({
                    "promptTokenCount": STREAM_INPUT_TOKENS,
                    "candidatesTokenCount": out,
                    "totalTokenCount": STREAM_INPUT_TOKENS + out,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": STREAM_INPUT_TOKENS}],
                    "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": out}]
                });
            }
            let value = json!({
                "candidates": [candidate],
                "usageMetadata": usage,
                "modelVersion": "gemini-2.0-flash",
                "responseId": "kkPPZ_unBZ-tnvgPoN7w-QY"
            });
            format!("data: {value}\r\n\r\n")
        })
        .collect();
    Reply::sse(&events)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// A raw HTTP/1.1 POST; the whole answer as text.
    fn post(url: &str, path: &str, body: &str) -> String {
        let addr = url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nX-Api-Key: k\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn replies_come_in_order_and_requests_are_recorded() {
        let server = MockServer::start(vec![
            Reply::json(429, r#"{"error":"slow down"}"#).header("Retry-After", "0"),
            Reply::sse(&["data: 1\n\n".to_owned(), "data: 2\n\n".to_owned()]),
        ]);
        let first = post(&server.url(), "/a?x=1", r#"{"n":1}"#);
        assert!(first.starts_with("HTTP/1.1 429 "), "{first}");
        assert!(first.contains("Retry-After: 0\r\n"));
        assert!(
            first.ends_with("\r\n\r\n{\"error\":\"slow down\"}"),
            "{first}"
        );
        let second = post(&server.url(), "/b", "{}");
        assert!(
            second.contains("Transfer-Encoding: chunked\r\n"),
            "{second}"
        );
        assert!(
            second.ends_with("9\r\ndata: 1\n\n\r\n9\r\ndata: 2\n\n\r\n0\r\n\r\n"),
            "{second}"
        );
        let third = post(&server.url(), "/c", "");
        assert!(third.starts_with("HTTP/1.1 500 ") && third.contains("no reply scripted"));

        let requests = server.requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(
            (requests[0].method.as_str(), requests[0].path.as_str()),
            ("POST", "/a?x=1")
        );
        assert_eq!(requests[0].header("x-api-key"), Some("k"));
        assert_eq!(requests[0].header("X-API-KEY"), Some("k"));
        assert_eq!(requests[0].json(), json!({"n": 1}));
    }

    #[test]
    fn a_cut_stream_lacks_its_last_chunk() {
        let server = MockServer::start(vec![Reply::sse(&["data: x\n\n".to_owned()]).cut()]);
        let answer = post(&server.url(), "/", "");
        assert!(answer.ends_with("9\r\ndata: x\n\n\r\n"), "{answer}");
    }

    #[test]
    fn a_handler_answers_by_request() {
        let server =
            MockServer::with(|r| Reply::json(200, &format!("{{\"path\":\"{}\"}}", r.path)));
        assert!(post(&server.url(), "/p", "").ends_with("{\"path\":\"/p\"}"));
    }

    #[test]
    fn stream_helpers_speak_each_wire_format() {
        assert_eq!(pieces("abcdefghij"), ["abc", "def", "ghi", "j"]);
        assert_eq!(pieces("ab"), ["a", "b"]);
        assert!(pieces("").is_empty());

        let Body::Chunks(events) = openai_stream("Hello there", "stop").body else {
            panic!()
        };
        assert!(events[0].contains(r#""role":"assistant""#));
        assert_eq!(events.last().unwrap(), "data: [DONE]\n\n");
        let usage: Value =
            serde_json::from_str(events[events.len() - 2].trim_start_matches("data: ")).unwrap();
        assert_eq!(usage["usage"]["completion_tokens"], 4);
        assert_eq!(usage["choices"], json!([]));

        let Body::Chunks(lines) = ollama_stream("Hi", "length").body else {
            panic!()
        };
        let last: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
        assert_eq!(
            (last["done"].clone(), last["done_reason"].clone()),
            (json!(true), json!("length"))
        );

        let Body::Chunks(events) = anthropic_stream("Hi", "end_turn").body else {
            panic!()
        };
        let names: Vec<&str> = events.iter().map(|e| e.lines().next().unwrap()).collect();
        assert_eq!(
            names,
            [
                "event: message_start",
                "event: content_block_start",
                "event: ping",
                "event: content_block_delta",
                "event: content_block_delta",
                "event: content_block_stop",
                "event: message_delta",
                "event: message_stop"
            ]
        );

        let Body::Chunks(events) = gemini_stream("Hi", "STOP").body else {
            panic!()
        };
        assert_eq!(events.len(), 2);
        assert!(events[1].contains(r#""finishReason":"STOP""#) && events[1].ends_with("\r\n\r\n"));
    }
}
