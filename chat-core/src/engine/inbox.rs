//! The agents' inbox: its live stream, and the unread counts its updates carry, read once
//! per update for every agent who receives it ([`InboxSnapshot`]).

use std::future::ready;

use futures_util::StreamExt;

use crate::accounts::ConversationScope;
use crate::authz::{self, Action, ConversationFacts, Principal};
use crate::broadcast::{Delivery, Signal, Subscription, Topic};
use crate::engine::ChatEngine;
use crate::error::Result;
use crate::ids::ConversationId;
use crate::model::{Conversation, UserRef};
use crate::read::ReadCursor;

/// A conversation and every reader's cursor, read once when an inbox update fans out:
/// [`ChatEngine::inbox_unread`] then decides and counts for each receiving agent without
/// another read, however many agents there are.
#[derive(Clone, PartialEq, Eq)]
pub struct InboxSnapshot {
    conversation: Conversation,
    cursors: Vec<(UserRef, ReadCursor)>,
}

/// Names the conversation only: what it holds is for [`ChatEngine::inbox_unread`] to reveal.
impl std::fmt::Debug for InboxSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxSnapshot")
            .field("conversation_id", &self.conversation.id)
            .finish_non_exhaustive()
    }
}

impl ChatEngine {
    /// Checks that the principal may see the inbox, and so which agents are online (an
    /// agent, or the system).
    pub fn authorize_inbox(&self, principal: &Principal) -> Result<()> {
        self.allowed(principal, Action::ListInbox)
    }

    /// The inbox stream for agents: new conversations, new messages, updates. An agent
    /// restricted to assigned conversations sees only theirs, and the update that takes
    /// one away from them.
    pub async fn subscribe_inbox(&self, principal: &Principal) -> Result<Subscription> {
        self.allowed(principal, Action::ListInbox)?;
        let only = match *principal {
            Principal::Admin { id, permissions } => {
                (permissions.scope == ConversationScope::Assigned).then_some(id)
            }
            Principal::System | Principal::Visitor(_) | Principal::Anonymous => None,
        };
        let live = self.broadcaster.subscribe(Topic::Inbox).await?;
        let Some(me) = only else { return Ok(live) };
        let visible = move |delivery: &Delivery| match delivery {
            Delivery::Signal(signal) => match &**signal {
                Signal::Inbox { update } => {
                    update.assignee == Some(me) || update.released == Some(me)
                }
                Signal::Resync => true,
                _ => false,
            },
            Delivery::Lagged => true,
        };
        Ok(Box::pin(
            live.filter(move |delivery| ready(visible(delivery))),
        ))
    }

    /// The conversation and its readers' cursors as they are now, `None` once it is
    /// deleted, read for an agent who has an inbox. Reveals nothing by itself (its fields
    /// are private): [`inbox_unread`](Self::inbox_unread) decides for each principal it is
    /// shared with.
    ///
    /// The store reads the cursors no later than the row: counters only grow, so a cursor
    /// that moves meanwhile can overstate a count until the next update, never make it wrap.
    pub async fn inbox_snapshot(
        &self,
        principal: &Principal,
        id: ConversationId,
    ) -> Result<Option<InboxSnapshot>> {
        self.allowed(principal, Action::ListInbox)?;
        let read = self.store.conversation_with_cursors(id).await?;
        Ok(read.map(|(conversation, cursors)| InboxSnapshot {
            conversation,
            cursors,
        }))
    }

    /// The principal's unread count in the snapshot's conversation, by the same policy
    /// as every other read; `None` when it may not read it (or it is gone).
    pub fn inbox_unread(
        &self,
        principal: &Principal,
        snapshot: Option<&InboxSnapshot>,
    ) -> Option<u64> {
        let facts = snapshot.map(|s| ConversationFacts::from(&s.conversation));
        authz::authorize(
            principal,
            Action::ReadConversation,
            facts.as_ref(),
            &self.config.policy,
        )
        .ok()?;
        let (snapshot, reader) = (snapshot?, principal.user()?);
        let cursor = snapshot.cursors.iter().find(|(user, _)| *user == reader);
        let cursor = cursor.map(|(_, cursor)| *cursor).unwrap_or_default();
        Some(cursor.unread(reader, &snapshot.conversation))
    }
}
