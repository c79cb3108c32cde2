//! Search over REST: agents find messages (private notes included) newest first in pages
//! and conversations by id; visitors and anonymous callers are refused; bad input is a
//! typed error; a restricted agent finds only what is assigned to it.

mod common;

use axum::http::{Method, StatusCode};
use chat_core::accounts::{ConversationScope, Permissions};
use common::{TestApp, assert_error, text};
use serde_json::{Value, json};

fn contents(reply: &Value) -> Vec<String> {
    reply["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|hit| text(&hit["message"]["content"]))
        .collect()
}

#[tokio::test]
async fn agents_find_messages_in_pages_and_conversations_by_id() {
    let app = TestApp::new();
    let (agent, _) = app
        .admin("finder@example.com", Permissions::default())
        .await;
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    for text in [
        "My invoice is wrong",
        "unrelated",
        "Second INVOICE question",
    ] {
        let sent = app.send_as_visitor(&visitor, &conversation, text).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.json);
    }
    let note = json!({"conversationId": conversation, "senderType": "admin",
        "message": "invoice refund pending", "private": true});
    let sent = app.post("/api/messages/send", &agent, note).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.json);

    let all = app.get("/api/search?q=invoice", &agent).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.json);
    assert_eq!(
        contents(&all.json),
        [
            "invoice refund pending",
            "Second INVOICE question",
            "My invoice is wrong"
        ]
    );
    assert_eq!(all.json["messages"][0]["message"]["private"], true);
    assert_eq!(all.json["messages"][0]["conversation"]["id"], conversation);
    assert!(all.json["nextCursor"].is_null());

    let first = app.get("/api/search?q=invoice&limit=2", &agent).await;
    assert_eq!(contents(&first.json).len(), 2);
    let cursor = text(&first.json["nextCursor"]);
    let second = app
        .get(
            &format!("/api/search?q=invoice&limit=2&cursor={cursor}"),
            &agent,
        )
        .await;
    assert_eq!(contents(&second.json), ["My invoice is wrong"]);
    assert!(second.json["nextCursor"].is_null());

    let by_id = app
        .get(&format!("/api/search?q={conversation}"), &agent)
        .await;
    assert_eq!(by_id.json["conversations"][0]["id"], conversation);
    let closed = app.get("/api/search?q=invoice&status=closed", &agent).await;
    assert!(contents(&closed.json).is_empty(), "{}", closed.json);
}

#[tokio::test]
async fn search_refuses_visitors_and_bad_input_and_is_scoped() {
    let app = TestApp::new();
    let (boss, _) = app.admin("boss@example.com", Permissions::default()).await;
    let narrow = Permissions {
        scope: ConversationScope::Assigned,
        ..Permissions::default()
    };
    let (agent, agent_id) = app.admin("narrow@example.com", narrow).await;
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    app.send_as_visitor(&visitor, &conversation, "lost password")
        .await;

    assert_error(
        &app.get("/api/search?q=password", &visitor).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let anonymous = app
        .call(Method::GET, "/api/search?q=password", None, None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    for (query, status, code) in [
        (
            "q=%20%20",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            "q=a&cursor=garbage",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            "q=a&limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            "q=a&limit=101",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            "q=a&status=open",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            "q=a&label=nope",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
    ] {
        let reply = app.get(&format!("/api/search?{query}"), &boss).await;
        assert_error(&reply, status, code);
    }
    for query in ["", "q=a&since=yesterday", "q=a&color=red"] {
        let reply = app.get(&format!("/api/search?{query}"), &boss).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.json
        );
    }

    let found = |reply: &Value| contents(reply).len();
    assert_eq!(
        found(&app.get("/api/search?q=password", &boss).await.json),
        1
    );
    assert_eq!(
        found(&app.get("/api/search?q=password", &agent).await.json),
        0,
        "not assigned to the restricted agent"
    );
    app.post(
        &format!("/api/conversations/{conversation}/assign"),
        &boss,
        json!({"assigneeId": agent_id}),
    )
    .await;
    assert_eq!(
        found(&app.get("/api/search?q=password", &agent).await.json),
        1
    );
}
