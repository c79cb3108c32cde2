//! The authorization policy: one pure function over (principal, action, facts), used by
//! every entry point through the engine.
//!
//! Rate limits named in the design's table (sessions per IP, conversations per session) are
//! enforced by the HTTP layer, which sees addresses; everything else is decided here.

use crate::accounts::{ConversationScope, Permissions};
use crate::error::{Conflict, Error};
use crate::ids::{AdminId, CustomerId};
use crate::model::{Actor, Conversation, UserRef};
use crate::status::ConversationStatus;

/// Who is asking, as established by the server-side session (never by a request field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// No session.
    Anonymous,
    /// A visitor's widget session.
    Visitor(CustomerId),
    /// A logged-in agent, with the permissions read at authentication.
    Admin {
        /// The agent.
        id: AdminId,
        /// What they may do.
        permissions: Permissions,
    },
    /// The embedding application itself (CLI, automation); never derived from a request.
    System,
}

impl Principal {
    /// The actor this principal writes as, if it may write at all.
    pub fn actor(&self) -> Option<Actor> {
        match *self {
            Self::Anonymous => None,
            Self::Visitor(id) => Some(Actor::Customer(id)),
            Self::Admin { id, .. } => Some(Actor::Admin(id)),
            Self::System => Some(Actor::System),
        }
    }

    /// The person behind the principal, for read cursors.
    pub fn user(&self) -> Option<UserRef> {
        self.actor().and_then(|actor| actor.user())
    }
}

/// What the principal wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Get a visitor session.
    CreateVisitorSession,
    /// Start a conversation.
    CreateConversation,
    /// List conversations (the engine scopes the list to what the principal may read).
    ListConversations,
    /// The agents' inbox: the seed's conversation list and its live stream (agents only,
    /// scoped like [`ListConversations`](Self::ListConversations)).
    ListInbox,
    /// Read a conversation, its messages, events and attachments.
    ReadConversation,
    /// Join a conversation's live room.
    JoinRoom,
    /// Send a public message.
    SendMessage,
    /// Upload a file.
    UploadFile,
    /// Move the read cursor.
    MarkRead,
    /// Send a typing indicator.
    SendTyping,
    /// See private notes.
    SeePrivateNotes,
    /// Write a private note.
    WritePrivateNote,
    /// Close or reopen.
    ChangeStatus,
    /// Assign or unassign.
    Assign,
    /// Delete a conversation and everything in it.
    DeleteConversation,
    /// Create, change or disable agents.
    ManageAdmins,
    /// See the workspace's labels (agents only).
    ListLabels,
    /// Create, rename or delete workspace labels.
    ManageLabels,
    /// Replace a conversation's labels.
    LabelConversation,
    /// List, search and insert canned replies (agents only).
    UseCannedReplies,
    /// Create, change or delete canned replies.
    ManageCannedReplies,
    /// See visitors' records (who is blocked).
    ViewVisitors,
    /// Block or unblock a visitor.
    BlockVisitors,
    /// Rate a conversation (its visitor only).
    RateConversation,
    /// See reports (ratings per agent).
    ViewReports,
    /// Read the store-wide change feed (every event of every conversation).
    ReadChangeFeed,
    /// Register, change and inspect webhook endpoints.
    ManageWebhooks,
    /// Leave (or remove) an address for offline replies (the visitor, for itself).
    LeaveEmail,
    /// Search messages and conversations (agents only; the results are scoped like the
    /// conversation list).
    Search,
    /// Edit or delete one's own message (the log rules check sender and window).
    ChangeOwnMessage,
    /// Delete or redact anyone's message at any time.
    DeleteAnyMessage,
    /// Read the audit log.
    ViewAudit,
    /// Export or erase one visitor's data (its record, conversations and files).
    ManageVisitorData,
}

impl Action {
    /// Whether the action stores something a visitor sends: refused to a blocked visitor
    /// (checked against the visitor's record as it is now, whatever the session said).
    pub fn stores_visitor_content(self) -> bool {
        matches!(
            self,
            Self::CreateConversation
                | Self::SendMessage
                | Self::UploadFile
                | Self::RateConversation
                | Self::LeaveEmail
                | Self::ChangeOwnMessage
        )
    }

    /// Whether the action is about one conversation (and so needs its facts).
    pub fn targets_conversation(self) -> bool {
        !matches!(
            self,
            Self::CreateVisitorSession
                | Self::CreateConversation
                | Self::ListConversations
                | Self::ListInbox
                | Self::ManageAdmins
                | Self::ListLabels
                | Self::ManageLabels
                | Self::UseCannedReplies
                | Self::ManageCannedReplies
                | Self::ViewVisitors
                | Self::BlockVisitors
                | Self::ViewReports
                | Self::ReadChangeFeed
                | Self::ManageWebhooks
                | Self::LeaveEmail
                | Self::Search
                | Self::ViewAudit
                | Self::ManageVisitorData
        )
    }
}

/// The conversation facts the policy looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationFacts {
    /// Its visitor.
    pub customer_id: CustomerId,
    /// Its assignee.
    pub assignee: Option<AdminId>,
    /// Its status.
    pub status: ConversationStatus,
}

impl From<&Conversation> for ConversationFacts {
    fn from(conversation: &Conversation) -> Self {
        Self {
            customer_id: conversation.customer_id,
            assignee: conversation.assignee,
            status: conversation.status,
        }
    }
}

/// Embedder choices the policy depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// Whether a visitor's message reopens their closed conversation (default: no).
    pub customer_may_reopen: bool,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// No session.
    Unauthenticated,
    /// The conversation does not exist *or* the principal may not read it: one answer for
    /// both, so nobody learns which.
    NotFound,
    /// The principal may read the conversation but not do this.
    Forbidden(&'static str),
    /// The conversation is closed and this write may not reopen it.
    Closed,
}

impl From<Denial> for Error {
    fn from(denial: Denial) -> Self {
        match denial {
            Denial::Unauthenticated => Error::Unauthenticated,
            Denial::NotFound => Error::NotFound("conversation"),
            Denial::Forbidden(reason) => Error::PermissionDenied(reason),
            Denial::Closed => Conflict::ConversationClosed.into(),
        }
    }
}

/// Decides whether `principal` may do `action`.
///
/// `conversation` is the target's facts for conversation actions (`None`: it does not
/// exist); it is ignored for the others.
pub fn authorize(
    principal: &Principal,
    action: Action,
    conversation: Option<&ConversationFacts>,
    policy: &Policy,
) -> Result<(), Denial> {
    match *principal {
        Principal::Anonymous => match action {
            Action::CreateVisitorSession => Ok(()),
            _ => Err(Denial::Unauthenticated),
        },
        Principal::Visitor(me) => authorize_visitor(me, action, conversation, policy),
        Principal::Admin { id, permissions } => {
            authorize_admin(id, &permissions, action, conversation)
        }
        Principal::System => match conversation {
            None if action.targets_conversation() => Err(Denial::NotFound),
            _ => Ok(()),
        },
    }
}

fn authorize_visitor(
    me: CustomerId,
    action: Action,
    conversation: Option<&ConversationFacts>,
    policy: &Policy,
) -> Result<(), Denial> {
    if !action.targets_conversation() {
        return match action {
            Action::ManageAdmins => Err(Denial::Forbidden("visitors cannot manage agents")),
            Action::ListInbox => Err(Denial::Forbidden("only agents have an inbox")),
            Action::ListLabels
            | Action::ManageLabels
            | Action::UseCannedReplies
            | Action::ManageCannedReplies
            | Action::ViewVisitors
            | Action::BlockVisitors
            | Action::ViewReports
            | Action::ReadChangeFeed
            | Action::ManageWebhooks
            | Action::Search
            | Action::ViewAudit
            | Action::ManageVisitorData => Err(Denial::Forbidden("only agents may do this")),
            _ => Ok(()),
        };
    }
    let facts = conversation
        .filter(|c| c.customer_id == me)
        .ok_or(Denial::NotFound)?;
    match action {
        Action::ReadConversation
        | Action::JoinRoom
        | Action::MarkRead
        | Action::SendTyping
        | Action::RateConversation
        | Action::ChangeOwnMessage => Ok(()),
        Action::SendMessage | Action::UploadFile => match facts.status {
            ConversationStatus::Waiting
            | ConversationStatus::Active
            | ConversationStatus::Snoozed => Ok(()),
            ConversationStatus::Closed if policy.customer_may_reopen => Ok(()),
            ConversationStatus::Closed => Err(Denial::Closed),
        },
        _ => Err(Denial::Forbidden("only agents may do this")),
    }
}

fn authorize_admin(
    me: AdminId,
    permissions: &Permissions,
    action: Action,
    conversation: Option<&ConversationFacts>,
) -> Result<(), Denial> {
    if !action.targets_conversation() {
        return match action {
            Action::CreateConversation => Err(Denial::Forbidden("visitors start conversations")),
            Action::LeaveEmail => Err(Denial::Forbidden("visitors leave their own address")),
            Action::ManageAdmins | Action::ReadChangeFeed | Action::ManageWebhooks
                if !permissions.manage_admins =>
            {
                Err(Denial::Forbidden("requires the manage_admins permission"))
            }
            Action::ViewAudit if !permissions.view_audit => {
                Err(Denial::Forbidden("requires the view_audit permission"))
            }
            Action::ManageVisitorData if !permissions.manage_visitor_data => Err(
                Denial::Forbidden("requires the manage_visitor_data permission"),
            ),
            Action::ManageLabels
            | Action::ManageCannedReplies
            | Action::BlockVisitors
            | Action::ViewReports
                if !permissions.manage_conversations =>
            {
                Err(Denial::Forbidden(
                    "requires the manage_conversations permission",
                ))
            }
            // Visitors and reports span every conversation: not for agents who see only
            // the ones assigned to them.
            Action::ViewVisitors
            | Action::BlockVisitors
            | Action::ViewReports
            | Action::ReadChangeFeed
            | Action::ManageWebhooks
            | Action::ViewAudit
            | Action::ManageVisitorData
                if permissions.scope == ConversationScope::Assigned =>
            {
                Err(Denial::Forbidden("requires access to all conversations"))
            }
            _ => Ok(()),
        };
    }
    let facts = conversation
        .filter(|c| permissions.scope == ConversationScope::All || c.assignee == Some(me))
        .ok_or(Denial::NotFound)?;
    match action {
        Action::SendMessage | Action::UploadFile if facts.status == ConversationStatus::Closed => {
            Err(Denial::Closed)
        }
        Action::RateConversation => Err(Denial::Forbidden("only the visitor rates")),
        Action::ChangeStatus
        | Action::Assign
        | Action::WritePrivateNote
        | Action::DeleteConversation
            if !permissions.manage_conversations =>
        {
            Err(Denial::Forbidden(
                "requires the manage_conversations permission",
            ))
        }
        Action::DeleteAnyMessage if !permissions.delete_messages => {
            Err(Denial::Forbidden("requires the delete_messages permission"))
        }
        _ => Ok(()),
    }
}
