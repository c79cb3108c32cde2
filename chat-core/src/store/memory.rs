//! `MemoryStore`: every storage trait over concurrent maps. The reference backend, the
//! oracle for model-based tests of the durable stores, and a fast store for tests.
//!
//! Atomicity: a conversation's whole state lives in one map entry, and
//! [`EventStore::append`] holds that entry's lock for the entire plan-and-persist step.

mod audit;
mod email;
mod erasure;
mod integrations;
mod search;
mod workspace;

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use crate::accounts::{Admin, AdminChanges, Customer, Session, SessionSubject, TokenHash};
use crate::audit::AuditEntry;
use crate::email::{EmailContact, UnsubscribeToken};
use crate::error::{Error, Result};
use crate::event::{Audience, Event};
use crate::ids::{AdminId, AttachmentId, ConversationId, CustomerId, MessageId, Seq};
use crate::log::{
    self, AppendOutcome, AppendRequest, Commit, ConversationState, IdempotencyKey, LogSource,
};
use crate::model::{Actor, Attachment, Conversation, Message, Participant, UserRef};
use crate::read::{self, ReadCursor};
use crate::store::{
    AdminStore, AttachmentStore, ConversationPage, ConversationQuery, ConversationRemoval,
    ConversationStore, CustomerStore, EventStore, ReadStateStore, SessionStore,
};
use crate::values::{ClientMessageId, DisplayName, Email, ExternalId, VisitorIdentifier};

/// An in-memory backend: nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    conversations: DashMap<ConversationId, Record>,
    attachment_owners: DashMap<AttachmentId, ConversationId>,
    admins: DashMap<AdminId, Admin>,
    admin_emails: DashMap<Email, AdminId>,
    admin_external_ids: DashMap<ExternalId, AdminId>,
    customers: DashMap<CustomerId, Customer>,
    customer_identifiers: DashMap<VisitorIdentifier, CustomerId>,
    sessions: DashMap<TokenHash, Session>,
    labels: workspace::Catalog<crate::labels::Label>,
    assignment: std::sync::Arc<tokio::sync::Mutex<()>>,
    canned_replies: workspace::Catalog<crate::canned::CannedReply>,
    feed: integrations::Feed,
    webhooks: std::sync::Mutex<Vec<integrations::Webhook>>,
    emails: std::sync::Mutex<email::EmailState>,
    audit: std::sync::Mutex<Vec<crate::audit::AuditEntry>>,
    erased_files: std::sync::Mutex<std::collections::BTreeSet<AttachmentId>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every conversation row, in no order.
    fn conversation_rows(&self) -> Vec<Conversation> {
        self.conversations
            .iter()
            .map(|r| r.state.conversation.clone())
            .collect()
    }
}

/// Everything of one conversation, behind one lock.
#[derive(Debug)]
struct Record {
    state: ConversationState,
    events: Vec<Event>,
    messages: Vec<Message>,
    idempotency: HashMap<(Actor, ClientMessageId), MessageId>,
    attachments: HashMap<AttachmentId, Attachment>,
    cursors: HashMap<UserRef, Seq>,
}

impl Record {
    fn new(commit: &Commit) -> Self {
        Self {
            state: ConversationState {
                conversation: commit.conversation.clone(),
                participants: Vec::new(),
            },
            events: Vec::new(),
            messages: Vec::new(),
            idempotency: HashMap::new(),
            attachments: HashMap::new(),
            cursors: HashMap::new(),
        }
    }

    fn persist(&mut self, commit: &Commit) {
        self.state.apply(commit);
        self.events.extend(commit.events.iter().cloned());
        for attachment in &commit.attachments {
            self.attachments.insert(attachment.id, attachment.clone());
        }
        if let Some(message) = &commit.message {
            if let Some(client_id) = &message.client_message_id {
                self.idempotency
                    .insert((message.sender, client_id.clone()), message.id);
            }
            self.messages.push(message.clone());
        }
        if let Some(revised) = &commit.revised {
            self.revise(revised);
        }
    }

    /// Stores `revised` in place of the message and of every copy of it in the log.
    fn revise(&mut self, revised: &Message) {
        if let Some(message) = self.messages.iter_mut().find(|m| m.id == revised.id) {
            *message = revised.clone();
        }
        for event in self.events.iter_mut().filter(|e| e.seq >= revised.seq) {
            event.revise(revised);
        }
    }

    /// The message created at `seq`.
    fn message_at(&self, seq: Seq) -> Option<Message> {
        self.messages.iter().find(|m| m.seq == seq).cloned()
    }

    fn sent(&self, key: &IdempotencyKey) -> Option<Message> {
        let id = self
            .idempotency
            .get(&(key.sender, key.client_message_id.clone()))?;
        self.messages.iter().find(|m| m.id == *id).cloned()
    }

    fn cursor(&self, reader: UserRef) -> Seq {
        self.cursors.get(&reader).copied().unwrap_or_default()
    }

    fn unread(&self, reader: UserRef) -> u64 {
        let cursor = self.cursor(reader);
        let unread = self.messages.iter().rev().take_while(|m| m.seq > cursor);
        unread.filter(|m| read::counts_as_unread(reader, m)).count() as u64
    }

    fn read_cursors(&self) -> Vec<(UserRef, ReadCursor)> {
        let cursor = |reader: UserRef, seq: Seq| ReadCursor {
            seq,
            counted: self.counted(reader, seq),
        };
        let cursors = self.cursors.iter();
        cursors.map(|(r, seq)| (*r, cursor(*r, *seq))).collect()
    }

    /// The messages up to `seq` that count for `reader`.
    fn counted(&self, reader: UserRef, seq: Seq) -> u64 {
        let up_to = self.messages.iter().take_while(|m| m.seq <= seq);
        up_to.filter(|m| read::counts_as_unread(reader, m)).count() as u64
    }
}

/// One conversation's reads for [`log::append`], under its entry lock.
impl LogSource for Record {
    fn current(&mut self, id: ConversationId) -> Result<Option<ConversationState>> {
        Ok((id == self.state.conversation.id).then(|| self.state.clone()))
    }

    fn sent(&mut self, key: &IdempotencyKey) -> Result<Option<Message>> {
        Ok(Record::sent(self, key))
    }

    fn attachment(&mut self, id: AttachmentId) -> Result<Option<Attachment>> {
        Ok(self.attachments.get(&id).cloned())
    }

    fn message(&mut self, id: ConversationId, seq: Seq) -> Result<Option<Message>> {
        Ok((id == self.state.conversation.id)
            .then(|| self.message_at(seq))
            .flatten())
    }
}

fn missing() -> Error {
    Error::NotFound("conversation")
}

#[async_trait]
impl ConversationStore for MemoryStore {
    async fn create_conversation(&self, commit: &Commit) -> Result<()> {
        // Held until the conversation is in: `delete_customer` takes this entry's write
        // lock to check that none is, so no conversation starts after its visitor is gone.
        let _customer = self
            .customers
            .get(&commit.conversation.customer_id)
            .ok_or(Error::NotFound("customer"))?;
        match self.conversations.entry(commit.conversation.id) {
            Entry::Occupied(_) => Err(Error::AlreadyExists("conversation")),
            Entry::Vacant(slot) => {
                let mut record = Record::new(commit);
                record.persist(commit);
                // The entry stays locked until the feed has the events.
                let _record = slot.insert(record);
                self.feed.push(&commit.events);
                Ok(())
            }
        }
    }

    async fn get_conversation(&self, id: ConversationId) -> Result<Option<Conversation>> {
        Ok(self
            .conversations
            .get(&id)
            .map(|r| r.state.conversation.clone()))
    }

    async fn participants(&self, id: ConversationId) -> Result<Vec<Participant>> {
        let record = self.conversations.get(&id).ok_or_else(missing)?;
        Ok(record.state.participants.clone())
    }

    async fn list_conversations(&self, query: &ConversationQuery) -> Result<ConversationPage> {
        let mut conversations = self.conversation_rows();
        conversations.sort_by_key(|c| std::cmp::Reverse((c.updated_at, c.id)));
        let record = |id| self.conversations.get(&id);
        query.page(
            &conversations,
            // A conversation deleted meanwhile is listed as read.
            |c, reader| Ok(record(c.id).map_or(Seq::ZERO, |r| r.cursor(reader))),
            |c, reader, _| Ok(record(c.id).map_or(0, |r| r.unread(reader))),
        )
    }

    async fn due_snoozes(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<ConversationId>> {
        Ok(super::due_snoozes(&self.conversation_rows(), now, limit))
    }

    async fn delete_conversation(&self, removal: &ConversationRemoval) -> Result<bool> {
        let applies = |_: &ConversationId, r: &Record| removal.applies_to(&r.state.conversation);
        let Some((id, record)) = self.conversations.remove_if(&removal.id, applies) else {
            return match self.conversations.contains_key(&removal.id) {
                true => Ok(false),
                false => Err(missing()),
            };
        };
        self.forget_content(record.messages.iter().map(|m| m.id));
        for attachment in record.attachments.keys() {
            self.attachment_owners.remove(attachment);
        }
        self.erase_files(record.attachments.keys().copied());
        self.forget_email_notice(id);
        self.audit_entries().push(removal.audit.clone());
        Ok(true)
    }

    async fn closed_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ConversationId>> {
        Ok(super::closed_before(
            &self.conversation_rows(),
            cutoff,
            limit,
        ))
    }
}

#[async_trait]
impl EventStore for MemoryStore {
    async fn append(&self, request: &AppendRequest) -> Result<AppendOutcome> {
        let mut record = self
            .conversations
            .get_mut(&request.conversation_id)
            .ok_or_else(missing)?;
        let outcome = log::append(&mut *record, request)?;
        if let AppendOutcome::Committed(commit) = &outcome {
            record.persist(commit);
            self.keep_audit(commit);
            self.erase_files(commit.erased_files.iter().copied());
            self.feed.push(&commit.events);
            for attachment in &commit.attachments {
                self.attachment_owners
                    .insert(attachment.id, attachment.conversation_id);
            }
        }
        Ok(outcome)
    }

    async fn sent_message(&self, key: &IdempotencyKey) -> Result<Option<Message>> {
        Ok(self
            .conversations
            .get(&key.conversation_id)
            .and_then(|record| record.sent(key)))
    }

    async fn find_message(&self, id: MessageId) -> Result<Option<Message>> {
        Ok(self
            .conversations
            .iter()
            .find_map(|record| record.messages.iter().find(|m| m.id == id).cloned()))
    }

    async fn events_since(
        &self,
        id: ConversationId,
        since: Seq,
        limit: usize,
    ) -> Result<Vec<Event>> {
        let record = self.conversations.get(&id).ok_or_else(missing)?;
        // Seqs are 1-based and gap-free, so seq n sits at index n - 1.
        let start = usize::try_from(since.get())
            .unwrap_or(usize::MAX)
            .min(record.events.len());
        Ok(record.events[start..].iter().take(limit).cloned().collect())
    }

    async fn messages_before(
        &self,
        id: ConversationId,
        before: Option<Seq>,
        limit: usize,
        audience: Audience,
    ) -> Result<Vec<Message>> {
        let record = self.conversations.get(&id).ok_or_else(missing)?;
        let page = record
            .messages
            .iter()
            .rev()
            .filter(|m| before.is_none_or(|before| m.seq < before))
            .filter(|m| audience == Audience::Staff || !m.private)
            .take(limit);
        Ok(page.cloned().collect())
    }
}

#[async_trait]
impl ReadStateStore for MemoryStore {
    async fn advance_read_cursor(
        &self,
        id: ConversationId,
        reader: UserRef,
        seq: Seq,
    ) -> Result<Seq> {
        let mut record = self.conversations.get_mut(&id).ok_or_else(missing)?;
        let cursor = record.cursors.entry(reader).or_default();
        *cursor = (*cursor).max(seq);
        Ok(*cursor)
    }

    async fn read_cursor(&self, id: ConversationId, reader: UserRef) -> Result<Seq> {
        let record = self.conversations.get(&id).ok_or_else(missing)?;
        Ok(record.cursor(reader))
    }

    async fn read_cursors(&self, id: ConversationId) -> Result<Vec<(UserRef, ReadCursor)>> {
        let record = self.conversations.get(&id).ok_or_else(missing)?;
        Ok(record.read_cursors())
    }

    async fn conversation_with_cursors(
        &self,
        id: ConversationId,
    ) -> Result<Option<(Conversation, Vec<(UserRef, ReadCursor)>)>> {
        let record = self.conversations.get(&id);
        Ok(record.map(|r| (r.state.conversation.clone(), r.read_cursors())))
    }

    async fn unread_count(&self, id: ConversationId, reader: UserRef) -> Result<u64> {
        let record = self.conversations.get(&id).ok_or_else(missing)?;
        Ok(record.unread(reader))
    }
}

#[async_trait]
impl AttachmentStore for MemoryStore {
    async fn get_attachment(&self, id: AttachmentId) -> Result<Option<Attachment>> {
        let Some(owner) = self.attachment_owners.get(&id).map(|o| *o) else {
            return Ok(None);
        };
        Ok(self
            .conversations
            .get(&owner)
            .and_then(|r| r.attachments.get(&id).cloned()))
    }

    async fn unlinked_attachments(
        &self,
        uploaded_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Attachment>> {
        let mut stale = Vec::new();
        for record in self.conversations.iter() {
            let unlinked = record
                .attachments
                .values()
                .filter(|a| a.message_id.is_none() && a.uploaded_at < uploaded_before);
            stale.extend(unlinked.cloned());
        }
        stale.truncate(limit);
        Ok(stale)
    }

    async fn remove_unlinked_attachment(&self, id: AttachmentId) -> Result<bool> {
        let Some(owner) = self.attachment_owners.get(&id).map(|o| *o) else {
            return Ok(false);
        };
        let Some(mut record) = self.conversations.get_mut(&owner) else {
            return Ok(false);
        };
        if record
            .attachments
            .get(&id)
            .is_none_or(|a| a.message_id.is_some())
        {
            return Ok(false);
        }
        record.attachments.remove(&id);
        drop(record);
        self.attachment_owners.remove(&id);
        Ok(true)
    }
    async fn erased_files(&self, limit: usize) -> Result<Vec<AttachmentId>> {
        Ok(self.erased().iter().take(limit).copied().collect())
    }

    async fn forget_erased_file(&self, id: AttachmentId) -> Result<()> {
        self.erased().remove(&id);
        Ok(())
    }
}

#[async_trait]
impl AdminStore for MemoryStore {
    async fn create_admin(&self, admin: &Admin) -> Result<()> {
        if self.admins.contains_key(&admin.id) {
            return Err(Error::AlreadyExists("admin"));
        }
        // Lock order is always email index, then external ids, then admins.
        let Entry::Vacant(email) = self.admin_emails.entry(admin.email.clone()) else {
            return Err(Error::AlreadyExists("admin email"));
        };
        let external = match &admin.external_id {
            Some(id) => match self.admin_external_ids.entry(id.clone()) {
                Entry::Occupied(_) => return Err(Error::AlreadyExists("admin external id")),
                Entry::Vacant(slot) => Some(slot),
            },
            None => None,
        };
        email.insert(admin.id);
        external.map(|slot| slot.insert(admin.id));
        self.admins.insert(admin.id, admin.clone());
        Ok(())
    }

    async fn get_admin(&self, id: AdminId) -> Result<Option<Admin>> {
        Ok(self.admins.get(&id).map(|a| a.clone()))
    }

    async fn find_admin_by_email(&self, email: &Email) -> Result<Option<Admin>> {
        let Some(id) = self.admin_emails.get(email).map(|id| *id) else {
            return Ok(None);
        };
        self.get_admin(id).await
    }

    async fn find_admin_by_external_id(&self, external_id: &ExternalId) -> Result<Option<Admin>> {
        let Some(id) = self.admin_external_ids.get(external_id).map(|id| *id) else {
            return Ok(None);
        };
        self.get_admin(id).await
    }

    async fn list_admins(&self) -> Result<Vec<Admin>> {
        let mut admins: Vec<Admin> = self.admins.iter().map(|a| a.clone()).collect();
        admins.sort_by_key(|a| (a.created_at, a.id));
        Ok(admins)
    }

    async fn update_admin(&self, id: AdminId, changes: &AdminChanges) -> Result<Admin> {
        // Lock order is always email index, then admins: never hold an admin while taking an
        // email. A new email is claimed first, then the row is changed under its lock.
        let old_email = self
            .admins
            .get(&id)
            .ok_or(Error::NotFound("admin"))?
            .email
            .clone();
        let new_email = changes.email.clone().filter(|email| *email != old_email);
        if let Some(email) = &new_email {
            match self.admin_emails.entry(email.clone()) {
                Entry::Occupied(_) => return Err(Error::AlreadyExists("admin email")),
                Entry::Vacant(slot) => {
                    slot.insert(id);
                }
            }
        }
        let release = |email: Option<Email>| email.map(|email| self.admin_emails.remove(&email));
        let Some(mut admin) = self.admins.get_mut(&id) else {
            release(new_email);
            return Err(Error::NotFound("admin"));
        };
        if changes.is_stale_for(&admin) {
            let stored = admin.clone();
            drop(admin);
            release(new_email);
            return Ok(stored);
        }
        changes.apply(&mut admin);
        let updated = admin.clone();
        drop(admin);
        if new_email.is_some() {
            self.admin_emails.remove(&old_email);
        }
        Ok(updated)
    }
}

#[async_trait]
impl CustomerStore for MemoryStore {
    async fn create_customer(&self, customer: &Customer) -> Result<()> {
        if self.customers.contains_key(&customer.id) {
            return Err(Error::AlreadyExists("customer"));
        }
        if let Some(identifier) = &customer.identifier {
            match self.customer_identifiers.entry(identifier.clone()) {
                Entry::Occupied(_) => return Err(Error::AlreadyExists("customer identifier")),
                Entry::Vacant(slot) => {
                    slot.insert(customer.id);
                }
            }
        }
        self.customers.insert(customer.id, customer.clone());
        Ok(())
    }

    async fn get_customer(&self, id: CustomerId) -> Result<Option<Customer>> {
        Ok(self.customers.get(&id).map(|c| c.clone()))
    }

    async fn find_customer_by_identifier(
        &self,
        identifier: &VisitorIdentifier,
    ) -> Result<Option<Customer>> {
        let Some(id) = self.customer_identifiers.get(identifier).map(|id| *id) else {
            return Ok(None);
        };
        self.get_customer(id).await
    }

    async fn set_customer_blocked(
        &self,
        id: CustomerId,
        blocked_at: Option<DateTime<Utc>>,
    ) -> Result<Customer> {
        let mut customer = self
            .customers
            .get_mut(&id)
            .ok_or(Error::NotFound("customer"))?;
        customer.blocked_at = blocked_at;
        Ok(customer.clone())
    }

    async fn blocked_customers(&self) -> Result<Vec<Customer>> {
        let mut blocked: Vec<Customer> = self
            .customers
            .iter()
            .filter(|c| c.blocked_at.is_some())
            .map(|c| c.clone())
            .collect();
        blocked.sort_by_key(|c| std::cmp::Reverse((c.blocked_at, c.id)));
        Ok(blocked)
    }

    async fn set_customer_contact(
        &self,
        id: CustomerId,
        contact: Option<&EmailContact>,
    ) -> Result<Customer> {
        let mut customer = self
            .customers
            .get_mut(&id)
            .ok_or(Error::NotFound("customer"))?;
        customer.contact = contact.cloned();
        Ok(customer.clone())
    }

    async fn set_customer_name(
        &self,
        id: CustomerId,
        name: Option<&DisplayName>,
    ) -> Result<Customer> {
        let mut customer = self
            .customers
            .get_mut(&id)
            .ok_or(Error::NotFound("customer"))?;
        customer.name = name.cloned();
        Ok(customer.clone())
    }

    async fn unsubscribe_customer(&self, id: CustomerId, token: &UnsubscribeToken) -> Result<bool> {
        let Some(mut customer) = self.customers.get_mut(&id) else {
            return Ok(false);
        };
        match customer.contact.as_mut() {
            Some(contact) if contact.token.matches(token) => {
                contact.unsubscribed = true;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn mark_customer_seen(&self, id: CustomerId, at: DateTime<Utc>) -> Result<()> {
        if let Some(mut customer) = self.customers.get_mut(&id) {
            customer.last_seen = customer.last_seen.max(Some(at));
        }
        Ok(())
    }

    async fn customers_by_email(&self, email: &Email) -> Result<Vec<Customer>> {
        let mut found: Vec<Customer> = self
            .customers
            .iter()
            .filter(|c| {
                c.contact
                    .as_ref()
                    .is_some_and(|contact| contact.email == *email)
            })
            .map(|c| c.clone())
            .collect();
        found.sort_by_key(|c| (c.first_seen, c.id));
        Ok(found)
    }

    async fn delete_customer(&self, id: CustomerId, audit: &AuditEntry) -> Result<()> {
        self.remove_customer(id, audit)
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(&self, session: &Session) -> Result<()> {
        // A visitor's entry is held until the session is in, as `create_conversation` does,
        // so no session outlives its visitor's deletion.
        let _customer = match session.subject {
            SessionSubject::Visitor(id) => {
                Some(self.customers.get(&id).ok_or(Error::NotFound("customer"))?)
            }
            SessionSubject::Admin(_) => None,
        };
        match self.sessions.entry(session.token_hash) {
            Entry::Occupied(_) => Err(Error::AlreadyExists("session")),
            Entry::Vacant(slot) => {
                slot.insert(session.clone());
                Ok(())
            }
        }
    }

    async fn get_session(&self, token_hash: &TokenHash) -> Result<Option<Session>> {
        Ok(self.sessions.get(token_hash).map(|s| s.clone()))
    }

    async fn delete_session(&self, token_hash: &TokenHash) -> Result<bool> {
        Ok(self.sessions.remove(token_hash).is_some())
    }

    async fn delete_admin_sessions(&self, admin: AdminId) -> Result<u64> {
        let mut removed = 0;
        self.sessions.retain(|_, session| {
            let keep = session.subject != SessionSubject::Admin(admin);
            removed += u64::from(!keep);
            keep
        });
        Ok(removed)
    }
}
