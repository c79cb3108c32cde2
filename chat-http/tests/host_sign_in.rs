//! The host application's JWTs as credentials, over REST and the WebSocket (Socket.IO is
//! driven by the stock client in `js/host_sign_in.mjs`): accepted tokens provision their
//! agent or visitor; every refusal rule answers 401 in the JSON error shape; a demotion in
//! the next token narrows an open socket; a socket closes when its token expires.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chat_core::Principal;
use chat_http::{ChatConfig, JwtConfig, JwtProvider};
use common::TestApp;
use common::live::{closes, next_named};
use common::ws_client::Client;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const SECRET: &[u8] = b"the host's shared secret, 32 bytes or more";
const ISSUER: &str = "https://host.test";
const AUDIENCE: &str = "support-chat";
const SOON: Duration = Duration::from_secs(10);
const QUIET: Duration = Duration::from_millis(500);

fn key(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// A server that takes HS256 tokens with `SECRET` and RS256 tokens of `rsa.pem`, from
/// `ISSUER` for `AUDIENCE`.
fn app() -> TestApp {
    let provider = JwtProvider::new(JwtConfig {
        secret: Some(SECRET.to_vec()),
        public_key_pem: Some(String::from_utf8(key("rsa.pub.pem")).expect("utf-8")),
        issuer: Some(ISSUER.into()),
        audience: Some(AUDIENCE.into()),
    })
    .expect("provider");
    TestApp::with_config(ChatConfig {
        identity_provider: Some(Arc::new(provider)),
        ..TestApp::config()
    })
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid claims of an agent (`role: agent`) or a visitor, for an hour.
fn claims(role: &str, sub: &str) -> Value {
    json!({
        "sub": sub, "role": role, "name": "Ann Agent", "email": format!("{sub}@host.test"),
        "iss": ISSUER, "aud": AUDIENCE, "iat": now(), "exp": now() + 3600,
    })
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().expect("object") {
        match value {
            Value::Null => claims.as_object_mut().expect("object").remove(name),
            value => claims
                .as_object_mut()
                .expect("object")
                .insert(name.clone(), value.clone()),
        };
    }
    claims
}

fn sign(algorithm: Algorithm, key: &EncodingKey, claims: &Value) -> String {
    encode(&Header::new(algorithm), claims, key).expect("sign")
}

fn hs256(claims: &Value) -> String {
    sign(Algorithm::HS256, &EncodingKey::from_secret(SECRET), claims)
}

/// `token` with its payload replaced and its signature kept.
fn tampered(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// An unsigned token (`alg: none`).
fn unsigned(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    format!("{header}.{}.", URL_SAFE_NO_PAD.encode(claims.to_string()))
}

/// Every refusal rule, each with a token that breaks only it.
fn refused_tokens() -> Vec<(&'static str, String)> {
    let agent = claims("agent", "staff-1");
    let visitor = claims("visitor", "user-1");
    let rsa = EncodingKey::from_rsa_pem(&key("other-rsa.pem")).expect("rsa key");
    let ed = EncodingKey::from_ed_pem(&key("ed25519.pem")).expect("ed key");
    vec![
        (
            "a bad signature",
            sign(
                Algorithm::HS256,
                &EncodingKey::from_secret(b"another secret, also long enough"),
                &agent,
            ),
        ),
        (
            "a forged RS256 signature",
            sign(Algorithm::RS256, &rsa, &agent),
        ),
        ("alg: none", unsigned(&agent)),
        (
            "HS512, not the configured HS256",
            sign(Algorithm::HS512, &EncodingKey::from_secret(SECRET), &agent),
        ),
        ("EdDSA, not configured", sign(Algorithm::EdDSA, &ed, &agent)),
        (
            "expired",
            hs256(&with(agent.clone(), json!({"exp": now() - 120}))),
        ),
        (
            "not yet valid",
            hs256(&with(agent.clone(), json!({"nbf": now() + 600}))),
        ),
        (
            "without exp",
            hs256(&with(agent.clone(), json!({"exp": null}))),
        ),
        (
            "without iat",
            hs256(&with(agent.clone(), json!({"iat": null}))),
        ),
        (
            "iat in the future",
            hs256(&with(agent.clone(), json!({"iat": now() + 600}))),
        ),
        (
            "a wrong issuer",
            hs256(&with(agent.clone(), json!({"iss": "https://evil.test"}))),
        ),
        (
            "no issuer",
            hs256(&with(agent.clone(), json!({"iss": null}))),
        ),
        (
            "a wrong audience",
            hs256(&with(agent.clone(), json!({"aud": "another-app"}))),
        ),
        (
            "a visitor's token changed to claim role agent",
            tampered(
                &hs256(&visitor),
                &with(visitor.clone(), json!({"role": "agent"})),
            ),
        ),
        (
            "a visitor's token claiming permissions",
            hs256(&with(
                visitor.clone(),
                json!({"permissions": {"scope": "all", "manageConversations": true, "manageAdmins": true}}),
            )),
        ),
        (
            "an unknown role",
            hs256(&with(agent.clone(), json!({"role": "admin"}))),
        ),
        (
            "an agent without an email",
            hs256(&with(agent, json!({"email": null}))),
        ),
    ]
}

async fn assert_refused_over_rest(app: &TestApp, case: &str, token: &str) {
    let reply = app
        .call(Method::GET, "/api/session", Some(token), None)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{case}: {}",
        reply.json
    );
    assert_eq!(
        reply.json["error"]["code"], "unauthenticated",
        "{case}: {}",
        reply.json
    );
    assert!(
        reply.json["error"]["message"].is_string(),
        "{case}: {}",
        reply.json
    );
}

async fn assert_refused_over_websocket(address: std::net::SocketAddr, case: &str, token: &str) {
    let mut client = Client::open(address).await;
    client
        .send_raw(json!({"type": "auth", "token": token}))
        .await;
    let refusal = client.frame().await.expect("an error frame");
    assert_eq!(refusal["type"], "error", "{case}: {refusal}");
    assert_eq!(
        refusal["error"]["code"], "unauthenticated",
        "{case}: {refusal}"
    );
    assert!(
        client.frame().await.is_none(),
        "{case}: the socket stays open"
    );
}

#[tokio::test]
async fn host_tokens_sign_agents_and_visitors_in_on_every_transport() {
    let app = app();
    let address = app.serve().await;
    let agent = hs256(&claims("agent", "staff-1"));
    let reply = app.get("/api/session", &agent).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["role"], "agent");
    assert_eq!(reply.json["admin"]["email"], "staff-1@host.test");
    assert_eq!(reply.json["admin"]["name"], "Ann Agent");
    let list = app.get("/api/conversations/list", &agent).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.json);

    let rsa = EncodingKey::from_rsa_pem(&key("rsa.pem")).expect("rsa key");
    let visitor = sign(Algorithm::RS256, &rsa, &claims("visitor", "user-1"));
    let reply = app.get("/api/session", &visitor).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["role"], "visitor");
    let customer = reply.json["customerId"]
        .as_str()
        .expect("customer id")
        .to_owned();
    let conversation = app.conversation(&visitor).await;
    let mut socket = Client::connect(address, &visitor).await;
    let joined = socket.join(&conversation, 0).await;
    assert!(joined["events"].is_array(), "{joined}");

    // The visitor's name and address are the host's, and agents see them.
    let seen = app.get(&format!("/api/visitors/{customer}"), &agent).await;
    assert_eq!(seen.json["visitor"]["name"], "Ann Agent", "{}", seen.json);
    assert_eq!(
        seen.json["visitor"]["email"], "user-1@host.test",
        "{}",
        seen.json
    );
    assert_eq!(
        seen.json["visitor"]["identifier"], "user-1",
        "{}",
        seen.json
    );
}

#[tokio::test]
async fn every_refusal_rule_answers_401_over_rest_and_the_websocket() {
    let app = app();
    let address = app.serve().await;
    for (case, token) in refused_tokens() {
        // Refused twice: a refusal that left a session behind would let the second in.
        assert_refused_over_rest(&app, case, &token).await;
        assert_refused_over_websocket(address, case, &token).await;
    }
    // None of them provisioned anyone.
    let admins = app
        .engine
        .list_admins(&Principal::System)
        .await
        .expect("list");
    assert!(admins.is_empty(), "{admins:?}");
}

#[tokio::test]
async fn a_disabled_agent_is_refused_even_with_a_fresh_valid_token() {
    let app = app();
    let address = app.serve().await;
    let first = hs256(&claims("agent", "staff-9"));
    let session = app.get("/api/session", &first).await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.json);
    let mut open = Client::connect(address, &first).await;
    let id = session.json["admin"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    app.engine
        .set_admin_disabled(&Principal::System, id, true)
        .await
        .expect("disable");
    assert!(
        closes(&mut open, SOON).await,
        "the disabled agent's socket stayed open"
    );
    let fresh = hs256(&with(claims("agent", "staff-9"), json!({"iat": now() + 1})));
    assert_refused_over_rest(&app, "a disabled agent", &fresh).await;
    assert_refused_over_websocket(address, "a disabled agent", &fresh).await;
}

#[tokio::test]
async fn a_demotion_in_the_next_token_narrows_an_open_socket() {
    let app = app();
    let address = app.serve().await;
    let everything = json!({"scope": "all", "manageConversations": true, "manageAdmins": false});
    let assigned_only =
        json!({"scope": "assigned", "manageConversations": true, "manageAdmins": false});
    let wide = hs256(&with(
        claims("agent", "staff-2"),
        json!({"permissions": everything}),
    ));
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let mut socket = Client::connect(address, &wide).await;
    let joined = socket.join(&conversation, 0).await;
    assert!(joined["events"].is_array(), "{joined}");

    // The host signs the agent in again, now with narrower permissions.
    let narrow = hs256(&with(
        claims("agent", "staff-2"),
        json!({"permissions": assigned_only}),
    ));
    let session = app.get("/api/session", &narrow).await;
    assert_eq!(
        session.json["admin"]["permissions"]["scope"], "assigned",
        "{}",
        session.json
    );

    let left = next_named(&mut socket, "conversation:left", SOON).await;
    assert!(
        left.is_some(),
        "the open socket kept the room after the demotion"
    );
    app.send_as_visitor(&visitor, &conversation, "not for you any more")
        .await;
    assert_eq!(next_named(&mut socket, "message:new", QUIET).await, None);
    // The old, wider token reads the agent as it is now.
    let old = app.get("/api/session", &wide).await;
    assert_eq!(
        old.json["admin"]["permissions"]["scope"], "assigned",
        "{}",
        old.json
    );
}

#[tokio::test]
async fn a_socket_closes_when_its_token_expires() {
    let app = app();
    let address = app.serve().await;
    let brief = hs256(&with(
        claims("visitor", "user-2"),
        json!({"exp": now() + 3}),
    ));
    let mut socket = Client::connect(address, &brief).await;
    let started = tokio::time::Instant::now();
    assert!(
        closes(&mut socket, SOON).await,
        "the socket outlived its token"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "closed before the token expired"
    );
    assert_refused_over_rest(&app, "the expired token", &brief).await;
}

#[tokio::test]
async fn a_public_key_accepts_its_algorithm_only() {
    let pem = String::from_utf8(key("ed25519.pub.pem")).expect("utf-8");
    let provider = JwtProvider::new(JwtConfig {
        public_key_pem: Some(pem.clone()),
        ..JwtConfig::default()
    })
    .expect("provider");
    let app = TestApp::with_config(ChatConfig {
        identity_provider: Some(Arc::new(provider)),
        ..TestApp::config()
    });
    let ed = EncodingKey::from_ed_pem(&key("ed25519.pem")).expect("ed key");
    let mut claims = claims("agent", "staff-3");
    claims.as_object_mut().expect("object").remove("aud");
    let accepted = sign(Algorithm::EdDSA, &ed, &claims);
    assert_eq!(
        app.get("/api/session", &accepted).await.status,
        StatusCode::OK
    );
    // The public key used as an HMAC secret (the classic key confusion) is refused.
    let confused = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(pem.as_bytes()),
        &claims,
    );
    assert_refused_over_rest(&app, "HS256 with the public key as its secret", &confused).await;
}

#[tokio::test]
async fn built_in_sessions_keep_working_beside_host_tokens() {
    let app = app();
    let (visitor, _) = app.visitor().await;
    let reply = app.get("/api/session", &visitor).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    assert_eq!(reply.json["role"], "visitor");
    let unknown = app.get("/api/session", &"f".repeat(64)).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_older_token_never_widens_a_demoted_agent_even_after_a_logout() {
    let app = app();
    let everything = json!({"scope": "all", "manageConversations": true, "manageAdmins": true});
    let assigned_only =
        json!({"scope": "assigned", "manageConversations": true, "manageAdmins": false});
    let early = json!({"permissions": everything, "iat": now() - 20});
    let wide = hs256(&with(claims("agent", "staff-4"), early.clone()));
    let unused = hs256(&with(
        claims("agent", "staff-4"),
        with(early, json!({"name": "Unused"})),
    ));
    assert_eq!(app.get("/api/admins", &wide).await.status, StatusCode::OK);
    let narrow = hs256(&with(
        claims("agent", "staff-4"),
        json!({"permissions": assigned_only}),
    ));
    assert_eq!(
        app.get("/api/session", &narrow).await.status,
        StatusCode::OK
    );

    let logout = app
        .call(Method::POST, "/api/auth/logout", Some(&wide), None)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    for (case, token) in [
        ("the wide token after its logout", &wide),
        ("an older unused token", &unused),
    ] {
        let session = app.get("/api/session", token).await;
        assert_eq!(session.status, StatusCode::OK, "{case}: {}", session.json);
        assert_eq!(
            session.json["admin"]["permissions"]["scope"], "assigned",
            "{case}: {}",
            session.json
        );
        assert_eq!(
            session.json["admin"]["name"], "Ann Agent",
            "{case}: {}",
            session.json
        );
        assert_eq!(
            app.get("/api/admins", token).await.status,
            StatusCode::FORBIDDEN,
            "{case}"
        );
    }
}

#[tokio::test]
async fn an_email_another_agent_holds_is_refused_and_never_taken_over() {
    let app = app();
    let address = app.serve().await;
    let (owner, _) = app
        .admin("owner@host.test", chat_core::accounts::Permissions::OWNER)
        .await;
    let takeover = hs256(&with(
        claims("agent", "mallory"),
        json!({"email": "owner@host.test"}),
    ));
    assert_refused_over_rest(&app, "the owner's email", &takeover).await;
    assert_refused_over_websocket(address, "the owner's email", &takeover).await;
    let owners = app.get("/api/session", &owner).await;
    assert_eq!(owners.json["admin"]["name"], "Agent", "{}", owners.json);
    assert_eq!(owners.json["admin"]["permissions"]["manageAdmins"], true);
}

#[tokio::test]
async fn an_agent_the_host_signs_in_has_no_password() {
    let app = app();
    let token = hs256(&claims("agent", "staff-5"));
    assert_eq!(app.get("/api/session", &token).await.status, StatusCode::OK);
    for password in ["", "not a real password", "correct horse battery"] {
        let body = json!({"email": "staff-5@host.test", "password": password});
        let login = app
            .call(Method::POST, "/api/auth/login", None, Some(body))
            .await;
        assert_eq!(
            login.status,
            StatusCode::UNAUTHORIZED,
            "{password:?}: {}",
            login.json
        );
    }
}
