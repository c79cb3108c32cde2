//! The storage contract: one object-safe trait per aggregate, bundled as [`ChatStore`].
//!
//! # Contract
//!
//! - Every method is required; a backend that cannot do something returns
//!   [`Error::NotSupported`](crate::Error::NotSupported) instead of emulating it.
//! - A method that writes returns only after the write is durable (flushed, committed).
//! - [`EventStore::append`] is the one write path to a conversation's log. Inside one atomic
//!   section it: locks the conversation (missing: `NotFound("conversation")`); returns
//!   [`AppendOutcome::Duplicate`] if [`AppendRequest::idempotency_key`] names a stored
//!   message; loads the participants and the attachments of
//!   [`AppendRequest::attachment_ids`] that belong to the conversation; calls
//!   [`plan`](crate::log::plan); persists the whole [`Commit`] or nothing. This keeps `seq`
//!   gap-free and unique under concurrent writers on every backend.
//! - A commit's [`revised`](crate::log::Commit::revised) message replaces the stored message
//!   and every copy of it in earlier events of the log ([`Event::revise`], from its seq on),
//!   with its search words, in the same atomic step.
//! - Errors use chat-core's kinds: unique violations are `AlreadyExists`, missing rows
//!   `NotFound`, anything else `Backend` with its source.

mod memory;
mod paging;

pub use memory::MemoryStore;

use std::fmt::Debug;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::accounts::{Admin, AdminChanges, Customer, Session, TokenHash};
use crate::audit::AuditEntry;
use crate::canned::{CannedReply, CannedReplyChanges};
use crate::changes::Change;
use crate::email::{EmailContact, EmailNotice, QueuedReply, Settlement, UnsubscribeToken};
use crate::error::Result;
use crate::event::{Audience, Event};
use crate::ids::{
    AdminId, AttachmentId, AuditId, CannedReplyId, ConversationId, CustomerId, DeliveryId,
    FeedPosition, LabelId, MessageId, Seq, WebhookId,
};
use crate::labels::{Label, LabelChanges};
use crate::log::{AppendOutcome, AppendRequest, Commit, IdempotencyKey};
use crate::model::{Attachment, Conversation, Message, Participant, UserRef};
use crate::ratings::{RatingCount, RatingQuery};
use crate::read::ReadCursor;
use crate::search::{MessageHit, MessageSearch};
use crate::status::ConversationStatus;
use crate::values::{DisplayName, Email, ExternalId, VisitorIdentifier};
#[cfg(doc)]
use crate::values::{LabelTitle, ShortCode};
use crate::webhooks::{
    DeliveryAttempt, DeliveryProgress, WebhookChanges, WebhookClaim, WebhookEndpoint,
};

/// Conversations and their participants.
#[async_trait]
pub trait ConversationStore: Debug + Send + Sync + 'static {
    /// Persists a commit made by [`plan_create`](crate::log::plan_create): the conversation,
    /// its participants and its first events. `AlreadyExists` if the id is taken,
    /// `NotFound("customer")` if its visitor does not exist (or is being erased).
    async fn create_conversation(&self, commit: &Commit) -> Result<()>;

    /// The conversation, if it exists.
    async fn get_conversation(&self, id: ConversationId) -> Result<Option<Conversation>>;

    /// Its current participants, in join order.
    async fn participants(&self, id: ConversationId) -> Result<Vec<Participant>>;

    /// A page of conversations, newest activity first (`updated_at` desc, then id desc).
    async fn list_conversations(&self, query: &ConversationQuery) -> Result<ConversationPage>;

    /// Snoozed conversations whose wake time is at or before `now`, earliest first, at most
    /// `limit` (found through an index, not by reading every conversation).
    async fn due_snoozes(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<ConversationId>>;

    /// Deletes the conversation and everything in it (participants, events, messages,
    /// attachments, read cursors, idempotency keys, search words, email notice, and the text
    /// audit entries keep of its messages), queues its files' bytes for removal
    /// ([`AttachmentStore::erased_files`]) and writes `removal.audit`, all in one atomic
    /// step. `Ok(false)` (nothing written) when `removal.closed_before` is set and the
    /// conversation is not closed since before it; `NotFound` if it does not exist.
    async fn delete_conversation(&self, removal: &ConversationRemoval) -> Result<bool>;

    /// Conversations closed (and still closed) since before `cutoff`, longest closed
    /// first, at most `limit` (found through an index, not by reading every conversation).
    async fn closed_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ConversationId>>;
}

/// A conversation's deletion, as [`ConversationStore::delete_conversation`] performs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRemoval {
    /// The conversation.
    pub id: ConversationId,
    /// Only if it is closed and was closed before this time (retention); `None`: whatever
    /// its state.
    pub closed_before: Option<DateTime<Utc>>,
    /// The audit entry recording the deletion.
    pub audit: AuditEntry,
}

impl ConversationRemoval {
    /// Whether the condition holds for `conversation` as it is now.
    pub fn applies_to(&self, conversation: &Conversation) -> bool {
        self.closed_before
            .is_none_or(|cutoff| !closed_before([conversation], cutoff, 1).is_empty())
    }
}

/// The per-conversation event log and the messages in it.
#[async_trait]
pub trait EventStore: Debug + Send + Sync + 'static {
    /// Appends to the log atomically; see the module's contract.
    async fn append(&self, request: &AppendRequest) -> Result<AppendOutcome>;

    /// The durably stored message sent under `key`, if any: the answer to a retried send,
    /// looked up before the rules for a new write are applied.
    async fn sent_message(&self, key: &IdempotencyKey) -> Result<Option<Message>>;

    /// The message with this id as it is now (edited, deleted), in any conversation, if
    /// it exists (found through an index).
    async fn find_message(&self, id: MessageId) -> Result<Option<Message>>;

    /// Events with `seq > since`, ascending, at most `limit`.
    async fn events_since(
        &self,
        id: ConversationId,
        since: Seq,
        limit: usize,
    ) -> Result<Vec<Event>>;

    /// Messages with `seq < before` (all, when `None`) that `audience` may see, newest
    /// first, at most `limit`.
    async fn messages_before(
        &self,
        id: ConversationId,
        before: Option<Seq>,
        limit: usize,
        audience: Audience,
    ) -> Result<Vec<Message>>;
}

/// Per-reader read cursors.
#[async_trait]
pub trait ReadStateStore: Debug + Send + Sync + 'static {
    /// Moves `reader`'s cursor to `max(stored, seq)` and returns the stored value after.
    /// The caller clamps `seq` to the log's end. `NotFound` if the conversation is missing.
    async fn advance_read_cursor(
        &self,
        id: ConversationId,
        reader: UserRef,
        seq: Seq,
    ) -> Result<Seq>;

    /// The reader's cursor (`Seq::ZERO` if they never read).
    async fn read_cursor(&self, id: ConversationId, reader: UserRef) -> Result<Seq>;

    /// Every reader's cursor in the conversation (who never read is absent), with how many
    /// messages up to it [count](crate::read::counts_as_unread) for them: the number the
    /// conversation's counters held at that seq, so that [`ReadCursor::unread`] agrees
    /// with [`unread_count`](Self::unread_count).
    async fn read_cursors(&self, id: ConversationId) -> Result<Vec<(UserRef, ReadCursor)>>;

    /// How many messages past the reader's cursor
    /// [count as unread](crate::read::counts_as_unread) for them.
    async fn unread_count(&self, id: ConversationId, reader: UserRef) -> Result<u64>;

    /// The conversation with every reader's cursor (as [`read_cursors`](Self::read_cursors)),
    /// `None` if it is missing: what an inbox update's unread counts are computed from, for
    /// every agent at once. The cursors must be no newer than the conversation's counters
    /// (read them first, or both in one snapshot), so that no count wraps.
    async fn conversation_with_cursors(
        &self,
        id: ConversationId,
    ) -> Result<Option<(Conversation, Vec<(UserRef, ReadCursor)>)>>;
}

/// Uploaded files (created and linked through [`EventStore::append`]).
#[async_trait]
pub trait AttachmentStore: Debug + Send + Sync + 'static {
    /// The attachment, if it exists.
    async fn get_attachment(&self, id: AttachmentId) -> Result<Option<Attachment>>;

    /// Attachments never sent with a message and uploaded before `uploaded_before`, at most
    /// `limit`, in no particular order.
    async fn unlinked_attachments(
        &self,
        uploaded_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Attachment>>;

    /// Deletes an attachment record if it is still not part of a message (atomically with
    /// respect to sends). Returns whether it was deleted. Its `AttachmentAdded` event stays
    /// in the log: the log is never rewritten.
    async fn remove_unlinked_attachment(&self, id: AttachmentId) -> Result<bool>;

    /// Files whose records went with a deleted conversation and whose bytes are still to
    /// be removed, at most `limit`, in no particular order.
    async fn erased_files(&self, limit: usize) -> Result<Vec<AttachmentId>>;

    /// Forgets an erased file once its bytes are gone (forgetting one that is not listed
    /// does nothing).
    async fn forget_erased_file(&self, id: AttachmentId) -> Result<()>;
}

/// Agent accounts. Emails are unique (they are stored lower-cased).
#[async_trait]
pub trait AdminStore: Debug + Send + Sync + 'static {
    /// Stores a new agent; `AlreadyExists` if the id, email or external id is taken.
    async fn create_admin(&self, admin: &Admin) -> Result<()>;

    /// The agent, if it exists.
    async fn get_admin(&self, id: AdminId) -> Result<Option<Admin>>;

    /// The agent with this email, if any.
    async fn find_admin_by_email(&self, email: &Email) -> Result<Option<Admin>>;

    /// The agent the host application knows by `external_id`, if any.
    async fn find_admin_by_external_id(&self, external_id: &ExternalId) -> Result<Option<Admin>>;

    /// All agents, oldest first.
    async fn list_admins(&self) -> Result<Vec<Admin>>;

    /// Changes only the fields `changes` names, atomically (read, change and write in one
    /// step, so concurrent updates of other fields are kept) and returns the agent as
    /// stored; `NotFound` if missing, `AlreadyExists` if the new email is taken. Changes
    /// stale for the agent ([`AdminChanges::is_stale_for`], decided in the same step) are
    /// not applied: the agent is returned as stored.
    async fn update_admin(&self, id: AdminId, changes: &AdminChanges) -> Result<Admin>;
}

/// Visitors.
#[async_trait]
pub trait CustomerStore: Debug + Send + Sync + 'static {
    /// Stores a new visitor; `AlreadyExists` if the id or identifier is taken.
    async fn create_customer(&self, customer: &Customer) -> Result<()>;

    /// The visitor, if it exists.
    async fn get_customer(&self, id: CustomerId) -> Result<Option<Customer>>;

    /// The visitor the embedding site knows by `identifier`, if any.
    async fn find_customer_by_identifier(
        &self,
        identifier: &VisitorIdentifier,
    ) -> Result<Option<Customer>>;

    /// Sets (or, with `None`, clears) when the visitor was blocked, atomically, and returns
    /// the visitor as stored; `NotFound` if missing.
    async fn set_customer_blocked(
        &self,
        id: CustomerId,
        blocked_at: Option<DateTime<Utc>>,
    ) -> Result<Customer>;

    /// The blocked visitors, most recently blocked first (found through an index, not by
    /// reading every visitor).
    async fn blocked_customers(&self) -> Result<Vec<Customer>>;

    /// Sets (or, with `None`, removes) the address offline replies go to, and returns the
    /// visitor as stored; `NotFound` if missing.
    async fn set_customer_contact(
        &self,
        id: CustomerId,
        contact: Option<&EmailContact>,
    ) -> Result<Customer>;

    /// Sets (or, with `None`, removes) the name the host application knows the visitor by,
    /// and returns the visitor as stored; `NotFound` if missing.
    async fn set_customer_name(
        &self,
        id: CustomerId,
        name: Option<&DisplayName>,
    ) -> Result<Customer>;

    /// Marks the visitor's address unsubscribed if `token` is its unsubscribe token, in one
    /// atomic step; `false` (nothing written) when it is not, or there is no address.
    async fn unsubscribe_customer(&self, id: CustomerId, token: &UnsubscribeToken) -> Result<bool>;

    /// Moves `last_seen` forward to `at` (never back); a missing visitor is ignored.
    async fn mark_customer_seen(&self, id: CustomerId, at: DateTime<Utc>) -> Result<()>;

    /// The visitors who left `email` for offline replies (found through an index, not by
    /// reading every visitor), oldest first.
    async fn customers_by_email(&self, email: &Email) -> Result<Vec<Customer>>;

    /// Deletes the visitor's record (with its identifier, address, blocked mark and
    /// sessions) and writes
    /// `audit`, in one atomic step; `NotFound` if missing, and
    /// `Conflict::VisitorHasConversations` (nothing written) while a conversation of its
    /// exists. [`ConversationStore::create_conversation`] refuses a missing visitor with
    /// `NotFound("customer")` atomically with this, so none can start after.
    async fn delete_customer(&self, id: CustomerId, audit: &AuditEntry) -> Result<()>;
}

/// The audit log (see [`crate::audit`]). Entries of a conversation's write come in its
/// [`Commit`] and are stored atomically with it; [`Commit::redacted`] erases what earlier
/// entries keep of a message in the same step.
#[async_trait]
pub trait AuditStore: Debug + Send + Sync + 'static {
    /// Appends an entry that belongs to no conversation write (a sign-in, a permission
    /// change).
    async fn record_audit(&self, entry: &AuditEntry) -> Result<()>;

    /// Entries with ids before `before` (all, when `None`), newest first, at most `limit`.
    async fn audit_log(&self, before: Option<AuditId>, limit: usize) -> Result<Vec<AuditEntry>>;
}

/// Message search (see [`crate::search`]).
#[async_trait]
pub trait SearchStore: Debug + Send + Sync + 'static {
    /// The messages that [`MessageSearch::finds`] in conversations it
    /// [covers](MessageSearch::covers), newest first by (timestamp, id), at most `limit`,
    /// each with its conversation. Found through an index written atomically with the
    /// message, never by reading every message; only what is durable is returned.
    async fn search_messages(&self, query: &MessageSearch) -> Result<Vec<MessageHit>>;
}

/// The offline-email pass's state: its change-feed cursor and one notice per conversation
/// (see [`crate::email`]). Every method is one atomic step, safe with passes on many nodes.
#[async_trait]
pub trait EmailStore: Debug + Send + Sync + 'static {
    /// The last feed position the pass queued; `None` before the first pass.
    async fn email_cursor(&self) -> Result<Option<FeedPosition>>;

    /// If the cursor is still at `from` (`None`: never set): queues every reply onto its conversation's notice
    /// ([`EmailNotice::queue`]; a deleted conversation gets none) and moves the cursor to
    /// `to`, all at once. `false`, with nothing written, when another pass moved it first.
    async fn queue_email_notices(
        &self,
        from: Option<FeedPosition>,
        to: FeedPosition,
        replies: &[QueuedReply],
    ) -> Result<bool>;

    /// Notices due at `now` ([`EmailNotice::is_due`]: claims that still hold are left out),
    /// earliest first, at most `limit` (through an index on the due time, not by reading
    /// every notice).
    async fn due_email_notices(&self, now: DateTime<Utc>, limit: usize)
    -> Result<Vec<EmailNotice>>;

    /// Claims a due notice until `until` ([`EmailNotice::claim`]) in one atomic step;
    /// `false` when another pass holds it, or a reply changed it, since it was read.
    async fn claim_email_notice(
        &self,
        notice: &EmailNotice,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool>;

    /// Applies the verdict of the pass holding claim `claim` ([`EmailNotice::settle`]) in
    /// one atomic step; `false` when that claim is no longer the notice's, or it is gone.
    async fn settle_email_notice(
        &self,
        conversation: ConversationId,
        claim: DateTime<Utc>,
        settlement: &Settlement,
    ) -> Result<bool>;
}

/// Bearer-token sessions, keyed by the token's hash.
#[async_trait]
pub trait SessionStore: Debug + Send + Sync + 'static {
    /// Stores a session; `AlreadyExists` if the hash is taken, `NotFound("customer")` for a
    /// visitor that does not exist (atomically with [`CustomerStore::delete_customer`], so
    /// no session outlives its visitor).
    async fn create_session(&self, session: &Session) -> Result<()>;

    /// The session, if it exists (expired ones included: the engine checks expiry).
    async fn get_session(&self, token_hash: &TokenHash) -> Result<Option<Session>>;

    /// Deletes a session; returns whether it existed.
    async fn delete_session(&self, token_hash: &TokenHash) -> Result<bool>;

    /// Deletes every session of an agent; returns how many there were.
    async fn delete_admin_sessions(&self, admin: AdminId) -> Result<u64>;
}

/// Workspace labels. Titles are unique ignoring case ([`LabelTitle::key`]).
#[async_trait]
pub trait LabelStore: Debug + Send + Sync + 'static {
    /// Stores a new label; `AlreadyExists` if the id or the title is taken.
    async fn create_label(&self, label: &Label) -> Result<()>;

    /// Every label, in title order (ignoring case).
    async fn list_labels(&self) -> Result<Vec<Label>>;

    /// Changes only the fields `changes` names, atomically, and returns the label as
    /// stored; `NotFound` if missing, `AlreadyExists` if the new title is taken.
    async fn update_label(&self, id: LabelId, changes: &LabelChanges) -> Result<Label>;

    /// Deletes a label; `NotFound` if missing. Conversations keep its id in their rows
    /// and logs (a log is never rewritten); it shows nowhere any more.
    async fn delete_label(&self, id: LabelId) -> Result<()>;
}

/// Canned replies. Short codes are unique ignoring case ([`ShortCode::key`]).
#[async_trait]
pub trait CannedReplyStore: Debug + Send + Sync + 'static {
    /// Stores a new reply; `AlreadyExists` if the id or the short code is taken.
    async fn create_canned_reply(&self, reply: &CannedReply) -> Result<()>;

    /// Every reply, in short-code order (ignoring case).
    async fn list_canned_replies(&self) -> Result<Vec<CannedReply>>;

    /// Changes only the fields `changes` names, atomically, and returns the reply as
    /// stored; `NotFound` if missing, `AlreadyExists` if the new short code is taken.
    async fn update_canned_reply(
        &self,
        id: CannedReplyId,
        changes: &CannedReplyChanges,
    ) -> Result<CannedReply>;

    /// Deletes a reply; `NotFound` if missing.
    async fn delete_canned_reply(&self, id: CannedReplyId) -> Result<()>;
}

/// Reports over many conversations.
#[async_trait]
pub trait ReportStore: Debug + Send + Sync + 'static {
    /// The ratings that `query` matches, counted by agent and score (as
    /// [`ratings::count`](crate::ratings::count) counts the rows' ratings).
    async fn rating_counts(&self, query: &RatingQuery) -> Result<Vec<RatingCount>>;
}

/// A lease only one holder in the whole deployment has at a time (every node on one store);
/// dropping it releases it.
pub type Lease = Box<dyn Send>;

/// What auto-assignment reads.
#[async_trait]
pub trait AssignmentStore: Debug + Send + Sync + 'static {
    /// Open (`waiting` or `active`) conversations nobody is assigned, oldest first
    /// (`created_at`, then id), at most `limit`.
    async fn unassigned_conversations(&self, limit: usize) -> Result<Vec<Conversation>>;

    /// How many conversations each agent holds that are not closed (`waiting`, `active`
    /// and `snoozed`: a snoozed one comes back to it), agents holding none absent.
    async fn open_conversation_counts(&self) -> Result<Vec<(AdminId, u64)>>;

    /// The assignment lease, if nobody holds it: one assignment pass at a time across every
    /// node, so capacities hold. `None`: another holder is assigning now.
    async fn try_assignment_lease(&self) -> Result<Option<Lease>>;
}

/// The store-wide change feed: every committed event with its [`FeedPosition`].
///
/// # Contract
///
/// - A position is given to every event atomically with its write (the same transaction or
///   batch): an event is in the feed exactly when it is stored.
/// - Positions grow in commit order and become visible in that order: once a reader sees
///   position `p`, every event with a smaller position that will ever exist is already
///   visible. A consumer that saves the last position it handled and reads after it again
///   misses nothing and gets nothing twice, across crashes of writer and reader alike.
/// - Positions may have holes (a deleted conversation's events leave the feed with it),
///   never late arrivals.
#[async_trait]
pub trait ChangeFeedStore: Debug + Send + Sync + 'static {
    /// The events after `after`, ascending by position, at most `limit`.
    async fn changes_after(&self, after: FeedPosition, limit: usize) -> Result<Vec<Change>>;

    /// The newest visible position (`ZERO` when nothing was written).
    async fn feed_head(&self) -> Result<FeedPosition>;
}

/// Webhook endpoints and their delivery log.
#[async_trait]
pub trait WebhookStore: Debug + Send + Sync + 'static {
    /// Registers an endpoint.
    async fn create_webhook(&self, endpoint: &WebhookEndpoint) -> Result<()>;

    /// Every endpoint, oldest first.
    async fn list_webhooks(&self) -> Result<Vec<WebhookEndpoint>>;

    /// One endpoint.
    async fn get_webhook(&self, id: WebhookId) -> Result<Option<WebhookEndpoint>>;

    /// Applies `changes` atomically (a replay sets the cursor and clears the attempts;
    /// enabling clears the attempts and the backoff); `NotFound("webhook")` if missing.
    async fn update_webhook(
        &self,
        id: WebhookId,
        changes: &WebhookChanges,
    ) -> Result<WebhookEndpoint>;

    /// Deletes an endpoint and its delivery log; `NotFound("webhook")` if missing.
    async fn delete_webhook(&self, id: WebhookId) -> Result<()>;

    /// Claims, until `until`, every enabled endpoint whose cursor is behind `head`, whose
    /// backoff has passed at `now` and that nobody else holds a live claim on.
    async fn claim_webhooks(
        &self,
        head: FeedPosition,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<WebhookClaim>>;

    /// Writes a pass's progress for a claimed endpoint, atomically: the attempt into the
    /// log (which keeps the newest
    /// [`DELIVERY_LOG_KEEP`](crate::webhooks::DELIVERY_LOG_KEEP) attempts), the new delivery state if
    /// the cursor is still `progress.from`, the disabling.
    /// With `release`, the claim ends. Returns `false`, writing nothing, when the claim is
    /// no longer held (expired and taken, or the endpoint deleted).
    async fn record_delivery(
        &self,
        claim: &WebhookClaim,
        progress: &DeliveryProgress,
        release: bool,
    ) -> Result<bool>;

    /// The endpoint's delivery log, newest first, before `before` (a delivery id), at most
    /// `limit`.
    async fn webhook_deliveries(
        &self,
        id: WebhookId,
        before: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>>;
}

/// Every storage trait: what the engine needs from a backend.
pub trait ChatStore:
    ConversationStore
    + EventStore
    + ReadStateStore
    + AttachmentStore
    + AdminStore
    + CustomerStore
    + SessionStore
    + LabelStore
    + CannedReplyStore
    + ReportStore
    + AssignmentStore
    + ChangeFeedStore
    + WebhookStore
    + EmailStore
    + SearchStore
    + AuditStore
{
}

impl<T> ChatStore for T where
    T: ConversationStore
        + EventStore
        + ReadStateStore
        + AttachmentStore
        + AdminStore
        + CustomerStore
        + SessionStore
        + LabelStore
        + CannedReplyStore
        + ReportStore
        + AssignmentStore
        + ChangeFeedStore
        + WebhookStore
        + EmailStore
        + SearchStore
        + AuditStore
{
}

/// A backend chosen at run time: `Arc<DynChatStore>`.
pub type DynChatStore = dyn ChatStore;

/// Which conversations a list covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListScope {
    /// Every conversation.
    All,
    /// Conversations assigned to this agent.
    AssignedTo(AdminId),
    /// This visitor's conversations.
    Customer(CustomerId),
}

/// Position in the list order, for keyset pagination: the last item of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    /// The last item's `updated_at`.
    pub updated_at: DateTime<Utc>,
    /// The last item's id.
    pub id: ConversationId,
}

impl ListCursor {
    /// The cursor that continues after `conversation`.
    pub fn after(conversation: &Conversation) -> Self {
        Self {
            updated_at: conversation.updated_at,
            id: conversation.id,
        }
    }

    /// Whether `conversation` comes after this cursor in list order.
    pub fn precedes(&self, conversation: &Conversation) -> bool {
        (conversation.updated_at, conversation.id) < (self.updated_at, self.id)
    }
}

/// A list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationQuery {
    /// Which conversations.
    pub scope: ListScope,
    /// Only this status, if set.
    pub status: Option<ConversationStatus>,
    /// Only conversations with this label, if set.
    pub label: Option<LabelId>,
    /// Whose read cursors the unread figures use (`None`: no read state, unread is zero).
    pub reader: Option<UserRef>,
    /// Continue after this cursor.
    pub after: Option<ListCursor>,
    /// Page size (the engine bounds it).
    pub limit: usize,
}

/// One conversation in a list, with the reader's read state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationSummary {
    /// The conversation.
    pub conversation: Conversation,
    /// The reader's cursor.
    pub last_read_seq: Seq,
    /// Messages unread by the reader.
    pub unread: u64,
}

/// A page of conversations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationPage {
    /// The page, newest activity first.
    pub items: Vec<ConversationSummary>,
    /// How many conversations match the scope and status filter (all pages).
    pub total_count: u64,
    /// How many of those have unread messages for the reader (the seed's `unreadCount`).
    pub unread_count: u64,
    /// Where the next page starts, if there is one.
    pub next: Option<ListCursor>,
}

impl ConversationQuery {
    /// Whether `conversation` matches the scope, status and label filters (ignoring the cursor).
    pub fn matches(&self, conversation: &Conversation) -> bool {
        in_filter(self.scope, self.status, self.label, conversation)
    }
}

/// Whether `conversation` is in `scope` and has `status` and `label` (each when set): the
/// filter of the conversation list and of search.
pub fn in_filter(
    scope: ListScope,
    status: Option<ConversationStatus>,
    label: Option<LabelId>,
    conversation: &Conversation,
) -> bool {
    let in_scope = match scope {
        ListScope::All => true,
        ListScope::AssignedTo(admin) => conversation.assignee == Some(admin),
        ListScope::Customer(customer) => conversation.customer_id == customer,
    };
    in_scope
        && status.is_none_or(|status| conversation.status == status)
        && label.is_none_or(|label| conversation.labels.contains(&label))
}

/// The snoozed conversations among `rows` due at `now`, earliest first, at most `limit`:
/// [`ConversationStore::due_snoozes`] for stores that keep their rows in memory.
pub fn due_snoozes<'a>(
    rows: impl IntoIterator<Item = &'a Conversation>,
    now: DateTime<Utc>,
    limit: usize,
) -> Vec<ConversationId> {
    let mut due: Vec<(DateTime<Utc>, ConversationId)> = rows
        .into_iter()
        .filter(|c| c.status == ConversationStatus::Snoozed)
        .filter_map(|c| c.snoozed_until.filter(|at| *at <= now).map(|at| (at, c.id)))
        .collect();
    due.sort();
    due.into_iter().take(limit).map(|(_, id)| id).collect()
}

/// [`ConversationStore::closed_before`] over rows kept in memory.
pub fn closed_before<'a>(
    rows: impl IntoIterator<Item = &'a Conversation>,
    cutoff: DateTime<Utc>,
    limit: usize,
) -> Vec<ConversationId> {
    let mut closed: Vec<(DateTime<Utc>, ConversationId)> = rows
        .into_iter()
        .filter(|c| c.status == ConversationStatus::Closed)
        .filter_map(|c| c.closed_at.filter(|at| *at < cutoff).map(|at| (at, c.id)))
        .collect();
    closed.sort();
    closed.into_iter().take(limit).map(|(_, id)| id).collect()
}

/// [`AssignmentStore::unassigned_conversations`] over rows kept in memory.
pub fn unassigned_conversations<'a>(
    rows: impl IntoIterator<Item = &'a Conversation>,
    limit: usize,
) -> Vec<Conversation> {
    let mut open: Vec<&Conversation> = rows
        .into_iter()
        .filter(|c| c.assignee.is_none() && is_open(c))
        .collect();
    open.sort_by_key(|c| (c.created_at, c.id));
    open.into_iter().take(limit).cloned().collect()
}

/// [`AssignmentStore::open_conversation_counts`] over rows kept in memory.
pub fn open_conversation_counts<'a>(
    rows: impl IntoIterator<Item = &'a Conversation>,
) -> Vec<(AdminId, u64)> {
    let mut counts: std::collections::BTreeMap<AdminId, u64> = Default::default();
    let held = rows
        .into_iter()
        .filter(|c| c.status != ConversationStatus::Closed);
    for conversation in held {
        if let Some(agent) = conversation.assignee {
            *counts.entry(agent).or_default() += 1;
        }
    }
    counts.into_iter().collect()
}

fn is_open(conversation: &Conversation) -> bool {
    matches!(
        conversation.status,
        ConversationStatus::Waiting | ConversationStatus::Active
    )
}
