//! A small HTTP/1.1 client over a real socket: one request per connection.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends one request and reads the whole answer: (status, headers and body as text).
async fn request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    authorization: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !authorization.is_empty() {
        head.push_str(&format!("Authorization: {authorization}\r\n"));
    }
    if !content_type.is_empty() {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::String(text.to_string()))
}

/// POSTs `body` with an `Authorization` header as given (empty: none).
pub(crate) async fn post_raw(
    addr: std::net::SocketAddr,
    path: &str,
    authorization: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let (status, text) =
        request(addr, "POST", path, authorization, "application/json", &body).await;
    (status, json_of(&text))
}

/// A caller with a bearer token.
pub(crate) struct Client {
    addr: std::net::SocketAddr,
    token: String,
}

impl Client {
    pub(crate) async fn login(addr: std::net::SocketAddr, user: &str, password: &str) -> Client {
        let (status, answer) = post_raw(
            addr,
            "/api/v1/auth/login",
            "",
            json!({"username": user, "password": password})
                .to_string()
                .into_bytes(),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        Client::with_token(addr, answer["access_token"].as_str().unwrap())
    }

    pub(crate) fn with_token(addr: std::net::SocketAddr, token: &str) -> Client {
        Client {
            addr,
            token: token.to_string(),
        }
    }

    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// POSTs text (YAML, TOML).
    pub(crate) async fn post_text(&self, path: &str, body: &str) -> (u16, Value) {
        let (status, text) = request(
            self.addr,
            "POST",
            path,
            &self.auth(),
            "text/plain",
            body.as_bytes(),
        )
        .await;
        (status, json_of(&text))
    }

    /// Uploads `text` as a file to hunt and waits for the run to end; the run.
    pub(crate) async fn hunt_upload(&self, name: &str, text: &str) -> Value {
        let (status, text) = request(
            self.addr,
            "POST",
            &format!("/api/v1/hunts/upload?name={name}"),
            &self.auth(),
            "application/octet-stream",
            text.as_bytes(),
        )
        .await;
        let run = json_of(&text);
        assert_eq!(status, 202, "{run}");
        let id = run["id"].as_str().unwrap().to_string();
        for _ in 0..600 {
            let (_, run) = self.get(&format!("/api/v1/hunts/{id}")).await;
            if run["status"] == "done" || run["status"] == "failed" {
                assert_eq!(run["status"], "done", "{run}");
                return run;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("hunt run {id} did not end");
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        let (status, text) = self.get_text(path).await;
        (status, json_of(&text))
    }

    pub(crate) async fn get_text(&self, path: &str) -> (u16, String) {
        request(self.addr, "GET", path, &self.auth(), "", b"").await
    }

    pub(crate) async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        let (status, text) = request(
            self.addr,
            "PATCH",
            path,
            &self.auth(),
            "application/json",
            body.to_string().as_bytes(),
        )
        .await;
        (status, json_of(&text))
    }

    pub(crate) async fn post_ndjson(&self, path: &str, body: String) -> (u16, Value) {
        let (status, text) = request(
            self.addr,
            "POST",
            path,
            &self.auth(),
            "application/x-ndjson",
            body.as_bytes(),
        )
        .await;
        (status, json_of(&text))
    }

    /// A new API key with `role`; the key itself.
    pub(crate) async fn api_key(&self, name: &str, role: &str) -> String {
        let (status, text) = request(
            self.addr,
            "POST",
            "/api/v1/api-keys",
            &self.auth(),
            "application/json",
            json!({"name": name, "role": role}).to_string().as_bytes(),
        )
        .await;
        let answer = json_of(&text);
        assert_eq!(status, 201, "{answer}");
        answer["key"].as_str().unwrap().to_string()
    }
}
