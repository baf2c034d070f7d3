//! What the server allows a connection: a client that is slow to send its headers, or that keeps
//! a connection open without using it, is disconnected, so a few hundred sockets can no longer
//! hold the registry's file descriptors for ever; past the connection cap, new clients wait.
//!
//! Raw TCP on loopback against the real server, with short configured timeouts. Every wait is
//! bounded, and no test asserts on time beyond "closed (or answered) within a generous bound".

use std::time::Duration;

use doorstep_registry::config::{Config, Connections};
use doorstep_registry::server::{self, RunningServer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest a test waits for the server to act: many times the configured timeouts.
const BOUND: Duration = Duration::from_secs(15);
/// A timeout no test reaches.
const LONG: Duration = Duration::from_secs(300);

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

async fn start(connections: Connections) -> (RunningServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path());
    config.connections = connections;
    (server::start(&config).await.unwrap(), dir)
}

fn timeouts(header_read: Duration, idle: Duration) -> Connections {
    Connections {
        header_read_timeout: header_read,
        idle_timeout: idle,
        ..Connections::default()
    }
}

/// Read until the server closes the connection (end of stream or reset); what it sent before.
/// Panics if the connection is still open after `bound`.
async fn closed_within(stream: &mut (impl AsyncRead + Unpin), bound: Duration) -> Vec<u8> {
    let mut seen = Vec::new();
    let result = tokio::time::timeout(bound, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        result.is_ok(),
        "the server kept the connection open for {bound:?}; it sent: {:?}",
        String::from_utf8_lossy(&seen)
    );
    seen
}

/// Read one complete response (headers and a Content-Length body); its status line.
async fn response(stream: &mut (impl AsyncRead + Unpin), bound: Duration) -> String {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(bound, async {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap_or(0);
                if seen.len() >= end + 4 + length {
                    return;
                }
            }
            let n = stream
                .read(&mut buf)
                .await
                .expect("the connection stays open");
            assert!(n > 0, "the server closed the connection before answering");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "no complete answer within {bound:?}");
    String::from_utf8_lossy(&seen)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_disconnected() {
    let (server, _dir) = start(timeouts(Duration::from_secs(1), LONG)).await;
    let (mut reader, mut writer) = TcpStream::connect(server.addr).await.unwrap().into_split();
    writer
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    // One more header line every 100 ms, never the blank line that ends them: the connection is
    // never idle, yet the headers never finish. Bounded (60 s) in case the server never closes.
    let trickle = tokio::spawn(async move {
        for i in 0..600 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let line = format!("X-Trickle-{i}: x\r\n");
            if writer.write_all(line.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let sent = closed_within(&mut reader, BOUND).await;
    trickle.abort();
    assert!(
        !String::from_utf8_lossy(&sent).contains(" 200 "),
        "an unfinished request was answered: {:?}",
        String::from_utf8_lossy(&sent)
    );

    // A client that connects and sends nothing is disconnected too.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    closed_within(&mut silent, BOUND).await;

    // The server still serves others.
    let mut fine = TcpStream::connect(server.addr).await.unwrap();
    fine.write_all(HEALTH).await.unwrap();
    assert!(response(&mut fine, BOUND).await.contains(" 200 "));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let (server, _dir) = start(timeouts(LONG, Duration::from_secs(1))).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(HEALTH).await.unwrap();
    assert!(response(&mut stream, BOUND).await.contains(" 200 "));
    // HTTP/1.1 keeps the connection open for the next request; nothing comes.
    let after = closed_within(&mut stream, BOUND).await;
    assert!(after.is_empty(), "{:?}", String::from_utf8_lossy(&after));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_keep_alive_connection_may_idle_longer_than_the_header_timeout() {
    // The two timeouts are distinct: waiting between requests is timed by the idle timeout, not
    // by the (shorter) header-read timeout.
    let (server, _dir) = start(timeouts(Duration::from_secs(1), LONG)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(HEALTH).await.unwrap();
    assert!(response(&mut stream, BOUND).await.contains(" 200 "));
    tokio::time::sleep(Duration::from_secs(3)).await;
    stream.write_all(HEALTH).await.unwrap();
    assert!(response(&mut stream, BOUND).await.contains(" 200 "));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn past_the_connection_cap_new_clients_wait_for_a_free_slot() {
    let (server, _dir) = start(Connections {
        header_read_timeout: LONG,
        idle_timeout: LONG,
        max_connections: 2,
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(HEALTH).await.unwrap();
        assert!(response(&mut stream, BOUND).await.contains(" 200 "));
        held.push(stream);
    }
    // The kernel completes the handshake, but the server does not take the connection on.
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    third.write_all(HEALTH).await.unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_secs(1), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "a third connection was served past a cap of 2"
    );
    // One of the two leaves: the waiting client is served.
    drop(held.pop());
    assert!(response(&mut third, BOUND).await.contains(" 200 "));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_closes_idle_connections_without_waiting_for_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path());
    config.shutdown_grace = LONG;
    config.connections = timeouts(LONG, LONG);
    let server = server::start(&config).await.unwrap();
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(HEALTH).await.unwrap();
    assert!(response(&mut idle, BOUND).await.contains(" 200 "));
    let stopped = tokio::time::timeout(BOUND, server.shutdown()).await;
    assert!(
        stopped.is_ok(),
        "shutdown waited on an idle keep-alive connection"
    );
    stopped.unwrap().unwrap();
    closed_within(&mut idle, BOUND).await;
}
