//! The broadcast contract: publish a signal to a topic, subscribe to a topic as a stream.
//!
//! # Contract
//!
//! - The engine publishes a persisted event only after its durable write, so nothing
//!   delivered was not stored.
//! - Delivery is best effort and may lag: a subscriber that falls behind receives
//!   [`Delivery::Lagged`] and must resync from the store by `seq`
//!   ([`ConversationFeed`](crate::feed::ConversationFeed) does this). Publishers are never
//!   blocked by slow subscribers.
//! - Order between concurrent publishers is not guaranteed; events carry `seq` for that.

mod local;

pub use local::{DEFAULT_CAPACITY, LocalBroadcaster};

use std::fmt::Debug;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures_core::Stream;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::event::Event;
use crate::ids::{AdminId, ConversationId, Seq};
use crate::model::{Actor, UserRef};

/// Where a signal goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "camelCase")]
pub enum Topic {
    /// Everyone in one conversation's live room.
    Conversation(ConversationId),
    /// The agents' inbox: new conversations, new messages, updates.
    Inbox,
    /// Agent presence.
    Presence,
    /// Ended sessions and changed permissions, so live connections that use them close or
    /// re-decide what they show.
    Sessions,
}

/// What travels over the broadcaster.
// Events are most of the traffic: boxing them to shrink the rare small signals would add an
// allocation to every delivery.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Signal {
    /// A persisted log event.
    Event {
        /// The event.
        event: Event,
    },
    /// Someone is (or stopped) typing. Ephemeral.
    Typing {
        /// The conversation.
        conversation_id: ConversationId,
        /// Who.
        actor: Actor,
        /// Started or stopped.
        is_typing: bool,
    },
    /// A read cursor moved.
    Read {
        /// The conversation.
        conversation_id: ConversationId,
        /// Whose cursor.
        reader: UserRef,
        /// Where it is now.
        last_read_seq: Seq,
    },
    /// An agent came online or went offline on one server node (its first connection
    /// there opened, or its last one closed; nodes repeat who is online as a heartbeat).
    /// An agent is online while any node says so. Ephemeral.
    Presence {
        /// The agent.
        admin_id: AdminId,
        /// Online on that node now.
        online: bool,
        /// The node.
        #[serde(default)]
        node: uuid::Uuid,
    },
    /// Something changed that agents' inbox lists show.
    Inbox {
        /// The update.
        update: InboxUpdate,
    },
    /// Signals may have been lost (a cross-node transport reconnected): resync from the
    /// store, exactly as after [`Delivery::Lagged`].
    Resync,
    /// Sessions ended: connections authenticated by them must close.
    Revoked {
        /// Which sessions.
        sessions: Revoked,
    },
    /// An agent's permissions changed: its connections re-read them and re-decide their
    /// rooms and inbox.
    AccessChanged {
        /// The agent.
        admin_id: AdminId,
    },
}

impl Signal {
    /// Whether the signal changes who may see what ([`Revoked`](Signal::Revoked),
    /// [`AccessChanged`](Signal::AccessChanged)): such a signal must reach every node, and
    /// a connection that may have missed one re-reads its facts.
    pub fn is_access(&self) -> bool {
        matches!(self, Self::Revoked { .. } | Self::AccessChanged { .. })
    }
}

/// Which sessions a [`Signal::Revoked`] ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "camelCase")]
pub enum Revoked {
    /// The session of one token (logout).
    Token(crate::accounts::TokenHash),
    /// Every session of an agent (disabled, or password changed).
    Admin(AdminId),
    /// Every session of a visitor (blocked).
    Visitor(crate::ids::CustomerId),
}

/// An inbox notification for agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboxUpdate {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// What happened.
    pub kind: InboxKind,
    /// Its assignee after the change (restricted agents see only their own).
    pub assignee: Option<AdminId>,
    /// The agent it was taken from by this change, if any (told so it can drop it).
    #[serde(default)]
    pub released: Option<AdminId>,
    /// Its `last_seq` after the change.
    pub seq: Seq,
}

/// The inbox change kinds of the wire contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InboxKind {
    /// A new conversation.
    Created,
    /// A new message.
    Message,
    /// Status or assignment changed.
    Updated,
}

/// One item of a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A signal, shared between all subscribers.
    Signal(Arc<Signal>),
    /// Signals were dropped because this subscriber fell behind: resync from the store.
    Lagged,
}

/// A live subscription to one topic.
pub type Subscription = Pin<Box<dyn Stream<Item = Delivery> + Send>>;

/// Fans signals out to subscribers, within one process or across nodes.
#[async_trait]
pub trait Broadcaster: Debug + Send + Sync + 'static {
    /// Sends `signal` to the current subscribers of `topic`. Never waits for subscribers.
    async fn publish(&self, topic: Topic, signal: Signal) -> Result<()>;

    /// Subscribes to `topic`; signals published after this returns are delivered.
    async fn subscribe(&self, topic: Topic) -> Result<Subscription>;
}

/// A broadcaster chosen at run time: `Arc<DynBroadcaster>`.
pub type DynBroadcaster = dyn Broadcaster;
