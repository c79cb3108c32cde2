//! The audit log: an append-only record of what agents and admins did (sign-ins,
//! permission changes, assignment, status, deletes, redactions, exports, erasures) and the
//! original text of every edited or deleted message. No route changes an entry; a
//! redaction erases the text it keeps of that message and nothing else.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::Permissions;
use crate::ids::{AdminId, AuditId, ConversationId, CustomerId, MessageId};
use crate::model::Actor;
use crate::status::ConversationStatus;

/// Most entries one read returns.
pub const MAX_PAGE: usize = 200;

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Identity, time-ordered: the log's order.
    pub id: AuditId,
    /// When.
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// What.
    pub action: AuditAction,
}

impl AuditEntry {
    /// A new entry for `action` by `actor` at `at`.
    pub fn new(at: DateTime<Utc>, actor: Actor, action: AuditAction) -> Self {
        Self {
            id: AuditId::new(),
            at,
            actor,
            action,
        }
    }
}

/// What an audited actor did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum AuditAction {
    /// An agent signed in.
    SignedIn,
    /// An agent's permissions were set.
    PermissionsChanged {
        /// The agent.
        admin: AdminId,
        /// Its permissions after.
        permissions: Permissions,
    },
    /// An agent was disabled (its sessions ended).
    AdminDisabled {
        /// The agent.
        admin: AdminId,
    },
    /// A conversation's status was changed by an agent.
    StatusChanged {
        /// The conversation.
        conversation: ConversationId,
        /// Before.
        from: ConversationStatus,
        /// After.
        to: ConversationStatus,
    },
    /// A conversation was assigned or unassigned by an agent.
    Assigned {
        /// The conversation.
        conversation: ConversationId,
        /// The new assignee.
        assignee: Option<AdminId>,
    },
    /// A message's text was changed by its sender.
    MessageEdited {
        /// The conversation.
        conversation: ConversationId,
        /// The message.
        message: MessageId,
        /// The text before the edit; `None` once redacted.
        original: Option<String>,
    },
    /// A message was deleted.
    MessageDeleted {
        /// The conversation.
        conversation: ConversationId,
        /// The message.
        message: MessageId,
        /// The text it had; `None` once redacted.
        original: Option<String>,
    },
    /// A message was redacted: its text is gone from the log, the search index and this
    /// audit trail.
    MessageRedacted {
        /// The conversation.
        conversation: ConversationId,
        /// The message.
        message: MessageId,
        /// Why.
        reason: String,
    },
    /// A conversation was deleted with everything in it (by the system: its retention
    /// period had passed).
    ConversationDeleted {
        /// The conversation.
        conversation: ConversationId,
    },
    /// A visitor's data was exported.
    VisitorExported {
        /// The visitor.
        customer: CustomerId,
    },
    /// A visitor was erased: its record, its conversations and their files. Only that it
    /// happened is kept, never what was erased.
    VisitorErased {
        /// The visitor (an id that now names nothing).
        customer: CustomerId,
        /// How many conversations went with it.
        conversations: u64,
    },
}

impl AuditAction {
    /// The message whose text the entry keeps, if any: what a redaction of it erases.
    pub fn kept_text_of(&self) -> Option<MessageId> {
        match self {
            Self::MessageEdited { message, .. } | Self::MessageDeleted { message, .. } => {
                Some(*message)
            }
            _ => None,
        }
    }

    /// The message the entry is about (an edit, a delete, a redaction), if any: what the
    /// deletion of its conversation finds, to erase what the entry says of it.
    pub fn about_message(&self) -> Option<MessageId> {
        match self {
            Self::MessageRedacted { message, .. } => Some(*message),
            _ => self.kept_text_of(),
        }
    }

    /// Erases the text the entry keeps (a redaction), leaving who, when and which.
    pub fn erase_text(&mut self) {
        if let Self::MessageEdited { original, .. } | Self::MessageDeleted { original, .. } = self {
            *original = None;
        }
    }

    /// Erases everything the entry says of its message's content, a redaction's reason
    /// included (the deletion of its conversation): who, when and which stay.
    pub fn erase_content(&mut self) {
        self.erase_text();
        if let Self::MessageRedacted { reason, .. } = self {
            ERASED_REASON.clone_into(reason);
        }
    }
}

/// A redaction's reason once its conversation was deleted.
pub const ERASED_REASON: &str = "(erased with its conversation)";
