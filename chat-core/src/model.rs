//! Conversations, participants, messages and attachments: the seed's data model as types.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{
    AdminId, AttachmentId, ConversationId, CustomerId, LabelId, MessageId, ParticipantId, Seq,
};
use crate::ratings::Rating;
use crate::status::ConversationStatus;
use crate::values::{ClientMessageId, FileName, MessageBody, Metadata};

/// Who did something: the sender of a message, the author of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "lowercase")]
pub enum Actor {
    /// A visitor.
    Customer(CustomerId),
    /// An agent.
    Admin(AdminId),
    /// The engine itself or an embedder's automation.
    System,
}

/// The kind of an [`Actor`], the seed's `sender_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// A visitor.
    Customer,
    /// An agent.
    Admin,
    /// The engine or automation.
    System,
}

impl Actor {
    /// The actor's kind.
    pub fn kind(&self) -> ActorKind {
        match self {
            Self::Customer(_) => ActorKind::Customer,
            Self::Admin(_) => ActorKind::Admin,
            Self::System => ActorKind::System,
        }
    }

    /// The person behind the actor, if it is a person.
    pub fn user(&self) -> Option<UserRef> {
        match *self {
            Self::Customer(id) => Some(UserRef::Customer(id)),
            Self::Admin(id) => Some(UserRef::Admin(id)),
            Self::System => None,
        }
    }
}

impl ActorKind {
    /// The wire name (`senderType`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Admin => "admin",
            Self::System => "system",
        }
    }
}

/// A person who can take part in a conversation (the seed's `user_id` + `user_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "lowercase")]
pub enum UserRef {
    /// A visitor.
    Customer(CustomerId),
    /// An agent.
    Admin(AdminId),
}

impl From<UserRef> for Actor {
    fn from(user: UserRef) -> Self {
        match user {
            UserRef::Customer(id) => Actor::Customer(id),
            UserRef::Admin(id) => Actor::Admin(id),
        }
    }
}

/// One support conversation between a visitor and the agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Identity.
    pub id: ConversationId,
    /// The visitor who started it; the only customer who may read it.
    pub customer_id: CustomerId,
    /// Workflow status.
    pub status: ConversationStatus,
    /// The agent it is assigned to, if any.
    pub assignee: Option<AdminId>,
    /// When it was started (server clock).
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub created_at: DateTime<Utc>,
    /// Time of the newest event.
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub updated_at: DateTime<Utc>,
    /// When it was last closed; cleared on reopen.
    #[serde(with = "chrono::serde::ts_microseconds_option")]
    pub closed_at: Option<DateTime<Utc>>,
    /// The visitor's address as seen by the HTTP layer.
    pub customer_ip: Option<IpAddr>,
    /// Embedder-supplied data (page URL, plan, …).
    pub metadata: Metadata,
    /// Seq of the newest event in the log.
    pub last_seq: Seq,
    /// Seq of the newest customer message: admins have unread messages past their cursor.
    pub last_customer_message_seq: Seq,
    /// Seq of the newest public admin or system message: what the visitor has unread.
    pub last_reply_seq: Seq,
    /// How many customer messages the log holds (what agents count as unread).
    #[serde(default)]
    pub customer_messages: u64,
    /// How many public admin or system messages the log holds (what the visitor counts).
    #[serde(default)]
    pub replies: u64,
    /// Its labels, in id order (ids of labels deleted since may remain; they show nowhere).
    #[serde(default)]
    pub labels: Vec<LabelId>,
    /// The visitor's satisfaction rating, once given.
    #[serde(default)]
    pub rating: Option<Rating>,
    /// When a snoozed conversation wakes by itself (`None`: only the visitor's next
    /// message wakes it).
    #[serde(default, with = "chrono::serde::ts_microseconds_option")]
    pub snoozed_until: Option<DateTime<Utc>>,
}

/// A person's membership in a conversation (customer at creation, agents when they join).
///
/// Last-seen times are presence, which the design keeps ephemeral: they are broadcast, not
/// stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Identity of the membership row.
    pub id: ParticipantId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The person.
    pub user: UserRef,
    /// When they joined (server clock).
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub joined_at: DateTime<Utc>,
}

/// One message in a conversation's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Identity.
    pub id: MessageId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Position in the conversation's log.
    pub seq: Seq,
    /// Who sent it; always taken from the session, never from the request.
    pub sender: Actor,
    /// The text.
    pub body: MessageBody,
    /// Server time of the durable write; the only time used for ordering displays.
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub timestamp: DateTime<Utc>,
    /// The client's claimed send time, kept as metadata only.
    #[serde(with = "chrono::serde::ts_microseconds_option")]
    pub client_timestamp: Option<DateTime<Utc>>,
    /// The client's idempotency key.
    pub client_message_id: Option<ClientMessageId>,
    /// An agent's private note: never shown to the visitor.
    pub private: bool,
    /// Files sent with the message.
    pub attachments: Vec<Attachment>,
    /// Embedder-supplied data.
    pub metadata: Metadata,
    /// When its sender last changed its text.
    #[serde(default, with = "chrono::serde::ts_microseconds_option")]
    pub edited_at: Option<DateTime<Utc>>,
    /// When it was deleted (or redacted): its text is gone and its files are no longer
    /// served.
    #[serde(default, with = "chrono::serde::ts_microseconds_option")]
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Message {
    /// Whether a reader whose cursor is at `last_read_seq` has read this message.
    pub fn is_read(&self, last_read_seq: Seq) -> bool {
        self.seq <= last_read_seq
    }

    /// Whether it was deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// Whether a file is shown inline (images) or as a link (documents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    /// png, jpeg, gif, webp.
    Image,
    /// pdf and other documents.
    Document,
}

/// An uploaded file. It belongs to one conversation, and to one message once sent with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Identity; also the blob's key.
    pub id: AttachmentId,
    /// The conversation it was uploaded to.
    pub conversation_id: ConversationId,
    /// The message it was sent with, once sent.
    pub message_id: Option<MessageId>,
    /// Who uploaded it.
    pub uploader: Actor,
    /// Image or document.
    pub file_type: FileType,
    /// MIME type decided from the file's content.
    pub content_type: String,
    /// Size in bytes.
    pub file_size: u64,
    /// The name as uploaded, for display only.
    pub file_name: FileName,
    /// Whether it is part of a private note (visitors never see those).
    pub private: bool,
    /// Upload time (server clock).
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub uploaded_at: DateTime<Utc>,
}

impl Attachment {
    /// Whether the conversation's visitor may see this file: their own uploads, and files
    /// sent with a public message.
    pub fn visible_to_customer(&self) -> bool {
        matches!(self.uploader, Actor::Customer(_)) || (self.message_id.is_some() && !self.private)
    }
}
