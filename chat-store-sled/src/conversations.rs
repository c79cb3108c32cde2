//! The conversation-side traits: conversations, the event log and read state.

use async_trait::async_trait;
use chat_core::event::{Audience, Event};
use chat_core::ids::{ConversationId, Seq};
use chat_core::log::{self, AppendOutcome, AppendRequest, Commit, LogState};
use chat_core::model::{Conversation, Message, Participant, UserRef};
use chat_core::read;
use chat_core::store::{
    ConversationPage, ConversationQuery, ConversationStore, ConversationSummary, EventStore,
    ListCursor, ReadStateStore,
};
use chat_core::{Error, Result};

use crate::codec::{decode, exists, get, get_u64, keys as scan_keys, scan};
use crate::commit::persist;
use crate::error::backend;
use crate::keys;
use crate::store::SledStore;

fn missing() -> Error {
    Error::NotFound("conversation")
}

#[async_trait]
impl ConversationStore for SledStore {
    async fn create_conversation(&self, commit: &Commit) -> Result<()> {
        let commit = commit.clone();
        self.writer
            .run(move |db| {
                if exists(db, &keys::conversation(commit.conversation.id))? {
                    return Err(Error::AlreadyExists("conversation"));
                }
                let mut batch = sled::Batch::default();
                persist(&mut batch, &commit, None, &[])?;
                db.apply_batch(batch).map_err(backend)
            })
            .await
    }

    async fn get_conversation(&self, id: ConversationId) -> Result<Option<Conversation>> {
        get(&self.db, &keys::conversation(id))
    }

    async fn participants(&self, id: ConversationId) -> Result<Vec<Participant>> {
        self.require(id)?;
        scan(&self.db, &keys::of_conversation(keys::PARTICIPANT, id))
    }

    async fn list_conversations(&self, query: &ConversationQuery) -> Result<ConversationPage> {
        let mut page = ConversationPage {
            items: Vec::new(),
            total_count: 0,
            unread_count: 0,
            next: None,
        };
        let mut more = false;
        for entry in self.db.scan_prefix([keys::LIST]).rev() {
            let (key, value) = entry.map_err(backend)?;
            let conversation: Conversation = decode(&value)?;
            if !query.matches(&conversation) {
                continue;
            }
            page.total_count += 1;
            let cursor = match query.reader {
                Some(reader) => self.cursor(conversation.id, reader)?,
                None => Seq::ZERO,
            };
            let unread = query
                .reader
                .is_some_and(|reader| read::has_unread(reader, &conversation, cursor));
            page.unread_count += u64::from(unread);
            let after_cursor = query
                .after
                .is_none_or(|after| key.as_ref() < keys::list_cursor(&after).as_slice());
            if after_cursor && page.items.len() < query.limit {
                let unread = match query.reader {
                    Some(reader) => self.count_unread(conversation.id, reader, cursor)?,
                    None => 0,
                };
                page.items.push(ConversationSummary {
                    conversation,
                    last_read_seq: cursor,
                    unread,
                });
            } else if after_cursor {
                more = true;
            }
        }
        page.next = more
            .then(|| {
                page.items
                    .last()
                    .map(|s| ListCursor::after(&s.conversation))
            })
            .flatten();
        Ok(page)
    }

    async fn delete_conversation(&self, id: ConversationId) -> Result<()> {
        self.writer
            .run(move |db| {
                let conversation: Conversation =
                    get(db, &keys::conversation(id))?.ok_or_else(missing)?;
                let mut batch = sled::Batch::default();
                for prefix in keys::PER_CONVERSATION {
                    for key in scan_keys(db, &keys::of_conversation(prefix, id))? {
                        if prefix == keys::ATTACHMENT_OF {
                            let attachment = &key[key.len() - 16..];
                            batch.remove([&[keys::ATTACHMENT][..], attachment].concat());
                        }
                        batch.remove(key);
                    }
                }
                batch.remove(keys::list(conversation.updated_at, id));
                batch.remove(keys::conversation(id));
                db.apply_batch(batch).map_err(backend)
            })
            .await
    }
}

#[async_trait]
impl EventStore for SledStore {
    async fn append(&self, request: &AppendRequest) -> Result<AppendOutcome> {
        let request = request.clone();
        self.writer.run(move |db| append(db, &request)).await
    }

    async fn events_since(
        &self,
        id: ConversationId,
        since: Seq,
        limit: usize,
    ) -> Result<Vec<Event>> {
        self.require(id)?;
        let range = keys::event(id, since.next())..=keys::event(id, Seq(u64::MAX));
        self.db
            .range(range)
            .values()
            .take(limit)
            .map(|value| decode(&value.map_err(backend)?))
            .collect()
    }

    async fn messages_before(
        &self,
        id: ConversationId,
        before: Option<Seq>,
        limit: usize,
        audience: Audience,
    ) -> Result<Vec<Message>> {
        self.require(id)?;
        let end = keys::message(id, before.unwrap_or(Seq(u64::MAX)));
        let mut messages = Vec::new();
        for entry in self.db.range(keys::message(id, Seq::ZERO)..end).rev() {
            if messages.len() == limit {
                break;
            }
            let (key, flags) = entry.map_err(backend)?;
            let private = keys::decode_message_flags(&flags).is_some_and(|(_, private)| private);
            if audience == Audience::Customer && private {
                continue;
            }
            let event: Event = get(&self.db, &keys::event(id, keys::seq_of(&key)))?
                .ok_or(Error::NotFound("event"))?;
            messages.extend(event.message().cloned());
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
            .run(move |db| {
                if !exists(db, &keys::conversation(id))? {
                    return Err(missing());
                }
                let key = keys::cursor(id, reader);
                let current = Seq(get_u64(db, &key)?.unwrap_or(0));
                if seq > current {
                    db.insert(key, &seq.get().to_be_bytes()).map_err(backend)?;
                }
                Ok(seq.max(current))
            })
            .await
    }

    async fn read_cursor(&self, id: ConversationId, reader: UserRef) -> Result<Seq> {
        self.require(id)?;
        self.cursor(id, reader)
    }

    async fn unread_count(&self, id: ConversationId, reader: UserRef) -> Result<u64> {
        self.require(id)?;
        let cursor = self.cursor(id, reader)?;
        self.count_unread(id, reader, cursor)
    }
}

impl SledStore {
    fn require(&self, id: ConversationId) -> Result<()> {
        if exists(&self.db, &keys::conversation(id))? {
            Ok(())
        } else {
            Err(missing())
        }
    }

    fn cursor(&self, id: ConversationId, reader: UserRef) -> Result<Seq> {
        Ok(Seq(
            get_u64(&self.db, &keys::cursor(id, reader))?.unwrap_or(0)
        ))
    }

    /// Counts the messages after `cursor` that are unread for `reader`, from the index flags.
    fn count_unread(&self, id: ConversationId, reader: UserRef, cursor: Seq) -> Result<u64> {
        let range = keys::message(id, cursor.next())..=keys::message(id, Seq(u64::MAX));
        let mut count = 0;
        for flags in self.db.range(range).values() {
            let flags = flags.map_err(backend)?;
            let (kind, private) = keys::decode_message_flags(&flags)
                .ok_or(Error::NotSupported("malformed message index"))?;
            count += u64::from(read::kind_counts_as_unread(reader, kind, private));
        }
        Ok(count)
    }
}

/// The append procedure of the storage contract, on the writer thread.
fn append(db: &sled::Db, request: &AppendRequest) -> Result<AppendOutcome> {
    let id = request.conversation_id;
    let conversation: Conversation = get(db, &keys::conversation(id))?.ok_or_else(missing)?;
    if let Some(key) = request.idempotency_key() {
        let index = keys::idempotency(id, key.sender, key.client_message_id.as_str());
        if let Some(seq) = get_u64(db, &index)? {
            let event: Event =
                get(db, &keys::event(id, Seq(seq)))?.ok_or(Error::NotFound("event"))?;
            return event
                .message()
                .cloned()
                .map(AppendOutcome::Duplicate)
                .ok_or(Error::NotFound("message"));
        }
    }
    let participants: Vec<Participant> = scan(db, &keys::of_conversation(keys::PARTICIPANT, id))?;
    let mut attachments = Vec::new();
    for attachment_id in request.attachment_ids() {
        attachments.extend(get(db, &keys::attachment(*attachment_id))?);
    }
    let state = LogState {
        conversation,
        participants,
        attachments,
    };
    let commit = log::plan(&state, request)?;
    let mut batch = sled::Batch::default();
    persist(
        &mut batch,
        &commit,
        Some(&state.conversation),
        &state.participants,
    )?;
    db.apply_batch(batch).map_err(backend)?;
    Ok(AppendOutcome::Committed(Box::new(commit)))
}
