//! A real `chat-server` process for fault tests: started on a free port (sled in a data
//! directory, or PostgreSQL) and spoken to over raw HTTP/1.1.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Starts chat-server on `data` (and on `database_url` when given); returns it once it
/// listens. Message rate limits are off; the owner is `owner@example.com`.
pub fn spawn(data: &std::path::Path, database_url: Option<&str>) -> (Child, SocketAddr) {
    spawn_via(None, data, database_url, &[])
}

/// [`spawn`], run through `wrapper` (e.g. `strace … --`) when given, with `extra` options.
pub fn spawn_via(
    wrapper: Option<Command>,
    data: &std::path::Path,
    database_url: Option<&str>,
    extra: &[&str],
) -> (Child, SocketAddr) {
    let server = env!("CARGO_BIN_EXE_chat-server");
    let mut command = wrapper.map_or_else(
        || Command::new(server),
        |mut wrapper| {
            wrapper.arg(server);
            wrapper
        },
    );
    command.args(extra);
    // A test that restarts the server on the same address names it.
    if !extra.contains(&"--bind") {
        command.args(["--bind", "127.0.0.1:0"]);
    }
    command
        .arg("--data-dir")
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
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    for line in lines.by_ref() {
        let line = line.expect("output");
        if let Some((_, address)) = line.split_once("listening on ") {
            // Keep draining the log so the server never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return (child, address.trim().parse().expect("address"));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("chat-server exited before listening");
}

/// A loopback port nothing listens on now: for a server restarted on the same address, or
/// a receiver that comes up late.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
}

/// A minimal HTTP/1.1 request: (status, JSON body).
pub async fn http(
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

/// Signs the owner in: its token.
pub async fn login(address: SocketAddr) -> String {
    let body = json!({"email": "owner@example.com", "password": "a long password"});
    let (status, reply) = http(address, "POST", "/api/auth/login", None, &body).await;
    assert_eq!(status, 200, "{reply}");
    reply["token"].as_str().expect("token").to_owned()
}

/// A new visitor and their conversation: (token, conversation id).
pub async fn visitor_with_conversation(address: SocketAddr) -> (String, String) {
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
    (token, conversation)
}

/// Every stored event of `conversation`, read page by page through the events route.
pub async fn all_events(address: SocketAddr, token: &str, conversation: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut since = 0;
    loop {
        let path = format!("/api/conversations/{conversation}/events?since={since}&limit=500");
        let (status, page) = http(address, "GET", &path, Some(token), &Value::Null).await;
        assert_eq!(status, 200, "{page}");
        events.extend(page["events"].as_array().expect("events").iter().cloned());
        since = page["lastSeq"].as_u64().expect("lastSeq");
        if page["hasMore"] != true {
            return events;
        }
    }
}

/// The stored messages' (seq, clientMessageId), after asserting the log has no gap and no
/// client id twice.
pub fn stored_messages(events: &[Value]) -> Vec<(u64, String)> {
    let seqs: Vec<u64> = events
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "a gap or a duplicate in the log"
    );
    let stored: Vec<(u64, String)> = events
        .iter()
        .filter(|e| e["type"] == "message")
        .map(|e| {
            let id = e["message"]["clientMessageId"].as_str().unwrap_or_default();
            (e["seq"].as_u64().expect("seq"), id.to_owned())
        })
        .collect();
    let mut ids: Vec<&String> = stored.iter().map(|(_, id)| id).collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "a client id was stored twice");
    stored
}
