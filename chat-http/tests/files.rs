//! Uploads and downloads: the content decides the type, hostile files are refused and leave
//! nothing behind, and only those who may read the conversation get the file.

mod common;

use axum::http::{Method, StatusCode, header};
use common::{PNG, Reply, TestApp, assert_error, text, upload_request};
use serde_json::json;

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn upload(
    app: &TestApp,
    token: &str,
    conversation: &str,
    file_type: &str,
    name: &str,
    bytes: &[u8],
) -> Reply {
    app.send(upload_request(token, conversation, file_type, name, bytes))
        .await
}

async fn an_image_is_uploaded_sent_and_downloaded_by_the_conversation_only() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    let (stranger, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let reply = upload(&app, &visitor, &conversation, "image", "photo.png", PNG).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert_eq!(
        (
            reply.json["uploadStatus"].as_str(),
            reply.json["fileSize"].as_u64()
        ),
        (Some("success"), Some(PNG.len() as u64))
    );
    assert_eq!(reply.json["contentType"], "image/png");
    let (url, id) = (
        text(&reply.json["fileUrl"]),
        text(&reply.json["attachmentId"]),
    );

    let send = json!({"conversationId": conversation, "senderType": "customer", "message": "see photo", "attachmentIds": [id]});
    let sent = app.post("/api/messages/send", &visitor, send).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.json);
    let history = app
        .get(
            &format!("/api/conversations/{conversation}/messages"),
            &visitor,
        )
        .await;
    assert_eq!(history.json["messages"][0]["attachments"][0]["id"], id);

    let download = app.get(&url, &visitor).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.bytes.as_ref(), PNG);
    assert_eq!(download.headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(download.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_error(
        &app.get(&url, &stranger).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let missing = format!("/api/files/{}", chat_core::ids::AttachmentId::new());
    assert_error(
        &app.get(&missing, &visitor).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.call(Method::GET, &url, None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

async fn documents_are_downloaded_as_attachments_with_a_safe_name() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let reply = upload(
        &app,
        &visitor,
        &conversation,
        "document",
        "rapport d'été.pdf",
        PDF,
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let download = app.get(&text(&reply.json["fileUrl"]), &visitor).await;
    assert_eq!(download.headers[header::CONTENT_TYPE], "application/pdf");
    let disposition = download.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .expect("ascii");
    assert_eq!(disposition, "attachment; filename=\"rapport_d__t_.pdf\"");
    let text_file = upload(
        &app,
        &visitor,
        &conversation,
        "document",
        "notes.csv",
        b"a,b\n1,2\n",
    )
    .await;
    assert_eq!(text_file.json["contentType"], "text/plain; charset=utf-8");
}

async fn hostile_uploads_are_refused_and_leave_nothing_behind() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0";
    let big = vec![0u8; 64 * 1024 + 1];
    let cases: [(&str, &str, &[u8], StatusCode); 8] = [
        ("image", "cat.png", html, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("image", "logo.svg", svg, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (
            "document",
            "logo.txt",
            svg,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "document",
            "tool.pdf",
            elf,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "document",
            "photo.pdf",
            PNG,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        ("image", "big.png", &big, StatusCode::PAYLOAD_TOO_LARGE),
        ("image", "empty.png", b"", StatusCode::UNPROCESSABLE_ENTITY),
        (
            "image",
            "../../etc/passwd.png",
            PNG,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (file_type, name, bytes, status) in cases {
        let reply = upload(&app, &visitor, &conversation, file_type, name, bytes).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.json);
        assert!(
            reply.json["error"]["code"].is_string(),
            "{name}: no JSON error"
        );
    }
    assert_eq!(app.blob_count(), 0, "a refused upload left a blob");
    assert_eq!(
        app.last_seq(&visitor, &conversation).await,
        2,
        "a refused upload left an event"
    );
}

async fn uploading_into_another_visitors_conversation_is_404_and_stores_nothing() {
    let app = TestApp::new();
    let (owner, _) = app.visitor().await;
    let (stranger, _) = app.visitor().await;
    let conversation = app.conversation(&owner).await;
    let reply = upload(&app, &stranger, &conversation, "image", "x.png", PNG).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.blob_count(), 0);
    let missing = chat_core::ids::ConversationId::new().to_string();
    assert_error(
        &upload(&app, &owner, &missing, "image", "x.png", PNG).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn a_file_cannot_be_sent_by_someone_else_or_twice() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    let (agent, _) = app
        .admin(
            "files@example.com",
            chat_core::accounts::Permissions::default(),
        )
        .await;
    let conversation = app.conversation(&visitor).await;
    let id = text(
        &upload(&app, &visitor, &conversation, "image", "a.png", PNG)
            .await
            .json["attachmentId"],
    );
    let as_agent = json!({"conversationId": conversation, "senderType": "admin", "message": "mine now", "attachmentIds": [id]});
    assert_error(
        &app.post("/api/messages/send", &agent, as_agent).await,
        StatusCode::CONFLICT,
        "attachment_unavailable",
    );
    let send = json!({"conversationId": conversation, "senderType": "customer", "message": "photo", "attachmentIds": [id]});
    assert_eq!(
        app.post("/api/messages/send", &visitor, send.clone())
            .await
            .status,
        StatusCode::OK
    );
    let again = json!({"conversationId": conversation, "senderType": "customer", "message": "again", "attachmentIds": [id]});
    assert_error(
        &app.post("/api/messages/send", &visitor, again).await,
        StatusCode::CONFLICT,
        "attachment_unavailable",
    );
}

async fn uploads_never_sent_are_swept_with_their_bytes() {
    let app = TestApp::with_config(chat_http::ChatConfig {
        unattached_upload_ttl: std::time::Duration::ZERO,
        ..chat_http::ChatConfig::default()
    });
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let orphan = upload(&app, &visitor, &conversation, "image", "orphan.png", PNG).await;
    let kept = upload(&app, &visitor, &conversation, "image", "kept.png", PNG).await;
    let send = json!({"conversationId": conversation, "senderType": "customer", "message": "photo",
        "attachmentIds": [text(&kept.json["attachmentId"])]});
    assert_eq!(
        app.post("/api/messages/send", &visitor, send).await.status,
        StatusCode::OK
    );
    assert_eq!(app.blob_count(), 2);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let removed = chat_http::sweep_unattached_uploads(&app.state)
        .await
        .expect("sweep");
    assert_eq!(removed, 1);
    assert_eq!(
        app.blob_count(),
        1,
        "the orphan's bytes are gone, the sent file's stay"
    );
    assert_error(
        &app.get(&text(&orphan.json["fileUrl"]), &visitor).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(
        app.get(&text(&kept.json["fileUrl"]), &visitor).await.status,
        StatusCode::OK
    );
}

/// Mounts a tmpfs of `size` at `point` (root only); `false` if this machine does not allow it.
fn mount_tmpfs(point: &std::path::Path, options: &str) -> bool {
    std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", options, "tmpfs"])
        .arg(point)
        .status()
        .is_ok_and(|status| status.success())
}

async fn a_full_upload_disk_is_a_clear_507_and_leaves_nothing_half_written() {
    let blobs = tempfile::tempdir().expect("temp dir");
    assert!(
        mount_tmpfs(blobs.path(), "size=256k"),
        "mount a small tmpfs (testkit found this allowed)"
    );
    let config = chat_http::ChatConfig {
        max_upload_bytes: 100 * 1024,
        ..TestApp::config()
    };
    let engine = chat_core::ChatEngine::new(
        std::sync::Arc::new(chat_core::MemoryStore::new()),
        std::sync::Arc::new(chat_core::LocalBroadcaster::new()),
        config.engine,
    );
    let store =
        std::sync::Arc::new(chat_http::ObjectStoreBlobs::local(blobs.path()).expect("blob dir"));
    let state = chat_http::AppState::new(engine.clone(), store, config);
    let app = TestApp {
        router: chat_http::router(state.clone()),
        state,
        engine,
        blobs: tempfile::tempdir().expect("unused"),
    };
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let mut document = b"a,b\n".repeat(24 * 1024);
    document.truncate(90 * 1024);
    let mut stored = 0;
    let full = loop {
        let reply = upload(
            &app,
            &visitor,
            &conversation,
            "document",
            "big.csv",
            &document,
        )
        .await;
        if reply.status != StatusCode::CREATED {
            break reply;
        }
        stored += 1;
        assert!(stored < 10, "the small disk never filled");
    };
    let _ = std::process::Command::new("umount")
        .arg(blobs.path())
        .status();
    assert_error(&full, StatusCode::INSUFFICIENT_STORAGE, "storage_full");
    let events = app.last_seq(&visitor, &conversation).await;
    assert_eq!(
        events,
        2 + stored,
        "a failed upload must not leave an event"
    );
}

async fn a_deleted_messages_files_are_no_longer_served() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let reply = upload(&app, &visitor, &conversation, "image", "photo.png", PNG).await;
    let (url, id) = (
        text(&reply.json["fileUrl"]),
        text(&reply.json["attachmentId"]),
    );
    let send = json!({"conversationId": conversation, "senderType": "customer", "message": "oops, wrong photo", "attachmentIds": [id]});
    let sent = app.post("/api/messages/send", &visitor, send).await;
    let message = text(&sent.json["messageId"]);
    assert_eq!(app.get(&url, &visitor).await.status, StatusCode::OK);
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/messages/{message}"),
            Some(&visitor),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.json);
    assert_eq!(deleted.json["message"]["attachments"], json!([]));
    assert_error(
        &app.get(&url, &visitor).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(
        app.blob_count(),
        0,
        "the deleted message's file is still on disk"
    );
}

fn main() {
    testkit::Suite::new()
        .test(
            "an_image_is_uploaded_sent_and_downloaded_by_the_conversation_only",
            an_image_is_uploaded_sent_and_downloaded_by_the_conversation_only,
        )
        .test(
            "documents_are_downloaded_as_attachments_with_a_safe_name",
            documents_are_downloaded_as_attachments_with_a_safe_name,
        )
        .test(
            "hostile_uploads_are_refused_and_leave_nothing_behind",
            hostile_uploads_are_refused_and_leave_nothing_behind,
        )
        .test(
            "uploading_into_another_visitors_conversation_is_404_and_stores_nothing",
            uploading_into_another_visitors_conversation_is_404_and_stores_nothing,
        )
        .test(
            "a_file_cannot_be_sent_by_someone_else_or_twice",
            a_file_cannot_be_sent_by_someone_else_or_twice,
        )
        .test(
            "uploads_never_sent_are_swept_with_their_bytes",
            uploads_never_sent_are_swept_with_their_bytes,
        )
        .add(
            "a_full_upload_disk_is_a_clear_507_and_leaves_nothing_half_written",
            &[testkit::Needs::Root],
            |_| a_full_upload_disk_is_a_clear_507_and_leaves_nothing_half_written(),
        )
        .test(
            "a_deleted_messages_files_are_no_longer_served",
            a_deleted_messages_files_are_no_longer_served,
        )
        .run();
}
