//! REST request and answer bodies a client needs: sessions, login, sending.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// `POST /api/sessions/visitor` body.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VisitorSessionRequest {
    /// The embedding site's id for the visitor.
    pub identifier: Option<String>,
    /// hex(HMAC-SHA256(site secret, identifier)).
    pub identifier_hash: Option<String>,
    /// The browser's user agent.
    pub user_agent: Option<String>,
}

/// A new visitor session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VisitorSessionResponse {
    /// Bearer token; keep it (the widget uses localStorage).
    pub token: String,
    /// The visitor.
    #[schema(value_type = String, format = Uuid)]
    pub customer_id: Uuid,
}

/// `POST /api/auth/login` body.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    /// Login email (case-insensitive).
    pub email: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A new agent session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    /// Bearer token.
    pub token: String,
    /// The agent.
    pub admin: AdminDto,
}

/// An agent as the API shows it (never the password hash).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminDto {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    /// Login email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Permissions.
    pub permissions: PermissionsDto,
    /// Disabled agents cannot log in.
    pub disabled: bool,
    /// The most open conversations auto-assignment gives it; `null`: no limit.
    pub capacity: Option<u32>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// An agent's permissions.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PermissionsDto {
    /// `all` conversations, or only `assigned` ones.
    pub scope: ScopeDto,
    /// Close, reopen, assign, private notes.
    pub manage_conversations: bool,
    /// Create and disable agents.
    pub manage_admins: bool,
    /// Delete and redact anyone's messages (absent: off).
    #[serde(default)]
    pub delete_messages: bool,
    /// Read the audit log (absent: off).
    #[serde(default)]
    pub view_audit: bool,
    /// Export and erase a visitor's data (absent: off).
    #[serde(default)]
    pub manage_visitor_data: bool,
}

/// Which conversations an agent sees.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ScopeDto {
    /// Every conversation.
    All,
    /// Only those assigned to the agent.
    Assigned,
}

/// `POST /api/messages/send` body: the seed's fields plus idempotency and attachments.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendRequest {
    /// The conversation.
    pub conversation_id: String,
    /// `customer` or `admin`; must match the session.
    pub sender_type: String,
    /// The seed's agent id: accepted for compatibility, must be the session's agent.
    #[schema(format = Uuid)]
    pub admin_id: Option<String>,
    /// The text.
    pub message: String,
    /// The client's clock; kept as metadata only.
    pub timestamp: Option<DateTime<Utc>>,
    /// Makes retries idempotent.
    pub client_message_id: Option<String>,
    /// Files uploaded earlier to this conversation by the same sender.
    pub attachment_ids: Option<Vec<String>>,
    /// A private note (agents only); never shown to the visitor.
    pub private: Option<bool>,
}

/// The seed's send answer, plus the message's seq.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendResponse {
    /// The stored message (the original one for a retry).
    #[schema(value_type = String, format = Uuid)]
    pub message_id: Uuid,
    /// Always `sent`: errors are HTTP errors, and `sent` means durably stored.
    pub status: String,
    /// Server time of the durable write.
    pub delivered_at: DateTime<Utc>,
    /// Position in the conversation's log.
    #[schema(value_type = u64)]
    pub seq: u64,
}
