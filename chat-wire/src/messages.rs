//! Messages, files and log events as the API shows them (REST, the change feed, webhooks
//! and the real-time join's catch-up).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageDto {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    /// The conversation.
    #[schema(value_type = String, format = Uuid)]
    pub conversation_id: Uuid,
    /// Position in the log.
    #[schema(value_type = u64)]
    pub seq: u64,
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
    /// When its sender last changed its text; absent if never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<DateTime<Utc>>,
    /// When it was deleted: `content` is empty and it has no files; absent if it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentDto {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
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
    pub message_id: Option<Uuid>,
}

/// One log event, flattened: `type` says which of the optional fields are set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventDto {
    /// The conversation.
    #[schema(value_type = String, format = Uuid)]
    pub conversation_id: Uuid,
    /// Position in the log.
    #[schema(value_type = u64)]
    pub seq: u64,
    /// Server time.
    pub timestamp: DateTime<Utc>,
    /// `created`, `message`, `statusChanged`, `assigned`, `participantJoined`,
    /// `participantLeft`, `attachmentAdded`, `labelsChanged` (agents only), `snoozed`,
    /// `rated`, `messageUpdated` or `messageDeleted`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For `message`, `messageUpdated` and `messageDeleted`: the message (as it is now).
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
    pub labels_added: Option<Vec<Uuid>>,
    /// For `labelsChanged`: the ids of the labels taken off.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub labels_removed: Option<Vec<Uuid>>,
    /// For `snoozed`: when it wakes by itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<DateTime<Utc>>,
    /// For `rated`: the score, 1 to 5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    /// For `rated`: the visitor's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// For `messageDeleted` by a redaction: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<String>,
}

/// The download URL of an attachment.
pub fn file_url(id: Uuid) -> String {
    format!("/api/files/{id}")
}

impl EventDto {
    /// An event with only its required fields unset (for building one field by field).
    pub fn empty() -> Self {
        Self {
            conversation_id: Uuid::nil(),
            seq: 0,
            timestamp: DateTime::UNIX_EPOCH,
            kind: String::new(),
            message: None,
            status: None,
            previous_status: None,
            assignee_id: None,
            actor_type: None,
            actor_id: None,
            attachment: None,
            labels_added: None,
            labels_removed: None,
            snoozed_until: None,
            rating: None,
            comment: None,
            redaction: None,
        }
    }
}
