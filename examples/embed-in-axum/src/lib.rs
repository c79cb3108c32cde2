//! An existing axum app — its own pages and its own staff-only route guarded by its own
//! auth — with the chat API merged in. The chat routes keep their own bearer tokens; the
//! app's routes never see them.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use chat_core::{ChatEngine, LocalBroadcaster, MemoryStore, Principal};
use chat_http::{AppState, ChatConfig, ObjectStoreBlobs};

/// The app's own state next to the chat's.
#[derive(Clone)]
struct Shop {
    chat: ChatEngine,
    staff_key: Arc<str>,
}

/// The shop's router with the chat merged in; `blob_dir` holds uploads.
pub fn app(
    blob_dir: &std::path::Path,
    staff_key: &str,
) -> Result<Router, Box<dyn std::error::Error>> {
    let config = ChatConfig {
        allowed_origins: vec!["https://shop.example".into()],
        ..ChatConfig::default()
    };
    let engine = ChatEngine::new(
        Arc::new(MemoryStore::new()),
        Arc::new(LocalBroadcaster::new()),
        config.engine,
    );
    let blobs = Arc::new(ObjectStoreBlobs::local(blob_dir)?);
    let chat = chat_http::router(AppState::new(engine.clone(), blobs, config));
    let shop = Shop {
        chat: engine,
        staff_key: staff_key.into(),
    };
    let own = Router::new()
        .route("/", get(|| async { "Welcome to the shop" }))
        .route("/staff/open-conversations", get(open_conversations))
        .with_state(shop);
    Ok(own.merge(chat))
}

/// A route of the app, behind the app's own auth, that uses the engine directly.
async fn open_conversations(
    State(shop): State<Shop>,
    headers: HeaderMap,
) -> Result<String, StatusCode> {
    let key = headers
        .get("x-staff-key")
        .and_then(|value| value.to_str().ok());
    if key != Some(&*shop.staff_key) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let page = shop
        .chat
        .list_conversations(&Principal::System, Default::default())
        .await;
    let page = page.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(format!("{} conversations", page.total_count))
}
