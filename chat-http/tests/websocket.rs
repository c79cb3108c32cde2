//! Real time over the plain WebSocket at `/api/ws`, with a real client on an ephemeral port:
//! exchange with acks, resumable sync with no gap or duplicate at the seam, refusals,
//! foreign origins, revocation, and a client that never reads.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use chat_core::Principal;
use chat_core::accounts::Permissions;
use chat_core::engine::SendMessage;
use chat_core::values::{Limits, MessageBody};
use common::TestApp;
use common::ws_client::Client;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn ack_seqs(ack: &Value) -> Vec<u64> {
    ack["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect()
}

#[tokio::test]
async fn visitor_and_agent_exchange_messages_typing_and_read_receipts() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (visitor_token, _) = app.visitor().await;
    let (agent_token, _) = app.admin("live@example.com", Permissions::default()).await;
    let conversation = app.conversation(&visitor_token).await;
    let mut visitor = Client::connect(address, &visitor_token).await;
    let mut agent = Client::connect(address, &agent_token).await;

    let joined = visitor
        .request(
            "conversation:join",
            json!({"conversationId": conversation, "since": 0}),
        )
        .await;
    assert_eq!(
        (ack_seqs(&joined), joined["lastSeq"].as_u64()),
        (vec![1, 2], Some(2))
    );
    let joined = agent
        .request(
            "conversation:join",
            json!({"conversationId": conversation, "since": 2}),
        )
        .await;
    assert!(ack_seqs(&joined).is_empty());

    let sent = visitor
        .request(
            "message:send",
            json!({"conversationId": conversation, "message": "Hi!", "clientMessageId": "w1"}),
        )
        .await;
    assert_eq!(
        (sent["status"].as_str(), sent["seq"].as_u64()),
        (Some("sent"), Some(3)),
        "{sent}"
    );
    let retry = visitor
        .request(
            "message:send",
            json!({"conversationId": conversation, "message": "Hi!", "clientMessageId": "w1"}),
        )
        .await;
    assert_eq!(
        retry["messageId"], sent["messageId"],
        "idempotent over the socket too"
    );
    let mut inbox = None;
    let mut new = None;
    while inbox.is_none() || new.is_none() {
        let event = agent.event().await.expect("event");
        match event["type"].as_str() {
            Some("inbox") if event["kind"] == "message" => inbox = Some(event),
            Some("message:new") => new = Some(event),
            _ => {}
        }
    }
    let (inbox, new) = (inbox.expect("inbox"), new.expect("message"));
    assert_eq!(
        (
            inbox["conversationId"].as_str(),
            inbox["unreadCount"].as_u64()
        ),
        (Some(conversation.as_str()), Some(1))
    );
    assert_eq!(
        (new["seq"].as_u64(), new["message"]["content"].as_str()),
        (Some(3), Some("Hi!"))
    );
    assert_eq!(new["message"]["senderType"], "customer");

    agent
        .request(
            "typing",
            json!({"conversationId": conversation, "isTyping": true}),
        )
        .await;
    let read = agent
        .request("read", json!({"conversationId": conversation, "seq": 3}))
        .await;
    assert_eq!(read["lastReadSeq"], 3);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let event = visitor.event().await.expect("event");
        if event["type"] == "typing" || event["type"] == "read" {
            seen.push(event);
        }
    }
    assert_eq!(
        (
            seen[0]["type"].as_str(),
            seen[0]["senderType"].as_str(),
            seen[0]["isTyping"].as_bool()
        ),
        (Some("typing"), Some("admin"), Some(true))
    );
    assert_eq!(
        (
            seen[1]["readerType"].as_str(),
            seen[1]["lastReadSeq"].as_u64()
        ),
        (Some("admin"), Some(3))
    );
}

#[tokio::test]
async fn a_rejoin_with_since_gets_exactly_the_missed_events_then_live_ones() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (token, _) = app.visitor().await;
    let conversation = app.conversation(&token).await;
    let mut first = Client::connect(address, &token).await;
    let joined = first
        .request("conversation:join", json!({"conversationId": conversation}))
        .await;
    let since = joined["lastSeq"].as_u64().expect("lastSeq");
    drop(first);

    for n in 0..200 {
        assert_eq!(
            app.send_as_visitor(&token, &conversation, &format!("while away {n}"))
                .await
                .status,
            200
        );
    }
    let writer = {
        let (engine, visitor) = (
            app.engine.clone(),
            app.engine
                .authenticate(&chat_http::auth::hash_token(&token))
                .await
                .expect("principal"),
        );
        let id = conversation.parse().expect("id");
        tokio::spawn(async move {
            for n in 0..50 {
                let body = MessageBody::parse(format!("during rejoin {n}"), &Limits::default())
                    .expect("body");
                engine
                    .send_message(&visitor, SendMessage::text(id, body))
                    .await
                    .expect("send");
                tokio::task::yield_now().await;
            }
        })
    };
    let mut again = Client::connect(address, &token).await;
    let joined = again
        .request(
            "conversation:join",
            json!({"conversationId": conversation, "since": since}),
        )
        .await;
    let mut seqs = ack_seqs(&joined);
    writer.await.expect("writer");
    let last = since + 250;
    seqs.extend(again.log_until(last).await);
    assert_eq!(
        seqs,
        (since + 1..=last).collect::<Vec<_>>(),
        "missed events once each, in order, then live ones"
    );
}

#[tokio::test]
async fn a_foreign_conversation_cannot_be_joined_and_errors_keep_the_socket_open() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (owner, _) = app.visitor().await;
    let (stranger, _) = app.visitor().await;
    let conversation = app.conversation(&owner).await;
    let mut client = Client::connect(address, &stranger).await;
    let foreign = client
        .request("conversation:join", json!({"conversationId": conversation}))
        .await;
    let missing = client
        .request(
            "conversation:join",
            json!({"conversationId": chat_core::ids::ConversationId::new()}),
        )
        .await;
    assert_eq!(foreign["error"]["code"], "not_found");
    assert_eq!(
        foreign["error"], missing["error"],
        "the same answer as for a missing conversation"
    );
    let send = client
        .request(
            "message:send",
            json!({"conversationId": conversation, "message": "hi"}),
        )
        .await;
    assert_eq!(send["error"]["code"], "not_found");
    let nonsense = client.request("no:such:event", json!({})).await;
    assert_eq!(nonsense["error"]["code"], "bad_request");
    let mine = app.conversation(&stranger).await;
    let joined = client
        .request("conversation:join", json!({"conversationId": mine}))
        .await;
    assert_eq!(
        joined["lastSeq"], 2,
        "the socket still works after refusals"
    );
}

#[tokio::test]
async fn bad_tokens_and_foreign_origins_are_refused() {
    let app = TestApp::with_config(chat_http::ChatConfig {
        allowed_origins: vec!["https://shop.example".into()],
        ..Default::default()
    });
    let address = app.serve().await;
    let mut client = Client::open(address).await;
    client
        .send_raw(json!({"type": "auth", "token": "f".repeat(64)}))
        .await;
    let refusal = client.frame().await.expect("an error frame");
    assert_eq!(refusal["error"]["code"], "unauthenticated");
    assert!(
        client.frame().await.is_none(),
        "the socket closes after a failed auth"
    );

    for (origin, allowed) in [
        ("https://evil.example", false),
        ("https://shop.example", true),
        (&format!("http://{address}") as &str, true),
    ] {
        let mut request = format!("ws://{address}/api/ws")
            .into_client_request()
            .expect("request");
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("header"));
        let result = tokio_tungstenite::connect_async(request).await;
        assert_eq!(result.is_ok(), allowed, "origin {origin}");
    }
}

#[tokio::test]
async fn logging_out_closes_the_sessions_sockets() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (token, _) = app.admin("bye@example.com", Permissions::default()).await;
    let mut client = Client::connect(address, &token).await;
    let logout = app
        .call(
            axum::http::Method::POST,
            "/api/auth/logout",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(logout.status, 204);
    while let Some(event) = client.event().await {
        assert_ne!(
            event["type"], "message:new",
            "unexpected traffic after logout: {event}"
        );
    }
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped_without_slowing_the_others() {
    let app = TestApp::with_config(chat_http::ChatConfig {
        stall_limit: Duration::from_millis(500),
        ..TestApp::config()
    });
    let address = app.serve().await;
    let (visitor_token, _) = app.visitor().await;
    let (agent_token, _) = app.admin("fast@example.com", Permissions::default()).await;
    let conversation = app.conversation(&visitor_token).await;
    let mut stalled = Client::connect(address, &visitor_token).await;
    stalled
        .request(
            "conversation:join",
            json!({"conversationId": conversation, "since": 2}),
        )
        .await;
    let mut healthy = Client::connect(address, &agent_token).await;
    healthy
        .request(
            "conversation:join",
            json!({"conversationId": conversation, "since": 2}),
        )
        .await;

    const MESSAGES: u64 = 10_000;
    let writer = {
        let engine = app.engine.clone();
        let visitor = engine
            .authenticate(&chat_http::auth::hash_token(&visitor_token))
            .await
            .expect("principal");
        let id = conversation.parse().expect("id");
        tokio::spawn(async move {
            let text = "x".repeat(2048);
            for _ in 0..MESSAGES {
                let body = MessageBody::parse(text.clone(), &Limits::default()).expect("body");
                engine
                    .send_message(&visitor, SendMessage::text(id, body))
                    .await
                    .expect("send");
            }
        })
    };
    let seqs = healthy.log_until(2 + MESSAGES).await;
    writer.await.expect("writer");
    assert_eq!(
        seqs,
        (3..=2 + MESSAGES).collect::<Vec<_>>(),
        "the healthy client got everything, in order"
    );
    // The stalled client keeps not reading past the stall limit.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut received = 0u64;
    while let Some(event) = stalled.event().await {
        received += u64::from(event["type"] == "message:new");
    }
    assert!(
        received < MESSAGES,
        "the stalled client was never cut off ({received} delivered)"
    );
}

#[tokio::test]
async fn an_agent_goes_offline_only_when_the_last_socket_closes() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (visitor_token, _) = app.visitor().await;
    let (agent_token, _) = app.admin("tabs@example.com", Permissions::default()).await;
    let conversation = app.conversation(&visitor_token).await;
    let mut visitor = Client::connect(address, &visitor_token).await;
    visitor
        .request(
            "conversation:join",
            json!({"conversationId": conversation, "since": 2}),
        )
        .await;
    let first_tab = Client::connect(address, &agent_token).await;
    let mut second_tab = Client::connect(address, &agent_token).await;
    let online = visitor.event().await.expect("presence");
    assert_eq!(
        (online["type"].as_str(), online["online"].as_bool()),
        (Some("presence"), Some(true))
    );
    assert!(
        online.get("adminId").is_none(),
        "visitors do not learn agents' ids"
    );

    drop(first_tab);
    // A marker from the remaining tab: no offline notice may come before it.
    second_tab
        .request(
            "typing",
            json!({"conversationId": conversation, "isTyping": true}),
        )
        .await;
    loop {
        let event = visitor.event().await.expect("event");
        assert_ne!(
            event["type"], "presence",
            "went offline with a tab still open: {event}"
        );
        if event["type"] == "typing" {
            break;
        }
    }
    drop(second_tab);
    let offline = loop {
        let event = visitor.event().await.expect("event");
        if event["type"] == "presence" {
            break event;
        }
    };
    assert_eq!(offline["online"], false);
}

#[tokio::test]
async fn a_socket_closes_when_its_session_expires() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (token, _) = app.visitor().await;
    let principal = app
        .engine
        .authenticate(&chat_http::auth::hash_token(&token))
        .await
        .expect("principal");
    let Principal::Visitor(customer) = principal else {
        panic!("a visitor")
    };
    let short = "s".repeat(64);
    let subject = chat_core::accounts::SessionSubject::Visitor(customer);
    let ttl = chrono::Duration::milliseconds(1500);
    app.engine
        .open_session(subject, chat_http::auth::hash_token(&short), ttl)
        .await
        .expect("session");
    let mut client = Client::connect(address, &short).await;
    let started = std::time::Instant::now();
    while client.event().await.is_some() {}
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "closed before the session expired"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_storm_of_2000_clients_is_served() {
    const CLIENTS: usize = 2000;
    let app = TestApp::new();
    let address = app.serve().await;
    let (token, _) = app.visitor().await;
    let conversation = app.conversation(&token).await;
    for n in 0..5 {
        app.send_as_visitor(&token, &conversation, &format!("before the storm {n}"))
            .await;
    }
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (token, conversation) = (token.clone(), conversation.clone());
            tokio::spawn(async move {
                let mut client = Client::connect(address, &token).await;
                let joined = client
                    .request(
                        "conversation:join",
                        json!({"conversationId": conversation, "since": 0}),
                    )
                    .await;
                (client, ack_seqs(&joined))
            })
        })
        .collect();
    let mut connected = Vec::new();
    for client in clients {
        let (client, seqs) = client.await.expect("client");
        assert_eq!(
            seqs,
            (1..=7).collect::<Vec<_>>(),
            "every client gets the whole log"
        );
        connected.push(client);
    }
    // After the storm the server still serves: a new message reaches a stormed client.
    app.send_as_visitor(&token, &conversation, "after the storm")
        .await;
    let last = connected.last_mut().expect("a client");
    assert_eq!(last.log_until(8).await, vec![8]);
    assert_eq!(
        app.call(axum::http::Method::GET, "/healthz", None, None)
            .await
            .status,
        200
    );
}

/// The events of a message's changes until the one at `last`, as (name, seq, content).
async fn changes_until(client: &mut Client, last: u64) -> Vec<(String, u64, String)> {
    let mut seen = Vec::new();
    while seen.last().is_none_or(|(_, seq, _)| *seq < last) {
        let event = client.event().await.expect("closed early");
        let name = event["type"].as_str().unwrap_or_default().to_owned();
        if name.starts_with("message:") {
            let seq = event["seq"].as_u64().expect("seq");
            let content = event["message"]["content"].as_str().unwrap_or_default();
            seen.push((name, seq, content.to_owned()));
        }
    }
    seen
}

#[tokio::test]
async fn message_changes_reach_the_room_and_note_changes_only_agents() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (visitor_token, _) = app.visitor().await;
    let moderator = Permissions {
        delete_messages: true,
        ..Permissions::default()
    };
    let (agent_token, _) = app.admin("changes@example.com", moderator).await;
    let conversation = app.conversation(&visitor_token).await;
    let mut visitor = Client::connect(address, &visitor_token).await;
    let mut agent = Client::connect(address, &agent_token).await;
    for client in [&mut visitor, &mut agent] {
        client
            .request(
                "conversation:join",
                json!({"conversationId": conversation, "since": 2}),
            )
            .await;
    }
    let sent = app
        .send_as_visitor(&visitor_token, &conversation, "helo")
        .await;
    let message = sent.json["messageId"].as_str().expect("id").to_owned();
    let note = json!({"conversationId": conversation, "senderType": "admin", "message": "VIP", "private": true});
    let note = app.post("/api/messages/send", &agent_token, note).await;
    let note = note.json["messageId"].as_str().expect("id").to_owned();
    let call = |method, path: String, token: &str, body| {
        let token = token.to_owned();
        let app = &app;
        async move { app.call(method, &path, Some(&token), body).await }
    };
    let edit = json!({"message": "hello"});
    let reply = call(
        Method::PATCH,
        format!("/api/messages/{message}"),
        &visitor_token,
        Some(edit),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let edit = json!({"message": "VIP, be nice"});
    call(
        Method::PATCH,
        format!("/api/messages/{note}"),
        &agent_token,
        Some(edit),
    )
    .await;
    let reply = call(
        Method::DELETE,
        format!("/api/messages/{message}"),
        &agent_token,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);

    let expected = |with_note: bool| {
        let mut all = vec![
            ("message:new".to_owned(), 3, "helo".to_owned()),
            ("message:new".to_owned(), 4, "VIP".to_owned()),
            ("message:updated".to_owned(), 5, "hello".to_owned()),
            ("message:updated".to_owned(), 6, "VIP, be nice".to_owned()),
            ("message:deleted".to_owned(), 7, String::new()),
        ];
        if !with_note {
            all.retain(|(_, seq, _)| *seq != 4 && *seq != 6);
        }
        all
    };
    assert_eq!(changes_until(&mut agent, 7).await, expected(true));
    assert_eq!(
        changes_until(&mut visitor, 7).await,
        expected(false),
        "the visitor never hears of the note"
    );
}
