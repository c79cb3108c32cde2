//! The live layer keeps the product's promises at the socket, with a real WebSocket client
//! on an ephemeral port: long conversations join in full, sockets follow the current
//! policy (reassignment, narrowed permissions, a password change), acks survive a full
//! queue, `conversation:updated` reports each event as of its seq, presence spans nodes,
//! retried sends get their original, the seed's `adminId` is accepted when it matches, and
//! a signal that may have been lost makes sockets re-read their session.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use chat_core::accounts::{ConversationScope, Permissions};
use chat_core::broadcast::{Broadcaster, Signal, Topic};
use chat_http::{AppState, ObjectStoreBlobs, router};
use common::live::{LosesSessionSignals, closes, next_named};
use common::ws_client::Client;
use common::{TestApp, assert_error, text};
use serde_json::{Value, json};

/// How long a socket is watched for something that must not arrive.
const QUIET: Duration = Duration::from_millis(800);
/// How long something that must arrive may take (a hang guard, not a performance bound).
const SOON: Duration = Duration::from_secs(10);

fn restricted() -> Permissions {
    Permissions {
        scope: ConversationScope::Assigned,
        ..Permissions::default()
    }
}

fn owner() -> Permissions {
    Permissions {
        manage_admins: true,
        ..Permissions::default()
    }
}

async fn assign(app: &TestApp, token: &str, conversation: &str, assignee: &str) {
    let uri = format!("/api/conversations/{conversation}/assign");
    let reply = app.post(&uri, token, json!({"assigneeId": assignee})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
}

async fn set_status(app: &TestApp, token: &str, conversation: &str, status: &str) {
    let uri = format!("/api/conversations/{conversation}/status");
    let reply = app.post(&uri, token, json!({"status": status})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
}

async fn note(app: &TestApp, token: &str, conversation: &str, text: &str) {
    let body = json!({"conversationId": conversation, "senderType": "admin", "message": text, "private": true});
    let reply = app.post("/api/messages/send", token, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
}

async fn patch_admin(app: &TestApp, token: &str, id: &str, body: Value) {
    let uri = format!("/api/admins/{id}");
    let reply = app.call(Method::PATCH, &uri, Some(token), Some(body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
}

async fn change_password(app: &TestApp, token: &str, id: &str) {
    let password = json!({"password": "a brand new password"});
    patch_admin(app, token, id, password).await;
}

/// A conversation holding `count` visitor messages of about `size` bytes.
async fn long_conversation(app: &TestApp, count: usize, size: usize) -> (String, String) {
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    for n in 0..count {
        let body = format!("{n:05} {}", "x".repeat(size));
        let reply = app.send_as_visitor(&visitor, &conversation, &body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    }
    (visitor, conversation)
}

/// The conversation's newest seq, as an agent sees it.
async fn last_seq(app: &TestApp, agent: &str, conversation: &str) -> u64 {
    let reply = app
        .get(&format!("/api/conversations/{conversation}"), agent)
        .await;
    let last = reply.json["conversation"]["lastSeq"].as_u64();
    last.unwrap_or_else(|| panic!("no lastSeq: {}", reply.json))
}

/// Joins from 0 and collects every log event (the ack's, then the ones that follow) up to
/// `last`, as (seq, event).
async fn join_and_read_log(
    client: &mut Client,
    conversation: &str,
    last: u64,
) -> Vec<(u64, Value)> {
    let ack = client.join(conversation, 0).await;
    let covered = ack["lastSeq"].as_u64().expect("lastSeq");
    assert_eq!(ack["hasMore"], covered < last, "{}", ack["lastSeq"]);
    let mut log: Vec<(u64, Value)> = ack["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| (event["seq"].as_u64().expect("seq"), event.clone()))
        .collect();
    while log.last().map_or(0, |(seq, _)| *seq) < last {
        let event = client
            .event()
            .await
            .expect("closed before the log caught up");
        if event["type"] == "message:new" || event["type"] == "conversation:updated" {
            log.push((event["seq"].as_u64().expect("seq"), event));
        }
    }
    log
}

#[tokio::test]
async fn a_600_and_a_5000_message_conversation_join_in_full_from_zero() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (agent, _) = app
        .admin("reader@example.com", Permissions::default())
        .await;
    for count in [600, 5000] {
        let (_, conversation) = long_conversation(&app, count, 400).await;
        let last = last_seq(&app, &agent, &conversation).await;
        assert!(last > count as u64, "{last}");
        let mut client = Client::connect(address, &agent).await;
        let log = join_and_read_log(&mut client, &conversation, last).await;
        let seqs: Vec<u64> = log.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, (1..=last).collect::<Vec<_>>(), "{count} messages");
    }
}

#[tokio::test]
async fn conversation_updated_reports_each_event_as_of_its_seq() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (agent, _) = app
        .admin("closer@example.com", Permissions::default())
        .await;
    let (_, conversation) = long_conversation(&app, 600, 400).await;
    set_status(&app, &agent, &conversation, "closed").await;
    set_status(&app, &agent, &conversation, "active").await;
    let last = last_seq(&app, &agent, &conversation).await;
    let mut client = Client::connect(address, &agent).await;
    let log = join_and_read_log(&mut client, &conversation, last).await;
    let statuses: Vec<(u64, &Value, &Value)> = log[log.len() - 2..]
        .iter()
        .map(|(seq, event)| (*seq, &event["type"], &event["status"]))
        .collect();
    let updated = json!("conversation:updated");
    let expected = [
        (last - 1, &updated, &json!("closed")),
        (last, &updated, &json!("active")),
    ];
    assert_eq!(statuses, expected);
}

#[tokio::test]
async fn a_reassigned_restricted_agent_leaves_the_room_and_hears_nothing_more() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (boss, _) = app.admin("boss@example.com", owner()).await;
    let (narrow, narrow_id) = app.admin("narrow@example.com", restricted()).await;
    let (_, other_id) = app.admin("other@example.com", Permissions::default()).await;
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    assign(&app, &boss, &conversation, &narrow_id).await;
    let mut client = Client::connect(address, &narrow).await;
    client.join(&conversation, 0).await;
    let mut dashboard = Client::connect(address, &narrow).await;

    assign(&app, &boss, &conversation, &other_id).await;
    let left = next_named(&mut client, "conversation:left", SOON).await;
    let left = left.expect("no conversation:left after the reassignment");
    assert_eq!(left["conversationId"], json!(conversation));
    let removed = next_named(&mut dashboard, "inbox", SOON).await;
    let removed = removed.expect("the inbox was not told");
    assert_eq!(
        (&removed["kind"], &removed["conversationId"]),
        (&json!("removed"), &json!(conversation))
    );
    app.send_as_visitor(&visitor, &conversation, "after").await;
    note(&app, &boss, &conversation, "private after").await;
    assert_eq!(next_named(&mut client, "message:new", QUIET).await, None);
}

#[tokio::test]
async fn narrowed_permissions_take_an_open_socket_out_of_rooms_it_no_longer_sees() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (boss, _) = app.admin("boss@example.com", owner()).await;
    let (agent, agent_id) = app.admin("wide@example.com", Permissions::default()).await;
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let mut client = Client::connect(address, &agent).await;
    client.join(&conversation, 0).await;

    let narrowed = json!({"permissions": {"scope": "assigned", "manageConversations": true, "manageAdmins": false}});
    patch_admin(&app, &boss, &agent_id, narrowed).await;
    let left = next_named(&mut client, "conversation:left", SOON).await;
    assert!(
        left.is_some(),
        "no conversation:left after the permission change"
    );
    note(&app, &boss, &conversation, "not for you").await;
    assert_eq!(next_named(&mut client, "message:new", QUIET).await, None);
}

#[tokio::test]
async fn a_password_change_closes_the_agents_open_sockets() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (boss, _) = app.admin("boss@example.com", owner()).await;
    let (agent, agent_id) = app
        .admin("stolen@example.com", Permissions::default())
        .await;
    let mut client = Client::connect(address, &agent).await;
    change_password(&app, &boss, &agent_id).await;
    assert!(closes(&mut client, SOON).await, "the socket stayed open");
}

#[tokio::test]
async fn an_ack_waits_for_room_in_a_full_queue_instead_of_vanishing() {
    let config = chat_http::ChatConfig {
        stall_limit: Duration::from_secs(60),
        ..TestApp::config()
    };
    let app = TestApp::with_config(config);
    let address = app.serve().await;
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let mut client = Client::connect(address, &visitor).await;
    client.join(&conversation, 0).await;
    // The client reads nothing while thousands of frames fill the socket and its queue.
    for n in 0..3000 {
        let body = format!("{n} {}", "y".repeat(3000));
        app.send_as_visitor(&visitor, &conversation, &body).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seq = last_seq(&app, &visitor, &conversation).await;
    client
        .send_raw(json!({"type": "read", "id": "full", "conversationId": conversation, "seq": seq}))
        .await;
    loop {
        let frame = tokio::time::timeout(SOON, client.frame()).await;
        let frame = frame.expect("the ack never came and the socket stayed open");
        let Some(frame) = frame else {
            panic!("the socket closed instead of waiting for room");
        };
        if frame["type"] == "ack" && frame["id"] == "full" {
            assert_eq!(frame["lastReadSeq"], seq, "{frame}");
            return;
        }
    }
}

#[tokio::test]
async fn presence_goes_offline_only_when_the_agents_last_socket_on_any_node_closes() {
    let app = TestApp::new();
    let node_a = app.serve().await;
    let blobs = Arc::new(ObjectStoreBlobs::local(app.blobs.path()).expect("blob dir"));
    let second = AppState::new(app.engine.clone(), blobs, TestApp::config());
    let node_b = serve(router(second)).await;
    let (watcher, _) = app
        .admin("watcher@example.com", Permissions::default())
        .await;
    let (agent, agent_id) = app
        .admin("roaming@example.com", Permissions::default())
        .await;
    let mut observer = Client::connect(node_a, &watcher).await;
    let on_a = Client::connect(node_a, &agent).await;
    let on_b = Client::connect(node_b, &agent).await;
    let online = json!({"type": "presence", "adminId": agent_id, "online": true});
    let offline = json!({"type": "presence", "adminId": agent_id, "online": false});
    let about_agent = |events: Vec<Value>| -> Vec<Value> {
        let events = events.into_iter();
        events
            .filter(|event| event["adminId"] == agent_id)
            .collect()
    };
    // Everything node A and node B say about the agent's arrival lands first.
    let arrived = about_agent(all_named(&mut observer, "presence", QUIET).await);
    assert_eq!(arrived.first(), Some(&online), "{arrived:?}");
    assert!(!arrived.contains(&offline), "{arrived:?}");

    drop(on_a);
    let after_a = about_agent(all_named(&mut observer, "presence", QUIET).await);
    assert!(
        !after_a.contains(&offline),
        "offline while connected on node B: {after_a:?}"
    );
    let listed = app.get("/api/presence", &watcher).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.json);
    let online_ids = |listed: &Value| listed["online"].as_array().cloned().unwrap_or_default();
    assert!(
        online_ids(&listed.json).contains(&json!(agent_id)),
        "node A lists the agent online through node B: {}",
        listed.json
    );
    drop(on_b);
    let after_b = about_agent(all_named(&mut observer, "presence", SOON / 4).await);
    assert_eq!(after_b, [offline]);
    let listed = app.get("/api/presence", &watcher).await;
    assert!(
        !online_ids(&listed.json).contains(&json!(agent_id)),
        "{}",
        listed.json
    );
    let (visitor, _) = app.visitor().await;
    let refused = app.get("/api/presence", &visitor).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.json);
}

/// Every event named `name` that arrives within `within`.
async fn all_named(client: &mut Client, name: &str, within: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + within;
    let mut events = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match next_named(client, name, left).await {
            Some(event) => events.push(event),
            None => return events,
        }
    }
}

async fn serve(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.expect("serve") });
    address
}

#[tokio::test]
async fn a_retried_send_gets_its_original_after_the_conversation_closed_or_moved() {
    let app = TestApp::new();
    let (boss, _) = app.admin("boss@example.com", owner()).await;
    let (narrow, narrow_id) = app.admin("narrow@example.com", restricted()).await;
    let (_, other_id) = app.admin("other@example.com", Permissions::default()).await;
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    assign(&app, &boss, &conversation, &narrow_id).await;
    let from_visitor = json!({"conversationId": conversation, "senderType": "customer",
        "message": "hello", "clientMessageId": "v-1"});
    let from_agent = json!({"conversationId": conversation, "senderType": "admin",
        "message": "on it", "clientMessageId": "a-1"});
    let first_visitor = app
        .post("/api/messages/send", &visitor, from_visitor.clone())
        .await;
    let first_agent = app
        .post("/api/messages/send", &narrow, from_agent.clone())
        .await;
    assert_eq!(first_agent.status, StatusCode::OK, "{}", first_agent.json);

    assign(&app, &boss, &conversation, &other_id).await;
    set_status(&app, &boss, &conversation, "closed").await;
    let retry_visitor = app.post("/api/messages/send", &visitor, from_visitor).await;
    let retry_agent = app.post("/api/messages/send", &narrow, from_agent).await;
    for (first, retry) in [(first_visitor, retry_visitor), (first_agent, retry_agent)] {
        assert_eq!(retry.status, StatusCode::OK, "{}", retry.json);
        assert_eq!(retry.json["messageId"], first.json["messageId"]);
        assert_eq!(retry.json["seq"], first.json["seq"]);
    }
    // Someone else's client id finds nothing of theirs: the new write's rules apply.
    let (stranger, _) = app.admin("stranger@example.com", restricted()).await;
    let borrowed = json!({"conversationId": conversation, "senderType": "admin",
        "message": "on it", "clientMessageId": "a-1"});
    let refused = app.post("/api/messages/send", &stranger, borrowed).await;
    assert_error(&refused, StatusCode::NOT_FOUND, "not_found");
    // A new send is still refused by the rules.
    let new = json!({"conversationId": conversation, "senderType": "customer", "message": "more", "clientMessageId": "v-2"});
    let refused = app.post("/api/messages/send", &visitor, new).await;
    assert!(refused.status.is_client_error(), "{}", refused.json);
}

#[tokio::test]
async fn the_seeds_admin_id_is_accepted_when_it_matches_the_session_and_refused_otherwise() {
    let app = TestApp::new();
    let (agent, agent_id) = app.admin("seed@example.com", Permissions::default()).await;
    let (_, other_id) = app
        .admin("someone@example.com", Permissions::default())
        .await;
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let body = |admin_id: &str| {
        json!({"conversationId": conversation, "senderType": "admin", "adminId": admin_id,
            "message": "hi", "timestamp": "2026-01-01T00:00:00Z"})
    };
    let matching = app
        .post("/api/messages/send", &agent, body(&agent_id))
        .await;
    assert_eq!(matching.status, StatusCode::OK, "{}", matching.json);
    assert_eq!(text(&matching.json["status"]), "sent");
    let foreign = app
        .post("/api/messages/send", &agent, body(&other_id))
        .await;
    assert_error(&foreign, StatusCode::FORBIDDEN, "forbidden");
    let as_visitor = app.post("/api/messages/send", &visitor, {
        let mut claim = body(&agent_id);
        claim["senderType"] = json!("customer");
        claim
    });
    assert_error(&as_visitor.await, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn a_possibly_lost_signal_makes_sockets_reread_their_session_and_close_if_it_ended() {
    let local = Arc::new(chat_core::LocalBroadcaster::new());
    let lossy = Arc::new(LosesSessionSignals(local.clone()));
    let app = TestApp::with_broadcaster(TestApp::config(), lossy);
    let address = app.serve().await;
    let (boss, _) = app.admin("boss@example.com", owner()).await;
    let (agent, agent_id) = app
        .admin("stolen@example.com", Permissions::default())
        .await;
    let mut client = Client::connect(address, &agent).await;
    change_password(&app, &boss, &agent_id).await;
    assert!(
        !closes(&mut client, QUIET).await,
        "the revocation was not lost after all"
    );
    // The link says it may have lost signals: every socket re-reads its session.
    local
        .publish(Topic::Sessions, Signal::Resync)
        .await
        .expect("publish");
    assert!(closes(&mut client, SOON).await, "the socket stayed open");
}
