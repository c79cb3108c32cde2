//! The wire types: camelCase JSON, the seed's field names, conversions from chat-core. Those
//! a client needs too live in `chat-wire` and are re-exported here.

mod audit;
mod integrations;
mod search;
mod visitor_data;
mod workspace;

pub use audit::*;
pub use chat_wire::{
    AdminDto, AttachmentDto, ChangeDto, ChangesResponse, EventDto, LoginRequest, LoginResponse,
    MessageDto, PermissionsDto, ScopeDto, SendRequest, SendResponse, VisitorSessionRequest,
    VisitorSessionResponse, file_type_name, file_url,
};
pub use integrations::*;
pub use search::*;
pub use visitor_data::*;
pub use workspace::*;

use chat_core::ids::{AdminId, AttachmentId, ConversationId, CustomerId, LabelId, Seq};
use chat_core::model::Conversation;
use chat_core::read::ReadState;
use chat_core::status::ConversationStatus;
use chat_core::store::ConversationSummary;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /api/session`: who the bearer is, so a page opened with a host's token can learn
/// it (an agent: its record; a visitor: its id).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionResponse {
    /// `agent` or `visitor`.
    pub role: &'static str,
    /// The agent, for `agent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<AdminDto>,
    /// The visitor's id, for `visitor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub customer_id: Option<uuid::Uuid>,
    /// Seconds until the session ends (by the server's clock; a host token's `exp`).
    pub expires_in: u64,
}

/// `POST /api/admins` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAdminRequest {
    /// Login email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Initial password (at least 10 characters).
    pub password: String,
    /// Permissions (default: all conversations, manage conversations, not admins).
    pub permissions: Option<PermissionsDto>,
}

/// `PATCH /api/admins/{id}` body: what to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateAdminRequest {
    /// Disable (ends the agent's sessions) or re-enable.
    pub disabled: Option<bool>,
    /// New permissions.
    pub permissions: Option<PermissionsDto>,
    /// New password (ends the agent's sessions).
    pub password: Option<String>,
    /// Auto-assignment capacity; `null`: no limit.
    #[serde(default, deserialize_with = "chat_wire::fields::present")]
    #[schema(value_type = Option<u32>)]
    pub capacity: Option<Option<u32>>,
}

/// `{admin}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AdminEnvelope {
    /// The agent.
    pub admin: AdminDto,
}

/// `{admins}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AdminList {
    /// All agents, oldest first.
    pub admins: Vec<AdminDto>,
}

/// `GET /api/presence`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PresenceList {
    /// The agents online on any server node, as the answering node knows.
    #[schema(value_type = Vec<String>)]
    pub online: Vec<AdminId>,
}

/// `POST /api/conversations` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateConversationRequest {
    /// Embedder data (a JSON object, at most 8 KiB).
    pub metadata: Option<serde_json::Value>,
}

/// A conversation with the caller's read state.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDto {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: ConversationId,
    /// `waiting`, `active` or `closed`.
    #[schema(value_type = String)]
    pub status: ConversationStatus,
    /// Its visitor.
    #[schema(value_type = String, format = Uuid)]
    pub customer_id: CustomerId,
    /// Its agent, if assigned.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignee_id: Option<AdminId>,
    /// Start time.
    pub created_at: DateTime<Utc>,
    /// Time of the newest event.
    pub updated_at: DateTime<Utc>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Embedder data.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// Seq of the newest event.
    #[schema(value_type = u64)]
    pub last_seq: Seq,
    /// Its labels' ids (agents only; `GET /api/labels` has their titles).
    #[schema(value_type = Vec<String>)]
    pub label_ids: Vec<LabelId>,
    /// The visitor's satisfaction rating, once given.
    pub rating: Option<RatingDto>,
    /// When a snoozed conversation wakes by itself.
    pub snoozed_until: Option<DateTime<Utc>>,
    /// The caller's read cursor.
    #[schema(value_type = u64)]
    pub last_read_seq: Seq,
    /// Messages unread by the caller.
    pub unread_count: u64,
    /// How far the other side has read ("Seen"): for a visitor the furthest any agent has
    /// read, for an agent the visitor's cursor. Only on a single conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub peer_last_read_seq: Option<Seq>,
}

impl ConversationDto {
    /// From a list summary.
    pub fn from_summary(summary: ConversationSummary) -> Self {
        Self::new(summary.conversation, summary.last_read_seq, summary.unread)
    }

    /// From a row and the caller's read state.
    pub fn new(conversation: Conversation, last_read_seq: Seq, unread_count: u64) -> Self {
        Self {
            id: conversation.id,
            status: conversation.status,
            customer_id: conversation.customer_id,
            assignee_id: conversation.assignee,
            created_at: conversation.created_at,
            updated_at: conversation.updated_at,
            closed_at: conversation.closed_at,
            metadata: conversation.metadata.into(),
            last_seq: conversation.last_seq,
            label_ids: conversation.labels,
            rating: conversation.rating.map(Into::into),
            snoozed_until: conversation.snoozed_until,
            last_read_seq,
            unread_count,
            peer_last_read_seq: None,
        }
    }

    /// From a row and the caller's whole read state.
    pub fn with_read_state(conversation: Conversation, read: ReadState) -> Self {
        Self {
            peer_last_read_seq: Some(read.peer_last_read_seq),
            ..Self::new(conversation, read.last_read_seq, read.unread)
        }
    }
}

/// `{conversation}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversationEnvelope {
    /// The conversation.
    pub conversation: ConversationDto,
}

/// `GET /api/conversations/list` query (the seed's, plus a cursor).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListQuery {
    /// Must be the caller's own id when given.
    pub admin_id: Option<String>,
    /// `waiting`, `active` or `closed`.
    pub status: Option<String>,
    /// A label's title (ignoring case).
    pub label: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<usize>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of conversations.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse {
    /// The page, newest activity first.
    pub conversations: Vec<ConversationDto>,
    /// Conversations matching the filter, all pages.
    pub total_count: u64,
    /// How many of those have unread messages for the caller.
    pub unread_count: u64,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /api/conversations/{id}/events` query.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventsQuery {
    /// Return events after this seq (default 0).
    pub since: Option<u64>,
    /// 1–500 (default 100).
    pub limit: Option<usize>,
}

/// A page of the event log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventsResponse {
    /// Events after `since` that the caller may see, ascending.
    pub events: Vec<EventDto>,
    /// Pass as `since` for the next page.
    #[schema(value_type = u64)]
    pub last_seq: Seq,
    /// Whether more events follow.
    pub has_more: bool,
}

/// `GET /api/conversations/{id}/messages` query.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessagesQuery {
    /// Messages with a seq below this (default: from the newest).
    pub before: Option<u64>,
    /// 1–100 (default 50).
    pub limit: Option<usize>,
}

/// A page of history, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagesResponse {
    /// Messages, newest first.
    pub messages: Vec<MessageDto>,
    /// Whether older messages remain.
    pub has_more: bool,
}

/// `POST /api/conversations/{id}/read` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReadRequest {
    /// Everything up to this seq is read.
    pub seq: u64,
}

/// The read cursor after a read.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadResponse {
    /// The caller's cursor now (it never moves back).
    #[schema(value_type = u64)]
    pub last_read_seq: Seq,
}

/// `POST /api/conversations/{id}/status` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusRequest {
    /// `active` (reopen, unsnooze), `closed` or `snoozed`.
    pub status: String,
    /// With `snoozed`: when it wakes by itself (in the future, within a year); without it,
    /// only the visitor's next message wakes it.
    pub snoozed_until: Option<DateTime<Utc>>,
}

/// `POST /api/conversations/{id}/assign` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignRequest {
    /// The agent, or `null` to unassign.
    pub assignee_id: Option<String>,
}

/// The seed's upload answer, plus the attachment's id and kind.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadResponse {
    /// Authorized download URL (needs the same bearer token).
    pub file_url: String,
    /// Size in bytes.
    pub file_size: u64,
    /// Always `success`: errors are HTTP errors.
    pub upload_status: String,
    /// Pass in `attachmentIds` when sending.
    #[schema(value_type = String, format = Uuid)]
    pub attachment_id: AttachmentId,
    /// `image` or `document`, decided from the content.
    pub file_type: String,
    /// MIME type decided from the content.
    pub content_type: String,
}

/// `{status: "ok"}` for health checks.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}
