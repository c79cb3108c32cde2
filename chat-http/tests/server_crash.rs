//! `kill -9` of chat-server during a burst of sends, on sled and on PostgreSQL: after a
//! restart every acknowledged message is stored exactly once at its seq, the log has no gap,
//! and a retry of the send that was in flight (same client id) stores it at most once.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

const BURST: Duration = Duration::from_millis(700);

fn spawn(data: &std::path::Path, database_url: Option<&str>) -> (Child, SocketAddr) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chat-server"));
    command
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("CHAT_RATE_MESSAGES", "0")
        .env("CHAT_ADMIN_EMAIL", "owner@example.com")
        .env("CHAT_ADMIN_PASSWORD", "a long password")
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let mut child = command.spawn().expect("spawn chat-server");
    let stdout = child.stdout.take().expect("stdout");
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
        let line = line.expect("output");
        if let Some((_, address)) = line.split_once("listening on ") {
            return (child, address.trim().parse().expect("address"));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("chat-server exited before listening");
}

/// A minimal HTTP/1.1 request: (status, JSON body).
async fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let body = body.to_string();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let status = response[9..12].parse().expect("status");
    let json = response
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

async fn burst_kill_restart(database_url: Option<&str>) {
    let data = tempfile::tempdir().expect("temp dir");
    let (mut server, address) = spawn(data.path(), database_url);
    let (_, session) = http(address, "POST", "/api/sessions/visitor", None, &json!({})).await;
    let token = session["token"].as_str().expect("token").to_owned();
    let (_, created) = http(
        address,
        "POST",
        "/api/conversations",
        Some(&token),
        &json!({}),
    )
    .await;
    let conversation = created["conversation"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{address}/api/ws"))
        .await
        .expect("ws");
    socket
        .send(Message::text(
            json!({"type": "auth", "id": 0, "token": token}).to_string(),
        ))
        .await
        .expect("auth");
    let mut acked: Vec<(u64, String)> = Vec::new();
    let started = std::time::Instant::now();
    let mut in_flight = None;
    let mut n = 0u64;
    'burst: while started.elapsed() < BURST {
        n += 1;
        let client_id = format!("burst-{n}");
        let frame = json!({"type": "message:send", "id": n, "conversationId": conversation, "message": format!("m{n}"), "clientMessageId": client_id});
        if socket.send(Message::text(frame.to_string())).await.is_err() {
            break;
        }
        in_flight = Some(client_id.clone());
        loop {
            let text = match socket.next().await {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(_)) => continue,
                _ => break 'burst,
            };
            let reply: Value = serde_json::from_str(&text).expect("json");
            if reply["type"] == "ack" && reply["id"] == n {
                assert_eq!(reply["status"], "sent", "{reply}");
                acked.push((reply["seq"].as_u64().expect("seq"), client_id));
                in_flight = None;
                continue 'burst;
            }
        }
    }
    // Kill mid-burst: the next send is in flight when the process dies.
    let frame = json!({"type": "message:send", "id": n + 1, "conversationId": conversation, "message": "last", "clientMessageId": "burst-last"});
    let _ = socket.send(Message::text(frame.to_string())).await;
    in_flight = in_flight.or(Some("burst-last".into()));
    server.kill().expect("SIGKILL");
    server.wait().expect("reap");
    assert!(
        acked.len() > 10,
        "too few acknowledged sends to mean anything ({})",
        acked.len()
    );
    println!("{} sends acknowledged before SIGKILL", acked.len());

    let (mut server, address) = spawn(data.path(), database_url);
    let retry = json!({"conversationId": conversation, "senderType": "customer", "message": "retry", "clientMessageId": in_flight});
    let (status, _) = http(address, "POST", "/api/messages/send", Some(&token), &retry).await;
    assert_eq!(status, 200, "the retry of the in-flight send failed");

    let mut events = Vec::new();
    let mut since = 0;
    loop {
        let path = format!("/api/conversations/{conversation}/events?since={since}&limit=500");
        let (status, page) = http(address, "GET", &path, Some(&token), &Value::Null).await;
        assert_eq!(status, 200, "{page}");
        events.extend(page["events"].as_array().expect("events").iter().cloned());
        since = page["lastSeq"].as_u64().expect("lastSeq");
        if page["hasMore"] != true {
            break;
        }
    }
    let seqs: Vec<u64> = events
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gap or duplicate after the crash"
    );
    let stored: Vec<(u64, String)> = events
        .iter()
        .filter(|e| e["type"] == "message")
        .map(|e| {
            (
                e["seq"].as_u64().expect("seq"),
                e["message"]["clientMessageId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    for ack in &acked {
        assert!(
            stored.contains(ack),
            "acknowledged {ack:?} is missing after the crash"
        );
    }
    let mut ids: Vec<&String> = stored.iter().map(|(_, id)| id).collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "a client id was stored twice");
    server.kill().expect("stop");
    server.wait().expect("reap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_kill_9_mid_burst_on_sled_loses_and_doubles_nothing() {
    burst_kill_restart(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_kill_9_mid_burst_on_postgres_loses_and_doubles_nothing() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("SKIPPED crash_kill_9_mid_burst_on_postgres: DATABASE_URL is not set");
        return;
    };
    let database = format!("chat_crash_{}", std::process::id());
    let admin = |sql: String| {
        Command::new("psql")
            .arg(&url)
            .args(["-qc", &sql])
            .status()
            .expect("psql")
            .success()
    };
    assert!(admin(format!(
        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
    )));
    assert!(admin(format!("CREATE DATABASE {database}")));
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    burst_kill_restart(Some(&format!("{base}/{database}"))).await;
    admin(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"));
}
