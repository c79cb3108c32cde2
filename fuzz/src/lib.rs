//! What the fuzz targets share: a fresh server state per input (in memory, so a crash
//! reproduces from its input alone), a visitor and an agent with live sessions, and the
//! checks every answer must pass.
//!
//! Inputs name the two conversations with the placeholders `@own` (the visitor's) and
//! `@foreign` (another visitor's), so the fuzzer can reach past id parsing into
//! authorization and the engine.

use std::future::Future;
use std::sync::Arc;

use chat_core::accounts::{Permissions, SessionSubject};
use chat_core::engine::{NewAdmin, NewVisitor, StartConversation};
use chat_core::values::{DisplayName, Email};
use chat_core::{ChatEngine, LocalBroadcaster, MemoryStore, Principal};
use chat_http::app::connection::{Connection, Outbox};
use chat_http::app::protocol::ServerEvent;
use chat_http::auth::{dummy_password_hash, new_token};
use chat_http::extract::Auth;
use chat_http::{AppState, ChatConfig, ObjectStoreBlobs};
use serde_json::Value;

/// Error codes that mean the server failed (5xx); no input may provoke one.
const SERVER_SIDE: [&str; 3] = ["internal", "storage_full", "not_supported"];

/// Events a client may receive.
const SERVER_EVENTS: [&str; 7] = [
    "message:new",
    "conversation:updated",
    "conversation:left",
    "typing",
    "read",
    "presence",
    "inbox",
];

/// A caller with a session.
pub struct Caller {
    /// The bearer token.
    pub token: String,
    /// Who it is.
    pub auth: Auth,
}

/// One input's server.
pub struct World {
    /// The state the router and connections share.
    pub state: AppState,
    /// A visitor owning `own`.
    pub visitor: Caller,
    /// An agent with every permission.
    pub agent: Caller,
    /// The visitor's conversation.
    pub own: String,
    /// Another visitor's conversation.
    pub foreign: String,
}

impl World {
    /// A fresh in-memory server with two visitors, a conversation each and an agent.
    pub async fn new() -> Self {
        let config = ChatConfig {
            max_upload_bytes: 64 * 1024,
            ..ChatConfig::default()
        };
        let store = Arc::new(MemoryStore::new());
        let engine = ChatEngine::new(store, Arc::new(LocalBroadcaster::new()), config.engine);
        let memory = Arc::new(object_store::memory::InMemory::new());
        let blobs = Arc::new(ObjectStoreBlobs::new(memory));
        let state = AppState::new(engine, blobs, config);
        let (visitor, other) = (new_visitor(&state).await, new_visitor(&state).await);
        let own = conversation(&state, &visitor).await;
        let foreign = conversation(&state, &other).await;
        let agent = agent(&state).await;
        Self {
            state,
            visitor,
            agent,
            own,
            foreign,
        }
    }

    /// `text` with `@own` and `@foreign` replaced by the conversations' ids.
    pub fn resolve(&self, text: &str) -> String {
        text.replace("@own", &self.own)
            .replace("@foreign", &self.foreign)
    }

    /// A real-time connection for `caller`, its events checked as they are pushed.
    pub async fn connect(&self, caller: &Caller) -> Arc<Connection> {
        Connection::open(self.state.clone(), caller.auth, Arc::new(CheckedOutbox))
            .await
            .expect("a connection opens for a live session")
    }
}

async fn new_visitor(state: &AppState) -> Caller {
    let new = NewVisitor {
        verified_identifier: None,
        user_agent: None,
        location_data: Default::default(),
    };
    let customer = state
        .engine()
        .create_visitor(&Principal::Anonymous, new)
        .await
        .expect("visitor");
    session(state, SessionSubject::Visitor(customer.id)).await
}

async fn agent(state: &AppState) -> Caller {
    let new = NewAdmin {
        email: Email::parse("agent@example.com").expect("email"),
        name: DisplayName::parse("Agent").expect("name"),
        password_hash: dummy_password_hash().to_owned(),
        permissions: Permissions::OWNER,
    };
    let admin = state
        .engine()
        .create_admin(&Principal::System, new)
        .await
        .expect("agent");
    session(state, SessionSubject::Admin(admin.id)).await
}

async fn session(state: &AppState, subject: SessionSubject) -> Caller {
    let (token, hash) = new_token();
    let engine = state.engine();
    engine
        .open_session(subject, hash, chrono::TimeDelta::hours(1))
        .await
        .expect("session");
    let principal = engine.authenticate(&hash).await.expect("authenticates");
    Caller {
        token,
        auth: Auth {
            principal,
            token: hash,
        },
    }
}

async fn conversation(state: &AppState, caller: &Caller) -> String {
    let request = StartConversation {
        metadata: Default::default(),
        customer_ip: None,
    };
    let conversation = state
        .engine()
        .start_conversation(&caller.auth.principal, request)
        .await
        .expect("conversation");
    conversation.id.to_string()
}

/// Runs a socket target's input: its first byte picks the caller (even: the visitor, odd: the
/// agent), each following line (placeholders resolved) is handed to `line` with a live
/// connection of that caller. Input that is not UTF-8 is skipped: sockets carry text frames.
pub fn for_each_line(data: &[u8], mut line: impl AsyncFnMut(&Arc<Connection>, &str)) {
    let Some((who, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    block_on(async {
        let world = World::new().await;
        let caller = if who % 2 == 0 {
            &world.visitor
        } else {
            &world.agent
        };
        let connection = world.connect(caller).await;
        for text in world.resolve(text).lines() {
            line(&connection, text).await;
        }
        connection.close().await;
    });
}

/// Accepts every event after checking it is one a client may receive, as an object.
struct CheckedOutbox;

#[async_trait::async_trait]
impl Outbox for CheckedOutbox {
    async fn push(&self, event: ServerEvent) -> bool {
        assert!(SERVER_EVENTS.contains(&event.name), "{}", event.name);
        assert!(event.payload.is_object(), "{}", event.payload);
        true
    }

    fn close(&self) {}

    fn transport(&self) -> &'static str {
        "fuzz"
    }
}

/// Asserts an acknowledgement is an object and, if an error, a client error in the JSON
/// error shape.
pub fn assert_client_reply(reply: &Value) {
    assert!(reply.is_object(), "reply is not an object: {reply}");
    if let Some(error) = reply.get("error") {
        assert_client_error(error);
    }
}

/// Asserts `{"code", "message"}` with a client-side code.
pub fn assert_client_error(error: &Value) {
    let code = error["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code: {error}"));
    assert!(error["message"].is_string(), "no message: {error}");
    assert!(!SERVER_SIDE.contains(&code), "server error: {error}");
}

/// Runs `future` on a runtime of its own, dropped afterwards with every task the input
/// spawned, so nothing outlives one input.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
        .block_on(future)
}
