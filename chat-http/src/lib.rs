//! chat-http: the chat engine over HTTP.
//!
//! [`router`] returns an axum `Router` with the REST API (the seed's routes and the design's
//! wire contract), authorized file downloads, the OpenAPI document at `/api/openapi.json`,
//! real time (Socket.IO and `/api/ws`) and the web UI (the widget at `/widget` with its
//! embed loader `/widget.js`, the dashboard at `/admin`; [`demo_page`] adds a demo shop page
//! at `/` for servers that do not have their own). Nest it in your own app:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use chat_core::{ChatEngine, LocalBroadcaster, MemoryStore};
//! use chat_http::{AppState, ChatConfig, ObjectStoreBlobs, router};
//!
//! let config = ChatConfig::default();
//! let engine = ChatEngine::new(Arc::new(MemoryStore::new()), Arc::new(LocalBroadcaster::new()), config.engine);
//! let blobs = Arc::new(ObjectStoreBlobs::local("./data/blobs")?);
//! let state = AppState::new(engine, blobs, config);
//! // Background work the API relies on: snoozed conversations wake at their time (also one
//! // whose time passed while the server was down), and uploads never sent are removed.
//! chat_http::spawn_snooze_waker(state.clone(), std::time::Duration::from_secs(5));
//! chat_http::spawn_upload_sweeper(state.clone(), std::time::Duration::from_secs(600));
//! let app = axum::Router::new().merge(router(state));
//! // Chat pushes small frames as they happen: turn Nagle's algorithm off, or a push written
//! // while the previous one is unacknowledged waits ~40 ms for the client's delayed ACK.
//! use axum::serve::ListenerExt;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080")
//!     .await?
//!     .tap_io(|tcp| drop(tcp.set_nodelay(true)));
//! axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
//! # Ok(()) }
//! ```
//!
//! Every handler authenticates from the bearer token and asks `chat-core` to authorize;
//! nothing here decides who may do what. Errors are `{"error": {"code", "message"}}`,
//! mapped to status codes in one place ([`error`]).

pub mod app;
mod assigner;
pub mod auth;
pub mod blobs;
pub mod config;
pub mod dto;
pub mod email;
pub mod error;
pub mod extract;
pub mod filetype;
mod layers;
pub mod metrics;
#[cfg(feature = "nats")]
pub mod nats;
pub mod ratelimit;
pub mod realtime;
mod retention;
mod routes;
pub mod sign_in;
mod snoozer;
pub mod state;
mod sweeper;
mod ui;
pub mod visitor_data;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

pub use assigner::spawn_auto_assigner;
pub use blobs::{BlobStore, DynBlobStore, ObjectStoreBlobs};
pub use config::{ChatConfig, IdentityConfig, RateLimits};
#[cfg(feature = "nats")]
pub use nats::NatsBroadcaster;
pub use retention::{erase_expired, spawn_retention};
pub use sign_in::{HostRefusal, HostSignIn, IdentityProvider, JwtConfig, JwtProvider};
pub use snoozer::spawn_snooze_waker;
pub use state::AppState;
pub use sweeper::{spawn_upload_sweeper, sweep_unattached_uploads};
pub use ui::demo_page;

/// The chat API as an axum router, ready to serve or to nest in another app.
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so per-address rate
/// limits see client addresses.
pub fn router(state: AppState) -> Router {
    let (api, mut openapi) = routes::api(state.config().max_upload_bytes).split_for_parts();
    routes::document_common_errors(&mut openapi);
    let openapi = Arc::new(openapi);
    let document = get(move || {
        let openapi = openapi.clone();
        async move { axum::Json(openapi.as_ref().clone()) }
    });
    let api = api
        .route("/api/openapi.json", document)
        .route("/api/ws", get(realtime::websocket::upgrade));
    let app = layers::api_headers(api).merge(ui::router(&state.config().allowed_origins));
    layers::apply(app, state.config())
        .layer(realtime::socketio::layer(state.clone()))
        .with_state(state)
}
