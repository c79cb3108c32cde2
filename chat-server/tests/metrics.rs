//! `--metrics-bind`: a separate listener answers `GET /metrics` in the Prometheus text
//! format, and a send over REST and a WebSocket connection move the counters (and the
//! connection gauge comes back down when the socket closes).

mod common;

use std::net::SocketAddr;

use common::process::{http, spawn_via, visitor_with_conversation};
use futures_util::SinkExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

/// The body of `GET /metrics` at `address`.
async fn scrape(address: SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect to the metrics listener");
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

/// The value of the sample named exactly `series` (name and labels), if present.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_after_a_send_finds_the_counters_moved() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    let metrics_address = port.local_addr().expect("address");
    drop(port);
    let data = tempfile::tempdir().expect("temp dir");
    let bind = metrics_address.to_string();
    let (mut server, address) =
        spawn_via(None, data.path(), None, &["--metrics-bind", bind.as_str()]);

    let before = scrape(metrics_address).await;
    assert_eq!(
        sample(&before, r#"chat_messages_sent_total{transport="rest"}"#),
        None
    );

    let (token, conversation) = visitor_with_conversation(address).await;
    let body = json!({"conversationId": conversation, "senderType": "customer",
        "message": "hello", "timestamp": "2026-01-01T00:00:00Z"});
    let (status, reply) = http(address, "POST", "/api/messages/send", Some(&token), &body).await;
    assert_eq!(status, 200, "{reply}");
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{address}/api/ws"))
        .await
        .expect("ws");
    socket
        .send(Message::text(
            json!({"type": "auth", "id": 0, "token": token}).to_string(),
        ))
        .await
        .expect("auth");
    // The connection counts once it is authenticated.
    let mut after = String::new();
    for _ in 0..100 {
        after = scrape(metrics_address).await;
        if sample(&after, r#"chat_connections{transport="websocket"}"#) == Some(1.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(socket);
    let mut closed = String::new();
    for _ in 0..100 {
        closed = scrape(metrics_address).await;
        if sample(&closed, r#"chat_connections{transport="websocket"}"#) == Some(0.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.kill().expect("stop");
    server.wait().expect("reaped");
    assert_eq!(
        sample(&closed, r#"chat_connections{transport="websocket"}"#),
        Some(0.0),
        "a closed connection is no longer counted: {closed}"
    );

    assert_eq!(
        sample(&after, r#"chat_messages_sent_total{transport="rest"}"#),
        Some(1.0),
        "{after}"
    );
    assert_eq!(
        sample(&after, r#"chat_connections{transport="websocket"}"#),
        Some(1.0),
        "{after}"
    );
    assert_eq!(
        sample(&after, r#"chat_send_ack_seconds_count{transport="rest"}"#),
        Some(1.0),
        "{after}"
    );
    let batches =
        sample(&after, r#"chat_store_batch_size_count{store="sled"}"#).unwrap_or_default();
    assert!(batches >= 1.0, "the store's batches are counted: {after}");
    assert!(
        after.contains("# TYPE chat_send_ack_seconds histogram"),
        "{after}"
    );
}
