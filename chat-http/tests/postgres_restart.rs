//! PostgreSQL restarted under a live chat-server while clients are connected and sending,
//! twice: a quick restart (sends wait for the pool and go through), then a stop long enough
//! that sends fail, and a start. Sends that fail, fail cleanly (an `unavailable` error
//! acknowledgement, never a false "sent"; `/readyz` answers 503 meanwhile); retries with the
//! same client id succeed once it is back; nothing acknowledged is lost or stored twice; a
//! connected listener receives every message in order; all without restarting chat-server
//! or reconnecting a socket.
//!
//! It stops the PostgreSQL server itself, so it must not run beside other PostgreSQL tests:
//! `cargo test` lists it as ignored and `.ci/run` runs it alone
//! (`cargo test -p chat-http --test postgres_restart -- --ignored`). `CHAT_PG_CTL` is the
//! command that takes `restart`, `stop` or `start`; by default `pg_ctlcluster` on the newest
//! installed cluster.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::process::{
    ScratchDatabase, all_events, http, spawn, stored_messages, visitor_with_conversation,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Sends acknowledged before the restart, and after it.
const BEFORE: usize = 20;
const AFTER: usize = 20;
/// Longest wait for one acknowledgement (a send waits up to the pool's acquire timeout).
const ACK_WAIT: Duration = Duration::from_secs(20);
/// Pause before retrying a failed send.
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// Failed sends to see while PostgreSQL is down before starting it again.
const FAILURES_WHILE_DOWN: usize = 2;

const DEFAULT_PG_CTL: &str =
    r#"pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts the PostgreSQL server; .ci/run runs it alone"]
async fn postgres_restart_under_live_clients_loses_nothing_and_delivery_resumes() {
    let url = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must name the PostgreSQL server this test restarts");
    let database = ScratchDatabase::create(&url, &format!("chat_restart_{}", std::process::id()));
    let data = tempfile::tempdir().expect("temp dir");
    let (mut server, address) = spawn(data.path(), Some(&database.url));
    let (token, conversation) = visitor_with_conversation(address).await;
    let mut sender = Socket::connect(address, &token).await;
    let mut listener = Socket::connect(address, &token).await;
    let joined = listener
        .request(json!({"type": "conversation:join", "conversationId": conversation}))
        .await;
    assert!(joined.get("error").is_none(), "{joined}");

    let mut acked: Vec<(u64, String)> = Vec::new();
    let mut failures = 0;
    while acked.len() < BEFORE {
        let client_id = format!("m{}", acked.len() + 1);
        acked.push(
            sender
                .send_until_stored(&conversation, &client_id, &mut failures)
                .await,
        );
    }
    assert_eq!(failures, 0, "sends failed before the restart");

    let started = postmaster_start_time(&url);
    let restart = tokio::task::spawn_blocking(|| pg_ctl("restart"));
    while !restart.is_finished() {
        let client_id = format!("m{}", acked.len() + 1);
        acked.push(
            sender
                .send_until_stored(&conversation, &client_id, &mut failures)
                .await,
        );
    }
    assert!(
        restart.await.expect("restart task"),
        "restarting PostgreSQL failed"
    );
    assert_ne!(
        postmaster_start_time(&url),
        started,
        "PostgreSQL did not restart"
    );
    println!(
        "{} sends acknowledged across a quick restart, {failures} failed",
        acked.len()
    );

    // Down long enough for sends to fail; started again once they have.
    let down = Down::stop();
    let (status, ready) = http(address, "GET", "/readyz", None, &Value::Null).await;
    assert_eq!(status, 503, "readyz while PostgreSQL is down: {ready}");
    assert_eq!(ready["error"]["code"], "unavailable", "{ready}");
    let client_id = format!("m{}", acked.len() + 1);
    let failed_before = failures;
    let mut start = None;
    let stored = loop {
        if failures - failed_before >= FAILURES_WHILE_DOWN && start.is_none() {
            start = Some(tokio::task::spawn_blocking(|| pg_ctl("start")));
        }
        if let Some(stored) = sender
            .try_send(&conversation, &client_id, &mut failures)
            .await
        {
            break stored;
        }
    };
    let start = start.expect("a send succeeded while PostgreSQL was stopped");
    assert!(
        start.await.expect("start task"),
        "starting PostgreSQL failed"
    );
    drop(down);
    acked.push(stored);

    let target = acked.len() + AFTER;
    while acked.len() < target {
        let client_id = format!("m{}", acked.len() + 1);
        acked.push(
            sender
                .send_until_stored(&conversation, &client_id, &mut failures)
                .await,
        );
    }
    println!(
        "{} sends acknowledged in all, {failures} failed cleanly",
        acked.len()
    );

    // Live delivery resumed: the listener gets every acknowledged message, in order, once.
    let delivered = listener.messages_until(acked.len()).await;
    assert_eq!(
        delivered, acked,
        "the listener's messages differ from what was acknowledged"
    );

    // Nothing acknowledged is lost or doubled in the store; the log has no gap.
    let stored = stored_messages(&all_events(address, &token, &conversation).await);
    assert_eq!(
        stored, acked,
        "the stored messages differ from what was acknowledged"
    );
    assert!(
        server.try_wait().expect("status").is_none(),
        "chat-server exited"
    );
    server.kill().expect("stop");
    server.wait().expect("reap");
}

/// Runs the PostgreSQL control command with `action`; whether it succeeded.
fn pg_ctl(action: &str) -> bool {
    let command = std::env::var("CHAT_PG_CTL").unwrap_or_else(|_| DEFAULT_PG_CTL.into());
    std::process::Command::new("sh")
        .args(["-c", &format!("{command} {action}")])
        .status()
        .expect("run the PostgreSQL control command")
        .success()
}

/// When the PostgreSQL server behind `url` started.
fn postmaster_start_time(url: &str) -> String {
    let output = std::process::Command::new("psql")
        .arg(url)
        .args(["-Atc", "SELECT pg_postmaster_start_time()"])
        .output()
        .expect("psql");
    assert!(output.status.success(), "psql failed");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// PostgreSQL stopped; started again when dropped, also if the test fails meanwhile, so the
/// machine is never left without its database.
struct Down;

impl Down {
    fn stop() -> Self {
        assert!(pg_ctl("stop"), "stopping PostgreSQL failed");
        Self
    }
}

impl Drop for Down {
    fn drop(&mut self) {
        let running = std::process::Command::new("pg_isready")
            .args(["-q", "-h", "127.0.0.1"])
            .status()
            .is_ok_and(|status| status.success());
        if !running {
            pg_ctl("start");
        }
    }
}

/// A plain WebSocket client of `/api/ws`; it panics if the server closes the socket.
struct Socket {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// `message:new` events seen while waiting: (seq, clientMessageId).
    messages: Vec<(u64, String)>,
}

impl Socket {
    async fn connect(address: SocketAddr, token: &str) -> Self {
        let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{address}/api/ws"))
            .await
            .expect("ws");
        let mut socket = Self {
            socket,
            next_id: 0,
            messages: Vec::new(),
        };
        let ready = socket
            .request(json!({"type": "auth", "token": token}))
            .await;
        assert_eq!(ready["ok"], true, "{ready}");
        socket
    }

    /// Sends `frame` with a new id and returns its acknowledgement.
    async fn request(&mut self, mut frame: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        frame["id"] = json!(id);
        self.socket
            .send(Message::text(frame.to_string()))
            .await
            .expect("the socket stays open");
        let deadline = Instant::now() + ACK_WAIT;
        loop {
            let frame = self.next_frame(deadline).await;
            if frame["type"] == "ack" && frame["id"] == id {
                return frame;
            }
        }
    }

    /// Sends message `client_id` until it is stored, counting clean failures.
    async fn send_until_stored(
        &mut self,
        conversation: &str,
        client_id: &str,
        failures: &mut usize,
    ) -> (u64, String) {
        loop {
            if let Some(stored) = self.try_send(conversation, client_id, failures).await {
                return stored;
            }
        }
    }

    /// Sends message `client_id` once: its (seq, client id) if stored; a failure must be an
    /// error acknowledgement in the JSON error shape, and is counted.
    async fn try_send(
        &mut self,
        conversation: &str,
        client_id: &str,
        failures: &mut usize,
    ) -> Option<(u64, String)> {
        let send = json!({"type": "message:send", "conversationId": conversation,
            "message": client_id, "clientMessageId": client_id});
        let ack = self.request(send).await;
        if ack["status"] == "sent" {
            return Some((ack["seq"].as_u64().expect("seq"), client_id.to_owned()));
        }
        let error = &ack["error"];
        assert_eq!(
            error["code"], "unavailable",
            "neither sent nor unavailable: {ack}"
        );
        assert!(error["message"].is_string(), "{ack}");
        println!("a send failed cleanly: {error}");
        *failures += 1;
        sleep(RETRY_AFTER).await;
        None
    }

    /// Waits until `count` messages have arrived; returns them.
    async fn messages_until(&mut self, count: usize) -> Vec<(u64, String)> {
        let deadline = Instant::now() + ACK_WAIT;
        while self.messages.len() < count {
            self.next_frame(deadline).await;
        }
        self.messages.clone()
    }

    /// The next frame, recording messages on the way.
    async fn next_frame(&mut self, deadline: Instant) -> Value {
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            let message = timeout(wait, self.socket.next())
                .await
                .expect("a frame in time")
                .expect("the socket stays open")
                .expect("a readable frame");
            let Message::Text(text) = message else {
                continue;
            };
            let frame: Value = serde_json::from_str(&text).expect("JSON frame");
            if frame["type"] == "message:new" {
                let message = &frame["message"];
                let client_id = message["clientMessageId"].as_str().unwrap_or_default();
                self.messages
                    .push((frame["seq"].as_u64().expect("seq"), client_id.to_owned()));
            }
            return frame;
        }
    }
}
