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
//! (`cargo test -p chat-server --test postgres_restart -- --ignored`). `CHAT_PG_CTL` is the
//! command that takes `restart`, `stop` or `start`; by default `pg_ctlcluster` on the newest
//! installed cluster.

mod common;

use std::time::Duration;

use common::process::{all_events, http, spawn, stored_messages, visitor_with_conversation};
use common::scratch::ScratchDatabase;
use common::ws_client::Client;
use serde_json::{Value, json};
use tokio::time::sleep;

/// Sends acknowledged before the restart, and after it.
const BEFORE: usize = 20;
const AFTER: usize = 20;
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
    let mut sender = Client::connect(address, &token).await;
    let mut listener = Client::connect(address, &token).await;
    let joined = listener
        .request("conversation:join", json!({"conversationId": conversation}))
        .await;
    assert!(joined.get("error").is_none(), "{joined}");
    let mut sends = Sends {
        sender: &mut sender,
        conversation: &conversation,
        acked: Vec::new(),
        failures: 0,
    };

    while sends.acked.len() < BEFORE {
        sends.next_until_stored().await;
    }
    assert_eq!(sends.failures, 0, "sends failed before the restart");

    let started = postmaster_start_time(&url);
    let restart = tokio::task::spawn_blocking(|| pg_ctl("restart"));
    while !restart.is_finished() {
        sends.next_until_stored().await;
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
        "{} sends acknowledged across a quick restart, {} failed",
        sends.acked.len(),
        sends.failures
    );

    // Down long enough for sends to fail; started again once they have.
    let down = Down::stop();
    let (status, ready) = http(address, "GET", "/readyz", None, &Value::Null).await;
    assert_eq!(status, 503, "readyz while PostgreSQL is down: {ready}");
    assert_eq!(ready["error"]["code"], "unavailable", "{ready}");
    let client_id = sends.next_id();
    let failed_before = sends.failures;
    let mut start = None;
    let stored = loop {
        if sends.failures - failed_before >= FAILURES_WHILE_DOWN && start.is_none() {
            start = Some(tokio::task::spawn_blocking(|| pg_ctl("start")));
        }
        if let Some(stored) = sends.try_send(&client_id).await {
            break stored;
        }
    };
    let start = start.expect("a send succeeded while PostgreSQL was stopped");
    assert!(
        start.await.expect("start task"),
        "starting PostgreSQL failed"
    );
    drop(down);
    sends.acked.push(stored);

    let target = sends.acked.len() + AFTER;
    while sends.acked.len() < target {
        sends.next_until_stored().await;
    }
    println!(
        "{} sends acknowledged in all, {} failed cleanly",
        sends.acked.len(),
        sends.failures
    );
    let acked = sends.acked;

    // Live delivery resumed: the listener gets every acknowledged message, in order, once.
    let mut delivered = Vec::new();
    while delivered.len() < acked.len() {
        let event = listener.event().await.expect("the socket stays open");
        if event["type"] == "message:new" {
            let client_id = event["message"]["clientMessageId"]
                .as_str()
                .unwrap_or_default();
            delivered.push((event["seq"].as_u64().expect("seq"), client_id.to_owned()));
        }
    }
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

/// The sender's messages `m1`, `m2`, …: each sent until stored, failures counted.
struct Sends<'a> {
    sender: &'a mut Client,
    conversation: &'a str,
    /// Stored messages: (seq, clientMessageId).
    acked: Vec<(u64, String)>,
    /// Sends answered `unavailable`.
    failures: usize,
}

impl Sends<'_> {
    /// The next message's client id.
    fn next_id(&self) -> String {
        format!("m{}", self.acked.len() + 1)
    }

    /// Sends the next message until it is stored.
    async fn next_until_stored(&mut self) {
        let client_id = self.next_id();
        loop {
            if let Some(stored) = self.try_send(&client_id).await {
                self.acked.push(stored);
                return;
            }
        }
    }

    /// Sends message `client_id` once: its (seq, client id) if stored; anything else must be
    /// an `unavailable` error acknowledgement, and is counted.
    async fn try_send(&mut self, client_id: &str) -> Option<(u64, String)> {
        let send = json!({"conversationId": self.conversation, "message": client_id,
            "clientMessageId": client_id});
        let ack = self.sender.request("message:send", send).await;
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
        self.failures += 1;
        sleep(RETRY_AFTER).await;
        None
    }
}
