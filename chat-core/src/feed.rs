//! Resumable sync: a conversation's live stream that starts after a given `seq` and yields
//! every later event exactly once, in `seq` order, with no gap at the seam between the
//! stored backlog and live delivery.
//!
//! The feed subscribes *before* it reads the backlog, so nothing falls between the two; it
//! drops live events it already has, and when a live event skips ahead (concurrent
//! publishers, or a lagged subscription) it reads the missing ones from the store, where
//! they are already durable because events are published only after their write.

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::StreamExt;

use crate::broadcast::{Delivery, Signal, Subscription};
use crate::error::Result;
use crate::event::{Audience, Event};
use crate::ids::{ConversationId, Seq};
use crate::model::{Actor, UserRef};
use crate::store::DynChatStore;

/// How many events one backlog read fetches.
const BACKLOG_PAGE: usize = 256;

/// What a conversation feed yields.
// Events are most of what a feed yields: boxing them would add an allocation to each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedItem {
    /// The next log event visible to the subscriber, in `seq` order.
    Event(Event),
    /// A typing indicator (ephemeral, unordered).
    Typing {
        /// Who.
        actor: Actor,
        /// Started or stopped.
        is_typing: bool,
    },
    /// A read cursor moved (unordered).
    Read {
        /// Whose.
        reader: UserRef,
        /// Where it is now.
        last_read_seq: Seq,
    },
}

/// A live, gap-free, in-order view of one conversation for one audience.
pub struct ConversationFeed {
    store: Arc<DynChatStore>,
    conversation_id: ConversationId,
    audience: Audience,
    live: Subscription,
    cursor: Seq,
    backlog: VecDeque<Event>,
    catching_up: bool,
    decided_at: Seq,
}

impl std::fmt::Debug for ConversationFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConversationFeed")
            .field("conversation_id", &self.conversation_id)
            .field("audience", &self.audience)
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

impl ConversationFeed {
    /// A feed over `live` (already subscribed) that resumes after `since`.
    pub(crate) fn new(
        store: Arc<DynChatStore>,
        conversation_id: ConversationId,
        audience: Audience,
        live: Subscription,
        since: Seq,
    ) -> Self {
        Self {
            store,
            conversation_id,
            audience,
            live,
            cursor: since,
            backlog: VecDeque::new(),
            catching_up: true,
            decided_at: since,
        }
    }

    /// Records the conversation's newest seq when the join was authorized.
    pub(crate) fn decided_at(mut self, last_seq: Seq) -> Self {
        self.decided_at = last_seq;
        self
    }

    /// The conversation's newest seq when the join was authorized: events after it were
    /// committed while joining, and one that changes access calls for a new decision.
    pub fn authorized_through(&self) -> Seq {
        self.decided_at
    }

    /// The conversation.
    pub fn conversation_id(&self) -> ConversationId {
        self.conversation_id
    }

    /// The highest `seq` handed on (or skipped as not visible) so far: a client that
    /// reconnects resumes from here.
    pub fn cursor(&self) -> Seq {
        self.cursor
    }

    /// Whether stored events after the cursor remain to be delivered by
    /// [`next`](Self::next) (a join's catch-up stopped early).
    pub fn has_backlog(&self) -> bool {
        self.catching_up || !self.backlog.is_empty()
    }

    /// Reads stored events after the cursor and returns up to `max` visible ones (at least
    /// one, if there is one). Anything beyond is delivered by [`next`](Self::next).
    pub async fn catch_up(&mut self, max: usize) -> Result<Vec<Event>> {
        let mut taken = 0;
        self.catch_up_while(|_| {
            taken += 1;
            taken <= max
        })
        .await
    }

    /// Reads stored events after the cursor and returns the visible ones while `fits`
    /// accepts them (it sees each in order; the first event is always taken, so a feed
    /// always moves). The first refused event and everything after it stay in the feed and
    /// are delivered by [`next`](Self::next), in order, before any live event.
    pub async fn catch_up_while(
        &mut self,
        mut fits: impl FnMut(&Event) -> bool,
    ) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        loop {
            if let Some(event) = self.pop_backlog() {
                if !fits(&event) && !events.is_empty() {
                    self.unpop(event);
                    break;
                }
                events.push(event);
            } else if self.catching_up {
                self.refill().await?;
            } else {
                break;
            }
        }
        Ok(events)
    }

    /// The next item, or `None` when the subscription ended. A store error is returned
    /// once; the next call retries the read.
    pub async fn next(&mut self) -> Option<Result<FeedItem>> {
        loop {
            if let Some(event) = self.pop_backlog() {
                return Some(Ok(FeedItem::Event(event)));
            }
            if self.catching_up {
                if let Err(error) = self.refill().await {
                    return Some(Err(error));
                }
                continue;
            }
            let signal = match self.live.next().await? {
                Delivery::Lagged => {
                    self.catching_up = true;
                    continue;
                }
                Delivery::Signal(signal) => signal,
            };
            if let Some(item) = self.accept(&signal) {
                return Some(Ok(item));
            }
        }
    }

    /// Handles one live signal: returns what to hand on, if anything.
    fn accept(&mut self, signal: &Signal) -> Option<FeedItem> {
        match signal {
            Signal::Event { event } if event.seq <= self.cursor => None,
            Signal::Event { event } if event.seq == self.cursor.next() => {
                self.cursor = event.seq;
                event
                    .visible_to(self.audience)
                    .then(|| FeedItem::Event(event.clone()))
            }
            Signal::Event { .. } | Signal::Resync => {
                self.catching_up = true;
                None
            }
            Signal::Typing {
                actor, is_typing, ..
            } => Some(FeedItem::Typing {
                actor: *actor,
                is_typing: *is_typing,
            }),
            Signal::Read {
                reader,
                last_read_seq,
                ..
            } => Some(FeedItem::Read {
                reader: *reader,
                last_read_seq: *last_read_seq,
            }),
            Signal::Presence { .. }
            | Signal::Inbox { .. }
            | Signal::Revoked { .. }
            | Signal::AccessChanged { .. } => None,
        }
    }

    /// The next visible backlog event, advancing the cursor past invisible ones.
    fn pop_backlog(&mut self) -> Option<Event> {
        while let Some(event) = self.backlog.pop_front() {
            self.cursor = event.seq;
            if event.visible_to(self.audience) {
                return Some(event);
            }
        }
        None
    }

    /// Puts back the event [`pop_backlog`](Self::pop_backlog) just returned.
    fn unpop(&mut self, event: Event) {
        self.cursor = Seq(event.seq.get().saturating_sub(1));
        self.backlog.push_front(event);
    }

    async fn refill(&mut self) -> Result<()> {
        let page = self
            .store
            .events_since(self.conversation_id, self.cursor, BACKLOG_PAGE)
            .await?;
        self.catching_up = page.len() == BACKLOG_PAGE;
        self.backlog.extend(page);
        Ok(())
    }
}
