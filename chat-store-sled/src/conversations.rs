//! The conversation-side traits: conversations, the event log and read state.
//!
//! Log reads stop at the conversation's durable `last_seq` from the row index, so a reader
//! never sees an event that is applied but not yet flushed.

use async_trait::async_trait;
use chat_core::event::{Audience, Event};
use chat_core::ids::{AttachmentId, ConversationId, MessageId, Seq};
use chat_core::log::{
    self, AppendOutcome, AppendRequest, Commit, ConversationState, IdempotencyKey, LogSource,
};
use chat_core::model::{Attachment, Conversation, Message, Participant, UserRef};
use chat_core::read::ReadCursor;
use chat_core::store::{
    ConversationPage, ConversationQuery, ConversationRemoval, ConversationStore, EventStore,
    ReadStateStore,
};
use chat_core::{Error, Result};
use serde::de::IgnoredAny;

use crate::codec::{decode, exists, get, get_u64};
use crate::commit::persist;
use crate::cursors;
use crate::error::{backend, malformed};
use crate::keys;
use crate::source::Source;
use crate::store::SledStore;
use crate::txn::Txn;

fn missing() -> Error {
    Error::NotFound("conversation")
}

#[async_trait]
impl ConversationStore for SledStore {
    async fn create_conversation(&self, commit: &Commit) -> Result<()> {
        let commit = commit.clone();
        self.writer
            .run(move |txn| {
                let conversation = &commit.conversation;
                if txn.state(conversation.id).is_some() {
                    return Err(Error::AlreadyExists("conversation"));
                }
                // In the same job as the index entry `delete_customer` checks.
                if !exists(txn, &keys::customer(conversation.customer_id))? {
                    return Err(Error::NotFound("customer"));
                }
                txn.insert(
                    keys::customer_conversation(conversation.customer_id, conversation.id),
                    Vec::new(),
                );
                persist(txn, &commit, None)
            })
            .await
    }

    async fn get_conversation(&self, id: ConversationId) -> Result<Option<Conversation>> {
        Ok(self.rows().get(id).cloned())
    }

    async fn participants(&self, id: ConversationId) -> Result<Vec<Participant>> {
        self.rows()
            .participants(id)
            .map(<[Participant]>::to_vec)
            .ok_or_else(missing)
    }

    async fn list_conversations(&self, query: &ConversationQuery) -> Result<ConversationPage> {
        // Copied out so the row index is not locked while cursors are read.
        let matching: Vec<Conversation> = self
            .rows()
            .newest_first()
            .filter(|c| query.matches(c))
            .cloned()
            .collect();
        query.page(
            &matching,
            |c, reader| Ok(cursors::get(self.tree(), c.id, reader)?.seq),
            |c, reader, _| Ok(cursors::get(self.tree(), c.id, reader)?.unread(reader, c)),
        )
    }

    async fn due_snoozes(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<Vec<ConversationId>> {
        Ok(chat_core::store::due_snoozes(
            self.rows().newest_first(),
            now,
            limit,
        ))
    }

    async fn delete_conversation(&self, removal: &ConversationRemoval) -> Result<bool> {
        let removal = removal.clone();
        self.writer
            .run(move |txn| {
                let id = removal.id;
                let state = txn.state(id).ok_or_else(missing)?;
                if !removal.applies_to(&state.conversation) {
                    return Ok(false);
                }
                crate::search::forget_conversation(txn, id)?;
                for prefix in keys::PER_CONVERSATION {
                    for (key, _) in txn.entries(&keys::of_conversation(prefix, id))? {
                        if prefix == keys::ATTACHMENT_OF {
                            let attachment = &key[key.len() - 16..];
                            txn.remove([&[keys::ATTACHMENT][..], attachment].concat());
                            txn.insert([&[keys::ERASED_FILE][..], attachment].concat(), Vec::new());
                        }
                        txn.remove(key);
                    }
                }
                crate::email::forget_notice(txn, id)?;
                txn.remove(keys::customer_conversation(
                    state.conversation.customer_id,
                    id,
                ));
                txn.remove(keys::conversation(id));
                txn.drop_state(id);
                crate::revise::insert_audit(txn, &removal.audit)?;
                Ok(true)
            })
            .await
    }

    async fn closed_before(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<Vec<ConversationId>> {
        Ok(chat_core::store::closed_before(
            self.rows().newest_first(),
            cutoff,
            limit,
        ))
    }
}

#[async_trait]
impl EventStore for SledStore {
    async fn append(&self, request: &AppendRequest) -> Result<AppendOutcome> {
        let request = request.clone();
        self.writer.run(move |txn| append(txn, &request)).await
    }

    async fn sent_message(&self, key: &IdempotencyKey) -> Result<Option<Message>> {
        let Some(seq) = sent_seq(self.tree(), key)? else {
            return Ok(None);
        };
        // Written but not durable yet (the original is in a group being flushed): wait for
        // the writer's next flush, after which it is durable or the store has failed.
        let id = key.conversation_id;
        if seq > self.durable_seq(id)? {
            self.writer.run(|_| Ok(())).await?;
            if seq > self.durable_seq(id)? {
                return Ok(None);
            }
        }
        message_at(self.tree(), id, seq).map(Some)
    }

    async fn find_message(&self, id: MessageId) -> Result<Option<Message>> {
        let Some(place) = self.tree().value(&keys::message(id))? else {
            return Ok(None);
        };
        let (conversation, seq) =
            keys::place_of(&place).ok_or_else(|| malformed("message place"))?;
        // Only a durable message, of a conversation that still exists.
        if self
            .rows()
            .get(conversation)
            .is_none_or(|row| seq > row.last_seq)
        {
            return Ok(None);
        }
        message_at(self.tree(), conversation, seq).map(Some)
    }

    async fn events_since(
        &self,
        id: ConversationId,
        since: Seq,
        limit: usize,
    ) -> Result<Vec<Event>> {
        let last = self.durable_seq(id)?;
        if since >= last {
            return Ok(Vec::new());
        }
        let range = keys::event(id, since.next())..=keys::event(id, last);
        self.tree()
            .range(range)
            .values()
            .take(limit)
            .map(|value| decode_event(&value.map_err(backend)?))
            .collect()
    }

    async fn messages_before(
        &self,
        id: ConversationId,
        before: Option<Seq>,
        limit: usize,
        audience: Audience,
    ) -> Result<Vec<Message>> {
        let last = self.durable_seq(id)?;
        let end = before.map_or(last, |before| Seq(before.get().saturating_sub(1)).min(last));
        let mut messages = Vec::new();
        for value in self
            .tree()
            .range(keys::event(id, Seq(1))..=keys::event(id, end))
            .values()
            .rev()
        {
            if messages.len() == limit {
                break;
            }
            let event = decode_event(&value.map_err(backend)?)?;
            messages.extend(
                event
                    .message()
                    .filter(|_| event.visible_to(audience))
                    .cloned(),
            );
        }
        Ok(messages)
    }
}

#[async_trait]
impl ReadStateStore for SledStore {
    async fn advance_read_cursor(
        &self,
        id: ConversationId,
        reader: UserRef,
        seq: Seq,
    ) -> Result<Seq> {
        self.writer
            .run(move |txn| {
                let state = txn.state(id).ok_or_else(missing)?;
                let current = cursors::get(txn, id, reader)?;
                if seq <= current.seq {
                    return Ok(current.seq);
                }
                let cursor = cursors::at(txn, reader, &state.conversation, seq, current)?;
                txn.insert(keys::cursor(id, reader), cursors::encode(cursor));
                Ok(seq)
            })
            .await
    }

    async fn read_cursor(&self, id: ConversationId, reader: UserRef) -> Result<Seq> {
        self.durable_seq(id)?;
        Ok(cursors::get(self.tree(), id, reader)?.seq)
    }

    async fn read_cursors(&self, id: ConversationId) -> Result<Vec<(UserRef, ReadCursor)>> {
        self.durable_seq(id)?;
        self.tree()
            .entries(&keys::of_conversation(keys::CURSOR, id))?
            .into_iter()
            .map(|(key, value)| {
                let reader = keys::cursor_reader(&key).ok_or_else(|| malformed("cursor key"))?;
                Ok((reader, cursors::decode_value(&value)?))
            })
            .collect()
    }

    async fn conversation_with_cursors(
        &self,
        id: ConversationId,
    ) -> Result<Option<(Conversation, Vec<(UserRef, ReadCursor)>)>> {
        // The cursors first: the row's counters can only have grown since.
        let cursors = match self.read_cursors(id).await {
            Ok(cursors) => cursors,
            Err(Error::NotFound(_)) => return Ok(None),
            Err(error) => return Err(error),
        };
        let conversation = self.rows().get(id).cloned();
        Ok(conversation.map(|conversation| (conversation, cursors)))
    }

    async fn unread_count(&self, id: ConversationId, reader: UserRef) -> Result<u64> {
        let conversation = self.rows().get(id).cloned().ok_or_else(missing)?;
        let cursor = cursors::get(self.tree(), id, reader)?;
        Ok(cursor.unread(reader, &conversation))
    }
}

impl SledStore {
    /// The conversation's durable `last_seq`, or `NotFound`.
    fn durable_seq(&self, id: ConversationId) -> Result<Seq> {
        self.rows().durable_seq(id).ok_or_else(missing)
    }
}

/// A stored event's value decoded as just the event.
pub(crate) fn decode_event(value: &[u8]) -> Result<Event> {
    let (event, _): (Event, IgnoredAny) = decode(value)?;
    Ok(event)
}

/// The seq of the message stored under `key`, if any.
fn sent_seq(source: &impl Source, key: &IdempotencyKey) -> Result<Option<Seq>> {
    let index = keys::idempotency(
        key.conversation_id,
        key.sender,
        key.client_message_id.as_str(),
    );
    Ok(get_u64(source, &index)?.map(Seq))
}

/// The message an idempotency key points at (its absence means a damaged store).
fn message_at(source: &impl Source, id: ConversationId, seq: Seq) -> Result<Message> {
    let stored = source
        .value(&keys::event(id, seq))?
        .ok_or(Error::NotFound("event"))?;
    decode_event(&stored)?
        .message()
        .cloned()
        .ok_or(Error::NotFound("message"))
}

/// The append procedure (`chat_core::log::append`) on the writer thread, then its commit.
fn append(txn: &mut Txn<'_>, request: &AppendRequest) -> Result<AppendOutcome> {
    let outcome = log::append(txn, request)?;
    if let AppendOutcome::Committed(commit) = &outcome {
        let before = txn.state(request.conversation_id).ok_or_else(missing)?;
        persist(txn, commit, Some(before))?;
    }
    Ok(outcome)
}

/// A write group's reads for the append procedure.
impl LogSource for Txn<'_> {
    fn current(&mut self, id: ConversationId) -> Result<Option<ConversationState>> {
        Ok(Txn::state(self, id))
    }

    fn sent(&mut self, key: &IdempotencyKey) -> Result<Option<Message>> {
        match sent_seq(self, key)? {
            Some(seq) => message_at(self, key.conversation_id, seq).map(Some),
            None => Ok(None),
        }
    }

    fn attachment(&mut self, id: AttachmentId) -> Result<Option<Attachment>> {
        get(self, &keys::attachment(id))
    }

    fn message(&mut self, id: ConversationId, seq: Seq) -> Result<Option<Message>> {
        match self.value(&keys::event(id, seq))? {
            Some(stored) => Ok(decode_event(&stored)?.message().cloned()),
            None => Ok(None),
        }
    }
}
