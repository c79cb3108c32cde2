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
}

impl EventKind {
    /// Every event type's name, as the API, the change feed and webhooks show it.
    pub const TYPE_NAMES: [&'static str; 10] = [
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
    /// A visitor's view of the log skips exactly the private notes, files uploaded by
    /// staff that are not yet part of a public message, and label changes (labels are the
    /// team's own notes on a conversation), and nothing else.
    pub fn visible_to(&self, audience: Audience) -> bool {
        match (&self.kind, audience) {
            (_, Audience::Staff) => true,
            (EventKind::MessageCreated { message }, Audience::Customer) => !message.private,
            (EventKind::AttachmentAdded { attachment }, Audience::Customer) => {
                attachment.visible_to_customer()
            }
            (EventKind::LabelsChanged { .. }, Audience::Customer) => false,
            (_, Audience::Customer) => true,
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
