//! A visitor's data on request (export, erasure; permission `manage_visitor_data`) and the
//! retention of closed conversations.
//!
//! **Erasure rule.** Erasing a visitor deletes its record (identifier, address, sessions)
//! and every conversation it started, whole: its messages, the agents' replies and private
//! notes in them (a reply quotes and answers the visitor, so it is the visitor's data
//! too), their files, search words and the text audit entries kept of them. The audit log
//! keeps one `visitorErased` entry (who, when, the visitor's id, how many conversations)
//! and a `conversationDeleted` entry per conversation, never their content.

use chrono::{DateTime, Utc};

use crate::accounts::Customer;
use crate::audit::{AuditAction, AuditEntry};
use crate::authz::{Action, Principal};
use crate::broadcast::{InboxKind, InboxUpdate, Revoked, Signal, Topic};
use crate::engine::{ChatEngine, now};
use crate::error::{Conflict, Error, Result};
use crate::event::Audience;
use crate::ids::{AttachmentId, ConversationId, CustomerId};
use crate::model::{Actor, Attachment, Conversation, Message};
use crate::store::ConversationRemoval;

/// How many times an erasure looks again for conversations the visitor started while it
/// ran, before answering `VisitorHasConversations`.
const ERASE_ROUNDS: usize = 3;
/// Page size when reading a visitor's conversations and messages.
const PAGE: usize = 100;
/// Most conversations one retention pass erases.
const RETENTION_BATCH: usize = 100;

/// What an export starts with: the visitor and its conversations, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitorExport {
    /// The visitor's record.
    pub customer: Customer,
    /// Its conversations; read each with [`ChatEngine::export_conversation`].
    pub conversations: Vec<ConversationId>,
}

/// One conversation of an export: its row, every message (private notes included,
/// marked), oldest first, and its files.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationExport {
    /// The conversation.
    pub conversation: Conversation,
    /// Its messages, oldest first.
    pub messages: Vec<Message>,
    /// The files sent with them (a deleted message's are gone).
    pub attachments: Vec<Attachment>,
}

impl ChatEngine {
    /// Starts an export of the visitor's data (audited as `visitorExported`).
    pub async fn export_visitor(
        &self,
        principal: &Principal,
        id: CustomerId,
    ) -> Result<VisitorExport> {
        self.allowed(principal, Action::ManageVisitorData)?;
        let customer = self
            .store
            .get_customer(id)
            .await?
            .ok_or(Error::NotFound("customer"))?;
        let conversations = self.all_conversations_of(id).await?;
        let actor = principal.actor().unwrap_or(Actor::System);
        self.record(actor, AuditAction::VisitorExported { customer: id })
            .await?;
        Ok(VisitorExport {
            customer,
            conversations,
        })
    }

    /// One conversation of an export (`NotFound` if it was deleted meanwhile).
    pub async fn export_conversation(
        &self,
        principal: &Principal,
        id: ConversationId,
    ) -> Result<ConversationExport> {
        self.allowed(principal, Action::ManageVisitorData)?;
        let conversation = self
            .store
            .get_conversation(id)
            .await?
            .ok_or(Error::NotFound("conversation"))?;
        let mut messages = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .store
                .messages_before(id, before, PAGE, Audience::Staff)
                .await?;
            before = page.last().map(|m| m.seq);
            let last_page = page.len() < PAGE;
            messages.extend(page);
            if last_page {
                break;
            }
        }
        messages.reverse();
        let attachments = messages
            .iter()
            .filter(|m| m.deleted_at.is_none())
            .flat_map(|m| m.attachments.iter().cloned())
            .collect();
        Ok(ConversationExport {
            conversation,
            messages,
            attachments,
        })
    }

    /// Erases the visitor (see the module's rule) and ends its sessions and sockets;
    /// returns how many conversations went. The visitor is blocked first, so it stays
    /// blocked if the erasure fails; erasing again finishes the job.
    pub async fn erase_visitor(&self, principal: &Principal, id: CustomerId) -> Result<u64> {
        self.allowed(principal, Action::ManageVisitorData)?;
        let actor = principal.actor().unwrap_or(Actor::System);
        let customer = self
            .store
            .get_customer(id)
            .await?
            .ok_or(Error::NotFound("customer"))?;
        // Blocked first: from here on the visitor's sessions are refused, nothing it sends
        // is stored and its sockets close, whether or not the erasure completes.
        if customer.blocked_at.is_none() {
            self.store.set_customer_blocked(id, Some(now())).await?;
        }
        self.revoke_visitor(id).await;
        let mut erased = 0;
        for _ in 0..ERASE_ROUNDS {
            for conversation in self.all_conversations_of(id).await? {
                erased += u64::from(self.remove_conversation(conversation, None, actor).await?);
            }
            let action = AuditAction::VisitorErased {
                customer: id,
                conversations: erased,
            };
            let audit = AuditEntry::new(now(), actor, action);
            match self.store.delete_customer(id, &audit).await {
                Ok(()) => {
                    self.revoke_visitor(id).await;
                    return Ok(erased);
                }
                Err(Error::Conflict(Conflict::VisitorHasConversations)) => continue,
                Err(error) => return Err(error),
            }
        }
        Err(Conflict::VisitorHasConversations.into())
    }

    /// Erases the conversations closed since before `cutoff` (the system's retention
    /// pass), at most a batch; returns those it erased (one that fails is logged and
    /// skipped). On any number of nodes each is erased once: the
    /// store deletes it only if it is still closed since before `cutoff`, and writes its
    /// audit entry in the same step.
    pub async fn erase_closed_before(
        &self,
        principal: &Principal,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<ConversationId>> {
        if *principal != Principal::System {
            return Err(Error::PermissionDenied("only the system applies retention"));
        }
        let mut erased = Vec::new();
        for id in self.store.closed_before(cutoff, RETENTION_BATCH).await? {
            // One that cannot be erased now must not hold back the ones after it.
            match self
                .remove_conversation(id, Some(cutoff), Actor::System)
                .await
            {
                Ok(true) => erased.push(id),
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%id, %error, "retention could not erase a conversation")
                }
            }
        }
        Ok(erased)
    }

    /// Files of deleted conversations whose bytes are still to be removed (the system).
    pub async fn erased_files(
        &self,
        principal: &Principal,
        limit: usize,
    ) -> Result<Vec<AttachmentId>> {
        if *principal != Principal::System {
            return Err(Error::PermissionDenied("only the system removes files"));
        }
        self.store.erased_files(limit).await
    }

    /// Forgets an erased file once its bytes are gone (the system).
    pub async fn forget_erased_file(&self, principal: &Principal, id: AttachmentId) -> Result<()> {
        if *principal != Principal::System {
            return Err(Error::PermissionDenied("only the system removes files"));
        }
        self.store.forget_erased_file(id).await
    }

    /// Deletes a conversation with its audit entry, if `closed_before` holds; whether it
    /// went (one deleted meanwhile, by another node or request, did not).
    pub(crate) async fn remove_conversation(
        &self,
        id: ConversationId,
        closed_before: Option<DateTime<Utc>>,
        by: Actor,
    ) -> Result<bool> {
        let Some(conversation) = self.store.get_conversation(id).await? else {
            return Ok(false);
        };
        let action = AuditAction::ConversationDeleted { conversation: id };
        let removal = ConversationRemoval {
            id,
            closed_before,
            audit: AuditEntry::new(now(), by, action),
        };
        match self.store.delete_conversation(&removal).await {
            Ok(true) => {
                self.announce_removal(&conversation).await;
                Ok(true)
            }
            Err(Error::NotFound("conversation")) => Ok(false),
            other => other,
        }
    }

    /// Tells the room (its feeds resync, find it gone and leave) and the agents' inbox
    /// lists (which drop it).
    async fn announce_removal(&self, conversation: &Conversation) {
        self.publish(Topic::Conversation(conversation.id), Signal::Resync)
            .await;
        let update = InboxUpdate {
            conversation_id: conversation.id,
            kind: InboxKind::Updated,
            assignee: conversation.assignee,
            released: None,
            // Past its last event: the inbox reads the conversation again and finds it gone.
            seq: conversation.last_seq.next(),
        };
        self.publish(Topic::Inbox, Signal::Inbox { update }).await;
    }

    /// Ends the visitor's live connections.
    async fn revoke_visitor(&self, id: CustomerId) {
        let sessions = Revoked::Visitor(id);
        self.publish(Topic::Sessions, Signal::Revoked { sessions })
            .await;
    }

    /// Every conversation of the visitor, newest first.
    async fn all_conversations_of(&self, id: CustomerId) -> Result<Vec<ConversationId>> {
        let all = self
            .visitor_conversations(id, None, None, usize::MAX, |_| true)
            .await?;
        Ok(all.iter().map(|conversation| conversation.id).collect())
    }
}
