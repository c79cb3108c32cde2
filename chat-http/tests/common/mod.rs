//! Test harness: the router over `MemoryStore` and a temporary blob directory, driven with
//! `oneshot` (no socket), plus helpers for sessions and conversations.
#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

pub mod live;
pub mod nats_server;
pub mod receiver;
pub mod scratch;
pub mod tcp_proxy;
pub mod ws_client;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chat_core::accounts::Permissions;
use chat_core::engine::NewAdmin;
use chat_core::values::{DisplayName, Email};
use chat_core::{ChatEngine, LocalBroadcaster, MemoryStore, Principal};
use chat_http::{AppState, ChatConfig, IdentityConfig, ObjectStoreBlobs, RateLimits, router};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt;

/// The identity secret the test server verifies visitors with.
pub const SECRET: &[u8] = b"test-site-secret";
/// Every test agent's password.
pub const PASSWORD: &str = "correct horse battery";

/// A router with its engine and blob directory.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub engine: ChatEngine,
    pub blobs: TempDir,
}

/// A response: status, headers and body (JSON when it parses).
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub bytes: bytes::Bytes,
    pub json: Value,
}

impl TestApp {
    /// The test configuration: generous rate limits, identity verification available but
    /// not enforced, 64 KiB uploads.
    pub fn config() -> ChatConfig {
        let limits = RateLimits {
            sessions_per_ip: 100_000,
            conversations_per_session: 100_000,
            messages_per_session: 100_000,
            uploads_per_session: 100_000,
        };
        ChatConfig {
            rate_limits: limits,
            identity: IdentityConfig {
                secret: Some(SECRET.to_vec()),
                enforce: false,
            },
            max_upload_bytes: 64 * 1024,
            ..ChatConfig::default()
        }
    }

    pub fn new() -> Self {
        Self::with_config(Self::config())
    }

    pub fn with_config(config: ChatConfig) -> Self {
        Self::with_broadcaster(config, Arc::new(LocalBroadcaster::new()))
    }

    /// With a broadcaster of the test's choosing.
    pub fn with_broadcaster(
        config: ChatConfig,
        broadcaster: Arc<chat_core::broadcast::DynBroadcaster>,
    ) -> Self {
        let engine = ChatEngine::new(Arc::new(MemoryStore::new()), broadcaster, config.engine);
        Self::with_engine_and_config(engine, config)
    }

    /// Over an engine of the test's choosing (its store and broadcaster), test configuration.
    pub fn with_engine(engine: ChatEngine) -> Self {
        Self::with_engine_and_config(engine, Self::config())
    }

    fn with_engine_and_config(engine: ChatEngine, config: ChatConfig) -> Self {
        let blobs = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(ObjectStoreBlobs::local(blobs.path()).expect("blob dir"));
        let state = AppState::new(engine.clone(), store, config);
        let router = router(state.clone());
        Self {
            router,
            state,
            engine,
            blobs,
        }
    }

    /// Serves the router on an ephemeral loopback port (for real socket clients).
    pub async fn serve(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let service = self
            .router
            .clone()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, service).await.expect("serve") });
        address
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("request")).await
    }

    /// Sends a prepared request.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        send_to(self.router.clone(), request).await
    }

    pub async fn get(&self, uri: &str, token: &str) -> Reply {
        self.call(Method::GET, uri, Some(token), None).await
    }

    pub async fn post(&self, uri: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, uri, Some(token), Some(body)).await
    }

    /// A new visitor: (token, customerId).
    pub async fn visitor(&self) -> (String, String) {
        let reply = self
            .call(Method::POST, "/api/sessions/visitor", None, Some(json!({})))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        (text(&reply.json["token"]), text(&reply.json["customerId"]))
    }

    /// A conversation started by the visitor with `token`: its id.
    pub async fn conversation(&self, token: &str) -> String {
        let reply = self.post("/api/conversations", token, json!({})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        text(&reply.json["conversation"]["id"])
    }

    /// Sends `message` as a visitor; returns the reply.
    pub async fn send_as_visitor(&self, token: &str, conversation: &str, message: &str) -> Reply {
        let body = json!({"conversationId": conversation, "senderType": "customer", "message": message,
            "timestamp": "2026-01-01T00:00:00Z"});
        self.post("/api/messages/send", token, body).await
    }

    /// The conversation's newest seq, read through the events route as `token`.
    pub async fn last_seq(&self, token: &str, conversation: &str) -> u64 {
        let events = self
            .get(&format!("/api/conversations/{conversation}/events"), token)
            .await;
        events.json["lastSeq"]
            .as_u64()
            .unwrap_or_else(|| panic!("no lastSeq: {}", events.json))
    }

    /// Creates an agent directly in the engine and logs in over HTTP: (token, adminId).
    pub async fn admin(&self, email: &str, permissions: Permissions) -> (String, String) {
        let new = NewAdmin {
            email: Email::parse(email).expect("email"),
            name: DisplayName::parse("Agent").expect("name"),
            password_hash: chat_http::auth::hash_password(PASSWORD).expect("hash"),
            permissions,
        };
        self.engine
            .create_admin(&Principal::System, new)
            .await
            .expect("create admin");
        let login = json!({"email": email, "password": PASSWORD});
        let reply = self
            .call(Method::POST, "/api/auth/login", None, Some(login))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        (text(&reply.json["token"]), text(&reply.json["admin"]["id"]))
    }

    /// How many blobs are stored.
    pub fn blob_count(&self) -> usize {
        walk(self.blobs.path())
    }
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| {
                    if entry.path().is_dir() {
                        walk(&entry.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A JSON string value.
pub fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
        .to_owned()
}

/// Asserts the JSON error shape with `status` and `code`.
pub fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(
        reply.status,
        status,
        "body: {}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert_eq!(reply.json["error"]["code"], code, "body: {}", reply.json);
    assert!(
        reply.json["error"]["message"].is_string(),
        "no message: {}",
        reply.json
    );
}

/// Sends a request to any router and reads the whole response.
pub async fn send_to(router: Router, request: Request<Body>) -> Reply {
    let response = router.oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        bytes,
        json,
    }
}

/// A valid 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89,
];

/// A multipart upload request.
pub fn upload_request(
    token: &str,
    conversation: &str,
    file_type: &str,
    name: &str,
    bytes: &[u8],
) -> Request<Body> {
    let boundary = "XBOUNDARYX";
    let mut body = Vec::new();
    for (field, value) in [("conversationId", conversation), ("fileType", file_type)] {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    Request::builder()
        .method(Method::POST)
        .uri("/api/files/upload")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request")
}
