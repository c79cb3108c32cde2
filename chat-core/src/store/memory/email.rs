//! The offline-email state of `MemoryStore`: the pass's cursor and the notices, behind one
//! lock, so every method is one step.

use std::collections::BTreeMap;
use std::sync::MutexGuard;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::email::{EmailNotice, QueuedReply, Settlement};
use crate::error::Result;
use crate::ids::{ConversationId, FeedPosition};
use crate::store::{EmailStore, MemoryStore};

/// The cursor and one notice per conversation.
#[derive(Debug, Default)]
pub(super) struct EmailState {
    cursor: Option<FeedPosition>,
    notices: BTreeMap<ConversationId, EmailNotice>,
}

impl MemoryStore {
    fn emails(&self) -> MutexGuard<'_, EmailState> {
        self.emails
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drops a deleted conversation's notice.
    pub(super) fn forget_email_notice(&self, id: ConversationId) {
        self.emails().notices.remove(&id);
    }
}

#[async_trait]
impl EmailStore for MemoryStore {
    async fn email_cursor(&self) -> Result<Option<FeedPosition>> {
        Ok(self.emails().cursor)
    }

    async fn queue_email_notices(
        &self,
        from: Option<FeedPosition>,
        to: FeedPosition,
        replies: &[QueuedReply],
    ) -> Result<bool> {
        let mut state = self.emails();
        if state.cursor != from {
            return Ok(false);
        }
        for reply in replies {
            // Checked under the lock `delete_conversation` takes to drop the notice.
            if !self.conversations.contains_key(&reply.conversation) {
                continue;
            }
            let current = state.notices.remove(&reply.conversation);
            let notice = EmailNotice::queue(current, reply);
            state.notices.insert(reply.conversation, notice);
        }
        state.cursor = Some(to);
        Ok(true)
    }

    async fn due_email_notices(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<EmailNotice>> {
        let state = self.emails();
        let mut due: Vec<EmailNotice> = state
            .notices
            .values()
            .filter(|n| n.is_due(now))
            .cloned()
            .collect();
        due.sort_by_key(|n| (n.due_at, n.conversation));
        due.truncate(limit);
        Ok(due)
    }

    async fn claim_email_notice(
        &self,
        notice: &EmailNotice,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        let mut state = self.emails();
        let stored = state.notices.get_mut(&notice.conversation);
        Ok(stored.is_some_and(|stored| stored.claim(notice, now, until)))
    }

    async fn settle_email_notice(
        &self,
        conversation: ConversationId,
        claim: DateTime<Utc>,
        settlement: &Settlement,
    ) -> Result<bool> {
        let mut state = self.emails();
        let stored = state.notices.get_mut(&conversation);
        Ok(stored.is_some_and(|stored| stored.settle(claim, settlement)))
    }
}
