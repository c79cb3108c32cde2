//! Identifier newtypes over UUID, and the per-conversation sequence number.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
pub use uuid::Uuid;

use crate::error::InvalidInput;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered (UUIDv7) identifier.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID, e.g. one read back from storage.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidInput;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| InvalidInput::new($field, "must be a UUID"))
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

uuid_id!(
    /// Identifies a conversation.
    ConversationId,
    "conversationId"
);
uuid_id!(
    /// Identifies a message.
    MessageId,
    "messageId"
);
uuid_id!(
    /// Identifies a visitor (the seed's customer).
    CustomerId,
    "customerId"
);
uuid_id!(
    /// Identifies an agent (the seed's admin).
    AdminId,
    "adminId"
);
uuid_id!(
    /// Identifies an uploaded file.
    AttachmentId,
    "attachmentId"
);
uuid_id!(
    /// Identifies a workspace label.
    LabelId,
    "labelId"
);

uuid_id!(
    /// Identifies a canned reply.
    CannedReplyId,
    "cannedReplyId"
);

uuid_id!(
    /// Identifies a webhook endpoint.
    WebhookId,
    "webhookId"
);

uuid_id!(
    /// Identifies one delivery attempt of a webhook.
    DeliveryId,
    "deliveryId"
);

uuid_id!(
    /// Identifies an audit log entry (time-ordered).
    AuditId,
    "auditId"
);

uuid_id!(
    /// Identifies a participant row (one user in one conversation).
    ParticipantId,
    "participantId"
);

/// Position of an event in its conversation's log: 1, 2, 3 … with no gaps.
///
/// `Seq::ZERO` means "nothing yet": a client that has seen nothing syncs `since` zero.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl Seq {
    /// Before the first event.
    pub const ZERO: Seq = Seq(0);

    /// The sequence number after this one.
    pub const fn next(self) -> Seq {
        Seq(self.0 + 1)
    }

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Position in the store-wide change feed: every committed event gets the next one,
/// atomically with its write, and positions become visible in order (see
/// [`ChangeFeedStore`](crate::store::ChangeFeedStore)).
///
/// `FeedPosition::ZERO` is before the first change: a new consumer reads after zero.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct FeedPosition(pub u64);

impl FeedPosition {
    /// Before the first change.
    pub const ZERO: FeedPosition = FeedPosition(0);

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for FeedPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
