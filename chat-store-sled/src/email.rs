//! The offline-email state of `SledStore`: the pass's cursor, one notice per conversation
//! and an index of pending notices by due time, all changed on the writer thread (one step
//! each), the index always in the same batch as its notice.

use async_trait::async_trait;
use chat_core::Result;
use chat_core::email::{EmailNotice, QueuedReply, Settlement};
use chat_core::ids::{ConversationId, FeedPosition};
use chat_core::store::EmailStore;
use chrono::{DateTime, Utc};

use crate::codec::{encode, get, get_u64};
use crate::error::{backend, malformed};
use crate::keys;
use crate::store::SledStore;
use crate::txn::Txn;

#[async_trait]
impl EmailStore for SledStore {
    async fn email_cursor(&self) -> Result<Option<FeedPosition>> {
        Ok(get_u64(self.tree(), &[keys::EMAIL_CURSOR])?.map(FeedPosition))
    }

    async fn queue_email_notices(
        &self,
        from: Option<FeedPosition>,
        to: FeedPosition,
        replies: &[QueuedReply],
    ) -> Result<bool> {
        let replies = replies.to_vec();
        self.writer
            .run(move |txn| {
                let cursor = get_u64(txn, &[keys::EMAIL_CURSOR])?.map(FeedPosition);
                if cursor != from {
                    return Ok(false);
                }
                for reply in &replies {
                    // A deleted conversation gets no notice.
                    if txn.state(reply.conversation).is_none() {
                        continue;
                    }
                    let current = stored_notice(&*txn, reply.conversation)?;
                    let next = EmailNotice::queue(current.clone(), reply);
                    put(txn, current.as_ref(), &next)?;
                }
                txn.insert([keys::EMAIL_CURSOR], to.get().to_be_bytes().to_vec());
                Ok(true)
            })
            .await
    }

    async fn due_email_notices(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<EmailNotice>> {
        let range = vec![keys::EMAIL_DUE]..keys::email_due_until(now);
        let mut due = Vec::new();
        for key in self.tree().range(range).keys().take(limit) {
            let key = key.map_err(backend)?;
            let id = keys::email_due_conversation(&key).ok_or_else(|| malformed("email due"))?;
            // Read after the index: a notice another pass claimed meanwhile is not due.
            let current = stored_notice(self.tree(), id)?;
            due.extend(current.filter(|n| n.is_due(now)));
        }
        Ok(due)
    }

    async fn claim_email_notice(
        &self,
        notice: &EmailNotice,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        let read = notice.clone();
        self.change(read.conversation, move |stored| {
            stored.claim(&read, now, until)
        })
        .await
    }

    async fn settle_email_notice(
        &self,
        conversation: ConversationId,
        claim: DateTime<Utc>,
        settlement: &Settlement,
    ) -> Result<bool> {
        let settlement = *settlement;
        self.change(conversation, move |stored| {
            stored.settle(claim, &settlement)
        })
        .await
    }
}

impl SledStore {
    /// Runs `step` on a stored notice on the writer thread, saving it when `step` says it
    /// changed it; `false` when there is no notice or nothing changed.
    async fn change(
        &self,
        conversation: ConversationId,
        step: impl FnOnce(&mut EmailNotice) -> bool + Send + 'static,
    ) -> Result<bool> {
        self.writer
            .run(move |txn| {
                let Some(current) = stored_notice(&*txn, conversation)? else {
                    return Ok(false);
                };
                let mut next = current.clone();
                if !step(&mut next) {
                    return Ok(false);
                }
                put(txn, Some(&current), &next)?;
                Ok(true)
            })
            .await
    }
}

/// Removes a deleted conversation's notice and its index entry (in its delete batch).
pub fn forget_notice(txn: &mut Txn<'_>, id: ConversationId) -> Result<()> {
    if let Some(current) = stored_notice(&*txn, id)? {
        if let Some(at) = current.next_look() {
            txn.remove(keys::email_due(at, id));
        }
        txn.remove(keys::email_notice(id));
    }
    Ok(())
}

fn stored_notice(
    source: &impl crate::source::Source,
    id: ConversationId,
) -> Result<Option<EmailNotice>> {
    get(source, &keys::email_notice(id))
}

/// Writes `next` over `current`, moving its due-index entry.
fn put(txn: &mut Txn<'_>, current: Option<&EmailNotice>, next: &EmailNotice) -> Result<()> {
    if let Some(at) = current.and_then(EmailNotice::next_look) {
        txn.remove(keys::email_due(at, next.conversation));
    }
    if let Some(at) = next.next_look() {
        txn.insert(keys::email_due(at, next.conversation), Vec::new());
    }
    txn.insert(keys::email_notice(next.conversation), encode(next)?);
    Ok(())
}
