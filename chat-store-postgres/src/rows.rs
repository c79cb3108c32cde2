//! Rows as sqlx reads them, and their conversion to and from chat-core's types.

use std::net::IpAddr;

use chat_core::accounts::{Admin, Customer, Session, SessionSubject, TokenHash};
use chat_core::email::{EmailContact, UnsubscribeToken};
use chat_core::event::{Event, EventKind};
use chat_core::ids::{AdminId, ConversationId, CustomerId, LabelId, Seq};
use chat_core::model::{Actor, Attachment, Conversation, FileType, Participant, UserRef};
use chat_core::ratings::Rating;
use chat_core::values::{
    DisplayName, Email, ExternalId, FileName, Metadata, UserAgent, VisitorIdentifier,
};
use chat_core::{Error, Result};
use chrono::{DateTime, Utc};
use sqlx::types::{Json, Uuid};

/// The conversation columns every query selects, in [`ConversationRow`]'s order.
pub const CONVERSATION_COLUMNS: &str = "c.id, c.status, c.created_at, c.updated_at, c.closed_at, \
    host(c.customer_ip) AS customer_ip, c.metadata, c.customer_id, c.assignee_id, c.last_seq, \
    c.last_customer_message_seq, c.last_reply_seq, c.customer_messages, c.replies, c.labels, c.rating, c.snoozed_until";

#[derive(sqlx::FromRow)]
pub struct ConversationRow {
    id: Uuid,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    customer_ip: Option<String>,
    metadata: Json<serde_json::Value>,
    customer_id: Uuid,
    assignee_id: Option<Uuid>,
    last_seq: i64,
    last_customer_message_seq: i64,
    last_reply_seq: i64,
    customer_messages: i64,
    replies: i64,
    labels: Vec<Uuid>,
    rating: Option<Json<Rating>>,
    snoozed_until: Option<DateTime<Utc>>,
}

impl TryFrom<ConversationRow> for Conversation {
    type Error = Error;

    fn try_from(row: ConversationRow) -> Result<Self> {
        Ok(Conversation {
            id: ConversationId::from_uuid(row.id),
            customer_id: CustomerId::from_uuid(row.customer_id),
            status: row.status.parse()?,
            assignee: row.assignee_id.map(AdminId::from_uuid),
            created_at: row.created_at,
            updated_at: row.updated_at,
            closed_at: row.closed_at,
            customer_ip: row.customer_ip.and_then(|ip| ip.parse::<IpAddr>().ok()),
            metadata: Metadata::try_from(row.metadata.0)?,
            last_seq: seq(row.last_seq),
            last_customer_message_seq: seq(row.last_customer_message_seq),
            last_reply_seq: seq(row.last_reply_seq),
            customer_messages: count(row.customer_messages),
            replies: count(row.replies),
            labels: row.labels.into_iter().map(LabelId::from_uuid).collect(),
            rating: row.rating.map(|rating| rating.0),
            snoozed_until: row.snoozed_until,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct EventRow {
    conversation_id: Uuid,
    seq: i64,
    timestamp: DateTime<Utc>,
    kind: Json<EventKind>,
}

impl From<EventRow> for Event {
    fn from(row: EventRow) -> Self {
        Event {
            conversation_id: ConversationId::from_uuid(row.conversation_id),
            seq: seq(row.seq),
            timestamp: row.timestamp,
            kind: row.kind.0,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct ParticipantRow {
    id: Uuid,
    conversation_id: Uuid,
    user_id: Uuid,
    user_type: String,
    joined_at: DateTime<Utc>,
}

impl TryFrom<ParticipantRow> for Participant {
    type Error = Error;

    fn try_from(row: ParticipantRow) -> Result<Self> {
        Ok(Participant {
            id: row.id.into(),
            conversation_id: row.conversation_id.into(),
            user: user(&row.user_type, row.user_id)?,
            joined_at: row.joined_at,
        })
    }
}

/// The attachment columns every query selects.
pub const ATTACHMENT_COLUMNS: &str = "id, conversation_id, message_id, file_type, content_type, file_size, \
    file_name, uploader_type, uploader_id, private, uploaded_at";

#[derive(sqlx::FromRow)]
pub struct AttachmentRow {
    id: Uuid,
    conversation_id: Uuid,
    message_id: Option<Uuid>,
    file_type: String,
    content_type: String,
    file_size: i64,
    file_name: String,
    uploader_type: String,
    uploader_id: Uuid,
    private: bool,
    uploaded_at: DateTime<Utc>,
}

impl TryFrom<AttachmentRow> for Attachment {
    type Error = Error;

    fn try_from(row: AttachmentRow) -> Result<Self> {
        Ok(Attachment {
            id: row.id.into(),
            conversation_id: row.conversation_id.into(),
            message_id: row.message_id.map(Into::into),
            uploader: actor(&row.uploader_type, row.uploader_id)?,
            file_type: match row.file_type.as_str() {
                "image" => FileType::Image,
                _ => FileType::Document,
            },
            content_type: row.content_type,
            file_size: u64::try_from(row.file_size).unwrap_or_default(),
            file_name: FileName::try_from(row.file_name)?,
            private: row.private,
            uploaded_at: row.uploaded_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct AdminRow {
    id: Uuid,
    email: String,
    password_hash: String,
    name: String,
    permissions: Json<chat_core::accounts::Permissions>,
    created_at: DateTime<Utc>,
    disabled: bool,
    capacity: Option<i32>,
    external_id: Option<String>,
    host_synced_at: Option<DateTime<Utc>>,
}

impl TryFrom<AdminRow> for Admin {
    type Error = Error;

    fn try_from(row: AdminRow) -> Result<Self> {
        Ok(Admin {
            id: row.id.into(),
            email: Email::parse(&row.email)?,
            name: DisplayName::parse(&row.name)?,
            password_hash: row.password_hash,
            permissions: row.permissions.0,
            created_at: row.created_at,
            disabled: row.disabled,
            capacity: row.capacity.map(|c| u32::try_from(c).unwrap_or(0)),
            external_id: row
                .external_id
                .as_deref()
                .map(ExternalId::parse)
                .transpose()?,
            host_synced_at: row.host_synced_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct CustomerRow {
    id: Uuid,
    identifier: Option<String>,
    verified: bool,
    user_agent: Option<String>,
    location_data: Json<serde_json::Value>,
    first_seen: DateTime<Utc>,
    blocked_at: Option<DateTime<Utc>>,
    email: Option<String>,
    email_token: Option<String>,
    email_unsubscribed: bool,
    last_seen: Option<DateTime<Utc>>,
    name: Option<String>,
}

impl TryFrom<CustomerRow> for Customer {
    type Error = Error;

    fn try_from(row: CustomerRow) -> Result<Self> {
        Ok(Customer {
            id: row.id.into(),
            identifier: row
                .identifier
                .as_deref()
                .map(VisitorIdentifier::parse)
                .transpose()?,
            verified: row.verified,
            name: row.name.as_deref().map(DisplayName::parse).transpose()?,
            user_agent: row
                .user_agent
                .as_deref()
                .map(UserAgent::parse)
                .transpose()?,
            location_data: Metadata::try_from(row.location_data.0)?,
            first_seen: row.first_seen,
            blocked_at: row.blocked_at,
            contact: match (row.email, row.email_token) {
                (Some(email), Some(token)) => Some(EmailContact {
                    email: Email::parse(&email)?,
                    token: UnsubscribeToken::from_link(&token),
                    unsubscribed: row.email_unsubscribed,
                }),
                _ => None,
            },
            last_seen: row.last_seen,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct SessionRow {
    token_hash: Vec<u8>,
    subject_type: String,
    subject_id: Uuid,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl TryFrom<SessionRow> for Session {
    type Error = Error;

    fn try_from(row: SessionRow) -> Result<Self> {
        let hash: [u8; 32] = row
            .token_hash
            .try_into()
            .map_err(|_| malformed("token hash"))?;
        let subject = match row.subject_type.as_str() {
            "admin" => SessionSubject::Admin(row.subject_id.into()),
            _ => SessionSubject::Visitor(row.subject_id.into()),
        };
        Ok(Session {
            token_hash: TokenHash(hash),
            subject,
            created_at: row.created_at,
            expires_at: row.expires_at,
        })
    }
}

/// A seq as stored (BIGINT).
/// A stored count (never negative).
pub fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

/// A count as stored.
pub fn db_count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub fn seq(value: i64) -> Seq {
    Seq(u64::try_from(value).unwrap_or_default())
}

/// A seq for binding.
pub fn db_seq(seq: Seq) -> i64 {
    i64::try_from(seq.get()).unwrap_or(i64::MAX)
}

/// `(sender_type, sender_id)` of an actor; the system is the nil UUID.
pub fn actor_columns(actor: Actor) -> (&'static str, Uuid) {
    match actor {
        Actor::Customer(id) => ("customer", id.as_uuid()),
        Actor::Admin(id) => ("admin", id.as_uuid()),
        Actor::System => ("system", Uuid::nil()),
    }
}

/// `(user_type, user_id)` of a person.
pub fn user_columns(user: UserRef) -> (&'static str, Uuid) {
    match user {
        UserRef::Customer(id) => ("customer", id.as_uuid()),
        UserRef::Admin(id) => ("admin", id.as_uuid()),
    }
}

fn actor(kind: &str, id: Uuid) -> Result<Actor> {
    match kind {
        "customer" => Ok(Actor::Customer(id.into())),
        "admin" => Ok(Actor::Admin(id.into())),
        "system" => Ok(Actor::System),
        _ => Err(malformed("actor type")),
    }
}

/// A person from their `(user_type, user_id)` columns.
pub fn user(kind: &str, id: Uuid) -> Result<UserRef> {
    match kind {
        "customer" => Ok(UserRef::Customer(id.into())),
        "admin" => Ok(UserRef::Admin(id.into())),
        _ => Err(malformed("user type")),
    }
}

/// A stored value this build does not understand.
#[derive(Debug, thiserror::Error)]
#[error("malformed stored value: {0}")]
pub struct Malformed(&'static str);

fn malformed(what: &'static str) -> Error {
    Error::backend(Malformed(what))
}
