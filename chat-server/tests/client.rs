//! `chat-client` against a real `chat-server` process: an agent's real-time client joined
//! to a conversation keeps receiving its log across a `kill -9` and restart of the server
//! (it reconnects by itself and rejoins from the last event it handed out), every event
//! once and in order; a visitor's send issued while the server is down is retried with
//! the same client id until it lands, and stored once.

mod common;

use std::time::Duration;

use chat_client::{Incoming, Realtime, RestClient};
use common::process::{free_port, spawn_via};

const OWNER: (&str, &str) = ("owner@example.com", "a long password");
const HANG_GUARD: Duration = Duration::from_secs(60);

/// The log events `socket` hands out (seq, message text) until the message `text`;
/// `Reconnected` is counted.
async fn until_message(
    socket: &mut Realtime,
    text: &str,
    reconnects: &mut usize,
) -> Vec<(u64, String)> {
    let mut seen: Vec<(u64, String)> = Vec::new();
    while seen.last().map(|(_, t)| t.as_str()) != Some(text) {
        let incoming = tokio::time::timeout(HANG_GUARD, socket.next())
            .await
            .expect("an event in time")
            .expect("no client error")
            .expect("the client never gives up on its own");
        match incoming {
            Incoming::Log(event) => {
                let text = event.message.map(|m| m.content).unwrap_or_default();
                seen.push((event.seq, text));
            }
            Incoming::Reconnected => *reconnects += 1,
            Incoming::Event { .. } => {}
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_resumes_across_a_server_crash_and_its_sends_land_once() {
    let bind = format!("127.0.0.1:{}", free_port());
    let options = ["--bind", bind.as_str()];
    let data = tempfile::tempdir().expect("data dir");
    let (mut server, address) = spawn_via(None, data.path(), None, &options);
    let base = format!("http://{address}");

    let visitor = RestClient::visitor(&base).await.expect("visitor");
    let conversation = visitor.start_conversation().await.expect("conversation");
    let agent = RestClient::login(&base, OWNER.0, OWNER.1)
        .await
        .expect("login");
    let mut socket = Realtime::connect(&agent).await.expect("connect");
    socket.join(conversation, 0).await.expect("join");
    for n in 0..3 {
        visitor
            .send_message(conversation, &format!("before {n}"))
            .await
            .expect("send");
    }
    let mut reconnects = 0;
    let mut log = until_message(&mut socket, "before 2", &mut reconnects).await;

    // The socket is being read while the server dies and while it is down: the client
    // notices, retries with backoff, and rejoins once the server is back.
    let reading = tokio::spawn(async move {
        let mut reconnects = 0;
        let log = until_message(&mut socket, "after", &mut reconnects).await;
        (socket, log, reconnects)
    });
    server.kill().expect("kill -9");
    server.wait().expect("reaped");
    // Issued while nothing listens: retried until the restarted server takes it.
    let sending = {
        let visitor = visitor.clone();
        tokio::spawn(async move {
            visitor
                .send_with_id(conversation, "during", "during-1")
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (mut server, _) = spawn_via(None, data.path(), None, &options);
    let landed = sending.await.expect("task").expect("the send landed");
    let again = visitor
        .send_with_id(conversation, "during", "during-1")
        .await
        .expect("retry");
    assert_eq!(
        again.message_id, landed.message_id,
        "one message per client id"
    );
    visitor
        .send_message(conversation, "after")
        .await
        .expect("send");
    let (mut socket, after, more) = reading.await.expect("reader");
    log.extend(after);
    reconnects += more;
    assert!(reconnects >= 1, "the client reconnected");

    // Its own sends over the socket carry a client id and come back as log events too.
    let sent = socket
        .send_message(conversation, "from the agent")
        .await
        .expect("agent send");
    log.extend(until_message(&mut socket, "from the agent", &mut reconnects).await);
    assert_eq!(log.last().map(|(s, _)| *s), Some(sent.seq));

    // Every event once, in order, across the crash: seqs 1..=n, no gap, no repeat.
    let seqs: Vec<u64> = log.iter().map(|(s, _)| *s).collect();
    let expected: Vec<u64> = (1..=sent.seq).collect();
    assert_eq!(seqs, expected, "{log:?}");
    let messages: Vec<&str> = log
        .iter()
        .map(|(_, t)| t.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(
        messages,
        [
            "before 0",
            "before 1",
            "before 2",
            "during",
            "after",
            "from the agent"
        ]
    );
    server.kill().expect("stop");
    server.wait().expect("reaped");
}

/// A room the agent lost while its client was away (the conversation was given to someone
/// else) is reported as `conversation:left` on the reconnect, and the agent's other room
/// still resumes with what it missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_lost_while_away_is_reported_and_the_others_resume() {
    let bind = format!("127.0.0.1:{}", free_port());
    let options = ["--bind", bind.as_str()];
    let data = tempfile::tempdir().expect("data dir");
    let (mut server, address) = spawn_via(None, data.path(), None, &options);
    let base = format!("http://{address}");
    let owner = RestClient::login(&base, OWNER.0, OWNER.1)
        .await
        .expect("login");
    let created: serde_json::Value = owner
        .call(
            chat_client::Method::POST,
            "/api/admins",
            Some(&serde_json::json!({"email": "narrow@example.com", "name": "Narrow",
                "password": "a long password",
                "permissions": {"scope": "assigned", "manageConversations": true, "manageAdmins": false}})),
        )
        .await
        .expect("a restricted agent");
    let narrow_id = created["admin"]["id"].as_str().expect("id").to_owned();
    let assign = |conversation: uuid::Uuid, assignee: Option<&str>| {
        let owner = owner.clone();
        let body = serde_json::json!({ "assigneeId": assignee });
        async move {
            let path = format!("/api/conversations/{conversation}/assign");
            let _: serde_json::Value = owner
                .call(chat_client::Method::POST, &path, Some(&body))
                .await
                .expect("assign");
        }
    };
    let visitor = RestClient::visitor(&base).await.expect("visitor");
    let (kept, lost) = (
        visitor.start_conversation().await.expect("conversation"),
        visitor.start_conversation().await.expect("conversation"),
    );
    assign(kept, Some(&narrow_id)).await;
    assign(lost, Some(&narrow_id)).await;
    let narrow = RestClient::login(&base, "narrow@example.com", "a long password")
        .await
        .expect("login");
    let mut socket = Realtime::connect(&narrow).await.expect("connect");
    socket.join(kept, 0).await.expect("join");
    socket.join(lost, 0).await.expect("join");

    // While the socket is idle: a crash, and meanwhile the agent loses one conversation.
    server.kill().expect("kill -9");
    server.wait().expect("reaped");
    let (mut server, _) = spawn_via(None, data.path(), None, &options);
    assign(lost, None).await;
    visitor
        .send_message(kept, "still yours")
        .await
        .expect("send");

    let (mut left, mut reconnected, mut missed) = (None, false, None);
    while missed.is_none() || left.is_none() {
        let incoming = tokio::time::timeout(HANG_GUARD, socket.next())
            .await
            .expect("an event in time")
            .expect("no client error")
            .expect("open");
        match incoming {
            Incoming::Reconnected => reconnected = true,
            Incoming::Event { name, payload } if name == "conversation:left" => {
                left = Some(payload);
            }
            // Before the reconnect: both rooms' catch-ups from the joins.
            Incoming::Log(_) if !reconnected => {}
            Incoming::Log(event) => {
                assert_eq!(event.conversation_id, kept, "nothing of the lost room");
                if let Some(message) = event.message {
                    missed = Some(message.content);
                }
            }
            Incoming::Event { .. } => {}
        }
    }
    assert!(reconnected);
    let left = left.expect("the lost room reported");
    assert_eq!(left["conversationId"], lost.to_string());
    assert_eq!(missed.as_deref(), Some("still yours"));
    server.kill().expect("stop");
    server.wait().expect("reaped");
}
