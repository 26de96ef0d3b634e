//! Live ingestion end to end, on real sockets: the EVTX and Linux corpus shipped through
//! the Elasticsearch bulk endpoint, Splunk HEC and syslog over TCP and UDP give the same
//! incidents as a hunt of the same files.
#![allow(clippy::unwrap_used)] // Test code fails loudly; that is its job.

mod client;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use vigil_engine::{Engine, Settings};
use vigil_ingest::{Ingest, Plan, ReadOptions};
use vigil_server::{AppState, EngineSetup, LiveOptions, LiveWorker, ensure_admin};
use vigil_store::Store;

use client::{Client, post_raw};

const PASSWORD: &str = "a long enough password";

fn engine() -> Engine {
    Engine::builtin(Settings::default()).unwrap()
}

/// Syslog dates carry no year; both sides read them in the same one.
fn read_options() -> ReadOptions {
    ReadOptions {
        year: Some(2024),
        ..ReadOptions::default()
    }
}

/// What an incident is, whatever file or wire its detections came through.
fn shape(incident: &Value) -> Value {
    json!({
        "title": incident["title"],
        "score": incident["score"],
        "severity": incident["severity"],
        "first_seen": incident["first_seen"],
        "last_seen": incident["last_seen"],
        "detections": incident["detections"].as_array().map_or(0, Vec::len),
        "hosts": incident["entities"]["hosts"],
        "techniques": incident["techniques"].as_array().map(|t| t.iter().map(|t| t["id"].clone()).collect::<Vec<_>>()),
    })
}

fn shapes(incidents: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut shapes: Vec<Value> = incidents.into_iter().map(|i| shape(&i)).collect();
    shapes.sort_by_key(|s| s.to_string());
    shapes
}

/// A server with live ingestion on loopback: HTTP and syslog over TCP and UDP.
struct Running {
    http: std::net::SocketAddr,
    syslog_tcp: std::net::SocketAddr,
    syslog_udp: std::net::SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: tokio::task::JoinSet<()>,
    worker: LiveWorker,
}

async fn start(db: &Path) -> Running {
    start_on(db.to_str().unwrap()).await
}

/// [`start`] over any store: an SQLite path or a PostgreSQL URL.
async fn start_on(target: &str) -> Running {
    // Opening the store and loading rules block (PostgreSQL's client runs its own
    // runtime), so they run off the async threads, as `vigil serve` runs them before its
    // runtime starts.
    let (state, worker) = tokio::task::block_in_place(|| {
        let mut store = Store::open(target).unwrap();
        ensure_admin(&mut store, Some(PASSWORD)).unwrap();
        let state = AppState::new(store, b"a test secret of at least 32 bytes!").unwrap();
        state
            .set_engine(
                EngineSetup::builtin(),
                vigil_attack::Attack::embedded().unwrap(),
            )
            .unwrap();
        let worker = state
            .start_live(LiveOptions {
                read: read_options(),
                // Small batches: incidents are folded many times as detections arrive.
                batch: 400,
                ..LiveOptions::default()
            })
            .unwrap();
        (state, worker)
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let on_stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addrs = (
        http.local_addr().unwrap(),
        tcp.local_addr().unwrap(),
        udp.local_addr().unwrap(),
    );
    let mut tasks = tokio::task::JoinSet::new();
    let s = state.clone();
    let o = on_stop(stopped.clone());
    tasks.spawn(async move { vigil_server::serve(http, s, o).await.unwrap() });
    let s = state.clone();
    let o = on_stop(stopped.clone());
    tasks.spawn(async move { vigil_server::syslog::serve_tcp(tcp, s, o).await.unwrap() });
    let o = on_stop(stopped.clone());
    tasks.spawn(async move {
        vigil_server::syslog::serve_udp(udp, state, o)
            .await
            .unwrap()
    });
    Running {
        http: addrs.0,
        syslog_tcp: addrs.1,
        syslog_udp: addrs.2,
        stop,
        tasks,
        worker,
    }
}

impl Running {
    async fn shut(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
        tokio::task::spawn_blocking(move || self.worker.stop())
            .await
            .unwrap();
    }
}

/// Every record of the EVTX files under `dir`, as `evtx_dump` JSON (what a shipper of
/// Windows events as JSON sends).
fn evtx_documents(dir: &Path) -> Vec<Value> {
    let mut files = vigil_test_support::files_with_extension(dir, "evtx");
    files.sort();
    let mut documents = Vec::new();
    for file in files {
        let mut parser = evtx::EvtxParser::from_path(&file).unwrap();
        for record in parser.records_json_value() {
            documents.push(record.unwrap().data);
        }
    }
    documents
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Waits until the worker has hunted everything stored.
async fn caught_up(client: &Client) -> Value {
    for _ in 0..1200 {
        let (status, body) = client.get("/api/v1/ingest/status").await;
        assert_eq!(status, 200, "{body}");
        if body["lag"] == 0 && body["replayed"] == true && body["stored"].as_i64() > Some(0) {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("live hunting did not catch up in two minutes");
}

async fn all_incidents(client: &Client) -> Vec<Value> {
    let (status, page) = client.get("/api/v1/incidents?limit=1000").await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["incident"].clone())
        .collect()
}

/// A runtime for a test: two worker threads, as the machine has two cores.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn corpus() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let evtx = vigil_test_support::corpus_path("evtx/Credential Access")?;
    let auth = vigil_test_support::corpus_path("logs/linux-auth-sshd")?;
    Some((
        evtx,
        auth.join("loghub_OpenSSH_2k.log"),
        auth.join("loghub_Linux_2k_messages.log"),
    ))
}

#[test]
fn shipped_over_bulk_hec_and_syslog_the_corpus_gives_the_incidents_of_a_hunt() {
    let Some((evtx_dir, openssh, linux)) = corpus() else {
        return;
    };
    let engine = Arc::new(engine());
    let plan = Plan::new(&[evtx_dir.clone(), openssh.clone(), linux.clone()]);
    let hunted = engine.hunt(&Ingest::new(read_options()), plan, |_| {});
    let expected = engine.fold(hunted.detections).unwrap();
    let expected = shapes(
        expected
            .incidents
            .iter()
            .map(|i| serde_json::to_value(i).unwrap()),
    );
    assert!(expected.len() >= 5, "{expected:#?}");

    let documents = evtx_documents(&evtx_dir);
    let openssh = lines(&openssh);
    let linux = lines(&linux);
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime();
    runtime.block_on(async {
        let server = start(&dir.path().join("vigil.db")).await;
        let admin = Client::login(server.http, "admin", PASSWORD).await;
        let key = admin.api_key("shipper", "analyst").await;

        // Windows events: Elasticsearch bulk, 250 documents a request, as Winlogbeat does.
        let shipper = Client::with_token(server.http, &key);
        let mut shipped = 0;
        for chunk in documents.chunks(250) {
            let mut body = String::new();
            for doc in chunk {
                body.push_str("{\"index\":{\"_index\":\"winlogbeat-8\"}}\n");
                body.push_str(&doc.to_string());
                body.push('\n');
            }
            let (status, answer) = shipper.post_ndjson("/_bulk", body).await;
            assert_eq!(status, 200, "{answer}");
            assert_eq!(answer["errors"], false, "{answer}");
            assert_eq!(answer["items"].as_array().unwrap().len(), chunk.len());
            shipped += chunk.len();
        }

        // OpenSSH: syslog over TCP, octet-counted frames as rsyslog sends them.
        let mut tcp = tokio::net::TcpStream::connect(server.syslog_tcp)
            .await
            .unwrap();
        let mut framed = Vec::new();
        for line in &openssh {
            let message = format!("<38>{line}");
            framed.extend_from_slice(format!("{} {message}", message.len()).as_bytes());
        }
        tokio::io::AsyncWriteExt::write_all(&mut tcp, &framed)
            .await
            .unwrap();
        tokio::io::AsyncWriteExt::shutdown(&mut tcp).await.unwrap();
        shipped += openssh.len();

        // The Linux messages: half over Splunk HEC (string events), half over UDP.
        let (hec, udp) = linux.split_at(linux.len() / 2);
        let mut body = String::new();
        for line in hec {
            body.push_str(&json!({"event": line, "sourcetype": "linux_secure"}).to_string());
        }
        let (status, answer) = post_raw(
            server.http,
            "/services/collector/event",
            &format!("Splunk {key}"),
            body.into_bytes(),
        )
        .await;
        assert_eq!(
            (status, &answer),
            (200, &json!({"text": "Success", "code": 0}))
        );
        shipped += hec.len();
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for (n, line) in udp.iter().enumerate() {
            socket
                .send_to(format!("<86>{line}").as_bytes(), server.syslog_udp)
                .await
                .unwrap();
            // UDP has no flow control: a sender faster than the receiving socket's buffer
            // loses datagrams. Pace them as a real sender's rate would.
            if n % 50 == 49 {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        }
        shipped += udp.len();

        let mut status = json!(null);
        for _ in 0..100 {
            status = caught_up(&admin).await;
            if status["stored"].as_u64() == Some(shipped as u64) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let (_, metrics) = admin.get_text("/metrics").await;
        assert_eq!(
            status["stored"].as_u64(),
            Some(shipped as u64),
            "{status}\n{metrics}"
        );

        let served = shapes(all_incidents(&admin).await);
        eprintln!(
            "{} events shipped: {} incidents, as the hunt found",
            shipped,
            served.len()
        );
        assert_eq!(served, expected);

        // Detections are listed with the event that matched.
        let (code, page) = admin.get("/api/v1/detections?limit=5").await;
        assert_eq!(code, 200, "{page}");
        assert!(page["total"].as_u64().unwrap() >= expected.len() as u64);
        let first = &page["items"][0];
        assert!(
            first["event"].is_object() || first["event"].is_string(),
            "{first}"
        );
        let id = first["detection"]["id"].as_str().unwrap();
        let (code, one) = admin.get(&format!("/api/v1/detections/{id}")).await;
        assert_eq!(code, 200, "{one}");
        assert_eq!(one["detection"]["id"], id);

        // The metrics count what came in by each way.
        let (code, text) = admin.get_text("/metrics").await;
        assert_eq!(code, 200);
        for via in ["bulk", "hec", "syslog_tcp", "syslog_udp"] {
            assert!(
                text.contains(&format!("vigil_events_received_total{{via=\"{via}\"}}")),
                "{text}"
            );
        }
        assert!(text.contains("vigil_queue_depth 0"), "{text}");

        // Every HTTP shipment is in the audit log: who, how, how many events.
        let db = dir.path().join("vigil.db");
        let records = tokio::task::block_in_place(|| {
            Store::open(db.to_str().unwrap())
                .unwrap()
                .audit_records(0, 100_000)
                .unwrap()
        });
        let shipped_over_http: u64 = records
            .iter()
            .filter(|r| r.action == "ingest")
            .map(|r| {
                serde_json::from_str::<Value>(&r.detail).unwrap()["events"]
                    .as_u64()
                    .unwrap()
            })
            .sum();
        assert_eq!(shipped_over_http as usize, documents.len() + hec.len());
        assert!(
            records
                .iter()
                .filter(|r| r.action == "ingest")
                .all(|r| r.actor.starts_with("key:"))
        );
        server.shut().await;
    });
}

#[test]
fn a_restart_hunts_the_stored_events_again_without_duplicating_anything() {
    let dir = tempfile::tempdir().unwrap();
    restart_loses_and_duplicates_nothing(dir.path().join("vigil.db").to_str().unwrap());
}

#[test]
fn a_restart_on_postgresql_hunts_the_stored_events_again_without_duplicating_anything() {
    let Some(server) = vigil_test_support::PostgresServer::start() else {
        return;
    };
    server.create_database("live");
    restart_loses_and_duplicates_nothing(&server.url("live"));
}

/// Ships OpenSSH's log over HEC, works an incident, stops the server, starts it again on
/// the same store: the same incidents (ids included), detections and case.
fn restart_loses_and_duplicates_nothing(db: &str) {
    let Some((_, openssh, _)) = corpus() else {
        return;
    };
    let lines = lines(&openssh);
    let runtime = runtime();
    let first = runtime.block_on(async {
        let server = start_on(db).await;
        let admin = Client::login(server.http, "admin", PASSWORD).await;
        let key = admin.api_key("shipper", "analyst").await;
        let mut body = String::new();
        for line in &lines {
            body.push_str(&json!({"event": line}).to_string());
        }
        let (status, _) = post_raw(
            server.http,
            "/services/collector",
            &format!("Splunk {key}"),
            body.into_bytes(),
        )
        .await;
        assert_eq!(status, 200);
        caught_up(&admin).await;
        let incidents = all_incidents(&admin).await;
        let (_, detections) = admin.get("/api/v1/detections?limit=1").await;
        // An analyst's work on an incident must survive the restart.
        let id = incidents[0]["id"].as_str().unwrap().to_string();
        let (code, _) = admin
            .patch(
                &format!("/api/v1/incidents/{id}"),
                json!({"status": "investigating", "note": "looking"}),
            )
            .await;
        assert_eq!(code, 200);
        server.shut().await;
        (incidents, detections["total"].clone(), id)
    });
    let (incidents, detections, worked) = first;
    assert!(!incidents.is_empty());

    runtime.block_on(async {
        let server = start_on(db).await;
        let admin = Client::login(server.http, "admin", PASSWORD).await;
        caught_up(&admin).await;
        let again = all_incidents(&admin).await;
        let ids = |list: &[Value]| {
            list.iter()
                .map(|i| (i["id"].as_str().unwrap().to_string(), shape(i)))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(ids(&again), ids(&incidents));
        let (_, page) = admin.get("/api/v1/detections?limit=1").await;
        assert_eq!(page["total"], detections);
        let (_, incident) = admin.get(&format!("/api/v1/incidents/{worked}")).await;
        assert_eq!(incident["status"], "investigating", "{incident}");
        assert_eq!(incident["notes"][0]["text"], "looking");
        server.shut().await;
    });
}

#[test]
fn bad_and_unauthorised_shipments_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime();
    runtime.block_on(async {
        let server = start(&dir.path().join("vigil.db")).await;
        let admin = Client::login(server.http, "admin", PASSWORD).await;
        let viewer = admin.api_key("dashboard", "viewer").await;
        let key = admin.api_key("shipper", "analyst").await;

        let (status, _) =
            post_raw(server.http, "/_bulk", "", b"{\"index\":{}}\n{}\n".to_vec()).await;
        assert_eq!(status, 401);
        let (status, _) = post_raw(
            server.http,
            "/_bulk",
            &format!("Bearer {viewer}"),
            b"{\"index\":{}}\n{}\n".to_vec(),
        )
        .await;
        assert_eq!(status, 403);
        let (status, answer) = post_raw(
            server.http,
            "/_bulk",
            &format!("Bearer {key}"),
            b"{\"index\":{}}\n{}\nnot json\n".to_vec(),
        )
        .await;
        assert_eq!(status, 400);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("bulk line 3"),
            "{answer}"
        );
        let (status, answer) = post_raw(
            server.http,
            "/services/collector/event",
            &format!("Splunk {key}"),
            b"{\"time\": 1}".to_vec(),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(answer["code"], 12, "{answer}");
        // Elasticsearch clients send an API key as base64 of id:secret.
        let (id, secret) = key.split_once('.').unwrap();
        let encoded = base64_of(&format!("{id}:{secret}"));
        let (status, answer) = post_raw(
            server.http,
            "/logs/_bulk",
            &format!("ApiKey {encoded}"),
            b"{\"create\":{}}\n{\"message\":\"x\"}\n".to_vec(),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["items"][0]["create"]["_index"], "logs");
        server.shut().await;
    });
}

fn base64_of(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Reads from `stream` until `needle` appears in what was read (at most 30 seconds).
async fn read_until(stream: &mut tokio::net::TcpStream, seen: &mut Vec<u8>, needle: &[u8]) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut buffer = [0u8; 8192];
    while !seen.windows(needle.len()).any(|w| w == needle) {
        let n =
            tokio::time::timeout_at(deadline, tokio::io::AsyncReadExt::read(stream, &mut buffer))
                .await
                .expect("the stream carried it in time")
                .unwrap();
        assert!(n > 0, "the stream ended: {}", String::from_utf8_lossy(seen));
        seen.extend_from_slice(&buffer[..n]);
    }
}

/// The first WebSocket text frame in `bytes` (server frames are not masked).
fn first_text_frame(bytes: &[u8]) -> Option<String> {
    let (&first, rest) = bytes.split_first()?;
    assert_eq!(first, 0x81, "a final text frame");
    let (&len, rest) = rest.split_first()?;
    let (len, rest) = match len {
        126 => (
            usize::from(u16::from_be_bytes([rest[0], rest[1]])),
            &rest[2..],
        ),
        127 => (
            usize::try_from(u64::from_be_bytes(rest[..8].try_into().ok()?)).ok()?,
            &rest[8..],
        ),
        n => (usize::from(n), rest),
    };
    (rest.len() >= len).then(|| String::from_utf8_lossy(&rest[..len]).to_string())
}

#[test]
fn streams_carry_incidents_and_detections_as_they_happen() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime();
    runtime.block_on(async {
        let server = start(&dir.path().join("vigil.db")).await;
        let admin = Client::login(server.http, "admin", PASSWORD).await;
        let key = admin.api_key("shipper", "analyst").await;
        let token = admin.token().to_string();

        // Without a token: refused.
        let mut anonymous = tokio::net::TcpStream::connect(server.http).await.unwrap();
        anonymous
            .write_all(b"GET /api/v1/stream/incidents HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut seen = Vec::new();
        read_until(&mut anonymous, &mut seen, b"\r\n\r\n").await;
        assert!(seen.starts_with(b"HTTP/1.1 401"), "{}", String::from_utf8_lossy(&seen));

        let mut sse = tokio::net::TcpStream::connect(server.http).await.unwrap();
        sse.write_all(
            format!("GET /api/v1/stream/incidents?access_token={token} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let mut sse_seen = Vec::new();
        read_until(&mut sse, &mut sse_seen, b"\r\n\r\n").await;
        let head = String::from_utf8_lossy(&sse_seen).to_lowercase();
        assert!(head.starts_with("http/1.1 200") && head.contains("text/event-stream"), "{head}");

        let mut ws = tokio::net::TcpStream::connect(server.http).await.unwrap();
        ws.write_all(
            format!(
                "GET /api/v1/stream/detections?access_token={token} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let mut ws_seen = Vec::new();
        read_until(&mut ws, &mut ws_seen, b"\r\n\r\n").await;
        let head = String::from_utf8_lossy(&ws_seen).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        // RFC 6455's example key and its answer.
        assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
        let after_head = ws_seen.split_at(head.find("\r\n\r\n").unwrap() + 4).1.to_vec();

        // An SSH brute force arrives: a detection on the WebSocket, an incident on SSE.
        let mut body = String::new();
        for n in 0..12 {
            body.push_str(
                &json!({"event": format!("Dec 10 06:55:{:02} LabSZ sshd[24200]: Failed password for root from 173.234.31.186 port 38926 ssh2", 10 + n)})
                    .to_string(),
            );
        }
        let (status, _) = post_raw(server.http, "/services/collector/event", &format!("Splunk {key}"), body.into_bytes()).await;
        assert_eq!(status, 200);

        let mut frames = after_head;
        while first_text_frame(&frames).is_none() {
            let before = frames.len();
            read_until(&mut ws, &mut frames, b"}").await;
            assert!(frames.len() > before);
        }
        let detection: Value = serde_json::from_str(&first_text_frame(&frames).unwrap()).unwrap();
        assert!(detection["rule_id"].is_string(), "{detection}");
        assert_eq!(detection["host"], "LabSZ");

        read_until(&mut sse, &mut sse_seen, b"event: incident").await;
        read_until(&mut sse, &mut sse_seen, b"\n\n").await;
        let text = String::from_utf8_lossy(&sse_seen).to_string();
        let data = text
            .split("event: incident")
            .nth(1)
            .and_then(|rest| rest.lines().find_map(|l| l.strip_prefix("data: ")))
            .unwrap();
        let incident: Value = serde_json::from_str(data).unwrap();
        assert!(incident["id"].as_str().unwrap().starts_with("inc-"), "{incident}");
        assert_eq!(incident["entities"]["hosts"][0], "labsz");
        drop((sse, ws));
        server.shut().await;
    });
}

#[test]
fn rules_suppressions_and_hunt_runs_change_what_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime();
    runtime.block_on(async {
        let server = start(&dir.path().join("vigil.db")).await;
        let admin = Client::login(server.http, "admin", PASSWORD).await;
        let line = "Dec 10 06:55:46 LabSZ sshd[24200]: Connection closed by 173.234.31.186 [preauth]";
        let rule = "title: Closed preauth connections\nid: 5d0c1f4e-8a7b-4b61-9b0e-2f1d3c4b5a69\nstatus: test\nlogsource:\n    product: linux\n    service: sshd\ndetection:\n    selection:\n        - 'Connection closed by'\n    condition: selection\nlevel: medium\n";
        // A hunt of an upload before the rule exists finds nothing of it.
        let before = admin.hunt_upload("auth.log", line).await;
        assert!(!before.to_string().contains("Closed preauth"), "{before}");

        let (status, answer) = admin.post_text("/api/v1/rules", rule).await;
        assert_eq!(status, 201, "{answer}");
        let found = admin.hunt_upload("auth.log", line).await;
        assert!(found.to_string().contains("Closed preauth connections"), "{found}");
        assert_eq!(found["summary"]["detections"], 1, "{found}");

        // A suppression of the rule: the next hunt keeps the detection out of incidents.
        let (status, answer) = admin
            .post_text(
                "/api/v1/suppressions",
                "[[suppress]]\nrule = \"5d0c1f4e-8a7b-4b61-9b0e-2f1d3c4b5a69\"\nreason = \"scanner noise\"\nowner = \"soc\"\n",
            )
            .await;
        assert_eq!(status, 201, "{answer}");
        let suppressed = admin.hunt_upload("auth.log", line).await;
        assert_eq!(suppressed["summary"]["suppressed"], 1, "{suppressed}");
        assert_eq!(suppressed["summary"]["incidents"], json!([]), "{suppressed}");

        // Disabled, the rule no longer fires.
        let (status, _) = admin
            .patch("/api/v1/rules/5d0c1f4e-8a7b-4b61-9b0e-2f1d3c4b5a69", json!({"enabled": false}))
            .await;
        assert_eq!(status, 200);
        let (_, rules) = admin.get("/api/v1/rules?q=closed").await;
        assert_eq!(rules["items"][0]["enabled"], false, "{rules}");
        let off = admin.hunt_upload("auth.log", line).await;
        assert_eq!(off["summary"]["detections"], 0, "{off}");

        // A broken rule is refused, naming why.
        let (status, answer) = admin.post_text("/api/v1/rules", "title: x\ndetection: {}\n").await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains("does not load"), "{answer}");
        server.shut().await;
    });
}

#[test]
fn incidents_joined_by_new_detections_become_one_and_keep_their_notes() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime();
    runtime.block_on(async {
        let server = start(&dir.path().join("vigil.db")).await;
        let admin = Client::login(server.http, "admin", PASSWORD).await;
        let key = format!("Splunk {}", admin.api_key("shipper", "analyst").await);
        // Five failed passwords from one address in a minute: a brute force detection on
        // that host and address.
        let ship = |at: &str, host: &str, user: &str, ip: &str| {
            let body: String = (0..5)
                .map(|n| {
                    let line = format!(
                        "Dec 10 {at}:0{n} {host} sshd[{n}]: Failed password for {user} from {ip} port 22 ssh2"
                    );
                    json!({ "event": line }).to_string()
                })
                .collect();
            let body = body.into_bytes();
            let key = key.clone();
            async move {
                let (status, _) =
                    post_raw(server.http, "/services/collector/event", &key, body).await;
                assert_eq!(status, 200);
            }
        };
        // Two failures with nothing in common: two incidents.
        ship("06:00", "h1", "bob", "203.0.113.1")
            .await;
        caught_up(&admin).await;
        ship("06:10", "h2", "alice", "198.51.100.7")
        .await;
        caught_up(&admin).await;
        let incidents = all_incidents(&admin).await;
        assert_eq!(incidents.len(), 2, "{incidents:#?}");
        let on = |host: &str| {
            incidents
                .iter()
                .find(|i| i["entities"]["hosts"][0] == host)
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let (first, second) = (on("h1"), on("h2"));
        let (code, _) = admin
            .patch(
                &format!("/api/v1/incidents/{second}"),
                json!({"note": "alice called the help desk"}),
            )
            .await;
        assert_eq!(code, 200);

        // alice guessed on h1 from elsewhere: the two incidents are one, under the older id.
        ship("06:40", "h1", "alice", "192.0.2.99")
        .await;
        caught_up(&admin).await;
        let incidents = all_incidents(&admin).await;
        assert_eq!(incidents.len(), 1, "{incidents:#?}");
        assert_eq!(incidents[0]["id"], first.as_str());
        assert_eq!(incidents[0]["detections"].as_array().unwrap().len(), 3, "{incidents:#?}");
        let (_, merged) = admin.get(&format!("/api/v1/incidents/{first}")).await;
        let note = merged["notes"][0]["text"].as_str().unwrap();
        assert!(note.starts_with(&format!("[from {second}, ")), "{note}");
        assert!(note.ends_with("alice called the help desk"), "{note}");
        assert_eq!(merged["notes"][0]["author"], "admin");
        let (code, _) = admin.get(&format!("/api/v1/incidents/{second}")).await;
        assert_eq!(code, 404);
        server.shut().await;
    });
}
