//! `kill -9` of chat-server during a burst of sends, on sled and on PostgreSQL: after a
//! restart every acknowledged message is stored exactly once at its seq, the log has no gap,
//! and a retry of the send that was in flight (same client id) stores it at most once.

mod common;

use std::time::Duration;

use common::process::{all_events, http, spawn, stored_messages, visitor_with_conversation};
use common::scratch::ScratchDatabase;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const BURST: Duration = Duration::from_millis(700);

async fn burst_kill_restart(database_url: Option<&str>) {
    let data = tempfile::tempdir().expect("temp dir");
    let (mut server, address) = spawn(data.path(), database_url);
    let (token, conversation) = visitor_with_conversation(address).await;

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

    let stored = stored_messages(&all_events(address, &token, &conversation).await);
    for ack in &acked {
        assert!(
            stored.contains(ack),
            "acknowledged {ack:?} is missing after the crash"
        );
    }
    server.kill().expect("stop");
    server.wait().expect("reap");
}

async fn crash_kill_9_mid_burst_on_sled_loses_and_doubles_nothing() {
    burst_kill_restart(None).await;
}

async fn crash_kill_9_mid_burst_on_postgres_loses_and_doubles_nothing() {
    let url = testkit::postgres().expect("testkit found PostgreSQL");
    let database = ScratchDatabase::create(&url, &format!("chat_crash_{}", std::process::id()));
    burst_kill_restart(Some(&database.url)).await;
}

fn main() {
    testkit::Suite::new()
        .test(
            "crash_kill_9_mid_burst_on_sled_loses_and_doubles_nothing",
            crash_kill_9_mid_burst_on_sled_loses_and_doubles_nothing,
        )
        .add(
            "crash_kill_9_mid_burst_on_postgres_loses_and_doubles_nothing",
            &[testkit::Needs::Postgres],
            |_| crash_kill_9_mid_burst_on_postgres_loses_and_doubles_nothing(),
        )
        .run();
}
