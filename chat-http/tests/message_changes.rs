//! Changing sent messages over REST: the sender edits and deletes its own, others are
//! refused (403 for a reader, 404 for a stranger), an agent with `delete_messages` deletes
//! and redacts any; the audit log (`view_audit`) keeps the original text, except a
//! redacted one; bad input is a typed error.

mod common;

use axum::http::{Method, StatusCode};
use chat_core::accounts::Permissions;
use common::{TestApp, assert_error, text};
use serde_json::{Value, json};

async fn sent(app: &TestApp, visitor: &str, conversation: &str, message: &str) -> String {
    let reply = app.send_as_visitor(visitor, conversation, message).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    text(&reply.json["messageId"])
}

async fn patch(app: &TestApp, token: &str, message: &str, body: Value) -> common::Reply {
    let path = format!("/api/messages/{message}");
    app.call(Method::PATCH, &path, Some(token), Some(body))
        .await
}

async fn delete(app: &TestApp, token: &str, message: &str) -> common::Reply {
    let path = format!("/api/messages/{message}");
    app.call(Method::DELETE, &path, Some(token), None).await
}

#[tokio::test]
async fn senders_edit_and_delete_their_own_messages() {
    let app = TestApp::new();
    let (agent, _) = app.admin("agent@example.com", Permissions::default()).await;
    let (visitor, _) = app.visitor().await;
    let (stranger, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let message = sent(&app, &visitor, &conversation, "helo").await;

    let edited = patch(&app, &visitor, &message, json!({"message": "hello"})).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.json);
    assert_eq!(edited.json["message"]["content"], "hello");
    assert!(edited.json["message"]["editedAt"].is_string());
    let history = app
        .get(
            &format!("/api/conversations/{conversation}/messages"),
            &agent,
        )
        .await;
    assert_eq!(history.json["messages"][0]["content"], "hello");

    assert_error(
        &patch(&app, &agent, &message, json!({"message": "x"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &patch(&app, &stranger, &message, json!({"message": "x"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &patch(&app, &visitor, &message, json!({"message": "  "})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let unknown = patch(&app, &visitor, &message, json!({"text": "x"})).await;
    assert!(unknown.status.is_client_error(), "{}", unknown.json);
    assert_error(
        &delete(&app, &agent, &message).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let deleted = delete(&app, &visitor, &message).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.json);
    assert_eq!(deleted.json["message"]["content"], "");
    assert!(deleted.json["message"]["deletedAt"].is_string());
    assert_error(
        &delete(&app, &visitor, &message).await,
        StatusCode::CONFLICT,
        "message_deleted",
    );
    let events = app
        .get(
            &format!("/api/conversations/{conversation}/events"),
            &visitor,
        )
        .await;
    let kinds: Vec<&str> = events.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(
        kinds.ends_with(&["messageUpdated", "messageDeleted"]),
        "{kinds:?}"
    );
    assert!(!events.json.to_string().contains("helo"), "{}", events.json);
    assert_error(
        &delete(&app, &visitor, "not-a-uuid").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
}

#[tokio::test]
async fn moderators_delete_and_redact_and_the_audit_keeps_what_it_may() {
    let app = TestApp::new();
    let (owner, _) = app.admin("owner@example.com", Permissions::OWNER).await;
    let moderator = Permissions {
        delete_messages: true,
        ..Permissions::default()
    };
    let (moderator, _) = app.admin("mod@example.com", moderator).await;
    let (agent, _) = app.admin("plain@example.com", Permissions::default()).await;
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let rude = sent(&app, &visitor, &conversation, "rude words").await;
    let card = sent(&app, &visitor, &conversation, "card 4111 2222").await;

    let removed = delete(&app, &moderator, &rude).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.json);
    let redact = |token: &str, body: Value| {
        let path = format!("/api/messages/{card}/redact");
        let token = token.to_owned();
        let app = &app;
        async move { app.post(&path, &token, body).await }
    };
    assert_error(
        &redact(&agent, json!({"reason": "card"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &redact(&moderator, json!({"reason": ""})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    // Deleted first: the audit keeps the text; the redaction then erases it there too.
    assert_eq!(delete(&app, &moderator, &card).await.status, StatusCode::OK);
    let before = app.get("/api/audit", &owner).await;
    assert_eq!(
        before.json["entries"][0]["action"]["original"],
        "card 4111 2222"
    );
    let redacted = redact(&moderator, json!({"reason": "card number"})).await;
    assert_eq!(redacted.status, StatusCode::OK, "{}", redacted.json);

    for refused in [&agent, &moderator, &visitor] {
        assert_error(
            &app.get("/api/audit", refused).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    let audit = app.get("/api/audit", &owner).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.json);
    let entries = audit.json["entries"].as_array().expect("entries");
    let types: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["action"]["type"].as_str())
        .collect();
    assert_eq!(
        types[..3],
        ["messageRedacted", "messageDeleted", "messageDeleted"],
        "{types:?}"
    );
    assert_eq!(entries[0]["action"]["reason"], "card number");
    assert_eq!(entries[1]["action"]["original"], Value::Null, "redacted");
    assert_eq!(entries[2]["action"]["original"], "rude words");
    assert_eq!(entries[2]["actorType"], "admin");
    assert!(!audit.json.to_string().contains("4111"), "{}", audit.json);
    let page = app.get("/api/audit?limit=1", &owner).await;
    let cursor = text(&page.json["nextCursor"]);
    let next = app
        .get(&format!("/api/audit?limit=1&cursor={cursor}"), &owner)
        .await;
    assert_eq!(next.json["entries"][0], entries[1]);
}
