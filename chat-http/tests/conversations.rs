//! Conversations and messages over REST: who may read, send and list; the seed's list
//! route; events, history, read markers, status and assignment.

mod common;

use axum::http::StatusCode;
use chat_core::accounts::{ConversationScope, Permissions};
use common::{Reply, TestApp, assert_error, text};
use serde_json::json;

#[tokio::test]
async fn another_visitors_conversation_is_404_like_a_missing_one() {
    let app = TestApp::new();
    let (owner, _) = app.visitor().await;
    let (stranger, _) = app.visitor().await;
    let conversation = app.conversation(&owner).await;
    let missing = chat_core::ids::ConversationId::new().to_string();
    for id in [&conversation, &missing] {
        for path in ["", "/events", "/messages"] {
            let reply = app
                .get(&format!("/api/conversations/{id}{path}"), &stranger)
                .await;
            assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
        }
        let read = app
            .post(
                &format!("/api/conversations/{id}/read"),
                &stranger,
                json!({"seq": 1}),
            )
            .await;
        assert_error(&read, StatusCode::NOT_FOUND, "not_found");
        let send = app.send_as_visitor(&stranger, id, "let me in").await;
        assert_error(&send, StatusCode::NOT_FOUND, "not_found");
    }
    let own = app
        .get(&format!("/api/conversations/{conversation}"), &stranger)
        .await;
    let none = app
        .get(&format!("/api/conversations/{missing}"), &stranger)
        .await;
    assert_eq!(own.json, none.json, "the answers must be identical");
}

#[tokio::test]
async fn send_is_durable_idempotent_and_in_order() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let body = json!({"conversationId": conversation, "senderType": "customer", "message": "hello",
        "timestamp": "2020-01-01T00:00:00Z", "clientMessageId": "c-1"});
    let first = app.post("/api/messages/send", &visitor, body.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(first.json["status"], "sent");
    assert_eq!(first.json["seq"], 3);
    let retry = app.post("/api/messages/send", &visitor, body).await;
    assert_eq!(
        retry.json["messageId"], first.json["messageId"],
        "a retry returns the original"
    );
    assert_eq!(retry.json["seq"], first.json["seq"]);
    let second = app.send_as_visitor(&visitor, &conversation, "second").await;
    assert_eq!(second.json["seq"], 4);

    let history = app
        .get(
            &format!("/api/conversations/{conversation}/messages"),
            &visitor,
        )
        .await;
    let contents: Vec<&str> = history.json["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["content"].as_str().expect("content"))
        .collect();
    assert_eq!(
        contents,
        ["second", "hello"],
        "newest first, the retry stored once"
    );
    let stored_at = &history.json["messages"][1]["timestamp"];
    assert_ne!(
        stored_at, "2020-01-01T00:00:00Z",
        "the server sets the timestamp"
    );
    assert_eq!(
        history.json["messages"][1]["clientTimestamp"],
        "2020-01-01T00:00:00Z"
    );
}

#[tokio::test]
async fn sender_type_must_match_the_session() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let spoof =
        json!({"conversationId": conversation, "senderType": "admin", "message": "I am staff"});
    assert_error(
        &app.post("/api/messages/send", &visitor, spoof).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (agent, _) = app.admin("a@example.com", Permissions::default()).await;
    let spoof = json!({"conversationId": conversation, "senderType": "customer", "message": "I am the customer"});
    assert_error(
        &app.post("/api/messages/send", &agent, spoof).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_eq!(
        app.last_seq(&visitor, &conversation).await,
        2,
        "nothing was stored"
    );
}

#[tokio::test]
async fn bad_messages_are_refused_and_store_nothing() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    assert_error(
        &app.send_as_visitor(&visitor, &conversation, "   ").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let huge = "x".repeat(16 * 1024 + 1);
    assert_error(
        &app.send_as_visitor(&visitor, &conversation, &huge).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let bad_id = json!({"conversationId": "not-a-uuid", "senderType": "customer", "message": "hi"});
    assert_error(
        &app.post("/api/messages/send", &visitor, bad_id).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    assert_eq!(app.last_seq(&visitor, &conversation).await, 2);
}

#[tokio::test]
async fn the_seed_list_route_gives_agents_the_inbox_and_visitors_their_own() {
    let app = TestApp::new();
    let (agent, agent_id) = app
        .admin("lister@example.com", Permissions::default())
        .await;
    let (visitor, _) = app.visitor().await;
    for _ in 0..5 {
        let conversation = app.conversation(&visitor).await;
        app.send_as_visitor(&visitor, &conversation, "help").await;
    }
    let page = app
        .get(
            &format!("/api/conversations/list?adminId={agent_id}&limit=2"),
            &agent,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.json);
    assert_eq!(
        (
            page.json["totalCount"].as_u64(),
            page.json["unreadCount"].as_u64()
        ),
        (Some(5), Some(5))
    );
    let mut seen: Vec<String> = page.json["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| text(&c["id"]))
        .collect();
    let mut cursor = page.json["nextCursor"].as_str().map(str::to_owned);
    while let Some(next) = cursor {
        let page = app
            .get(
                &format!("/api/conversations/list?limit=2&cursor={next}"),
                &agent,
            )
            .await;
        seen.extend(
            page.json["conversations"]
                .as_array()
                .expect("list")
                .iter()
                .map(|c| text(&c["id"])),
        );
        cursor = page.json["nextCursor"].as_str().map(str::to_owned);
    }
    seen.dedup();
    assert_eq!(seen.len(), 5);
    let waiting = app
        .get("/api/conversations/list?status=waiting", &agent)
        .await;
    assert_eq!(waiting.json["totalCount"], 5);
    let closed = app
        .get("/api/conversations/list?status=closed", &agent)
        .await;
    assert_eq!(closed.json["totalCount"], 0);

    let other = chat_core::ids::AdminId::new();
    let spoof = app
        .get(&format!("/api/conversations/list?adminId={other}"), &agent)
        .await;
    assert_error(&spoof, StatusCode::FORBIDDEN, "forbidden");
    assert_error(
        &app.get("/api/conversations/list?status=open", &agent).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    assert_error(
        &app.get("/api/conversations/list?cursor=garbage", &agent)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    assert_error(
        &app.get("/api/conversations/list?limit=abc", &agent).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );

    let (other_visitor, _) = app.visitor().await;
    let theirs = app.conversation(&other_visitor).await;
    let own = app.get("/api/conversations/list", &visitor).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.json);
    assert_eq!(own.json["totalCount"], 5, "a visitor lists only its own");
    let listed = app.get("/api/conversations/list", &other_visitor).await;
    assert_eq!(listed.json["totalCount"], 1);
    assert_eq!(text(&listed.json["conversations"][0]["id"]), theirs);
    assert_error(
        &app.get(
            &format!("/api/conversations/list?adminId={agent_id}"),
            &visitor,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
}

#[tokio::test]
async fn agents_reply_close_reopen_and_assign() {
    let app = TestApp::new();
    let (agent, agent_id) = app.admin("boss@example.com", Permissions::OWNER).await;
    let viewer = Permissions {
        manage_conversations: false,
        ..Permissions::default()
    };
    let (viewer, _) = app.admin("viewer@example.com", viewer).await;
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let base = format!("/api/conversations/{conversation}");

    let reply = json!({"conversationId": conversation, "senderType": "admin", "message": "On it"});
    assert_eq!(
        app.post("/api/messages/send", &agent, reply).await.status,
        StatusCode::OK
    );
    let got = app.get(&base, &visitor).await;
    assert_eq!(
        (
            got.json["conversation"]["status"].as_str(),
            got.json["conversation"]["unreadCount"].as_u64()
        ),
        (Some("active"), Some(1))
    );
    let read = app
        .post(&format!("{base}/read"), &visitor, json!({"seq": 999}))
        .await;
    assert_eq!(
        read.json["lastReadSeq"], got.json["conversation"]["lastSeq"],
        "clamped to the end"
    );
    let back = app
        .post(&format!("{base}/read"), &visitor, json!({"seq": 1}))
        .await;
    assert_eq!(
        back.json["lastReadSeq"], read.json["lastReadSeq"],
        "never moves back"
    );

    assert_error(
        &app.post(
            &format!("{base}/status"),
            &visitor,
            json!({"status": "closed"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.post(
            &format!("{base}/status"),
            &viewer,
            json!({"status": "closed"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let closed = app
        .post(
            &format!("{base}/status"),
            &agent,
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(closed.json["conversation"]["status"], "closed");
    assert!(closed.json["conversation"]["closedAt"].is_string());
    assert_error(
        &app.post(
            &format!("{base}/status"),
            &agent,
            json!({"status": "closed"}),
        )
        .await,
        StatusCode::CONFLICT,
        "illegal_transition",
    );
    let late = app.send_as_visitor(&visitor, &conversation, "hello?").await;
    assert_error(&late, StatusCode::CONFLICT, "conversation_closed");
    assert!(
        text(&late.json["error"]["message"]).contains("start a new conversation"),
        "the visitor is told what to do: {}",
        late.json
    );
    let reopened = app
        .post(
            &format!("{base}/status"),
            &agent,
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(reopened.json["conversation"]["status"], "active");

    let assigned = app
        .post(
            &format!("{base}/assign"),
            &agent,
            json!({"assigneeId": agent_id}),
        )
        .await;
    assert_eq!(assigned.json["conversation"]["assigneeId"], agent_id);
    let nobody = chat_core::ids::AdminId::new().to_string();
    assert_error(
        &app.post(
            &format!("{base}/assign"),
            &agent,
            json!({"assigneeId": nobody}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let events = app
        .get(&format!("{base}/events?since=0&limit=500"), &visitor)
        .await;
    let kinds: Vec<&str> = events.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    assert!(
        kinds.starts_with(&[
            "created",
            "participantJoined",
            "participantJoined",
            "statusChanged",
            "message"
        ]),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"assigned"));
}

#[tokio::test]
async fn private_notes_never_reach_the_visitor() {
    let app = TestApp::new();
    let (agent, _) = app.admin("notes@example.com", Permissions::default()).await;
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let note = json!({"conversationId": conversation, "senderType": "admin", "message": "VIP, be nice", "private": true});
    assert_eq!(
        app.post("/api/messages/send", &agent, note).await.status,
        StatusCode::OK
    );
    let note = json!({"conversationId": conversation, "senderType": "customer", "message": "x", "private": true});
    assert_error(
        &app.post("/api/messages/send", &visitor, note).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    for path in ["messages", "events"] {
        let reply = app
            .get(
                &format!("/api/conversations/{conversation}/{path}"),
                &visitor,
            )
            .await;
        assert!(
            !reply.bytes.windows(3).any(|w| w == b"VIP"),
            "a note leaked through /{path}"
        );
        let staff = app
            .get(&format!("/api/conversations/{conversation}/{path}"), &agent)
            .await;
        assert!(
            staff.bytes.windows(3).any(|w| w == b"VIP"),
            "agents see notes in /{path}"
        );
    }
}

#[tokio::test]
async fn a_restricted_agent_sees_only_assigned_conversations() {
    let app = TestApp::new();
    let (boss, _) = app.admin("lead@example.com", Permissions::OWNER).await;
    let narrow = Permissions {
        scope: ConversationScope::Assigned,
        ..Permissions::default()
    };
    let (agent, agent_id) = app.admin("narrow@example.com", narrow).await;
    let (visitor, _) = app.visitor().await;
    let mine = app.conversation(&visitor).await;
    let theirs = app.conversation(&visitor).await;
    app.post(
        &format!("/api/conversations/{mine}/assign"),
        &boss,
        json!({"assigneeId": agent_id}),
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/conversations/{mine}"), &agent)
            .await
            .status,
        StatusCode::OK
    );
    assert_error(
        &app.get(&format!("/api/conversations/{theirs}"), &agent)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let list = app.get("/api/conversations/list", &agent).await;
    assert_eq!(list.json["totalCount"], 1);
}

#[tokio::test]
async fn metadata_with_a_nul_character_is_refused_and_nothing_is_created() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    let poisoned = json!({"metadata": {"page": "/pricing\u{0}"}});
    let reply = app.post("/api/conversations", &visitor, poisoned).await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    let (agent, _) = app.admin("nul@example.com", Permissions::default()).await;
    let listed = app.get("/api/conversations/list", &agent).await;
    assert_eq!(listed.json["totalCount"], 0, "{}", listed.json);
}

/// A reloaded page can show "Seen" at once: a single conversation carries how far the other
/// side has read (agents for the visitor, the visitor for an agent).
#[tokio::test]
async fn a_conversation_carries_how_far_the_other_side_has_read() {
    let app = TestApp::new();
    let (agent, _) = app.admin("seen@example.com", Permissions::OWNER).await;
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let base = format!("/api/conversations/{conversation}");
    let send =
        |who: &str| json!({"conversationId": conversation, "senderType": who, "message": "hi"});
    app.post("/api/messages/send", &visitor, send("customer"))
        .await;
    app.post("/api/messages/send", &agent, send("admin")).await;
    let peer = |got: &Reply| got.json["conversation"]["peerLastReadSeq"].as_u64();
    assert_eq!(
        peer(&app.get(&base, &visitor).await),
        Some(0),
        "nobody read yet"
    );

    let agent_read = app
        .post(&format!("{base}/read"), &agent, json!({"seq": 999}))
        .await;
    let visitor_view = app.get(&base, &visitor).await;
    assert_eq!(peer(&visitor_view), agent_read.json["lastReadSeq"].as_u64());
    assert_eq!(
        peer(&app.get(&base, &agent).await),
        Some(0),
        "the visitor read nothing"
    );

    // A supervisor who never took part reads further: the visitor sees it, as live.
    let (supervisor, _) = app.admin("lead@example.com", Permissions::OWNER).await;
    app.post("/api/messages/send", &visitor, send("customer"))
        .await;
    let supervisor_read = app
        .post(&format!("{base}/read"), &supervisor, json!({"seq": 999}))
        .await;
    assert!(supervisor_read.json["lastReadSeq"].as_u64() > agent_read.json["lastReadSeq"].as_u64());
    assert_eq!(
        peer(&app.get(&base, &visitor).await),
        supervisor_read.json["lastReadSeq"].as_u64()
    );

    let visitor_read = app
        .post(&format!("{base}/read"), &visitor, json!({"seq": 2}))
        .await;
    assert_eq!(
        peer(&app.get(&base, &agent).await),
        visitor_read.json["lastReadSeq"].as_u64()
    );
    let list = app.get("/api/conversations/list", &agent).await;
    assert!(
        list.json["conversations"][0]
            .get("peerLastReadSeq")
            .is_none(),
        "lists do not compute it"
    );
}
