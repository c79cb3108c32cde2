//! The one public error type of chat-core, by kind, so every adapter maps it exhaustively.

use std::error::Error as StdError;

pub use crate::invalid::InvalidInput;
use crate::status::ConversationStatus;

/// Result alias used across chat-core and the store crates.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the engine or a store.
///
/// Adapters (HTTP, sockets) map each kind to a status code in one exhaustive match; the
/// `Backend` source is logged, never shown to clients.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing does not exist, or the principal may not know that it exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value (an email, a token) is already taken.
    #[error("{0} already exists")]
    AlreadyExists(&'static str),
    /// The request is well formed but conflicts with the current state.
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// The principal is known but may not do this.
    #[error("permission denied: {0}")]
    PermissionDenied(&'static str),
    /// No valid session: the token is missing, unknown, expired or revoked.
    #[error("authentication required")]
    Unauthenticated,
    /// The session's visitor is blocked: every request of theirs is refused (kind
    /// `PermissionDenied`).
    #[error("this visitor is blocked")]
    VisitorBlocked,
    /// The input failed validation.
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),
    /// The backend does not offer this ability.
    #[error("not supported: {0}")]
    NotSupported(&'static str),
    /// The storage or broadcast backend failed; the source says why.
    #[error("backend failure")]
    Backend {
        /// The backend's own error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The backend cannot be reached for now (a database restarting, no free connection in
    /// time). The same request may succeed later; retried writes carry their idempotency
    /// keys, so a write whose commit raced the failure is not stored twice.
    #[error("the store is unavailable for now")]
    Unavailable {
        /// The backend's own error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The storage is full: nothing of this write was stored.
    #[error("the storage is full")]
    StorageFull {
        /// The backend's own error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The store stopped (a write failed and it refuses more until it is reopened, or it
    /// was closed): nothing is written until an operator reopens it.
    #[error("the store stopped: {0}")]
    Stopped(&'static str),
}

impl Error {
    /// Wraps a backend's own error.
    pub fn backend(source: impl StdError + Send + Sync + 'static) -> Self {
        Self::Backend {
            source: Box::new(source),
        }
    }

    /// Wraps a backend's error that means it cannot be reached for now.
    pub fn unavailable(source: impl StdError + Send + Sync + 'static) -> Self {
        Self::Unavailable {
            source: Box::new(source),
        }
    }

    /// Wraps a backend's error that means the storage is full.
    pub fn storage_full(source: impl StdError + Send + Sync + 'static) -> Self {
        Self::StorageFull {
            source: Box::new(source),
        }
    }

    /// The error's kind, for adapters that map kinds to their own status codes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::AlreadyExists(_) => ErrorKind::AlreadyExists,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::PermissionDenied(_) => ErrorKind::PermissionDenied,
            Self::Unauthenticated => ErrorKind::Unauthenticated,
            Self::VisitorBlocked => ErrorKind::PermissionDenied,
            Self::InvalidInput(_) => ErrorKind::InvalidInput,
            Self::NotSupported(_) => ErrorKind::NotSupported,
            Self::Backend { .. } => ErrorKind::Backend,
            Self::Unavailable { .. } => ErrorKind::Unavailable,
            Self::StorageFull { .. } => ErrorKind::StorageFull,
            Self::Stopped(_) => ErrorKind::Stopped,
        }
    }

    /// A stable machine-readable code for the JSON error shape.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::AlreadyExists(_) => "already_exists",
            Self::Conflict(conflict) => conflict.code(),
            Self::PermissionDenied(_) => "forbidden",
            Self::Unauthenticated => "unauthenticated",
            Self::VisitorBlocked => "visitor_blocked",
            Self::InvalidInput(_) => "invalid_input",
            Self::NotSupported(_) => "not_supported",
            Self::Backend { .. } => "internal",
            Self::Unavailable { .. } => "unavailable",
            Self::StorageFull { .. } => "storage_full",
            Self::Stopped(_) => "store_stopped",
        }
    }
}

/// The kinds of [`Error`]. Deliberately exhaustive (unlike `Error`): adding a kind is a
/// breaking change, so every adapter's mapping of kinds to status codes must be revisited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// See [`Error::NotFound`].
    NotFound,
    /// See [`Error::AlreadyExists`].
    AlreadyExists,
    /// See [`Error::Conflict`].
    Conflict,
    /// See [`Error::PermissionDenied`].
    PermissionDenied,
    /// See [`Error::Unauthenticated`].
    Unauthenticated,
    /// See [`Error::InvalidInput`].
    InvalidInput,
    /// See [`Error::NotSupported`].
    NotSupported,
    /// See [`Error::Backend`].
    Backend,
    /// See [`Error::Unavailable`].
    Unavailable,
    /// See [`Error::StorageFull`].
    StorageFull,
    /// See [`Error::Stopped`].
    Stopped,
}

/// A request that conflicts with the conversation's current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Conflict {
    /// The conversation is closed and this write may not reopen it.
    #[error("the conversation is closed: start a new conversation (agents: reopen it)")]
    ConversationClosed,
    /// The status workflow does not allow this transition.
    #[error("cannot change status from {from} to {to}")]
    IllegalTransition {
        /// Current status.
        from: ConversationStatus,
        /// Requested status.
        to: ConversationStatus,
    },
    /// An attachment is already part of a message, or belongs to another sender.
    #[error("attachment is not available for this message")]
    AttachmentUnavailable,
    /// The assignment already holds the requested value.
    #[error("the conversation is already assigned that way")]
    AlreadyAssigned,
    /// Only a closed conversation can be rated.
    #[error("only a closed conversation can be rated")]
    NotClosed,
    /// The first rating is older than the change window: it can no longer be replaced.
    #[error("the rating can no longer be changed (7 days after the first)")]
    RatingFinal,
    /// The conversation is not snoozed, or its wake time has not come.
    #[error("the conversation is not due to wake")]
    NotDue,
    /// The conversation already has exactly these labels.
    #[error("the conversation already has these labels")]
    LabelsUnchanged,
    /// A webhook's previous secret still signs: rotating again now would drop it while
    /// receivers may still check with it.
    #[error("the previous secret still signs until {until}; rotate again after that")]
    RotationInProgress {
        /// When the previous secret stops signing.
        until: chrono::DateTime<chrono::Utc>,
    },
    /// The message was deleted: it can no longer be edited or deleted again.
    #[error("the message was deleted")]
    MessageDeleted,
    /// The sender's window for editing or deleting its message has passed.
    #[error(
        "the message is too old to change (senders may change a message for {minutes} minutes)"
    )]
    EditWindowPassed {
        /// The window's length.
        minutes: i64,
    },
    /// A visitor's record cannot go while it still has conversations (one was started
    /// during its erasure: erasing again removes it).
    #[error("the visitor started a conversation meanwhile: erase it again")]
    VisitorHasConversations,
}

impl Conflict {
    /// A stable machine-readable code for the JSON error shape.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ConversationClosed => "conversation_closed",
            Self::IllegalTransition { .. } => "illegal_transition",
            Self::AttachmentUnavailable => "attachment_unavailable",
            Self::AlreadyAssigned => "already_assigned",
            Self::LabelsUnchanged => "labels_unchanged",
            Self::RotationInProgress { .. } => "rotation_in_progress",
            Self::NotClosed => "not_closed",
            Self::NotDue => "not_due",
            Self::RatingFinal => "rating_final",
            Self::MessageDeleted => "message_deleted",
            Self::EditWindowPassed { .. } => "edit_window_passed",
            Self::VisitorHasConversations => "visitor_has_conversations",
        }
    }
}
