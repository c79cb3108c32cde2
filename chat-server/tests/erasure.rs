//! Erasure and retention end to end, against the real `chat-server` binary on sled and on
//! PostgreSQL, with files in its data directory.
//!
//! After an erasure (over REST, and by `chat-server erase-visitor` with the server
//! stopped) no route, no search result, no change-feed page, no audit page and no export
//! returns any of the erased content, the files' bytes are gone from disk, and so it stays
//! after a restart. Retention erases a conversation closed for longer than
//! `--retain-closed-days`, with its file, once, even with two nodes passing on one
//! PostgreSQL, and keeps an open one.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use common::process::{http, login, spawn, spawn_via};
use common::scratch::ScratchDatabase;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A valid 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89,
];

/// An HTTP/1.1 request with any body: (status, body text).
async fn raw(
    address: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response[9..12].parse().expect("status");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The body of a GET as text (chunked framing left in: only its content is searched).
async fn get_text(address: SocketAddr, path: &str, token: &str) -> (u16, String) {
    raw(address, "GET", path, token, "application/json", b"").await
}

async fn send(address: SocketAddr, token: &str, body: Value) {
    let (status, reply) = http(address, "POST", "/api/messages/send", Some(token), &body).await;
    assert_eq!(status, 200, "{reply}");
}

/// A visitor who left `email`, with a conversation holding a file, a message naming `word`,
/// an agent's reply and note naming it too: (visitor token, visitor id, conversation id).
async fn populated(
    address: SocketAddr,
    agent: &str,
    word: &str,
    email: &str,
) -> (String, String, String) {
    let (_, session) = http(address, "POST", "/api/sessions/visitor", None, &json!({})).await;
    let token = session["token"].as_str().expect("token").to_owned();
    let id = session["customerId"].as_str().expect("id").to_owned();
    let path = format!("/api/visitors/{id}/email");
    let (status, reply) = http(
        address,
        "PUT",
        &path,
        Some(&token),
        &json!({"email": email}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
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
    let boundary = "XBOUNDARYX";
    let mut form = Vec::new();
    for (field, value) in [
        ("conversationId", conversation.as_str()),
        ("fileType", "image"),
    ] {
        form.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    form.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{word}.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
    form.extend(PNG);
    form.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let (status, uploaded) = raw(
        address,
        "POST",
        "/api/files/upload",
        &token,
        &content_type,
        &form,
    )
    .await;
    assert_eq!(status, 201, "{uploaded}");
    let uploaded: Value = serde_json::from_str(&uploaded).expect("json");
    let file = uploaded["attachmentId"].as_str().expect("file id");
    let at = "2026-01-01T00:00:00Z";
    send(
        address,
        &token,
        json!({"conversationId": conversation, "senderType": "customer",
        "message": format!("{word} from the visitor"), "attachmentIds": [file], "timestamp": at}),
    )
    .await;
    send(
        address,
        agent,
        json!({"conversationId": conversation, "senderType": "admin",
        "message": format!("{word} reply"), "timestamp": at}),
    )
    .await;
    send(
        address,
        agent,
        json!({"conversationId": conversation, "senderType": "admin",
        "message": format!("{word} note"), "private": true, "timestamp": at}),
    )
    .await;
    (token, id, conversation)
}

/// How many files the data directory's blob store holds.
fn blob_count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .map(|entry| match entry.path().is_dir() {
                true => blob_count(&entry.path()),
                false => 1,
            })
            .sum()
    })
}

/// Asserts that nothing the server returns holds `erased` (the visitor's words, address,
/// conversation), as `agent` sees it.
async fn assert_gone(
    address: SocketAddr,
    agent: &str,
    visitor: &str,
    conversation: &str,
    erased: &[&str],
) {
    for path in [
        format!("/api/conversations/{conversation}"),
        format!("/api/conversations/{conversation}/events"),
        format!("/api/visitors/{visitor}"),
        format!("/api/visitors/{visitor}/export"),
    ] {
        assert_eq!(get_text(address, &path, agent).await.0, 404, "{path}");
    }
    let mut searches = erased
        .iter()
        .map(|word| format!("/api/search?q={}", word.replace('@', "%40")))
        .collect::<Vec<_>>();
    searches.extend([
        "/api/conversations/list?limit=100".to_owned(),
        "/api/changes?after=0&limit=1000".to_owned(),
        "/api/audit?limit=200".to_owned(),
    ]);
    for path in searches {
        let (status, body) = get_text(address, &path, agent).await;
        assert_eq!(status, 200, "{path}: {body}");
        for word in erased {
            assert!(
                !body.contains(word),
                "{path} still returns {word:?}: {body}"
            );
        }
    }
}

fn stop(mut server: Child) {
    let _ = server.kill();
    let _ = server.wait();
}

/// `chat-server <args>` on the data directory (and database) with the server stopped:
/// its stdout.
fn command(data: &Path, database_url: Option<&str>, args: &[&str]) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("DATABASE_URL");
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let output = command.output().expect("run chat-server");
    assert!(
        output.status.success(),
        "chat-server {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

async fn erasure(database_url: Option<&str>) {
    let data = tempfile::tempdir().expect("data dir");
    let blobs = data.path().join("blobs");
    let (server, address) = spawn(data.path(), database_url);
    let agent = login(address).await;
    let (token, doomed, conversation) =
        populated(address, &agent, "zebrafish", "doomed@example.com").await;
    let (_, by_command, by_command_conversation) =
        populated(address, &agent, "narwhal", "later@example.com").await;
    assert_eq!(blob_count(&blobs), 2);

    let export = format!("/api/visitors/{doomed}/export");
    let (status, lines) = get_text(address, &export, &agent).await;
    assert_eq!(status, 200);
    for expected in [
        "zebrafish from the visitor",
        "zebrafish note",
        "doomed@example.com",
        "\"type\":\"end\"",
    ] {
        assert!(
            lines.contains(expected),
            "the export lacks {expected:?}: {lines}"
        );
    }
    let (status, erased) = raw(
        address,
        "DELETE",
        &format!("/api/visitors/{doomed}"),
        &agent,
        "application/json",
        b"",
    )
    .await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(
        serde_json::from_str::<Value>(&erased).expect("json"),
        json!({"conversations": 1, "files": 1})
    );
    assert_eq!(
        blob_count(&blobs),
        1,
        "the erased file's bytes are still on disk"
    );
    let path = format!("/api/conversations/{conversation}");
    assert_eq!(
        get_text(address, &path, &token).await.0,
        401,
        "the visitor's session lives on"
    );
    let erased_words = ["zebrafish", "doomed@example.com", conversation.as_str()];
    assert_gone(address, &agent, &doomed, &conversation, &erased_words[..2]).await;
    stop(server);

    // The commands, with the server stopped.
    let exported = command(data.path(), database_url, &["export-visitor", &by_command]);
    assert!(exported.contains("narwhal from the visitor"), "{exported}");
    assert!(
        exported
            .lines()
            .last()
            .is_some_and(|l| l.contains("\"type\":\"end\"")),
        "{exported}"
    );
    let said = command(data.path(), database_url, &["erase-visitor", &by_command]);
    assert!(said.contains("1 conversations, 1 files"), "{said}");
    assert_eq!(blob_count(&blobs), 0);

    // Still gone after a restart.
    let (server, address) = spawn(data.path(), database_url);
    let agent = login(address).await;
    assert_gone(address, &agent, &doomed, &conversation, &erased_words[..2]).await;
    assert_gone(
        address,
        &agent,
        &by_command,
        &by_command_conversation,
        &["narwhal", "later@example.com"],
    )
    .await;
    let (_, audit) = get_text(address, "/api/audit?limit=200", &agent).await;
    assert_eq!(audit.matches("visitorErased").count(), 2, "{audit}");
    assert_eq!(audit.matches("visitorExported").count(), 2, "{audit}");
    stop(server);
}

async fn an_erased_visitor_leaves_nothing_on_sled() {
    erasure(None).await;
}

async fn an_erased_visitor_leaves_nothing_on_postgres() {
    let url = testkit::postgres().expect("testkit found PostgreSQL");
    let database = ScratchDatabase::create(&url, &format!("chat_erasure_{}", std::process::id()));
    erasure(Some(&database.url)).await;
}

/// Retention: `nodes` servers on one store erase the closed conversation (and its file)
/// once, and keep the open one.
async fn retention(database_url: Option<&str>, nodes: usize) {
    // About three seconds; the pass then runs every second.
    let retain = ["--retain-closed-days", "0.000035"];
    let data = tempfile::tempdir().expect("data dir");
    let (first, address) = spawn_via(None, data.path(), database_url, &retain);
    let mut servers = vec![first];
    let agent = login(address).await;
    let (_, _, closed) = populated(address, &agent, "okapi", "closed@example.com").await;
    let (_, _, open) = populated(address, &agent, "quagga", "open@example.com").await;
    // More nodes on the same database and the same files (nodes share their blob store),
    // all passing by the time the conversation is due.
    for _ in 1..nodes {
        servers.push(spawn_via(None, data.path(), database_url, &retain).0);
    }
    let path = format!("/api/conversations/{closed}/status");
    let (status, reply) = http(
        address,
        "POST",
        &path,
        Some(&agent),
        &json!({"status": "closed"}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = get_text(address, &format!("/api/conversations/{closed}"), &agent).await;
        if status == 404 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the closed conversation was kept"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        get_text(address, &format!("/api/conversations/{open}"), &agent)
            .await
            .0,
        200
    );
    let (_, audit) = get_text(address, "/api/audit?limit=200", &agent).await;
    let deletion = format!("\"conversation\":\"{closed}\",\"type\":\"conversationDeleted\"");
    assert_eq!(audit.matches(&deletion).count(), 1, "erased once: {audit}");
    assert!(!audit.contains(&format!(
        "\"conversation\":\"{open}\",\"type\":\"conversationDeleted\""
    )));
    // The node that erased it removes the bytes right after.
    let blobs = data.path().join("blobs");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while blob_count(&blobs) != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the erased file's bytes stayed"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for server in servers {
        stop(server);
    }
}

async fn retention_erases_closed_conversations_on_sled() {
    retention(None, 1).await;
}

async fn retention_erases_each_closed_conversation_once_on_two_postgres_nodes() {
    let url = testkit::postgres().expect("testkit found PostgreSQL");
    let database = ScratchDatabase::create(&url, &format!("chat_retention_{}", std::process::id()));
    retention(Some(&database.url), 2).await;
}

fn main() {
    testkit::Suite::new()
        .test(
            "an_erased_visitor_leaves_nothing_on_sled",
            an_erased_visitor_leaves_nothing_on_sled,
        )
        .add(
            "an_erased_visitor_leaves_nothing_on_postgres",
            &[testkit::Needs::Postgres],
            |_| an_erased_visitor_leaves_nothing_on_postgres(),
        )
        .test(
            "retention_erases_closed_conversations_on_sled",
            retention_erases_closed_conversations_on_sled,
        )
        .add(
            "retention_erases_each_closed_conversation_once_on_two_postgres_nodes",
            &[testkit::Needs::Postgres],
            |_| retention_erases_each_closed_conversation_once_on_two_postgres_nodes(),
        )
        .run();
}
