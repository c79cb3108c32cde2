//! The `chat-server` binary as a process: it starts on the embedded store, answers, refuses
//! a second server on the same data directory with a clear message, and stops cleanly on
//! SIGTERM; `reindex` rebuilds the search index.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn start(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chat-server"));
    command
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("CHAT_ADMIN_EMAIL", "owner@example.com")
        .env("CHAT_ADMIN_PASSWORD", "correct horse battery")
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Reads the server's output until it says where it listens.
fn listening_address(child: &mut Child) -> SocketAddr {
    let stdout = child.stdout.take().expect("stdout");
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("output");
        if let Some((_, address)) = line.split_once("listening on ") {
            return address.trim().parse().expect("an address");
        }
    }
    panic!("the server exited without listening");
}

fn get(address: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response
}

#[test]
fn the_server_starts_answers_refuses_a_twin_and_stops_on_sigterm() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut server = start(data.path()).spawn().expect("spawn chat-server");
    let address = listening_address(&mut server);
    let health = get(address, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(get(address, "/readyz").starts_with("HTTP/1.1 200"));
    assert!(get(address, "/api/openapi.json").contains("/api/messages/send"));

    let twin = start(data.path()).output().expect("run a second server");
    assert!(
        !twin.status.success(),
        "a second server on the same directory must fail"
    );
    let message = String::from_utf8_lossy(&twin.stderr);
    assert!(
        message.contains("already opened by another process"),
        "unclear message: {message}"
    );
    assert!(
        !message.contains("panicked"),
        "a configuration mistake must not panic: {message}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = server.wait().expect("wait");
    assert!(
        exit.success(),
        "SIGTERM must stop the server cleanly, got {exit}"
    );
}

#[test]
fn a_wrong_database_url_fails_with_a_clear_message() {
    let data = tempfile::tempdir().expect("temp dir");
    for (url, expected) in [
        (
            "postgres://nobody@127.0.0.1:1/none",
            "cannot connect to PostgreSQL",
        ),
        ("mysql://localhost/chat", "must be a postgres:// URL"),
    ] {
        let output = start(data.path())
            .env("DATABASE_URL", url)
            .output()
            .expect("run");
        assert!(!output.status.success(), "{url} was accepted");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(
            message.contains(expected) && !message.contains("panicked"),
            "{url}: {message}"
        );
    }
}

#[test]
fn agents_are_managed_from_the_command_line() {
    let data = tempfile::tempdir().expect("temp dir");
    let admin = |args: &[&str]| {
        let mut command = start(data.path());
        command
            .args(["admin"])
            .args(args)
            .env("CHAT_NEW_ADMIN_PASSWORD", "a long password");
        command.output().expect("run")
    };
    let created = admin(&[
        "create",
        "--email",
        "Ann@Example.com",
        "--name",
        "Ann",
        "--owner",
    ]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let twice = admin(&["create", "--email", "ann@example.com"]);
    assert!(
        !twice.status.success(),
        "a second agent with the same email was created"
    );
    let listed = String::from_utf8_lossy(&admin(&["list"]).stdout).into_owned();
    assert!(listed.contains("ann@example.com\tAnn\tenabled"), "{listed}");
    assert!(
        admin(&["disable", "--email", "ann@example.com"])
            .status
            .success()
    );
    let listed = String::from_utf8_lossy(&admin(&["list"]).stdout).into_owned();
    assert!(
        listed.contains("ann@example.com\tAnn\tdisabled"),
        "{listed}"
    );
    let missing = admin(&["reset-password", "--email", "nobody@example.com"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no agent has the email"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_rebuilds_the_search_index_of_the_stored_messages() {
    use chat_core::engine::{NewVisitor, SendMessage, StartConversation};
    use chat_core::values::{Limits, MessageBody};
    use chat_core::{ChatEngine, LocalBroadcaster, Principal};

    let data = tempfile::tempdir().expect("temp dir");
    {
        let store = chat_store_sled::SledStore::open(data.path().join("store")).expect("open");
        let engine = ChatEngine::new(
            std::sync::Arc::new(store),
            std::sync::Arc::new(LocalBroadcaster::new()),
            chat_core::EngineConfig::default(),
        );
        let visitor = engine
            .create_visitor(&Principal::Anonymous, NewVisitor::default())
            .await
            .expect("visitor");
        let visitor = Principal::Visitor(visitor.id);
        let chat = engine
            .start_conversation(&visitor, StartConversation::default())
            .await
            .expect("conversation");
        let body =
            MessageBody::parse("parcel lost, parcel late", &Limits::default()).expect("body");
        engine
            .send_message(&visitor, SendMessage::text(chat.id, body))
            .await
            .expect("send");
    }
    let output = start(data.path())
        .arg("reindex")
        .output()
        .expect("run reindex");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.lines().last(),
        Some("rebuilt the search index: 4 entries"),
        "parcel, lost, late and the message's place (log lines come first): {stdout}"
    );
    let store = chat_store_sled::SledStore::open(data.path().join("store")).expect("reopen");
    let engine = ChatEngine::new(
        std::sync::Arc::new(store),
        std::sync::Arc::new(LocalBroadcaster::new()),
        chat_core::EngineConfig::default(),
    );
    let request = chat_core::engine::SearchRequest {
        q: "parcel late".to_owned(),
        ..Default::default()
    };
    let found = engine
        .search(&Principal::System, request)
        .await
        .expect("search");
    assert_eq!(
        found.messages.len(),
        1,
        "the rebuilt index finds the message"
    );
}
