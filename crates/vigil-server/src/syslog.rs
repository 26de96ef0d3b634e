//! The syslog listeners: UDP (one message per datagram) and TCP (RFC 6587: octet-counted
//! frames, `LEN SP MSG`, or one message per line), RFC 3164 and RFC 5424 alike: the
//! messages are stored as lines of text and read by the same syslog readers as files.
//!
//! Messages are stored in batches (at most 2,000 messages, or 50 ms after the first
//! one). Syslog has no acknowledgement: what a TCP sender wrote but vigil had not
//! stored yet when it died is lost, as with any syslog receiver. When the live worker is
//! too far behind, TCP connections stop being read (the sender's window fills and it
//! waits) and UDP datagrams are dropped and counted.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use vigil_ingest::wire::SyslogFramer;

use crate::AppState;
use crate::live::{Live, Via};

/// Messages stored per transaction at most.
const BATCH: usize = 2_000;
/// How long a message waits for others before it is stored.
const LINGER: Duration = Duration::from_millis(50);
/// The longest message kept (longer ones are cut here).
const MAX_MESSAGE: usize = 64 * 1024;

/// A message as stored: one line of text.
fn line(bytes: &[u8]) -> Value {
    let bytes = &bytes[..bytes.len().min(MAX_MESSAGE)];
    let text = String::from_utf8_lossy(bytes);
    Value::String(text.trim_end_matches(['\r', '\n', '\0']).to_string())
}

/// Stores `pending` (source `syslog:<transport>`), retrying while the store fails: the
/// messages are not dropped for a passing error.
async fn flush(state: &AppState, live: &Live, via: Via, pending: &mut Vec<Value>) {
    if pending.is_empty() {
        return;
    }
    let source = match via {
        Via::SyslogUdp => "syslog:udp",
        _ => "syslog:tcp",
    };
    let events: Vec<(String, Value)> = pending.drain(..).map(|m| (source.to_string(), m)).collect();
    loop {
        match crate::ingest::store(state, live, via, events.clone(), None).await {
            Ok(_) => return,
            Err(e) => {
                tracing::error!(error = %e.message, "syslog: cannot store messages; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn live_of(state: &AppState) -> std::io::Result<Arc<Live>> {
    state.inner.live.get().cloned().ok_or_else(|| {
        std::io::Error::other("syslog needs live ingestion: start it before the listeners")
    })
}

/// Datagrams received but not stored yet, at most (more are dropped and counted).
const UDP_QUEUE: usize = 100_000;

/// Receives syslog datagrams on `socket` until `shutdown` completes; what was received is
/// stored before this returns. Receiving never waits for the store (a second task stores),
/// so the socket's buffer does not overflow while a batch is written.
pub async fn serve_udp(
    socket: UdpSocket,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let live = live_of(&state)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Value>(UDP_QUEUE);
    let storer = {
        let (state, live) = (state.clone(), live.clone());
        tokio::spawn(async move {
            let mut pending = Vec::new();
            while let Some(first) = rx.recv().await {
                pending.push(first);
                let deadline = tokio::time::Instant::now() + LINGER;
                while pending.len() < BATCH {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(message)) => pending.push(message),
                        Ok(None) | Err(_) => break,
                    }
                }
                flush(&state, &live, Via::SyslogUdp, &mut pending).await;
            }
        })
    };
    let mut buffer = vec![0u8; 65_536];
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            received = socket.recv_from(&mut buffer) => {
                let (n, _) = received?;
                if live.full() || tx.try_send(line(&buffer[..n])).is_err() {
                    live.udp_dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    }
    drop(tx);
    let _ = storer.await;
    Ok(())
}

/// Accepts syslog TCP connections on `listener` until `shutdown` completes; each
/// connection's messages are stored before its task ends.
pub async fn serve_tcp(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let live = live_of(&state)?;
    let (stop, _) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(error = %e, "syslog: accept failed");
                        continue;
                    }
                };
                let (state, live, stop) = (state.clone(), live.clone(), stop.subscribe());
                connections.spawn(async move {
                    if let Err(e) = connection(stream, &state, &live, stop).await {
                        tracing::info!(%peer, error = %e, "syslog: connection ended");
                    }
                });
            }
        }
    }
    let _ = stop.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// One TCP sender: messages until it closes (or the server stops), stored in batches.
async fn connection(
    mut stream: TcpStream,
    state: &AppState,
    live: &Live,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut framer = SyslogFramer::new(MAX_MESSAGE);
    let mut buffer = vec![0u8; 256 * 1024];
    let mut pending = Vec::new();
    let result = loop {
        while live.full() {
            flush(state, live, Via::SyslogTcp, &mut pending).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let read = tokio::select! {
            _ = stop.changed() => break Ok(()),
            () = tokio::time::sleep(LINGER), if !pending.is_empty() => {
                flush(state, live, Via::SyslogTcp, &mut pending).await;
                continue;
            }
            read = stream.read(&mut buffer) => read,
        };
        match read {
            Ok(0) => break Ok(()),
            Ok(n) => {
                for message in framer.push(&buffer[..n]) {
                    if !message.is_empty() {
                        pending.push(line(&message));
                    }
                }
                if pending.len() >= BATCH {
                    flush(state, live, Via::SyslogTcp, &mut pending).await;
                }
            }
            Err(e) => break Err(e),
        }
    };
    pending.extend(framer.finish().filter(|m| !m.is_empty()).map(|m| line(&m)));
    flush(state, live, Via::SyslogTcp, &mut pending).await;
    result
}
