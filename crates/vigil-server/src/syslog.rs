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
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

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
        match crate::ingest::store(state, live, via, events.clone()).await {
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

/// One TCP sender: frames until it closes (or the server stops), stored in batches.
async fn connection(
    stream: TcpStream,
    state: &AppState,
    live: &Live,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let mut pending = Vec::new();
    let mut frame = Vec::new();
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
            read = next_frame(&mut reader, &mut frame) => read,
        };
        match read {
            Ok(true) => {
                if !frame.is_empty() {
                    pending.push(line(&frame));
                }
                if pending.len() >= BATCH {
                    flush(state, live, Via::SyslogTcp, &mut pending).await;
                }
            }
            Ok(false) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    flush(state, live, Via::SyslogTcp, &mut pending).await;
    result
}

/// Reads the next frame into `frame`: octet-counted when it starts with a digit, else up
/// to the next newline. `false` at the end of the stream.
async fn next_frame<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    frame: &mut Vec<u8>,
) -> std::io::Result<bool> {
    frame.clear();
    let head = reader.fill_buf().await?;
    let Some(&first) = head.first() else {
        return Ok(false);
    };
    if first.is_ascii_digit() {
        // `LEN SP MSG`: the length is at most 9 digits.
        let mut digits = Vec::new();
        reader.read_until(b' ', &mut digits).await?;
        let length = std::str::from_utf8(&digits)
            .ok()
            .map(str::trim)
            .filter(|d| d.len() <= 9 && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<usize>().ok());
        match length {
            Some(length) => {
                let mut taken = reader.take(length as u64);
                taken.read_to_end(frame).await?;
                frame.truncate(MAX_MESSAGE);
            }
            // Not a count after all (a message starting with a digit): one line.
            None => {
                frame.extend_from_slice(&digits);
                if !digits.ends_with(b"\n") {
                    read_line(reader, frame).await?;
                }
            }
        }
    } else {
        read_line(reader, frame).await?;
    }
    Ok(true)
}

/// Reads to the end of the line, keeping at most [`MAX_MESSAGE`] bytes.
async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    frame: &mut Vec<u8>,
) -> std::io::Result<()> {
    loop {
        let buffer = reader.fill_buf().await?;
        if buffer.is_empty() {
            return Ok(());
        }
        let (chunk, done) = match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => (&buffer[..=at], true),
            None => (buffer, false),
        };
        let room = MAX_MESSAGE.saturating_sub(frame.len());
        frame.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = chunk.len();
        reader.consume(used);
        if done {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8]) -> Vec<String> {
        let mut reader = BufReader::new(input);
        let mut frame = Vec::new();
        let mut out = Vec::new();
        while next_frame(&mut reader, &mut frame).await.unwrap() {
            if let Value::String(s) = line(&frame) {
                out.push(s);
            }
        }
        out
    }

    #[tokio::test]
    async fn octet_counted_and_newline_framed_messages_mix() {
        // A frame starting with a digit is octet-counted (RFC 6587); messages start with
        // `<PRI>`, so a newline-framed one never does.
        let input = b"<34>1 2003 a b\n11 <13>Oct 11 <13>two\r\n14 <13>three\nfour<13>five\n";
        assert_eq!(
            frames(input).await,
            [
                "<34>1 2003 a b",
                "<13>Oct 11 ",
                "<13>two",
                "<13>three\nfour",
                "<13>five"
            ]
        );
    }

    #[tokio::test]
    async fn a_line_longer_than_the_limit_is_cut_not_held() {
        let mut input = vec![b'a'; MAX_MESSAGE + 10];
        input.extend_from_slice(b"\nnext\n");
        let out = frames(&input).await;
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].len(), MAX_MESSAGE);
        assert_eq!(out[1], "next");
    }
}
