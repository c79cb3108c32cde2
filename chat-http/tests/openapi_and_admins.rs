//! The OpenAPI document lists exactly the routes the router serves; agent management.

mod common;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use chat_core::accounts::Permissions;
use common::{PASSWORD, TestApp, assert_error, text};
use serde_json::json;

/// Every REST route: (method, path).
const ROUTES: [(&str, &str); 56] = [
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/api/sessions/visitor"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/logout"),
    ("get", "/api/session"),
    ("post", "/api/conversations"),
    ("get", "/api/conversations/list"),
    ("get", "/api/conversations/{id}"),
    ("get", "/api/conversations/{id}/events"),
    ("get", "/api/conversations/{id}/messages"),
    ("post", "/api/conversations/{id}/read"),
    ("post", "/api/conversations/{id}/status"),
    ("post", "/api/conversations/{id}/assign"),
    ("post", "/api/messages/send"),
    ("post", "/api/files/upload"),
    ("get", "/api/files/{id}"),
    ("get", "/api/admins"),
    ("get", "/api/presence"),
    ("post", "/api/admins"),
    ("patch", "/api/admins/{id}"),
    ("get", "/api/labels"),
    ("post", "/api/labels"),
    ("patch", "/api/labels/{id}"),
    ("delete", "/api/labels/{id}"),
    ("get", "/api/conversations/{id}/labels"),
    ("post", "/api/conversations/{id}/labels"),
    ("get", "/api/canned-replies"),
    ("post", "/api/canned-replies"),
    ("patch", "/api/canned-replies/{id}"),
    ("delete", "/api/canned-replies/{id}"),
    ("get", "/api/visitors/blocked"),
    ("get", "/api/visitors/{id}"),
    ("delete", "/api/visitors/{id}"),
    ("get", "/api/visitors/{id}/export"),
    ("post", "/api/visitors/{id}/block"),
    ("delete", "/api/visitors/{id}/block"),
    ("post", "/api/conversations/{id}/rating"),
    ("get", "/api/reports/ratings"),
    ("get", "/api/changes"),
    ("get", "/api/search"),
    ("patch", "/api/messages/{id}"),
    ("delete", "/api/messages/{id}"),
    ("post", "/api/messages/{id}/redact"),
    ("get", "/api/audit"),
    ("get", "/api/webhooks"),
    ("post", "/api/webhooks"),
    ("get", "/api/webhooks/{id}"),
    ("patch", "/api/webhooks/{id}"),
    ("delete", "/api/webhooks/{id}"),
    ("post", "/api/webhooks/{id}/rotate-secret"),
    ("post", "/api/webhooks/{id}/replay"),
    ("get", "/api/webhooks/{id}/deliveries"),
    ("put", "/api/visitors/{id}/email"),
    ("get", "/api/visitors/{id}/unsubscribe"),
    ("post", "/api/visitors/{id}/unsubscribe"),
];

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_only_those() {
    let app = TestApp::new();
    let reply = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let paths = reply.json["paths"].as_object().expect("paths");
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("item")
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, expected);
    assert!(reply.json["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn every_documented_route_is_served() {
    let app = TestApp::new();
    for (method, path) in ROUTES {
        let uri = path.replace("{id}", &chat_core::ids::ConversationId::new().to_string());
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let reply = app.call(method.clone(), &uri, None, Some(json!({}))).await;
        let unknown_route = reply.status == StatusCode::NOT_FOUND
            && reply.json["error"]["message"] == "route not found";
        assert!(
            !unknown_route && reply.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is not served"
        );
    }
}

#[tokio::test]
async fn owners_manage_agents_and_disabling_ends_sessions() {
    let app = TestApp::new();
    let (owner, owner_id) = app.admin("owner@example.com", Permissions::OWNER).await;
    let (plain, _) = app.admin("plain@example.com", Permissions::default()).await;
    let new = json!({"email": "New@Example.com", "name": "New Agent", "password": PASSWORD});
    assert_error(
        &app.post("/api/admins", &plain, new.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let created = app.post("/api/admins", &owner, new.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["admin"]["email"], "new@example.com");
    assert_error(
        &app.post("/api/admins", &owner, new).await,
        StatusCode::CONFLICT,
        "already_exists",
    );
    let short = json!({"email": "s@example.com", "name": "S", "password": "short"});
    assert_error(
        &app.post("/api/admins", &owner, short).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );

    let login = json!({"email": "new@example.com", "password": PASSWORD});
    let session = app
        .call(Method::POST, "/api/auth/login", None, Some(login.clone()))
        .await;
    let token = text(&session.json["token"]);
    assert_eq!(
        app.get("/api/conversations/list", &token).await.status,
        StatusCode::OK
    );

    let id = text(&created.json["admin"]["id"]);
    let disabled = app
        .call(
            Method::PATCH,
            &format!("/api/admins/{id}"),
            Some(&owner),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(disabled.json["admin"]["disabled"], true);
    assert_error(
        &app.get("/api/conversations/list", &token).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let again = app
        .call(Method::POST, "/api/auth/login", None, Some(login))
        .await;
    assert_error(&again, StatusCode::UNAUTHORIZED, "unauthenticated");
    let myself = app
        .call(
            Method::PATCH,
            &format!("/api/admins/{owner_id}"),
            Some(&owner),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_error(&myself, StatusCode::FORBIDDEN, "forbidden");
    let listed = app.get("/api/admins", &owner).await;
    assert_eq!(listed.json["admins"].as_array().expect("admins").len(), 3);
    assert!(
        !listed.bytes.windows(6).any(|w| w == b"argon2"),
        "password hashes must never be sent"
    );
}

#[tokio::test]
async fn a_refused_admin_update_changes_nothing() {
    let app = TestApp::new();
    let owner = Permissions {
        manage_admins: true,
        ..Permissions::default()
    };
    let (boss, _) = app.admin("boss@example.com", owner).await;
    let (_, agent_id) = app.admin("agent@example.com", Permissions::default()).await;
    let uri = format!("/api/admins/{agent_id}");
    let narrowed =
        json!({"scope": "assigned", "manageConversations": false, "manageAdmins": false});
    let reply = app
        .call(
            Method::PATCH,
            &uri,
            Some(&boss),
            Some(json!({"permissions": narrowed, "password": "short"})),
        )
        .await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    let admins = app.get("/api/admins", &boss).await;
    let agent = admins.json["admins"]
        .as_array()
        .expect("admins")
        .iter()
        .find(|admin| admin["id"] == agent_id.as_str())
        .expect("the agent")
        .clone();
    assert_eq!(agent["permissions"]["scope"], "all", "{agent}");
    assert_eq!(agent["permissions"]["manageConversations"], true, "{agent}");
}
