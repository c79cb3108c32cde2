//! The conversation event log: every persisted change to a conversation is one event with
//! the next gap-free `seq`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AdminId, ConversationId, CustomerId, LabelId, Seq};
use crate::model::{Actor, Attachment, Message, UserRef};
use crate::ratings::Score;
use crate::status::ConversationStatus;

/// One entry of a conversation's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Position in the log: 1, 2, 3 … with no gaps.
    pub seq: Seq,
    /// Server time of the write.
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub timestamp: DateTime<Utc>,
    /// What happened.
    pub kind: EventKind,
}

/// What an [`Event`] records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum EventKind {
    /// The conversation was started by its customer (always seq 1).
    Created {
        /// The visitor who started it.
        customer_id: CustomerId,
    },
    /// A message (or private note) was sent.
    MessageCreated {
        /// The message, with its attachments.
        message: Message,
    },
    /// The workflow status changed.
    StatusChanged {
        /// Previous status.
        from: ConversationStatus,
        /// New status.
        to: ConversationStatus,
        /// Who changed it.
        by: Actor,
    },
    /// The conversation was assigned (or unassigned).
    Assigned {
        /// New assignee; `None` unassigns.
        assignee: Option<AdminId>,
        /// Who assigned it.
        by: Actor,
    },
    /// A person joined.
    ParticipantJoined {
        /// Who.
        user: UserRef,
    },
    /// A person left.
    ParticipantLeft {
        /// Who.
        user: UserRef,
    },
    /// The conversation's labels changed.
    LabelsChanged {
        /// Labels put on it.
        added: Vec<LabelId>,
        /// Labels taken off.
        removed: Vec<LabelId>,
        /// Who.
        by: Actor,
    },
    /// An agent snoozed the conversation (status `snoozed`); it wakes on the visitor's next
    /// message or at `until`, as a `StatusChanged` from `snoozed`.
    Snoozed {
        /// When it wakes by itself, if ever.
        #[serde(with = "chrono::serde::ts_microseconds_option")]
        until: Option<DateTime<Utc>>,
        /// Who.
        by: Actor,
    },
    /// The visitor rated the conversation (replacing an earlier rating, if any).
    Rated {
        /// 1 to 5.
        score: Score,
        /// The visitor's words.
        comment: Option<String>,
        /// Who.
        by: Actor,
    },
    /// A file was uploaded to the conversation.
    AttachmentAdded {
        /// The file.
        attachment: Attachment,
    },
    /// Its sender changed a message's text.
    MessageUpdated {
        /// The message as it is now (its `seq` is where it was created).
        message: Message,
        /// Who.
        by: Actor,
    },
    /// A message was deleted, or redacted (erased from the audit trail too): its text is
    /// gone everywhere.
    MessageDeleted {
        /// The message as it is now: no text, `deleted_at` set.
        message: Message,
        /// Who.
        by: Actor,
        /// Why it was redacted; `None` for a plain delete.
        redaction: Option<String>,
    },
}

impl EventKind {
    /// Every event type's name, as the API, the change feed and webhooks show it.
    pub const TYPE_NAMES: [&'static str; 12] = [
        "created",
        "message",
        "statusChanged",
        "assigned",
        "participantJoined",
        "participantLeft",
        "labelsChanged",
        "snoozed",
        "rated",
        "attachmentAdded",
        "messageUpdated",
        "messageDeleted",
    ];

    /// This event's type name (one of [`TYPE_NAMES`](Self::TYPE_NAMES)).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Created { .. } => "created",
            Self::MessageCreated { .. } => "message",
            Self::StatusChanged { .. } => "statusChanged",
            Self::Assigned { .. } => "assigned",
            Self::ParticipantJoined { .. } => "participantJoined",
            Self::ParticipantLeft { .. } => "participantLeft",
            Self::LabelsChanged { .. } => "labelsChanged",
            Self::Snoozed { .. } => "snoozed",
            Self::Rated { .. } => "rated",
            Self::AttachmentAdded { .. } => "attachmentAdded",
            Self::MessageUpdated { .. } => "messageUpdated",
            Self::MessageDeleted { .. } => "messageDeleted",
        }
    }
}

/// Who is looking at the log: staff see everything, the visitor does not see private notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// The conversation's visitor.
    Customer,
    /// Agents and the system.
    Staff,
}

impl Event {
    /// Whether `audience` may receive this event.
    ///
    /// A visitor's view of the log skips exactly the private notes (and their edits and
    /// deletes), files uploaded by staff that are not yet part of a public message, and
    /// label changes (labels are the team's own notes on a conversation), and nothing else.
    pub fn visible_to(&self, audience: Audience) -> bool {
        match (&self.kind, audience) {
            (_, Audience::Staff) => true,
            (
                EventKind::MessageCreated { message }
                | EventKind::MessageUpdated { message, .. }
                | EventKind::MessageDeleted { message, .. },
                Audience::Customer,
            ) => !message.private,
            (EventKind::AttachmentAdded { attachment }, Audience::Customer) => {
                attachment.visible_to_customer()
            }
            (EventKind::LabelsChanged { .. }, Audience::Customer) => false,
            (_, Audience::Customer) => true,
        }
    }

    /// The copy of a message this event carries (its creation, an edit, its deletion):
    /// what a revision of that message overwrites, so that every copy in the log shows the
    /// message as it is now.
    pub fn message_copy(&mut self) -> Option<&mut Message> {
        match &mut self.kind {
            EventKind::MessageCreated { message }
            | EventKind::MessageUpdated { message, .. }
            | EventKind::MessageDeleted { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Puts `revised` in place of this event's copy of that message, if it carries one;
    /// returns whether it did.
    pub fn revise(&mut self, revised: &Message) -> bool {
        match self.message_copy() {
            Some(copy) if copy.id == revised.id => {
                *copy = revised.clone();
                true
            }
            _ => false,
        }
    }

    /// The message, when this event created one.
    pub fn message(&self) -> Option<&Message> {
        match &self.kind {
            EventKind::MessageCreated { message } => Some(message),
            _ => None,
        }
    }
}
