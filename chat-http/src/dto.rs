//! The wire types: camelCase JSON, the seed's field names, conversions from chat-core.

mod integrations;
mod workspace;

pub use integrations::*;
pub use workspace::*;

use chat_core::accounts::{Admin, ConversationScope, Permissions};
use chat_core::event::{Event, EventKind};
use chat_core::ids::{AdminId, AttachmentId, ConversationId, CustomerId, LabelId, MessageId, Seq};
use chat_core::model::{Actor, Attachment, Conversation, FileType, Message};
use chat_core::read::ReadState;
use chat_core::status::ConversationStatus;
use chat_core::store::ConversationSummary;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/sessions/visitor` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
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
    pub customer_id: CustomerId,
}

/// `POST /api/auth/login` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    /// Login email (case-insensitive).
    pub email: String,
    /// Password.
    pub password: String,
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
    pub id: AdminId,
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
    #[serde(default, deserialize_with = "present_u32")]
    #[schema(value_type = Option<u32>)]
    pub capacity: Option<Option<u32>>,
}

/// A field that is absent (`None`), `null` (`Some(None)`) or a number.
fn present_u32<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(deserializer).map(Some)
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

/// `POST /api/messages/send` body: the seed's fields plus idempotency and attachments.
#[derive(Debug, Deserialize, ToSchema)]
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
    pub message_id: MessageId,
    /// Always `sent`: errors are HTTP errors, and `sent` means durably stored.
    pub status: String,
    /// Server time of the durable write.
    pub delivered_at: DateTime<Utc>,
    /// Position in the conversation's log.
    #[schema(value_type = u64)]
    pub seq: Seq,
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

/// A message.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageDto {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: MessageId,
    /// The conversation.
    #[schema(value_type = String, format = Uuid)]
    pub conversation_id: ConversationId,
    /// Position in the log.
    #[schema(value_type = u64)]
    pub seq: Seq,
    /// `customer`, `admin` or `system`.
    pub sender_type: String,
    /// The sender's id (absent for the system).
    pub sender_id: Option<String>,
    /// The text.
    pub content: String,
    /// Server time.
    pub timestamp: DateTime<Utc>,
    /// The client's claimed time.
    pub client_timestamp: Option<DateTime<Utc>>,
    /// The client's idempotency key.
    pub client_message_id: Option<String>,
    /// A private note (agents only).
    pub private: bool,
    /// Files.
    pub attachments: Vec<AttachmentDto>,
}

impl From<Message> for MessageDto {
    fn from(message: Message) -> Self {
        let (sender_type, sender_id) = actor_parts(message.sender);
        Self {
            id: message.id,
            conversation_id: message.conversation_id,
            seq: message.seq,
            sender_type,
            sender_id,
            content: message.body.into(),
            timestamp: message.timestamp,
            client_timestamp: message.client_timestamp,
            client_message_id: message.client_message_id.map(Into::into),
            private: message.private,
            attachments: message
                .attachments
                .into_iter()
                .map(AttachmentDto::from)
                .collect(),
        }
    }
}

/// A file.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentDto {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: AttachmentId,
    /// Name as uploaded (display only).
    pub file_name: String,
    /// `image` or `document`.
    pub file_type: String,
    /// MIME type decided from the content.
    pub content_type: String,
    /// Size in bytes.
    pub file_size: u64,
    /// Authorized download URL.
    pub file_url: String,
    /// The message it was sent with.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub message_id: Option<MessageId>,
}

impl From<Attachment> for AttachmentDto {
    fn from(attachment: Attachment) -> Self {
        Self {
            file_url: file_url(attachment.id),
            id: attachment.id,
            file_name: attachment.file_name.into(),
            file_type: file_type_name(attachment.file_type).into(),
            content_type: attachment.content_type,
            file_size: attachment.file_size,
            message_id: attachment.message_id,
        }
    }
}

/// One log event, flattened: `type` says which of the optional fields are set.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventDto {
    /// The conversation.
    #[schema(value_type = String, format = Uuid)]
    pub conversation_id: ConversationId,
    /// Position in the log.
    #[schema(value_type = u64)]
    pub seq: Seq,
    /// Server time.
    pub timestamp: DateTime<Utc>,
    /// `created`, `message`, `statusChanged`, `assigned`, `participantJoined`,
    /// `participantLeft`, `attachmentAdded`, `labelsChanged` (agents only), `snoozed` or
    /// `rated`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For `message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageDto>,
    /// For `statusChanged`: the new status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// For `statusChanged`: the previous status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<String>,
    /// For `assigned`: the new assignee (absent: unassigned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<String>,
    /// Who did it / who joined or left: `customer`, `admin` or `system`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_type: Option<String>,
    /// Their id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    /// For `attachmentAdded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentDto>,
    /// For `labelsChanged`: the ids of the labels put on.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub labels_added: Option<Vec<LabelId>>,
    /// For `labelsChanged`: the ids of the labels taken off.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub labels_removed: Option<Vec<LabelId>>,
    /// For `snoozed`: when it wakes by itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<DateTime<Utc>>,
    /// For `rated`: the score, 1 to 5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    /// For `rated`: the visitor's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl From<Event> for EventDto {
    fn from(event: Event) -> Self {
        let mut dto = Self {
            conversation_id: event.conversation_id,
            seq: event.seq,
            timestamp: event.timestamp,
            kind: event.kind.type_name().to_owned(),
            message: None,
            status: None,
            previous_status: None,
            assignee_id: None,
            actor_type: None,
            actor_id: None,
            attachment: None,
            labels_added: None,
            labels_removed: None,
            rating: None,
            comment: None,
            snoozed_until: None,
        };
        let actor = match event.kind {
            EventKind::Created { customer_id } => Some(Actor::Customer(customer_id)),
            EventKind::MessageCreated { message } => {
                let sender = message.sender;
                dto.message = Some(message.into());
                Some(sender)
            }
            EventKind::StatusChanged { from, to, by } => {
                (dto.previous_status, dto.status) = (Some(from.to_string()), Some(to.to_string()));
                Some(by)
            }
            EventKind::Assigned { assignee, by } => {
                dto.assignee_id = assignee.map(|a| a.to_string());
                Some(by)
            }
            EventKind::LabelsChanged { added, removed, by } => {
                (dto.labels_added, dto.labels_removed) = (Some(added), Some(removed));
                Some(by)
            }
            EventKind::Snoozed { until, by } => {
                (dto.status, dto.snoozed_until) = (Some("snoozed".into()), until);
                Some(by)
            }
            EventKind::Rated { score, comment, by } => {
                (dto.rating, dto.comment) = (Some(score.get()), comment);
                Some(by)
            }
            EventKind::ParticipantJoined { user } => Some(user.into()),
            EventKind::ParticipantLeft { user } => Some(user.into()),
            EventKind::AttachmentAdded { attachment } => {
                let uploader = attachment.uploader;
                dto.attachment = Some(attachment.into());
                Some(uploader)
            }
        };
        if let Some(actor) = actor {
            let (kind, id) = actor_parts(actor);
            (dto.actor_type, dto.actor_id) = (Some(kind), id);
        }
        dto
    }
}

/// `{status: "ok"}` for health checks.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// The download URL of an attachment.
pub fn file_url(id: AttachmentId) -> String {
    format!("/api/files/{id}")
}

/// The wire name of a file type.
pub fn file_type_name(file_type: FileType) -> &'static str {
    match file_type {
        FileType::Image => "image",
        FileType::Document => "document",
    }
}

fn actor_parts(actor: Actor) -> (String, Option<String>) {
    let id = match actor {
        Actor::Customer(id) => Some(id.to_string()),
        Actor::Admin(id) => Some(id.to_string()),
        Actor::System => None,
    };
    (actor.kind().as_str().to_owned(), id)
}

impl From<Admin> for AdminDto {
    fn from(admin: Admin) -> Self {
        Self {
            id: admin.id,
            email: admin.email.into(),
            name: admin.name.into(),
            permissions: admin.permissions.into(),
            disabled: admin.disabled,
            capacity: admin.capacity,
            created_at: admin.created_at,
        }
    }
}

impl From<Permissions> for PermissionsDto {
    fn from(permissions: Permissions) -> Self {
        Self {
            scope: match permissions.scope {
                ConversationScope::All => ScopeDto::All,
                ConversationScope::Assigned => ScopeDto::Assigned,
            },
            manage_conversations: permissions.manage_conversations,
            manage_admins: permissions.manage_admins,
        }
    }
}

impl From<PermissionsDto> for Permissions {
    fn from(dto: PermissionsDto) -> Self {
        Self {
            scope: match dto.scope {
                ScopeDto::All => ConversationScope::All,
                ScopeDto::Assigned => ConversationScope::Assigned,
            },
            manage_conversations: dto.manage_conversations,
            manage_admins: dto.manage_admins,
        }
    }
}
