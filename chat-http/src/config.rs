//! What an embedder configures: origins, limits, identity secrets, sessions, uploads and
//! rate limits.

use std::time::Duration;

use chat_core::EngineConfig;

/// Configuration of the HTTP layer (the engine's own is inside).
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// Origins allowed to call the API from a browser (the widget's host sites). The
    /// server's own origin needs no entry.
    pub allowed_origins: Vec<String>,
    /// Engine limits and policy.
    pub engine: EngineConfig,
    /// Visitor identity verification.
    pub identity: IdentityConfig,
    /// How long an agent's login lasts.
    pub admin_session_ttl: Duration,
    /// How long a visitor's widget session lasts.
    pub visitor_session_ttl: Duration,
    /// Largest upload in bytes (default 10 MiB).
    pub max_upload_bytes: usize,
    /// Largest JSON request body in bytes (default 64 KiB).
    pub max_json_bytes: usize,
    /// Uploads never sent with a message are removed after this long (default 24 h).
    pub unattached_upload_ttl: Duration,
    /// Request rate limits.
    pub rate_limits: RateLimits,
    /// How long a real-time client may leave its bounded outgoing queue full before it is
    /// disconnected (default 10 s). Until then its forwarders wait and resync from the store.
    pub stall_limit: Duration,
    /// Webhook delivery: the address guard, timeouts and retries.
    pub webhooks: crate::webhooks::WebhookConfig,
    /// Offline email (`None`: off; visitors' sockets then record no last-seen time).
    pub offline_email: Option<crate::email::OfflineEmailConfig>,
    /// The host application's sign-in, asked about credentials that are not a built-in
    /// session (`None`: only the built-in sessions).
    pub identity_provider: Option<std::sync::Arc<dyn crate::sign_in::IdentityProvider>>,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            engine: EngineConfig::default(),
            identity: IdentityConfig::default(),
            admin_session_ttl: Duration::from_secs(12 * 3600),
            visitor_session_ttl: Duration::from_secs(30 * 24 * 3600),
            max_upload_bytes: 10 * 1024 * 1024,
            max_json_bytes: 64 * 1024,
            unattached_upload_ttl: Duration::from_secs(24 * 3600),
            rate_limits: RateLimits::default(),
            stall_limit: Duration::from_secs(10),
            webhooks: crate::webhooks::WebhookConfig::default(),
            offline_email: None,
            identity_provider: None,
        }
    }
}

/// Visitor identity verification: the embedding site passes `identifier` and
/// `identifierHash = hex(HMAC-SHA256(secret, identifier))`.
#[derive(Clone, Default)]
pub struct IdentityConfig {
    /// The site secret; `None` disables verification (identifiers are then ignored).
    pub secret: Option<Vec<u8>>,
    /// Refuse visitors without a valid identity.
    pub enforce: bool,
}

impl std::fmt::Debug for IdentityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityConfig")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("enforce", &self.enforce)
            .finish()
    }
}

/// Requests allowed per minute, per client address or per session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Visitor sessions and logins, per address.
    pub sessions_per_ip: u32,
    /// Conversations started, per session.
    pub conversations_per_session: u32,
    /// Messages sent, per session.
    pub messages_per_session: u32,
    /// Files uploaded, per session.
    pub uploads_per_session: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            sessions_per_ip: 30,
            conversations_per_session: 10,
            messages_per_session: 120,
            uploads_per_session: 20,
        }
    }
}
