//! The REST and socket side of offline email: a visitor leaves (and removes) its address,
//! only for itself, with clear errors; the unsubscribe routes; and a visitor's socket
//! keeping `lastSeen` fresh while open and setting it when it closes. Emails themselves are
//! tested against a real SMTP server in chat-server's `offline_email.rs`.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use chat_core::accounts::Permissions;
use chat_core::email::EmailConfig;
use chat_http::email::OfflineEmailConfig;
use chrono::{DateTime, Utc};
use common::ws_client::Client;
use common::{TestApp, assert_error};
use serde_json::{Value, json};

async fn leave(app: &TestApp, token: &str, visitor: &str, email: Value) -> common::Reply {
    app.call(
        Method::PUT,
        &format!("/api/visitors/{visitor}/email"),
        Some(token),
        Some(json!({ "email": email })),
    )
    .await
}

#[tokio::test]
async fn a_visitor_leaves_and_removes_its_own_address_only() {
    let app = TestApp::new();
    let (visitor, visitor_id) = app.visitor().await;
    let (other, _) = app.visitor().await;
    let (agent, _) = app.admin("lead@example.com", Permissions::default()).await;

    let left = leave(&app, &visitor, &visitor_id, json!(" Me@Example.com ")).await;
    assert_eq!(left.status, StatusCode::OK, "{}", left.json);
    assert_eq!(left.json["visitor"]["email"], "me@example.com");
    assert_eq!(left.json["visitor"]["emailUnsubscribed"], false);
    let seen = app
        .get(&format!("/api/visitors/{visitor_id}"), &agent)
        .await;
    assert_eq!(
        seen.json["visitor"]["email"], "me@example.com",
        "{}",
        seen.json
    );
    assert!(
        !seen.bytes.windows(5).any(|w| w == b"token"),
        "the unsubscribe token is never shown: {}",
        seen.json
    );

    let invalid = leave(&app, &visitor, &visitor_id, json!("not an address")).await;
    assert_error(&invalid, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    let foreign = leave(&app, &other, &visitor_id, json!("x@example.com")).await;
    assert_error(&foreign, StatusCode::NOT_FOUND, "not_found");
    let by_agent = leave(&app, &agent, &visitor_id, json!("x@example.com")).await;
    assert_error(&by_agent, StatusCode::FORBIDDEN, "forbidden");
    let unchanged = app
        .get(&format!("/api/visitors/{visitor_id}"), &visitor)
        .await;
    assert_eq!(unchanged.json["visitor"]["email"], "me@example.com");

    let removed = leave(&app, &visitor, &visitor_id, Value::Null).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.json);
    assert_eq!(removed.json["visitor"]["email"], Value::Null);

    let blocked = app
        .call(
            Method::POST,
            &format!("/api/visitors/{visitor_id}/block"),
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(blocked.status, StatusCode::OK);
    let refused = leave(&app, &visitor, &visitor_id, json!("me@example.com")).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "visitor_blocked");
}

#[tokio::test]
async fn a_body_without_the_field_removes_nothing() {
    let app = TestApp::new();
    let (visitor, visitor_id) = app.visitor().await;
    leave(&app, &visitor, &visitor_id, json!("me@example.com")).await;
    let uri = format!("/api/visitors/{visitor_id}/email");
    for body in [json!({}), json!({"mail": null})] {
        let reply = app
            .call(Method::PUT, &uri, Some(&visitor), Some(body.clone()))
            .await;
        assert!(reply.status.is_client_error(), "{body}: {}", reply.status);
        assert!(
            reply.json["error"]["code"].is_string(),
            "{body}: {}",
            reply.json
        );
    }
    let record = app
        .get(&format!("/api/visitors/{visitor_id}"), &visitor)
        .await;
    assert_eq!(record.json["visitor"]["email"], "me@example.com");
}

#[tokio::test]
async fn a_wrong_unsubscribe_token_changes_nothing() {
    let app = TestApp::new();
    let (visitor, visitor_id) = app.visitor().await;
    leave(&app, &visitor, &visitor_id, json!("me@example.com")).await;
    let uri = format!("/api/visitors/{visitor_id}/unsubscribe?token=0123abcd");
    let wrong = app.call(Method::POST, &uri, None, None).await;
    assert_error(&wrong, StatusCode::NOT_FOUND, "not_found");
    let page = app.call(Method::GET, &uri, None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&page.bytes);
    assert!(html.contains("method=\"post\""), "{html}");
    let injected = app
        .call(
            Method::GET,
            &format!("/api/visitors/{visitor_id}/unsubscribe?token=%22%3E%3Cscript%3E"),
            None,
            None,
        )
        .await;
    assert!(!String::from_utf8_lossy(&injected.bytes).contains("<script>"));
    let record = app
        .get(&format!("/api/visitors/{visitor_id}"), &visitor)
        .await;
    assert_eq!(record.json["visitor"]["emailUnsubscribed"], false);
    let missing = app
        .call(
            Method::POST,
            "/api/visitors/not-an-id/unsubscribe?token=x",
            None,
            None,
        )
        .await;
    assert!(missing.status.is_client_error(), "{}", missing.status);
}

fn email_config(after: Duration) -> chat_http::ChatConfig {
    let mut config = TestApp::config();
    config.offline_email = Some(OfflineEmailConfig {
        rules: EmailConfig::new(after),
        from: "s@example.com".into(),
        public_url: "http://chat.example.test".into(),
    });
    config
}

async fn last_seen(app: &TestApp, visitor: &str, id: &str) -> Option<DateTime<Utc>> {
    let record = app.get(&format!("/api/visitors/{id}"), visitor).await;
    let seen = record.json["visitor"]["lastSeen"].as_str()?;
    Some(seen.parse().expect("a timestamp"))
}

#[tokio::test]
async fn a_visitor_socket_keeps_last_seen_fresh() {
    // A heartbeat every 200 ms.
    let app = TestApp::with_config(email_config(Duration::from_millis(600)));
    let address = app.serve().await;
    let (visitor, id) = app.visitor().await;
    assert_eq!(last_seen(&app, &visitor, &id).await, None);
    let _socket = Client::connect(address, &visitor).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let first = last_seen(&app, &visitor, &id)
        .await
        .expect("seen at connect");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let beat = last_seen(&app, &visitor, &id).await.expect("seen");
    assert!(beat > first, "a heartbeat moved it: {first} → {beat}");
}

#[tokio::test]
async fn closing_a_visitor_socket_sets_last_seen() {
    // A heartbeat every 10 s: none happens during the test.
    let app = TestApp::with_config(email_config(Duration::from_secs(30)));
    let address = app.serve().await;
    let (visitor, id) = app.visitor().await;
    let socket = Client::connect(address, &visitor).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let opened = last_seen(&app, &visitor, &id)
        .await
        .expect("seen at connect");
    drop(socket);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let closed = last_seen(&app, &visitor, &id).await.expect("seen");
    assert!(
        closed - opened >= chrono::Duration::milliseconds(150),
        "closing moved it: {opened} → {closed}"
    );
}
