//! An existing axum app — its own pages, its own staff sign-in, its own staff-only route —
//! with the chat merged in. The shop's staff use the chat dashboard with the shop's own
//! sign-in: a signed-in staff member opening `/staff/support` gets a short-lived dashboard
//! pass (never the shop's session itself), [`ShopSignIn`] tells the chat whose pass it is,
//! and the chat provisions the agent on first sight and keeps its name, email and
//! permissions to the shop's answer. No chat password exists.

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
use chrono::{DateTime, Utc};

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

/// How long a dashboard pass lasts: the chat signs the agent out at its end.
const PASS_LIFETIME: chrono::Duration = chrono::Duration::hours(1);

/// The shop's own staff sessions, and the dashboard passes minted from them (a real shop
/// keeps these in its database or signs them; maps keep the example short).
#[derive(Debug, Default)]
pub struct StaffSessions {
    sessions: RwLock<HashMap<String, StaffMember>>,
    passes: RwLock<HashMap<String, Pass>>,
}

#[derive(Debug, Clone)]
struct Pass {
    session: String,
    member: StaffMember,
    issued_at: DateTime<Utc>,
}

impl StaffSessions {
    /// Signs a staff member in to the shop; the session's token.
    pub fn sign_in(&self, member: StaffMember) -> String {
        let token = format!("shop-{}", uuid::Uuid::new_v4().simple());
        self.sessions
            .write()
            .expect("lock")
            .insert(token.clone(), member);
        token
    }

    /// A dashboard pass for the staff member signed in with `session`, as the shop knows
    /// them now.
    pub fn dashboard_pass(&self, session: &str) -> Option<String> {
        let member = self.sessions.read().expect("lock").get(session).cloned()?;
        let pass = format!("pass-{}", uuid::Uuid::new_v4().simple());
        let issued_at = Utc::now();
        let minted = Pass {
            session: session.to_owned(),
            member,
            issued_at,
        };
        let mut passes = self.passes.write().expect("lock");
        passes.retain(|_, pass| pass.issued_at + PASS_LIFETIME > issued_at);
        passes.insert(pass.clone(), minted);
        Some(pass)
    }

    /// Signs a staff member out of the shop: its passes sign nobody in any more (a
    /// dashboard already open keeps its chat session until the pass's hour ends).
    pub fn sign_out(&self, session: &str) {
        self.sessions.write().expect("lock").remove(session);
        let mut passes = self.passes.write().expect("lock");
        passes.retain(|_, pass| pass.session != session);
    }

    fn is_signed_in(&self, session: &str) -> bool {
        self.sessions.read().expect("lock").contains_key(session)
    }

    /// The pass, while it lasts.
    fn pass(&self, pass: &str) -> Option<Pass> {
        let passes = self.passes.read().expect("lock");
        let pass = passes.get(pass)?;
        (pass.issued_at + PASS_LIFETIME > Utc::now()).then(|| pass.clone())
    }
}

/// The chat asks the shop whose dashboard pass a credential it does not know itself is.
#[derive(Debug)]
pub struct ShopSignIn(Arc<StaffSessions>);

#[async_trait::async_trait]
impl IdentityProvider for ShopSignIn {
    async fn identify(&self, credential: &str) -> Result<Option<HostSignIn>, HostRefusal> {
        let Some(Pass {
            member, issued_at, ..
        }) = self.0.pass(credential)
        else {
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
            issued_at,
        };
        Ok(Some(HostSignIn {
            identity: ExternalIdentity::Agent(agent),
            expires_at: issued_at + PASS_LIFETIME,
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
    shop.staff.is_signed_in(token).then(|| token.to_owned())
}

/// Staff open the chat dashboard from the shop: it signs them in with a fresh dashboard
/// pass (in the fragment, which never reaches a server log).
async fn open_dashboard(State(shop): State<Shop>, headers: HeaderMap) -> Response {
    let pass =
        staff_session(&shop, &headers).and_then(|session| shop.staff.dashboard_pass(&session));
    match pass {
        Some(pass) => Redirect::to(&format!("/admin#token={pass}")).into_response(),
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
