//! A visitor's data on request over REST: the export as JSON lines and the erasure, both
//! for agents with `manage_visitor_data` only; an erasure removes the files' bytes, ends
//! the visitor's sessions and closes its open socket, takes agents out of the room and
//! their inbox lists, and leaves only its audit entry.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode, header};
use chat_core::accounts::Permissions;
use common::live::{closes, next_named};
use common::ws_client::Client;
use common::{PNG, Reply, TestApp, assert_error, text, upload_request};
use serde_json::{Value, json};

const SOON: Duration = Duration::from_secs(10);

fn steward() -> Permissions {
    Permissions {
        manage_visitor_data: true,
        view_audit: true,
        ..Permissions::default()
    }
}

/// A socket of `token`'s that joined `conversation`'s room.
async fn in_room(address: std::net::SocketAddr, token: &str, conversation: &str) -> Client {
    let mut socket = Client::connect(address, token).await;
    let joined = socket
        .request(
            "conversation:join",
            json!({"conversationId": conversation, "since": 0}),
        )
        .await;
    assert!(joined["lastSeq"].as_u64().is_some(), "{joined}");
    socket
}

/// The export's lines, parsed.
fn lines(reply: &Reply) -> Vec<Value> {
    String::from_utf8_lossy(&reply.bytes)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// A visitor with an address, a conversation holding a file, a reply and a private note:
/// (visitor token, visitor id, conversation id, file id).
async fn populated(app: &TestApp, agent: &str) -> (String, String, String, String) {
    let (visitor, id) = app.visitor().await;
    let email = json!({"email": "jane@example.com"});
    let left = app
        .call(
            Method::PUT,
            &format!("/api/visitors/{id}/email"),
            Some(&visitor),
            Some(email),
        )
        .await;
    assert_eq!(left.status, StatusCode::OK, "{}", left.json);
    let conversation = app.conversation(&visitor).await;
    let upload = app
        .send(upload_request(
            &visitor,
            &conversation,
            "image",
            "passport.png",
            PNG,
        ))
        .await;
    assert_eq!(upload.status, StatusCode::CREATED, "{}", upload.json);
    let file = text(&upload.json["attachmentId"]);
    let body = json!({"conversationId": conversation, "senderType": "customer",
        "message": "my passport", "attachmentIds": [file], "timestamp": "2026-01-01T00:00:00Z"});
    let sent = app.post("/api/messages/send", &visitor, body).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.json);
    for (text, private) in [("thanks, received", false), ("looks forged", true)] {
        let body = json!({"conversationId": conversation, "senderType": "admin",
            "message": text, "private": private, "timestamp": "2026-01-01T00:00:00Z"});
        let sent = app.post("/api/messages/send", agent, body).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.json);
    }
    (visitor, id, conversation, file)
}

#[tokio::test]
async fn only_agents_with_manage_visitor_data_export_or_erase() {
    let app = TestApp::new();
    let (plain, _) = app.admin("plain@example.com", Permissions::default()).await;
    let (steward, _) = app.admin("steward@example.com", steward()).await;
    let (visitor, id, _, _) = populated(&app, &plain).await;
    let export = format!("/api/visitors/{id}/export");
    let erase = format!("/api/visitors/{id}");
    for token in [&plain, &visitor] {
        assert_error(
            &app.get(&export, token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        let refused = app.call(Method::DELETE, &erase, Some(token), None).await;
        assert_error(&refused, StatusCode::FORBIDDEN, "forbidden");
    }
    let anonymous = app.call(Method::GET, &export, None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let unknown = "/api/visitors/0190aaaa-0000-7000-8000-000000000000";
    assert_error(
        &app.get(&format!("{unknown}/export"), &steward).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let gone = app
        .call(Method::DELETE, unknown, Some(&steward), None)
        .await;
    assert_error(&gone, StatusCode::NOT_FOUND, "not_found");
    let malformed = app
        .call(Method::DELETE, "/api/visitors/nope", Some(&steward), None)
        .await;
    assert_error(
        &malformed,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    // Nothing was erased by the refusals.
    assert_eq!(app.get(&export, &steward).await.status, StatusCode::OK);
    assert_eq!(app.blob_count(), 1);
}

#[tokio::test]
async fn the_export_holds_the_visitor_its_messages_and_files_as_json_lines() {
    let app = TestApp::new();
    let (steward, _) = app.admin("steward@example.com", Permissions::OWNER).await;
    let (_, id, conversation, file) = populated(&app, &steward).await;
    let reply = app
        .get(&format!("/api/visitors/{id}/export"), &steward)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/x-ndjson");
    assert_eq!(
        reply.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"visitor-{id}.jsonl\"").as_str()
    );
    let lines = lines(&reply);
    let kinds: Vec<&str> = lines
        .iter()
        .map(|l| l["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        kinds,
        [
            "visitor",
            "conversation",
            "message",
            "message",
            "message",
            "attachment",
            "end"
        ]
    );
    assert_eq!(lines[0]["id"], id.as_str());
    assert_eq!(lines[0]["email"], "jane@example.com");
    assert!(lines[0].get("locationData").is_some(), "{}", lines[0]);
    assert_eq!(lines[1]["id"], conversation.as_str());
    let messages: Vec<(&str, bool)> = lines[2..5]
        .iter()
        .map(|m| (m["content"].as_str().expect("text"), m["private"] == true))
        .collect();
    assert_eq!(
        messages,
        [
            ("my passport", false),
            ("thanks, received", false),
            ("looks forged", true)
        ]
    );
    assert_eq!(lines[5]["id"], file.as_str());
    assert_eq!(lines[5]["fileName"], "passport.png");
    let link = text(&lines[5]["fileUrl"]);
    assert_eq!(
        app.get(&link, &steward).await.bytes.as_ref(),
        PNG,
        "the link downloads it"
    );
    assert_eq!(lines[6]["conversations"], 1);
    let audit = app.get("/api/audit", &steward).await;
    assert_eq!(
        audit.json["entries"][0]["action"]["type"],
        "visitorExported"
    );
    assert_eq!(audit.json["entries"][0]["action"]["customer"], id.as_str());
}

#[tokio::test]
async fn an_erasure_removes_everything_closes_the_socket_and_keeps_only_that_it_happened() {
    let app = TestApp::new();
    let address = app.serve().await;
    let (steward, steward_id) = app.admin("steward@example.com", steward()).await;
    let (owner, _) = app.admin("owner@example.com", Permissions::OWNER).await;
    let (visitor, id, conversation, file) = populated(&app, &owner).await;
    let (other, _) = app.visitor().await;
    let kept = app.conversation(&other).await;
    let mut socket = in_room(address, &visitor, &conversation).await;
    let mut agent_room = in_room(address, &owner, &conversation).await;
    let mut dashboard = Client::connect(address, &owner).await;
    // The node's inbox now holds a snapshot of the conversation, as it does while agents
    // are online: the erasure must not be answered from it.
    let more = app
        .send_as_visitor(&visitor, &conversation, "one more")
        .await;
    assert_eq!(more.status, StatusCode::OK, "{}", more.json);
    let update = next_named(&mut dashboard, "inbox", SOON).await;
    assert_eq!(update.expect("no inbox update")["kind"], "message");
    assert_eq!(app.blob_count(), 1);

    let erased = app
        .call(
            Method::DELETE,
            &format!("/api/visitors/{id}"),
            Some(&steward),
            None,
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.json);
    assert_eq!(erased.json, json!({"conversations": 1, "files": 1}));
    assert_eq!(app.blob_count(), 0, "the file's bytes outlived the erasure");
    assert!(
        closes(&mut socket, SOON).await,
        "the visitor's socket stayed open"
    );
    let left = next_named(&mut agent_room, "conversation:left", SOON).await;
    assert_eq!(
        left.expect("the agent's room was not left")["conversationId"],
        json!(conversation)
    );
    let removed = next_named(&mut dashboard, "inbox", SOON).await;
    let removed = removed.expect("the inbox was not told");
    assert_eq!(
        (&removed["kind"], &removed["conversationId"]),
        (&json!("removed"), &json!(conversation))
    );

    let unauthenticated = app
        .get(&format!("/api/conversations/{conversation}"), &visitor)
        .await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    for path in [
        format!("/api/conversations/{conversation}"),
        format!("/api/conversations/{conversation}/events"),
        format!("/api/files/{file}"),
        format!("/api/visitors/{id}"),
        format!("/api/visitors/{id}/export"),
    ] {
        assert_eq!(
            app.get(&path, &owner).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let everything = [
        app.get("/api/conversations/list?limit=100", &owner).await,
        app.get("/api/search?q=passport", &owner).await,
        app.get("/api/search?q=jane%40example.com", &owner).await,
        app.get("/api/changes?after=0&limit=1000", &owner).await,
        app.get("/api/audit?limit=200", &owner).await,
    ];
    for (index, reply) in everything.iter().enumerate() {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        let body = String::from_utf8_lossy(&reply.bytes);
        for erased in [
            "passport",
            "thanks, received",
            "looks forged",
            "jane@example.com",
        ] {
            assert!(
                !body.contains(erased),
                "{erased:?} is still returned: {body}"
            );
        }
        // The audit names the deleted conversation by its id, nothing else does.
        if index != 4 {
            assert!(
                !body.contains(&conversation),
                "the conversation is still listed: {body}"
            );
        }
    }
    assert!(String::from_utf8_lossy(&everything[0].bytes).contains(&kept));
    let entry = &everything[4].json["entries"][0];
    assert_eq!(
        entry["action"],
        json!({"type": "visitorErased", "customer": id, "conversations": 1})
    );
    assert_eq!(entry["actorId"], steward_id.as_str());
    let again = app
        .call(
            Method::DELETE,
            &format!("/api/visitors/{id}"),
            Some(&steward),
            None,
        )
        .await;
    assert_error(&again, StatusCode::NOT_FOUND, "not_found");
}
