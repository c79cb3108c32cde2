//! Webhooks against a real HTTP receiver: endpoints are managed by owners only and refuse
//! private targets unless allowed; every event arrives once delivered, in feed order,
//! signed so that an independent Standard Webhooks implementation (the `standardwebhooks`
//! crate) verifies it; a retry keeps its `webhook-id`; 410 disables; a rotated secret signs
//! beside the new one. And the change feed over REST.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use chat_core::accounts::Permissions;
use chat_core::webhooks::RetrySchedule;
use chat_http::ChatConfig;
use chat_http::webhooks::spawn_webhook_worker;
use common::receiver::{Receiver, delivered_ids};
use common::{TestApp, assert_error, text};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

/// Test configuration with loopback targets allowed and fast retries.
fn config(allow_private: bool) -> ChatConfig {
    let mut config = TestApp::config();
    config.webhooks.allow_private = allow_private;
    config.webhooks.delivery.schedule =
        RetrySchedule(vec![Duration::from_millis(100), Duration::from_millis(200)]);
    config.webhooks.timeout = Duration::from_secs(2);
    config
}

async fn owner(app: &TestApp) -> String {
    app.admin("owner@example.com", Permissions::OWNER).await.0
}

/// Every change after 0 as the owner sees it.
async fn changes(app: &TestApp, token: &str) -> Vec<Value> {
    let reply = app.get("/api/changes?after=0&limit=1000", token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply.json["changes"].as_array().expect("changes").clone()
}

/// The `webhook-id` a change is delivered with.
fn message_id(change: &Value) -> String {
    let event = &change["event"];
    let conversation = text(&event["conversationId"]).replace('-', "");
    format!("evt_{conversation}_{}", event["seq"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_for_owners_and_private_targets_are_refused_unless_allowed() {
    let app = TestApp::with_config(config(false));
    let owner = owner(&app).await;
    let (agent, _) = app.admin("agent@example.com", Permissions::default()).await;
    let (visitor, _) = app.visitor().await;
    let body = json!({"url": "https://93.184.216.34/hook"});
    for token in [&agent, &visitor] {
        let reply = app.post("/api/webhooks", token, body.clone()).await;
        assert_error(&reply, StatusCode::FORBIDDEN, "forbidden");
        assert_error(
            &app.get("/api/webhooks", token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_error(
            &app.get("/api/changes", token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    for (url, why) in [
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://localhost:9/hook", "a name for loopback"),
        ("http://10.0.0.1/hook", "private"),
        (
            "http://169.254.169.254/latest/meta-data",
            "link local (cloud metadata)",
        ),
        ("ftp://example.com/hook", "not http"),
    ] {
        let reply = app.post("/api/webhooks", &owner, json!({"url": url})).await;
        assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        assert!(
            text(&reply.json["error"]["message"]).contains("url"),
            "{why}: {}",
            reply.json
        );
    }
    let unknown = json!({"url": "http://93.184.216.34/hook", "events": ["messageCreated"]});
    let reply = app.post("/api/webhooks", &owner, unknown).await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    let bad_secret = json!({"url": "http://93.184.216.34/hook", "secret": "not-a-secret"});
    let reply = app.post("/api/webhooks", &owner, bad_secret).await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    assert!(
        app.get("/api/webhooks", &owner).await.json["webhooks"]
            .as_array()
            .expect("list")
            .is_empty(),
        "nothing was half-written"
    );

    let created = app
        .post(
            "/api/webhooks",
            &owner,
            json!({"url": "http://93.184.216.34/hook", "events": ["message"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let webhook = &created.json["webhook"];
    assert!(text(&webhook["secret"]).starts_with("whsec_"));
    let id = text(&webhook["id"]);
    let path = format!("/api/webhooks/{id}");
    let patched = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner),
            Some(json!({"events": null, "enabled": false})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
    assert_eq!(patched.json["webhook"]["enabled"], false);
    assert!(
        patched.json["webhook"].get("events").is_none(),
        "every type"
    );
    let private = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner),
            Some(json!({"url": "http://127.0.0.1/x"})),
        )
        .await;
    assert_error(&private, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    let deleted = app.call(Method::DELETE, &path, Some(&owner), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_error(
        &app.get(&path, &owner).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_in_order_signed_and_a_retry_keeps_its_id() {
    let app = TestApp::with_config(config(true));
    let owner = owner(&app).await;
    let receiver = Receiver::start().await;
    // The first request fails; every later one succeeds.
    let mut first = true;
    receiver.answer(Box::new(move |_, _| {
        let status = if first { 503 } else { 204 };
        first = false;
        (status, None)
    }));
    let created = app
        .post("/api/webhooks", &owner, json!({"url": receiver.url()}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let secret = text(&created.json["webhook"]["secret"]);
    let id = text(&created.json["webhook"]["id"]);
    let worker = spawn_webhook_worker(app.state.clone(), Duration::from_millis(50));

    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    for n in 0..5 {
        let sent = app
            .send_as_visitor(&visitor, &conversation, &format!("m{n}"))
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.json);
    }
    let feed = changes(&app, &owner).await;
    let expected: Vec<String> = feed.iter().map(message_id).collect();
    let log = receiver
        .wait_for(WAIT, |log| delivered_ids(log).len() >= expected.len())
        .await;
    worker.abort();

    assert_eq!(
        delivered_ids(&log),
        expected,
        "every event once, in feed order"
    );
    assert_eq!(log[0].status, 503);
    assert_eq!(log[0].id(), log[1].id(), "a retry keeps its webhook-id");
    let verifier = standardwebhooks::Webhook::new(&secret).expect("secret");
    for request in &log {
        verifier
            .verify(&request.body, &request.headers)
            .expect("the signature verifies with an independent implementation");
    }
    let messages: Vec<Value> = log
        .iter()
        .filter(|r| r.status == 204)
        .map(|r| r.json())
        .filter(|payload| payload["type"] == "message")
        .collect();
    assert_eq!(messages.len(), 5);
    assert_eq!(messages[0]["data"]["message"]["content"], "m0");
    assert_eq!(messages[0]["data"]["conversationId"], conversation.as_str());
    assert!(messages[0]["timestamp"].is_string());

    let deliveries = app
        .get(&format!("/api/webhooks/{id}/deliveries?limit=200"), &owner)
        .await;
    assert_eq!(deliveries.status, StatusCode::OK, "{}", deliveries.json);
    let outcomes: Vec<Value> = deliveries.json["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .rev()
        .map(|d| d["outcome"].clone())
        .collect();
    assert_eq!(outcomes[0], "willRetry");
    assert!(
        outcomes[1..].iter().all(|o| o == "delivered"),
        "{outcomes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_the_endpoint_and_a_replay_sends_again_with_the_same_ids() {
    let app = TestApp::with_config(config(true));
    let owner = owner(&app).await;
    let receiver = Receiver::start().await;
    receiver.answer(Box::new(|_, _| (410, None)));
    let created = app
        .post(
            "/api/webhooks",
            &owner,
            json!({"url": receiver.url(), "events": ["message"]}),
        )
        .await;
    let id = text(&created.json["webhook"]["id"]);
    let cursor = created.json["webhook"]["cursor"].as_u64().expect("cursor");
    let worker = spawn_webhook_worker(app.state.clone(), Duration::from_millis(50));
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    app.send_as_visitor(&visitor, &conversation, "one").await;
    receiver
        .wait_for(WAIT, |log| log.first().is_some_and(|r| r.status == 410))
        .await;
    let path = format!("/api/webhooks/{id}");
    let mut webhook = Value::Null;
    for _ in 0..200 {
        webhook = app.get(&path, &owner).await.json["webhook"].clone();
        if webhook["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(webhook["enabled"], false, "{webhook}");
    assert!(
        text(&webhook["disabledReason"]).contains("410"),
        "{webhook}"
    );
    app.send_as_visitor(&visitor, &conversation, "two").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.log().len(), 1, "a disabled endpoint gets nothing");

    receiver.answer(Box::new(|_, _| (200, None)));
    let enabled = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.json);
    let log = receiver
        .wait_for(WAIT, |log| delivered_ids(log).len() == 2)
        .await;
    assert_eq!(
        log[0].id(),
        log[1].id(),
        "the event refused with 410 is sent again"
    );
    let only_messages = log.iter().all(|r| r.json()["type"] == "message");
    assert!(only_messages, "the endpoint takes messages only");

    let replay = app
        .post(&format!("{path}/replay"), &owner, json!({"after": cursor}))
        .await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.json);
    let replayed = receiver.wait_for(WAIT, |log| log.len() == 5).await;
    worker.abort();
    let again: Vec<String> = replayed[3..].iter().map(|r| r.id()).collect();
    assert_eq!(
        again,
        delivered_ids(&log),
        "a replay resends with the same ids, in order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_signs_beside_the_new_one() {
    let app = TestApp::with_config(config(true));
    let owner = owner(&app).await;
    let receiver = Receiver::start().await;
    let created = app
        .post(
            "/api/webhooks",
            &owner,
            json!({"url": receiver.url(), "events": ["message"]}),
        )
        .await;
    let old = text(&created.json["webhook"]["secret"]);
    let id = text(&created.json["webhook"]["id"]);
    let rotated = app
        .post(
            &format!("/api/webhooks/{id}/rotate-secret"),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.json);
    let new = text(&rotated.json["webhook"]["secret"]);
    assert_ne!(old, new);
    assert!(rotated.json["webhook"]["previousSecretExpiresAt"].is_string());
    let worker = spawn_webhook_worker(app.state.clone(), Duration::from_millis(50));
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    app.send_as_visitor(&visitor, &conversation, "hello").await;
    let log = receiver.wait_for(WAIT, |log| !log.is_empty()).await;
    worker.abort();
    for secret in [&old, &new] {
        standardwebhooks::Webhook::new(secret)
            .expect("secret")
            .verify(&log[0].body, &log[0].headers)
            .expect("both secrets verify during the overlap");
    }
    let forged = "whsec_".to_owned() + &"A".repeat(32);
    assert!(
        standardwebhooks::Webhook::new(&forged)
            .expect("secret")
            .verify(&log[0].body, &log[0].headers)
            .is_err(),
        "another secret does not"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_feed_pages_with_a_cursor() {
    let app = TestApp::new();
    let owner = owner(&app).await;
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    for n in 0..3 {
        app.send_as_visitor(&visitor, &conversation, &format!("m{n}"))
            .await;
    }
    let all = changes(&app, &owner).await;
    let mut after = 0;
    let mut paged = Vec::new();
    loop {
        let page = app
            .get(&format!("/api/changes?after={after}&limit=2"), &owner)
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.json);
        paged.extend(
            page.json["changes"]
                .as_array()
                .expect("changes")
                .iter()
                .cloned(),
        );
        after = page.json["lastPosition"].as_u64().expect("lastPosition");
        if page.json["hasMore"] != true {
            break;
        }
    }
    assert_eq!(paged, all);
    assert!(all.iter().any(|c| c["event"]["message"]["content"] == "m2"));
    let reply = app.get("/api/changes?limit=0", &owner).await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    let reply = app.get("/api/changes?after=-1", &owner).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.json);
}
