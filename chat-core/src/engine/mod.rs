//! `ChatEngine`: the service embedders call. Every call follows one path:
//! authorize → validate → store (durably) → broadcast.

mod accounts;
mod assignment;
mod canned;
mod changes;
mod conversations;
mod email;
mod erasure;
mod external;
mod inbox;
mod labels;
mod messages;
mod ratings;
mod realtime;
mod revise;
mod search;
mod snooze;
mod webhooks;

pub use accounts::{NewAdmin, NewVisitor};
pub use assignment::AssignmentPass;
pub use canned::CannedMatch;
pub use changes::{DeliveryConfig, WebhookSender};
pub use conversations::{ListRequest, StartConversation};
pub use email::{EmailPass, EmailSender};
pub use erasure::{ConversationExport, VisitorExport};
pub use external::{ExternalAgent, ExternalIdentity, ExternalVisitor};
pub use inbox::InboxSnapshot;
pub use messages::{EventPage, MessagePage, NewAttachment, SendMessage, Sent};
pub use revise::AUDIT_DEFAULT;
pub use search::{SEARCH_DEFAULT, SEARCH_MAX, SearchRequest};
pub use snooze::MAX_SNOOZE;
pub use webhooks::NewWebhook;

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};

use crate::authz::{self, Action, ConversationFacts, Policy, Principal};
use crate::broadcast::{DynBroadcaster, InboxKind, InboxUpdate, Signal, Topic};
use crate::error::{Error, InvalidInput, Result};
use crate::event::{Audience, EventKind};
use crate::ids::ConversationId;
use crate::log::{AppendOutcome, AppendRequest, Command, Commit};
use crate::model::Conversation;
use crate::store::DynChatStore;
use crate::values::Limits;

/// Embedder choices for the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Size limits for bodies and metadata.
    pub limits: Limits,
    /// Policy switches (e.g. whether customers may reopen).
    pub policy: Policy,
    /// How long after sending a sender may edit or delete its message (default 15 min).
    pub edit_window: chrono::Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            policy: Policy::default(),
            edit_window: chrono::Duration::minutes(15),
        }
    }
}

/// The chat service: cheap to clone, share it between handlers.
#[derive(Debug, Clone)]
pub struct ChatEngine {
    store: Arc<DynChatStore>,
    broadcaster: Arc<DynBroadcaster>,
    config: EngineConfig,
}

impl ChatEngine {
    /// An engine over a store and a broadcaster.
    pub fn new(
        store: Arc<DynChatStore>,
        broadcaster: Arc<DynBroadcaster>,
        config: EngineConfig,
    ) -> Self {
        Self {
            store,
            broadcaster,
            config,
        }
    }

    /// The store, for the conformance suite's oracle comparisons. Everything else goes
    /// through the engine's authorized methods.
    #[cfg_attr(
        not(feature = "conformance"),
        expect(dead_code, reason = "used by the conformance suite")
    )]
    pub(crate) fn store(&self) -> &Arc<DynChatStore> {
        &self.store
    }

    /// Whether the store answers (a read of a conversation that does not exist).
    pub async fn check_ready(&self) -> Result<()> {
        self.store
            .get_conversation(ConversationId::default())
            .await?;
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Loads a conversation and checks that `principal` may do `action` on it.
    async fn authorized(
        &self,
        principal: &Principal,
        action: Action,
        id: ConversationId,
    ) -> Result<Conversation> {
        let conversation = self.store.get_conversation(id).await?;
        let facts = conversation.as_ref().map(ConversationFacts::from);
        authz::authorize(principal, action, facts.as_ref(), &self.config.policy)?;
        self.in_good_standing(principal, action).await?;
        conversation.ok_or(Error::NotFound("conversation"))
    }

    /// Checks an action that targets no conversation.
    fn allowed(&self, principal: &Principal, action: Action) -> Result<()> {
        Ok(authz::authorize(
            principal,
            action,
            None,
            &self.config.policy,
        )?)
    }

    /// Refuses a write of a visitor blocked since its session was read (a connection opened
    /// before the block, whose close signal may be late or lost): what it sends is never
    /// stored.
    async fn in_good_standing(&self, principal: &Principal, action: Action) -> Result<()> {
        let Principal::Visitor(id) = *principal else {
            return Ok(());
        };
        if !action.stores_visitor_content() {
            return Ok(());
        }
        match self.store.get_customer(id).await? {
            Some(customer) if customer.blocked_at.is_none() => Ok(()),
            Some(_) => Err(Error::VisitorBlocked),
            None => Err(Error::Unauthenticated),
        }
    }

    /// Appends a command and announces what it committed; `Duplicate` is passed through.
    async fn append(
        &self,
        conversation_id: ConversationId,
        command: Command,
    ) -> Result<AppendOutcome> {
        let request = AppendRequest {
            conversation_id,
            command,
            at: now(),
        };
        let outcome = self.store.append(&request).await?;
        if let AppendOutcome::Committed(commit) = &outcome {
            self.announce(commit).await;
        }
        Ok(outcome)
    }

    /// Appends a command that cannot be a duplicate and returns its commit.
    async fn commit(&self, conversation_id: ConversationId, command: Command) -> Result<Commit> {
        match self.append(conversation_id, command).await? {
            AppendOutcome::Committed(commit) => Ok(*commit),
            AppendOutcome::Duplicate(_) => Err(Error::AlreadyExists("message")),
        }
    }

    /// Publishes a durable commit's events to the room and a summary to the inbox.
    async fn announce(&self, commit: &Commit) {
        let conversation = &commit.conversation;
        for event in &commit.events {
            let signal = Signal::Event {
                event: event.clone(),
            };
            self.publish(Topic::Conversation(conversation.id), signal)
                .await;
        }
        let update = InboxUpdate {
            conversation_id: conversation.id,
            kind: inbox_kind(commit),
            assignee: conversation.assignee,
            released: commit.released,
            seq: conversation.last_seq,
        };
        self.publish(Topic::Inbox, Signal::Inbox { update }).await;
    }

    /// Publishes a signal. The write it reports is already durable, so a failed publish is
    /// logged, not returned: subscribers recover the event from the store by `seq`.
    async fn publish(&self, topic: Topic, signal: Signal) {
        if let Err(error) = self.broadcaster.publish(topic, signal).await {
            tracing::warn!(?topic, %error, "broadcast failed; subscribers will resync from the store");
        }
    }
}

/// What the inbox is told about a commit.
fn inbox_kind(commit: &Commit) -> InboxKind {
    let kinds = || commit.events.iter().map(|e| &e.kind);
    if kinds().any(|k| matches!(k, EventKind::Created { .. })) {
        InboxKind::Created
    } else if commit.message.is_some() {
        InboxKind::Message
    } else {
        InboxKind::Updated
    }
}

/// Which view of the log a principal gets.
fn audience(principal: &Principal) -> Audience {
    match principal {
        Principal::Admin { .. } | Principal::System => Audience::Staff,
        Principal::Anonymous | Principal::Visitor(_) => Audience::Customer,
    }
}

/// Takes out of `conversation` what `principal` may not see: a visitor never sees its
/// labels (the team's own notes on it).
fn redact_for(principal: &Principal, conversation: &mut Conversation) {
    if audience(principal) == Audience::Customer {
        conversation.labels.clear();
    }
}

/// Server time, truncated to microseconds so every backend stores it exactly.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A page size: `requested` or `default`, refused outside `1..=max`.
fn page_limit(requested: Option<usize>, default: usize, max: usize) -> Result<usize> {
    match requested.unwrap_or(default) {
        limit @ 1.. if limit <= max => Ok(limit),
        _ => Err(InvalidInput::new("limit", format!("must be between 1 and {max}")).into()),
    }
}
