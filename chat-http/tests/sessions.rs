//! Sessions: visitor sessions with optional identity verification, agent login and logout,
//! and every kind of bad token.

mod common;

use axum::http::{Method, StatusCode};
use chat_core::accounts::{Permissions, SessionSubject};
use chat_http::{ChatConfig, IdentityConfig};
use common::{PASSWORD, SECRET, TestApp, assert_error, text};
use serde_json::json;

#[tokio::test]
async fn a_visitor_session_gives_a_token_that_works() {
    let app = TestApp::new();
    let (token, customer) = app.visitor().await;
    assert_eq!(token.len(), 64, "256-bit hex token");
    let conversation = app.conversation(&token).await;
    let reply = app
        .get(&format!("/api/conversations/{conversation}"), &token)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["conversation"]["customerId"], customer);
}

#[tokio::test]
async fn a_verified_identity_finds_the_same_visitor_and_a_forged_one_is_refused() {
    let app = TestApp::new();
    let hash = chat_http::auth::identity_hash(SECRET, "user-7");
    let body = json!({"identifier": "user-7", "identifierHash": hash});
    let first = app
        .call(
            Method::POST,
            "/api/sessions/visitor",
            None,
            Some(body.clone()),
        )
        .await;
    let second = app
        .call(Method::POST, "/api/sessions/visitor", None, Some(body))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(
        first.json["customerId"], second.json["customerId"],
        "same identity, same visitor"
    );
    assert_ne!(first.json["token"], second.json["token"]);

    let forged = json!({"identifier": "user-7", "identifierHash": "00".repeat(32)});
    let reply = app
        .call(Method::POST, "/api/sessions/visitor", None, Some(forged))
        .await;
    assert_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    let half = json!({"identifier": "user-7"});
    let reply = app
        .call(Method::POST, "/api/sessions/visitor", None, Some(half))
        .await;
    assert_error(&reply, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn enforce_mode_refuses_unverified_visitors() {
    let app = TestApp::with_config(ChatConfig {
        identity: IdentityConfig {
            secret: Some(SECRET.to_vec()),
            enforce: true,
        },
        ..ChatConfig::default()
    });
    let reply = app
        .call(Method::POST, "/api/sessions/visitor", None, Some(json!({})))
        .await;
    assert_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    let hash = chat_http::auth::identity_hash(SECRET, "user-8");
    let body = json!({"identifier": "user-8", "identifierHash": hash});
    let reply = app
        .call(Method::POST, "/api/sessions/visitor", None, Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
}

#[tokio::test]
async fn login_checks_the_password_and_answers_alike_for_unknown_emails() {
    let app = TestApp::new();
    let (token, id) = app.admin("Agent@Example.com", Permissions::default()).await;
    assert_eq!(token.len(), 64);
    assert!(!id.is_empty());
    let wrong = json!({"email": "agent@example.com", "password": "wrong password"});
    let wrong = app
        .call(Method::POST, "/api/auth/login", None, Some(wrong))
        .await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "unauthenticated");
    let unknown = json!({"email": "nobody@example.com", "password": PASSWORD});
    let unknown = app
        .call(Method::POST, "/api/auth/login", None, Some(unknown))
        .await;
    assert_error(&unknown, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(
        wrong.json, unknown.json,
        "the answer must not tell which part was wrong"
    );
    let reply = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": "agent@example.com", "password": PASSWORD})),
        )
        .await;
    assert!(
        reply.json["admin"].get("passwordHash").is_none()
            && !reply.json.to_string().contains("argon2")
    );
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let app = TestApp::new();
    let (token, _) = app.admin("out@example.com", Permissions::default()).await;
    assert_eq!(
        app.get("/api/conversations/list", &token).await.status,
        StatusCode::OK
    );
    let reply = app
        .call(Method::POST, "/api/auth/logout", Some(&token), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_error(
        &app.get("/api/conversations/list", &token).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

#[tokio::test]
async fn missing_forged_and_expired_tokens_are_401() {
    let app = TestApp::new();
    let (visitor, visitor_id) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let uri = format!("/api/conversations/{conversation}");
    let missing = app.call(Method::GET, &uri, None, None).await;
    assert_error(&missing, StatusCode::UNAUTHORIZED, "unauthenticated");
    let forged = app.get(&uri, &"f".repeat(64)).await;
    assert_error(&forged, StatusCode::UNAUTHORIZED, "unauthenticated");

    let expired = "e".repeat(64);
    let hash = chat_http::auth::hash_token(&expired);
    let customer: chat_core::ids::CustomerId = visitor_id.parse().expect("id");
    let ttl = chrono::Duration::seconds(-1);
    app.engine
        .open_session(SessionSubject::Visitor(customer), hash, ttl)
        .await
        .expect("session");
    assert_error(
        &app.get(&uri, &expired).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

#[tokio::test]
async fn a_visitor_token_does_not_open_agent_routes() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    // The seed's list route is the visitor's own list (tests/conversations.rs); the agent
    // routes refuse it.
    for path in [
        "/api/admins",
        "/api/labels",
        "/api/canned-replies",
        "/api/visitors/blocked",
        "/api/reports/ratings",
    ] {
        assert_error(
            &app.get(path, &visitor).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    assert_error(
        &app.get("/api/admins", &visitor).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let body = json!({"email": "x@example.com", "name": "X", "password": "long enough password"});
    assert_error(
        &app.post("/api/admins", &visitor, body).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let token = text(
        &app.call(Method::POST, "/api/sessions/visitor", None, Some(json!({})))
            .await
            .json["token"],
    );
    assert_ne!(token, visitor);
}
