//! An existing axum app — its own pages, its own staff sign-in, its own staff-only route —
//! with the chat merged in. The shop's staff use the chat dashboard with the shop's own
//! sign-in: [`ShopSignIn`] tells the chat who a shop session belongs to, and the chat
//! provisions the agent on first sight and keeps its name, email and permissions to the
//! shop's answer. No chat password exists.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chat_core::accounts::Permissions;
use chat_core::engine::{ExternalAgent, ExternalIdentity};
use chat_core::values::{DisplayName, Email, ExternalId};
use chat_core::{ChatEngine, LocalBroadcaster, MemoryStore, Principal};
use chat_http::{
    AppState, ChatConfig, HostRefusal, HostSignIn, IdentityProvider, ObjectStoreBlobs,
};

/// Someone on the shop's staff, as the shop knows them.
#[derive(Debug, Clone)]
pub struct StaffMember {
    /// The shop's id for them.
    pub id: String,
    /// Their name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// Managers may manage the chat's agents; everyone else answers customers.
    pub manager: bool,
}

/// The shop's own staff sessions (a real shop keeps them in its database or signs
/// cookies; a map keeps the example short).
#[derive(Debug, Default)]
pub struct StaffSessions(RwLock<HashMap<String, StaffMember>>);

impl StaffSessions {
    /// Signs a staff member in to the shop; the session's token.
    pub fn sign_in(&self, member: StaffMember) -> String {
        let token = format!("shop-{}", uuid::Uuid::new_v4().simple());
        self.0.write().expect("lock").insert(token.clone(), member);
        token
    }

    fn get(&self, token: &str) -> Option<StaffMember> {
        self.0.read().expect("lock").get(token).cloned()
    }
}

/// The chat asks the shop who presents a credential it does not know itself.
#[derive(Debug)]
pub struct ShopSignIn(Arc<StaffSessions>);

#[async_trait::async_trait]
impl IdentityProvider for ShopSignIn {
    async fn identify(&self, credential: &str) -> Result<Option<HostSignIn>, HostRefusal> {
        let Some(member) = self.0.get(credential) else {
            return Ok(None);
        };
        let invalid = |error: chat_core::error::InvalidInput| HostRefusal(error.to_string());
        let permissions = match member.manager {
            true => Permissions::OWNER,
            false => Permissions::default(),
        };
        let agent = ExternalAgent {
            id: ExternalId::parse(&member.id).map_err(invalid)?,
            name: DisplayName::parse(&member.name).map_err(invalid)?,
            email: Email::parse(&member.email).map_err(invalid)?,
            permissions: Some(permissions),
        };
        Ok(Some(HostSignIn {
            identity: ExternalIdentity::Agent(agent),
            // As long as the shop's own sessions last.
            expires_at: chrono::Utc::now() + chrono::Duration::hours(8),
        }))
    }
}

/// The app's own state next to the chat's.
#[derive(Clone)]
struct Shop {
    chat: ChatEngine,
    staff: Arc<StaffSessions>,
}

/// The shop's router with the chat merged in (`blob_dir` holds uploads), and the shop's
/// staff sessions.
pub fn app(
    blob_dir: &std::path::Path,
) -> Result<(Router, Arc<StaffSessions>), Box<dyn std::error::Error>> {
    let staff = Arc::new(StaffSessions::default());
    let config = ChatConfig {
        allowed_origins: vec!["https://shop.example".into()],
        identity_provider: Some(Arc::new(ShopSignIn(staff.clone()))),
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
        staff: staff.clone(),
    };
    let own = Router::new()
        .route("/", get(|| async { "Welcome to the shop" }))
        .route("/staff/support", get(open_dashboard))
        .route("/staff/open-conversations", get(open_conversations))
        .with_state(shop);
    Ok((own.merge(chat), staff))
}

/// The shop's session from its `shop_session` cookie: the app's own auth.
fn staff_session(shop: &Shop, headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let token = cookies
        .split(';')
        .find_map(|cookie| cookie.trim().strip_prefix("shop_session="))?;
    shop.staff.get(token).map(|_| token.to_owned())
}

/// Staff open the chat dashboard from the shop: it signs them in with their shop session
/// (in the fragment, which never reaches a server log).
async fn open_dashboard(State(shop): State<Shop>, headers: HeaderMap) -> Response {
    match staff_session(&shop, &headers) {
        Some(token) => Redirect::to(&format!("/admin#token={token}")).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// A route of the app, behind the app's own auth, that uses the engine directly.
async fn open_conversations(
    State(shop): State<Shop>,
    headers: HeaderMap,
) -> Result<String, StatusCode> {
    staff_session(&shop, &headers).ok_or(StatusCode::UNAUTHORIZED)?;
    let page = shop
        .chat
        .list_conversations(&Principal::System, Default::default())
        .await;
    let page = page.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(format!("{} conversations", page.total_count))
}
