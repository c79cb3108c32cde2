//! The wire types of message changes (edit, delete, redact) and of the audit log.

use chat_core::audit::AuditEntry;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::MessageDto;

/// `PATCH /api/messages/{id}` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditRequest {
    /// The new text.
    pub message: String,
}

/// `POST /api/messages/{id}/redact` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedactRequest {
    /// Why (kept in the audit log), 1 to 500 characters.
    pub reason: String,
}

/// A message as it is after a change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageEnvelope {
    /// The message.
    pub message: MessageDto,
}

/// `GET /api/audit` query.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditQuery {
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<usize>,
}

/// One audit entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryDto {
    /// Id (time-ordered).
    pub id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// `admin`, `customer` or `system`.
    pub actor_type: String,
    /// Their id (absent for the system).
    pub actor_id: Option<String>,
    /// What: `type` (`signedIn`, `permissionsChanged`, `adminDisabled`, `statusChanged`,
    /// `assigned`, `messageEdited`, `messageDeleted`, `messageRedacted`,
    /// `conversationDeleted`) and its fields; `original` is the text an edit or delete
    /// replaced (`null` once redacted).
    #[schema(value_type = Object)]
    pub action: serde_json::Value,
}

impl From<AuditEntry> for AuditEntryDto {
    fn from(entry: AuditEntry) -> Self {
        let (actor_type, actor_id) = chat_wire::actor_parts(entry.actor);
        Self {
            id: entry.id.to_string(),
            at: entry.at,
            actor_type,
            actor_id,
            action: serde_json::to_value(entry.action).unwrap_or_default(),
        }
    }
}

/// A page of the audit log, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditResponse {
    /// The entries.
    pub entries: Vec<AuditEntryDto>,
    /// Pass as `cursor` for older entries; absent on the last page.
    pub next_cursor: Option<String>,
}
