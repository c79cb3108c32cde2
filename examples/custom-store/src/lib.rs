//! `CountingStore<S>`: every storage trait of chat-core implemented by delegating to another
//! store and counting the writes — the shape of any decorator (metrics, caching, tracing)
//! and a starting point for a backend of your own. `tests/conformance.rs` runs the shared
//! suite against it.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chat_core::Result;
use chat_core::accounts::{Admin, AdminChanges, Customer, Session, TokenHash};
use chat_core::audit::AuditEntry;
use chat_core::canned::{CannedReply, CannedReplyChanges};
use chat_core::changes::Change;
use chat_core::email::{EmailContact, EmailNotice, QueuedReply, Settlement, UnsubscribeToken};
use chat_core::event::{Audience, Event};
use chat_core::ids::{
    AdminId, AttachmentId, AuditId, CannedReplyId, ConversationId, CustomerId, DeliveryId,
    FeedPosition, LabelId, MessageId, Seq, WebhookId,
};
use chat_core::labels::{Label, LabelChanges};
use chat_core::log::{AppendOutcome, AppendRequest, Commit, IdempotencyKey};
use chat_core::model::{Attachment, Conversation, Message, Participant, UserRef};
use chat_core::ratings::{RatingCount, RatingQuery};
use chat_core::read::ReadCursor;
use chat_core::search::{MessageHit, MessageSearch};
use chat_core::store::{
    AdminStore, AssignmentStore, AttachmentStore, AuditStore, CannedReplyStore, ChangeFeedStore,
    ConversationPage, ConversationQuery, ConversationRemoval, ConversationStore, CustomerStore,
    EmailStore, EventStore, LabelStore, Lease, ReadStateStore, ReportStore, SearchStore,
    SessionStore, WebhookStore,
};
use chat_core::values::{DisplayName, Email, ExternalId, VisitorIdentifier};
use chat_core::webhooks::{
    DeliveryAttempt, DeliveryProgress, WebhookChanges, WebhookClaim, WebhookEndpoint,
};
use chrono::{DateTime, Utc};

/// A store that forwards to `S` and counts the writes that reached it.
#[derive(Debug, Default)]
pub struct CountingStore<S> {
    inner: S,
    writes: AtomicU64,
}

impl<S> CountingStore<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            writes: AtomicU64::new(0),
        }
    }

    /// How many write calls were made so far.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }
}

#[async_trait]
impl<S: ConversationStore> ConversationStore for CountingStore<S> {
    async fn create_conversation(&self, commit: &Commit) -> Result<()> {
        self.count();
        self.inner.create_conversation(commit).await
    }
    async fn get_conversation(&self, id: ConversationId) -> Result<Option<Conversation>> {
        self.inner.get_conversation(id).await
    }
    async fn participants(&self, id: ConversationId) -> Result<Vec<Participant>> {
        self.inner.participants(id).await
    }
    async fn list_conversations(&self, query: &ConversationQuery) -> Result<ConversationPage> {
        self.inner.list_conversations(query).await
    }
    async fn due_snoozes(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<ConversationId>> {
        self.inner.due_snoozes(now, limit).await
    }
    async fn delete_conversation(&self, removal: &ConversationRemoval) -> Result<bool> {
        self.count();
        self.inner.delete_conversation(removal).await
    }
    async fn closed_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ConversationId>> {
        self.inner.closed_before(cutoff, limit).await
    }
}

#[async_trait]
impl<S: EventStore> EventStore for CountingStore<S> {
    async fn append(&self, request: &AppendRequest) -> Result<AppendOutcome> {
        self.count();
        self.inner.append(request).await
    }
    async fn sent_message(&self, key: &IdempotencyKey) -> Result<Option<Message>> {
        self.inner.sent_message(key).await
    }
    async fn find_message(&self, id: MessageId) -> Result<Option<Message>> {
        self.inner.find_message(id).await
    }
    async fn events_since(
        &self,
        id: ConversationId,
        since: Seq,
        limit: usize,
    ) -> Result<Vec<Event>> {
        self.inner.events_since(id, since, limit).await
    }
    async fn messages_before(
        &self,
        id: ConversationId,
        before: Option<Seq>,
        limit: usize,
        audience: Audience,
    ) -> Result<Vec<Message>> {
        self.inner
            .messages_before(id, before, limit, audience)
            .await
    }
}

#[async_trait]
impl<S: ReadStateStore> ReadStateStore for CountingStore<S> {
    async fn advance_read_cursor(
        &self,
        id: ConversationId,
        reader: UserRef,
        seq: Seq,
    ) -> Result<Seq> {
        self.count();
        self.inner.advance_read_cursor(id, reader, seq).await
    }
    async fn read_cursor(&self, id: ConversationId, reader: UserRef) -> Result<Seq> {
        self.inner.read_cursor(id, reader).await
    }
    async fn read_cursors(&self, id: ConversationId) -> Result<Vec<(UserRef, ReadCursor)>> {
        self.inner.read_cursors(id).await
    }
    async fn unread_count(&self, id: ConversationId, reader: UserRef) -> Result<u64> {
        self.inner.unread_count(id, reader).await
    }
    async fn conversation_with_cursors(
        &self,
        id: ConversationId,
    ) -> Result<Option<(Conversation, Vec<(UserRef, ReadCursor)>)>> {
        self.inner.conversation_with_cursors(id).await
    }
}

#[async_trait]
impl<S: AttachmentStore> AttachmentStore for CountingStore<S> {
    async fn get_attachment(&self, id: AttachmentId) -> Result<Option<Attachment>> {
        self.inner.get_attachment(id).await
    }
    async fn unlinked_attachments(
        &self,
        uploaded_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Attachment>> {
        self.inner
            .unlinked_attachments(uploaded_before, limit)
            .await
    }
    async fn remove_unlinked_attachment(&self, id: AttachmentId) -> Result<bool> {
        self.count();
        self.inner.remove_unlinked_attachment(id).await
    }
    async fn erased_files(&self, limit: usize) -> Result<Vec<AttachmentId>> {
        self.inner.erased_files(limit).await
    }
    async fn forget_erased_file(&self, id: AttachmentId) -> Result<()> {
        self.count();
        self.inner.forget_erased_file(id).await
    }
}

#[async_trait]
impl<S: AdminStore> AdminStore for CountingStore<S> {
    async fn create_admin(&self, admin: &Admin) -> Result<()> {
        self.count();
        self.inner.create_admin(admin).await
    }
    async fn get_admin(&self, id: AdminId) -> Result<Option<Admin>> {
        self.inner.get_admin(id).await
    }
    async fn find_admin_by_email(&self, email: &Email) -> Result<Option<Admin>> {
        self.inner.find_admin_by_email(email).await
    }
    async fn find_admin_by_external_id(&self, external_id: &ExternalId) -> Result<Option<Admin>> {
        self.inner.find_admin_by_external_id(external_id).await
    }
    async fn list_admins(&self) -> Result<Vec<Admin>> {
        self.inner.list_admins().await
    }
    async fn update_admin(&self, id: AdminId, changes: &AdminChanges) -> Result<Admin> {
        self.count();
        self.inner.update_admin(id, changes).await
    }
}

#[async_trait]
impl<S: CustomerStore> CustomerStore for CountingStore<S> {
    async fn create_customer(&self, customer: &Customer) -> Result<()> {
        self.count();
        self.inner.create_customer(customer).await
    }
    async fn get_customer(&self, id: CustomerId) -> Result<Option<Customer>> {
        self.inner.get_customer(id).await
    }
    async fn find_customer_by_identifier(
        &self,
        identifier: &VisitorIdentifier,
    ) -> Result<Option<Customer>> {
        self.inner.find_customer_by_identifier(identifier).await
    }
    async fn set_customer_blocked(
        &self,
        id: CustomerId,
        blocked_at: Option<DateTime<Utc>>,
    ) -> Result<Customer> {
        self.count();
        self.inner.set_customer_blocked(id, blocked_at).await
    }
    async fn blocked_customers(&self) -> Result<Vec<Customer>> {
        self.inner.blocked_customers().await
    }
    async fn set_customer_contact(
        &self,
        id: CustomerId,
        contact: Option<&EmailContact>,
    ) -> Result<Customer> {
        self.count();
        self.inner.set_customer_contact(id, contact).await
    }
    async fn set_customer_name(
        &self,
        id: CustomerId,
        name: Option<&DisplayName>,
    ) -> Result<Customer> {
        self.count();
        self.inner.set_customer_name(id, name).await
    }
    async fn unsubscribe_customer(&self, id: CustomerId, token: &UnsubscribeToken) -> Result<bool> {
        self.count();
        self.inner.unsubscribe_customer(id, token).await
    }
    async fn mark_customer_seen(&self, id: CustomerId, at: DateTime<Utc>) -> Result<()> {
        self.count();
        self.inner.mark_customer_seen(id, at).await
    }
    async fn customers_by_email(&self, email: &Email) -> Result<Vec<Customer>> {
        self.inner.customers_by_email(email).await
    }
    async fn delete_customer(&self, id: CustomerId, audit: &AuditEntry) -> Result<()> {
        self.count();
        self.inner.delete_customer(id, audit).await
    }
}

#[async_trait]
impl<S: AuditStore> AuditStore for CountingStore<S> {
    async fn record_audit(&self, entry: &AuditEntry) -> Result<()> {
        self.count();
        self.inner.record_audit(entry).await
    }
    async fn audit_log(&self, before: Option<AuditId>, limit: usize) -> Result<Vec<AuditEntry>> {
        self.inner.audit_log(before, limit).await
    }
}

#[async_trait]
impl<S: SearchStore> SearchStore for CountingStore<S> {
    async fn search_messages(&self, query: &MessageSearch) -> Result<Vec<MessageHit>> {
        self.inner.search_messages(query).await
    }
}

#[async_trait]
impl<S: EmailStore> EmailStore for CountingStore<S> {
    async fn email_cursor(&self) -> Result<Option<FeedPosition>> {
        self.inner.email_cursor().await
    }
    async fn queue_email_notices(
        &self,
        from: Option<FeedPosition>,
        to: FeedPosition,
        replies: &[QueuedReply],
    ) -> Result<bool> {
        self.count();
        self.inner.queue_email_notices(from, to, replies).await
    }
    async fn due_email_notices(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<EmailNotice>> {
        self.inner.due_email_notices(now, limit).await
    }
    async fn claim_email_notice(
        &self,
        notice: &EmailNotice,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        self.count();
        self.inner.claim_email_notice(notice, now, until).await
    }
    async fn settle_email_notice(
        &self,
        conversation: ConversationId,
        claim: DateTime<Utc>,
        settlement: &Settlement,
    ) -> Result<bool> {
        self.count();
        self.inner
            .settle_email_notice(conversation, claim, settlement)
            .await
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for CountingStore<S> {
    async fn create_session(&self, session: &Session) -> Result<()> {
        self.count();
        self.inner.create_session(session).await
    }
    async fn get_session(&self, token_hash: &TokenHash) -> Result<Option<Session>> {
        self.inner.get_session(token_hash).await
    }
    async fn delete_session(&self, token_hash: &TokenHash) -> Result<bool> {
        self.count();
        self.inner.delete_session(token_hash).await
    }
    async fn delete_admin_sessions(&self, admin: AdminId) -> Result<u64> {
        self.count();
        self.inner.delete_admin_sessions(admin).await
    }
}

#[async_trait]
impl<S: LabelStore> LabelStore for CountingStore<S> {
    async fn create_label(&self, label: &Label) -> Result<()> {
        self.count();
        self.inner.create_label(label).await
    }
    async fn list_labels(&self) -> Result<Vec<Label>> {
        self.inner.list_labels().await
    }
    async fn update_label(&self, id: LabelId, changes: &LabelChanges) -> Result<Label> {
        self.count();
        self.inner.update_label(id, changes).await
    }
    async fn delete_label(&self, id: LabelId) -> Result<()> {
        self.count();
        self.inner.delete_label(id).await
    }
}

#[async_trait]
impl<S: CannedReplyStore> CannedReplyStore for CountingStore<S> {
    async fn create_canned_reply(&self, reply: &CannedReply) -> Result<()> {
        self.count();
        self.inner.create_canned_reply(reply).await
    }
    async fn list_canned_replies(&self) -> Result<Vec<CannedReply>> {
        self.inner.list_canned_replies().await
    }
    async fn update_canned_reply(
        &self,
        id: CannedReplyId,
        changes: &CannedReplyChanges,
    ) -> Result<CannedReply> {
        self.count();
        self.inner.update_canned_reply(id, changes).await
    }
    async fn delete_canned_reply(&self, id: CannedReplyId) -> Result<()> {
        self.count();
        self.inner.delete_canned_reply(id).await
    }
}

#[async_trait]
impl<S: ReportStore> ReportStore for CountingStore<S> {
    async fn rating_counts(&self, query: &RatingQuery) -> Result<Vec<RatingCount>> {
        self.inner.rating_counts(query).await
    }
}

#[async_trait]
impl<S: AssignmentStore> AssignmentStore for CountingStore<S> {
    async fn unassigned_conversations(&self, limit: usize) -> Result<Vec<Conversation>> {
        self.inner.unassigned_conversations(limit).await
    }
    async fn open_conversation_counts(&self) -> Result<Vec<(AdminId, u64)>> {
        self.inner.open_conversation_counts().await
    }
    async fn try_assignment_lease(&self) -> Result<Option<Lease>> {
        self.inner.try_assignment_lease().await
    }
}

#[async_trait]
impl<S: ChangeFeedStore> ChangeFeedStore for CountingStore<S> {
    async fn changes_after(&self, after: FeedPosition, limit: usize) -> Result<Vec<Change>> {
        self.inner.changes_after(after, limit).await
    }
    async fn feed_head(&self) -> Result<FeedPosition> {
        self.inner.feed_head().await
    }
}

#[async_trait]
impl<S: WebhookStore> WebhookStore for CountingStore<S> {
    async fn create_webhook(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        self.count();
        self.inner.create_webhook(endpoint).await
    }
    async fn list_webhooks(&self) -> Result<Vec<WebhookEndpoint>> {
        self.inner.list_webhooks().await
    }
    async fn get_webhook(&self, id: WebhookId) -> Result<Option<WebhookEndpoint>> {
        self.inner.get_webhook(id).await
    }
    async fn update_webhook(
        &self,
        id: WebhookId,
        changes: &WebhookChanges,
    ) -> Result<WebhookEndpoint> {
        self.count();
        self.inner.update_webhook(id, changes).await
    }
    async fn delete_webhook(&self, id: WebhookId) -> Result<()> {
        self.count();
        self.inner.delete_webhook(id).await
    }
    async fn claim_webhooks(
        &self,
        head: FeedPosition,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<WebhookClaim>> {
        self.count();
        self.inner.claim_webhooks(head, now, until).await
    }
    async fn record_delivery(
        &self,
        claim: &WebhookClaim,
        progress: &DeliveryProgress,
        release: bool,
    ) -> Result<bool> {
        self.count();
        self.inner.record_delivery(claim, progress, release).await
    }
    async fn webhook_deliveries(
        &self,
        id: WebhookId,
        before: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>> {
        self.inner.webhook_deliveries(id, before, limit).await
    }
}
