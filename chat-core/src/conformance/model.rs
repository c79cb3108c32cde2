//! Model-based testing: random operation sequences run through the engine over the store
//! under test and, in lockstep, over a [`MemoryStore`] oracle. After every step the outcomes
//! must match and the invariants must hold: gap-free seqs, nothing visible to a principal
//! the policy refuses, monotonic read cursors, consistent unread counts.
//!
//! Durable backends implement [`ModelBackend::restart`] to close and reopen their store at
//! the points the generator chooses; the state must survive unchanged.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use proptest::prelude::*;

use crate::accounts::{ConversationScope, Permissions};
use crate::authz::{self, Action, ConversationFacts, Principal};
use crate::conformance::fixtures;
use crate::engine::{ChatEngine, ListRequest, SendMessage};
use crate::error::Error;
use crate::event::Audience;
use crate::ids::{AdminId, ConversationId, Seq};
use crate::model::{Conversation, Message, UserRef};
use crate::read;
use crate::status::ConversationStatus;
use crate::store::{DynChatStore, MemoryStore};
use crate::values::{ClientMessageId, MessageBody};

/// A store the model can drive and restart.
#[async_trait]
pub trait ModelBackend: Send {
    /// The store as it is now.
    fn store(&self) -> Arc<DynChatStore>;
    /// Closes the store and opens it again from its durable state. The model drops every
    /// handle it got from [`store`](Self::store) before calling this.
    async fn restart(&mut self);
}

/// `MemoryStore` as a model backend: a restart keeps the same store (nothing to reopen).
#[derive(Debug, Default)]
pub struct MemoryBackend(Arc<MemoryStore>);

#[async_trait]
impl ModelBackend for MemoryBackend {
    fn store(&self) -> Arc<DynChatStore> {
        self.0.clone()
    }

    async fn restart(&mut self) {}
}

/// Who performs an operation: visitors 0–2; agent 0 has default permissions, agent 1 sees
/// only assigned conversations, agent 2 may not manage conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// A visitor by index.
    Visitor(usize),
    /// An agent by index.
    Admin(usize),
    /// The embedding application.
    System,
}

/// One step of a generated scenario. Conversations are named by index into those started
/// so far (modulo their count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A visitor starts a conversation.
    Start {
        /// Which visitor.
        visitor: usize,
    },
    /// Send a message or note; `body_len` above the 16 KiB limit must be refused.
    Send {
        /// Sender.
        who: Who,
        /// Conversation index.
        conv: usize,
        /// Body length in bytes.
        body_len: usize,
        /// Idempotency key, from a small set so retries happen.
        client_id: Option<u8>,
        /// A private note.
        private: bool,
    },
    /// Move a read cursor.
    MarkRead {
        /// Reader.
        who: Who,
        /// Conversation index.
        conv: usize,
        /// Requested seq (may be past the end).
        seq: u64,
    },
    /// Change status.
    SetStatus {
        /// Who.
        who: Who,
        /// Conversation index.
        conv: usize,
        /// Target.
        to: ConversationStatus,
    },
    /// Assign to an agent, or unassign.
    Assign {
        /// Who.
        who: Who,
        /// Conversation index.
        conv: usize,
        /// Agent index, or none.
        to: Option<usize>,
    },
    /// List conversations.
    List {
        /// Who.
        who: Who,
        /// Status filter.
        status: Option<ConversationStatus>,
    },
    /// Close and reopen the store under test.
    Restart,
}

const VISITORS: usize = 3;
const ADMINS: usize = 3;

/// Random operation sequences of up to `max_len` steps.
pub fn ops(max_len: usize) -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(op(), 1..=max_len)
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        4 => (0..VISITORS).prop_map(Who::Visitor),
        4 => (0..ADMINS).prop_map(Who::Admin),
        1 => Just(Who::System),
    ]
}

fn status() -> impl Strategy<Value = ConversationStatus> {
    prop_oneof![
        Just(ConversationStatus::Waiting),
        Just(ConversationStatus::Active),
        Just(ConversationStatus::Closed)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let body_len = prop_oneof![20 => 1..200usize, 1 => 16_380..16_400usize];
    prop_oneof![
        2 => (0..VISITORS).prop_map(|visitor| Op::Start { visitor }),
        8 => (who(), 0..8usize, body_len, proptest::option::of(0..4u8), proptest::bool::weighted(0.2))
            .prop_map(|(who, conv, body_len, client_id, private)| Op::Send { who, conv, body_len, client_id, private }),
        3 => (who(), 0..8usize, 0..40u64).prop_map(|(who, conv, seq)| Op::MarkRead { who, conv, seq }),
        2 => (who(), 0..8usize, status()).prop_map(|(who, conv, to)| Op::SetStatus { who, conv, to }),
        1 => (who(), 0..8usize, proptest::option::of(0..ADMINS)).prop_map(|(who, conv, to)| Op::Assign { who, conv, to }),
        1 => (who(), proptest::option::of(status())).prop_map(|(who, status)| Op::List { who, status }),
        1 => Just(Op::Restart),
    ]
}

/// One side of the lockstep run: an engine and the ids its world was given.
struct Side {
    engine: ChatEngine,
    visitors: Vec<Principal>,
    admins: Vec<Principal>,
    conversations: Vec<ConversationId>,
    cursors: HashMap<(ConversationId, UserRef), Seq>,
}

impl Side {
    async fn new(store: Arc<DynChatStore>) -> Self {
        let engine = fixtures::engine(store);
        let mut visitors = Vec::new();
        for _ in 0..VISITORS {
            visitors.push(fixtures::visitor(&engine).await);
        }
        let assigned = Permissions {
            scope: ConversationScope::Assigned,
            ..Permissions::default()
        };
        let viewer = Permissions {
            manage_conversations: false,
            ..Permissions::default()
        };
        let mut admins = Vec::new();
        for (n, permissions) in [Permissions::default(), assigned, viewer]
            .into_iter()
            .enumerate()
        {
            admins.push(fixtures::admin(&engine, &format!("model{n}"), permissions).await);
        }
        Self {
            engine,
            visitors,
            admins,
            conversations: Vec::new(),
            cursors: HashMap::new(),
        }
    }

    fn principal(&self, who: Who) -> Principal {
        match who {
            Who::Visitor(n) => self.visitors[n],
            Who::Admin(n) => self.admins[n],
            Who::System => Principal::System,
        }
    }

    /// The conversation at `index`, or a fresh id (a missing conversation) if none exist.
    fn conversation(&self, index: usize) -> ConversationId {
        match self.conversations.len() {
            0 => ConversationId::new(),
            len => self.conversations[index % len],
        }
    }

    /// The index of agent `id` in this side's world.
    fn admin_position(&self, id: AdminId) -> Option<usize> {
        self.admins
            .iter()
            .position(|a| matches!(a, Principal::Admin { id: other, .. } if *other == id))
    }

    /// Runs `op` and describes its outcome without ids or times, so both sides compare.
    async fn apply(&mut self, op: &Op) -> String {
        match op {
            Op::Start { visitor } => {
                let principal = self.visitors[*visitor];
                let started = self
                    .engine
                    .start_conversation(&principal, Default::default())
                    .await;
                started.map(|c| {
                    self.conversations.push(c.id);
                    format!("started {}", c.status)
                })
            }
            Op::Send {
                who,
                conv,
                body_len,
                client_id,
                private,
            } => {
                let body =
                    MessageBody::try_from("x".repeat(*body_len)).expect("below the hard maximum");
                let mut request = SendMessage::text(self.conversation(*conv), body);
                request.client_message_id = client_id
                    .map(|n| ClientMessageId::parse(&format!("client-{n}")).expect("client id"));
                request.private = *private;
                let sent = self
                    .engine
                    .send_message(&self.principal(*who), request)
                    .await;
                sent.map(|s| {
                    format!(
                        "seq {} created {} private {}",
                        s.message.seq, s.created, s.message.private
                    )
                })
            }
            Op::MarkRead { who, conv, seq } => {
                self.mark_read(*who, self.conversation(*conv), Seq(*seq))
                    .await
            }
            Op::SetStatus { who, conv, to } => {
                let changed = self
                    .engine
                    .set_status(&self.principal(*who), self.conversation(*conv), *to)
                    .await;
                changed.map(|c| format!("{} closed_at {}", c.status, c.closed_at.is_some()))
            }
            Op::Assign { who, conv, to } => {
                let assignee = to.map(|n| match self.admins[n] {
                    Principal::Admin { id, .. } => id,
                    _ => unreachable!("admins are agents"),
                });
                let assigned = self
                    .engine
                    .assign(&self.principal(*who), self.conversation(*conv), assignee)
                    .await;
                assigned.map(|c| {
                    format!(
                        "assigned {:?}",
                        c.assignee.and_then(|a| self.admin_position(a))
                    )
                })
            }
            Op::List { who, status } => {
                let request = ListRequest {
                    status: *status,
                    limit: Some(100),
                    ..ListRequest::default()
                };
                let page = self
                    .engine
                    .list_conversations(&self.principal(*who), request)
                    .await;
                page.map(|p| {
                    let unread: Vec<u64> = p.items.iter().map(|s| s.unread).collect();
                    format!(
                        "total {} unread {} per item {unread:?}",
                        p.total_count, p.unread_count
                    )
                })
            }
            Op::Restart => Ok("restart".into()),
        }
        .unwrap_or_else(|error| format!("error {}", error.code()))
    }

    async fn mark_read(
        &mut self,
        who: Who,
        conv: ConversationId,
        seq: Seq,
    ) -> crate::Result<String> {
        let principal = self.principal(who);
        let cursor = self.engine.mark_read(&principal, conv, seq).await?;
        let reader = principal.user().expect("only people get past mark_read");
        let previous = self
            .cursors
            .insert((conv, reader), cursor)
            .unwrap_or_default();
        assert!(
            cursor >= previous,
            "read cursor moved back from {previous} to {cursor}"
        );
        Ok(format!("cursor {cursor}"))
    }

    /// The change feed as (position, conversation index, seq): the same on every backend
    /// for the same operations, restarts included.
    async fn feed(&self) -> Vec<(u64, Option<usize>, u64)> {
        let changes = self
            .engine
            .store()
            .changes_after(crate::ids::FeedPosition::ZERO, usize::MAX)
            .await
            .expect("feed");
        changes
            .iter()
            .map(|c| {
                let index = self
                    .conversations
                    .iter()
                    .position(|id| *id == c.event.conversation_id);
                (c.position.get(), index, c.event.seq.get())
            })
            .collect()
    }

    /// Checks every invariant over every conversation of this side.
    async fn check_invariants(&self) {
        let store = self.engine.store();
        for conv in &self.conversations {
            let conversation = store
                .get_conversation(*conv)
                .await
                .expect("get")
                .expect("exists");
            let events = fixtures::all_events(&**store, *conv).await;
            fixtures::assert_gap_free(&events);
            assert_eq!(
                conversation.last_seq.get(),
                events.len() as u64,
                "last_seq disagrees with the log"
            );
            let everything = store
                .messages_before(*conv, None, usize::MAX, Audience::Staff)
                .await
                .expect("history");
            for principal in self.visitors.iter().chain(&self.admins) {
                self.check_view(principal, &conversation, &everything).await;
            }
        }
    }

    /// What `principal` can see of one conversation agrees with the policy and read state.
    async fn check_view(
        &self,
        principal: &Principal,
        conversation: &Conversation,
        all: &[Message],
    ) {
        let facts = ConversationFacts::from(conversation);
        let policy = self.engine.config().policy;
        let allowed =
            authz::authorize(principal, Action::ReadConversation, Some(&facts), &policy).is_ok();
        let history = self
            .engine
            .history(principal, conversation.id, None, Some(100))
            .await;
        let unread = self.engine.unread_count(principal, conversation.id).await;
        if !allowed {
            assert!(
                matches!(history, Err(Error::NotFound(_))),
                "{principal:?} read a conversation the policy refuses"
            );
            assert!(matches!(unread, Err(Error::NotFound(_))));
            return;
        }
        let history = history.expect("history");
        if matches!(principal, Principal::Visitor(_)) {
            assert!(
                history.messages.iter().all(|m| !m.private),
                "a visitor saw a private note"
            );
        }
        let reader = principal.user().expect("people");
        let cursor = self
            .engine
            .store()
            .read_cursor(conversation.id, reader)
            .await
            .expect("cursor");
        assert_eq!(
            cursor,
            self.cursors
                .get(&(conversation.id, reader))
                .copied()
                .unwrap_or_default()
        );
        let expected = all
            .iter()
            .filter(|m| m.seq > cursor && read::counts_as_unread(reader, m))
            .count() as u64;
        assert_eq!(
            unread.expect("unread"),
            expected,
            "unread count for {principal:?}"
        );
        assert_eq!(
            read::has_unread(reader, conversation, cursor),
            expected > 0,
            "has_unread disagrees with the count"
        );
    }
}

/// Runs `ops` against `backend` and a `MemoryStore` oracle in lockstep, asserting equal
/// outcomes and the invariants after every step.
pub async fn check_ops<B: ModelBackend>(backend: &mut B, ops: &[Op]) {
    let mut subject = Side::new(backend.store()).await;
    let mut oracle = Side::new(Arc::new(MemoryStore::new())).await;
    for (step, op) in ops.iter().enumerate() {
        if *op == Op::Restart {
            // Let go of the store first: a durable backend can only reopen a closed store.
            subject.engine = fixtures::engine(Arc::new(MemoryStore::new()));
            backend.restart().await;
            subject.engine = fixtures::engine(backend.store());
        }
        let got = subject.apply(op).await;
        let want = oracle.apply(op).await;
        assert_eq!(got, want, "step {step}: {op:?} differs from the oracle");
        subject.check_invariants().await;
        assert_eq!(
            subject.feed().await,
            oracle.feed().await,
            "step {step}: the change feed differs from the oracle's"
        );
    }
}
