//! Blocking a visitor, end to end: its open WebSocket closes (also when the signal is lost
//! and the socket re-reads its session), every request is refused with 403
//! `visitor_blocked`, nothing it sends is stored, a new socket is refused, and unblocking
//! lets it back in.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use chat_core::accounts::Permissions;
use chat_core::broadcast::{Broadcaster, Signal, Topic};
use common::live::{LosesSessionSignals, closes};
use common::ws_client::Client;
use common::{TestApp, assert_error, text};
use serde_json::json;

const SOON: Duration = Duration::from_secs(10);
const QUIET: Duration = Duration::from_millis(800);

async fn block(app: &TestApp, agent: &str, visitor: &str, method: Method) -> serde_json::Value {
    let reply = app
        .call(
            method,
            &format!("/api/visitors/{visitor}/block"),
            Some(agent),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply.json
}

#[tokio::test]
async fn a_blocked_visitor_is_refused_everywhere_stores_nothing_and_its_socket_closes() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (agent, _) = app.admin("lead@example.com", Permissions::default()).await;
    let (visitor, visitor_id) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let mut socket = Client::connect(address, &visitor).await;
    let joined = socket
        .request(
            "conversation:join",
            json!({"conversationId": conversation, "since": 0}),
        )
        .await;
    assert!(joined["lastSeq"].as_u64().is_some(), "{joined}");
    let before = app.last_seq(&agent, &conversation).await;

    let answer = block(&app, &agent, &visitor_id, Method::POST).await;
    assert!(answer["visitor"]["blockedAt"].is_string(), "{answer}");
    assert!(
        closes(&mut socket, SOON).await,
        "the blocked visitor's socket stayed open"
    );

    let send = app
        .send_as_visitor(&visitor, &conversation, "still here?")
        .await;
    assert_error(&send, StatusCode::FORBIDDEN, "visitor_blocked");
    let start = app.post("/api/conversations", &visitor, json!({})).await;
    assert_error(&start, StatusCode::FORBIDDEN, "visitor_blocked");
    let read = app
        .get(&format!("/api/conversations/{conversation}"), &visitor)
        .await;
    assert_error(&read, StatusCode::FORBIDDEN, "visitor_blocked");
    assert_eq!(
        app.last_seq(&agent, &conversation).await,
        before,
        "nothing stored"
    );

    let mut again = Client::open(address).await;
    again
        .send_raw(json!({"type": "auth", "token": visitor}))
        .await;
    let refused = again.frame().await.expect("an answer before the close");
    assert_eq!(refused["error"]["code"], "visitor_blocked", "{refused}");
    assert!(again.frame().await.is_none(), "the refused socket closes");

    let listed = app.get("/api/visitors/blocked", &agent).await;
    assert_eq!(text(&listed.json["visitors"][0]["id"]), visitor_id);
    let (other, _) = app.visitor().await;
    let peek = app.get("/api/visitors/blocked", &other).await;
    assert_error(&peek, StatusCode::FORBIDDEN, "forbidden");
    let meddle = app
        .call(
            Method::POST,
            &format!("/api/visitors/{visitor_id}/block"),
            Some(&other),
            None,
        )
        .await;
    assert_error(&meddle, StatusCode::FORBIDDEN, "forbidden");

    let answer = block(&app, &agent, &visitor_id, Method::DELETE).await;
    assert!(answer["visitor"]["blockedAt"].is_null(), "{answer}");
    let send = app.send_as_visitor(&visitor, &conversation, "thanks").await;
    assert_eq!(send.status, StatusCode::OK, "{}", send.json);
}

#[tokio::test]
async fn a_lost_block_signal_still_closes_the_socket_when_it_rereads_its_session() {
    let local = Arc::new(chat_core::LocalBroadcaster::new());
    let lossy = Arc::new(LosesSessionSignals(local.clone()));
    let app = TestApp::with_broadcaster(TestApp::config(), lossy);
    let address = app.serve().await;
    let (agent, _) = app.admin("lead@example.com", Permissions::default()).await;
    let (visitor, visitor_id) = app.visitor().await;
    let mut socket = Client::connect(address, &visitor).await;
    block(&app, &agent, &visitor_id, Method::POST).await;
    assert!(
        !closes(&mut socket, QUIET).await,
        "the signal was not lost after all"
    );
    local
        .publish(Topic::Sessions, Signal::Resync)
        .await
        .expect("publish");
    assert!(closes(&mut socket, SOON).await, "the socket stayed open");
}
