//! Agents, visitors and their sessions.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::email::EmailContact;
use crate::ids::{AdminId, CustomerId};
use crate::values::{DisplayName, Email, ExternalId, Metadata, UserAgent, VisitorIdentifier};

/// Which conversations an agent may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConversationScope {
    /// Every conversation (the default).
    #[default]
    All,
    /// Only conversations assigned to this agent.
    Assigned,
}

/// What an agent may do; the seed's `permissions` JSON.
///
/// A permission added after an agent was stored reads as its `manage_admins`: the owner
/// has every permission, new ones included, and nobody else gains one silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "StoredPermissions")]
pub struct Permissions {
    /// Which conversations the agent sees.
    pub scope: ConversationScope,
    /// Close, reopen, assign, write private notes, delete (default on).
    pub manage_conversations: bool,
    /// Create and disable agents (default off).
    pub manage_admins: bool,
    /// Delete and redact anyone's messages, at any time (default off).
    pub delete_messages: bool,
    /// Read the audit log, with the original text of edited and deleted messages (default
    /// off).
    pub view_audit: bool,
    /// Export and erase a visitor's data (default off).
    pub manage_visitor_data: bool,
}

/// [`Permissions`] as stored, where a newer permission may be absent.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredPermissions {
    scope: ConversationScope,
    manage_conversations: bool,
    manage_admins: bool,
    delete_messages: Option<bool>,
    view_audit: Option<bool>,
    manage_visitor_data: Option<bool>,
}

impl From<StoredPermissions> for Permissions {
    fn from(stored: StoredPermissions) -> Self {
        Self {
            scope: stored.scope,
            manage_conversations: stored.manage_conversations,
            manage_admins: stored.manage_admins,
            delete_messages: stored.delete_messages.unwrap_or(stored.manage_admins),
            view_audit: stored.view_audit.unwrap_or(stored.manage_admins),
            manage_visitor_data: stored.manage_visitor_data.unwrap_or(stored.manage_admins),
        }
    }
}

impl Default for Permissions {
    fn default() -> Self {
        Self {
            scope: ConversationScope::All,
            manage_conversations: true,
            manage_admins: false,
            delete_messages: false,
            view_audit: false,
            manage_visitor_data: false,
        }
    }
}

impl Permissions {
    /// Whether these allow everything `other` allows (all conversations cover the assigned
    /// ones).
    pub fn includes(&self, other: &Permissions) -> bool {
        let scope =
            self.scope == ConversationScope::All || other.scope == ConversationScope::Assigned;
        let flag = |mine: bool, theirs: bool| mine || !theirs;
        scope
            && flag(self.manage_conversations, other.manage_conversations)
            && flag(self.manage_admins, other.manage_admins)
            && flag(self.delete_messages, other.delete_messages)
            && flag(self.view_audit, other.view_audit)
            && flag(self.manage_visitor_data, other.manage_visitor_data)
    }

    /// Everything: what the first agent of an installation gets.
    pub const OWNER: Permissions = Permissions {
        scope: ConversationScope::All,
        manage_conversations: true,
        manage_admins: true,
        delete_messages: true,
        view_audit: true,
        manage_visitor_data: true,
    };
}

/// An agent account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admin {
    /// Identity.
    pub id: AdminId,
    /// Login name, unique, lower-cased.
    pub email: Email,
    /// Shown to colleagues.
    pub name: DisplayName,
    /// A PHC-format password hash (argon2id, computed by the HTTP layer).
    pub password_hash: String,
    /// What the agent may do.
    pub permissions: Permissions,
    /// Creation time.
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub created_at: DateTime<Utc>,
    /// A disabled agent cannot log in and has no sessions.
    pub disabled: bool,
    /// The most open conversations auto-assignment gives it; `None`: no limit.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// Its id in the host application, for an agent the host signs in (unique).
    #[serde(default)]
    pub external_id: Option<ExternalId>,
    /// When the host's sign-in it follows was issued: an older one changes nothing.
    #[serde(default, with = "chrono::serde::ts_microseconds_option")]
    pub host_synced_at: Option<DateTime<Utc>>,
}

/// What an agent update changes: only the fields it names (`Some`), all at once, so two
/// updates of different fields never undo each other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminChanges {
    /// New login email (unique).
    pub email: Option<Email>,
    /// New display name.
    pub name: Option<DisplayName>,
    /// New PHC-format password hash.
    pub password_hash: Option<String>,
    /// New permissions.
    pub permissions: Option<Permissions>,
    /// Disabled or re-enabled.
    pub disabled: Option<bool>,
    /// New auto-assignment capacity; `Some(None)`: no limit.
    pub capacity: Option<Option<u32>>,
    /// The host's sign-in these changes come from was issued then: they are applied only
    /// if the agent follows no later one (and it then follows this one), so an older
    /// token never undoes a newer one's answer.
    pub host_synced_at: Option<DateTime<Utc>>,
}

impl AdminChanges {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Applies the named fields to `admin`.
    pub fn apply(&self, admin: &mut Admin) {
        if let Some(email) = &self.email {
            admin.email = email.clone();
        }
        if let Some(name) = &self.name {
            admin.name = name.clone();
        }
        if let Some(hash) = &self.password_hash {
            admin.password_hash = hash.clone();
        }
        if let Some(permissions) = self.permissions {
            admin.permissions = permissions;
        }
        if let Some(disabled) = self.disabled {
            admin.disabled = disabled;
        }
        if let Some(capacity) = self.capacity {
            admin.capacity = capacity;
        }
        if let Some(at) = self.host_synced_at {
            admin.host_synced_at = Some(at);
        }
    }

    /// Whether `admin` follows a later sign-in of the host than these changes come from:
    /// then they are not applied. (Times are compared as stored: the engine keeps them to
    /// the microsecond, as every store does.)
    pub fn is_stale_for(&self, admin: &Admin) -> bool {
        matches!((self.host_synced_at, admin.host_synced_at), (Some(at), Some(synced)) if at < synced)
    }

    /// Whether the change ends the agent's sessions (a new password, or disabling).
    pub fn ends_sessions(&self) -> bool {
        self.password_hash.is_some() || self.disabled == Some(true)
    }
}

/// A website visitor (the seed's customer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Identity.
    pub id: CustomerId,
    /// The embedding site's id for the visitor, when it passed one.
    pub identifier: Option<VisitorIdentifier>,
    /// Whether `identifier` came with a valid HMAC or from the host's sign-in.
    pub verified: bool,
    /// The name the host application knows the visitor by, when it signs it in.
    #[serde(default)]
    pub name: Option<DisplayName>,
    /// The browser's user agent.
    pub user_agent: Option<UserAgent>,
    /// Coarse location, as the embedder supplies it.
    pub location_data: Metadata,
    /// First visit.
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub first_seen: DateTime<Utc>,
    /// When an agent blocked the visitor; a blocked visitor's sessions are refused.
    #[serde(default, with = "chrono::serde::ts_microseconds_option")]
    pub blocked_at: Option<DateTime<Utc>>,
    /// Where offline replies are emailed, when the visitor left an address.
    #[serde(default)]
    pub contact: Option<EmailContact>,
    /// The last time a socket of the visitor's was known open (kept fresh while one is).
    #[serde(default, with = "chrono::serde::ts_microseconds_option")]
    pub last_seen: Option<DateTime<Utc>>,
}

/// SHA-256 of a bearer token: the only form in which tokens are stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Enough to tell hashes apart in logs, not enough to be useful to an attacker.
        write!(f, "TokenHash({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

/// Whose session it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "lowercase")]
pub enum SessionSubject {
    /// An agent's login.
    Admin(AdminId),
    /// A visitor's widget session.
    Visitor(CustomerId),
}

/// A bearer-token session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Hash of the token.
    pub token_hash: TokenHash,
    /// Owner.
    pub subject: SessionSubject,
    /// Creation time.
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub created_at: DateTime<Utc>,
    /// After this instant the token is refused.
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub expires_at: DateTime<Utc>,
}
