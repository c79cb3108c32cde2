//! Upgrades a store of an older schema version at open, before anything reads it, in one
//! batch with the new version number.
//!
//! - Version 2 keeps message counters in the conversation rows (`customer_messages`,
//!   `replies`) and, with each read cursor, how many messages counted for its reader up to
//!   it, so unread counts need no scan: the upgrade from 1 rebuilds each row from its log,
//!   writes it as the newest checkpoint, and rewrites each cursor.
//! - Version 3 has the change feed: the upgrade from 2 (or 1) gives every stored event a
//!   position, in the order of the events' timestamps.
//! - Version 4 has the search index and the visitors' address index: the upgrade writes
//!   an entry for every stored message and address.
//! - Version 5 indexes conversations and sessions by visitor (what an erasure finds), and
//!   redactions by message (what a conversation's deletion erases): the upgrade writes an
//!   entry for every stored conversation, visitor session and redaction.

use std::path::Path;

use chat_core::accounts::{Session, SessionSubject};
use chat_core::audit::{AuditAction, AuditEntry};
use chat_core::event::Event;
use chat_core::ids::{ConversationId, Seq, Uuid};
use chat_core::log;
use chat_core::model::Conversation;
use chat_core::read::{self, ReadCursor};
use chat_core::{Error, Result};

use crate::codec::{decode, encode};
use crate::cursors;
use crate::disk::DiskFlush;
use crate::error::{backend, malformed};
use crate::keys::{self, SCHEMA, SCHEMA_VERSION};

/// The oldest version this module upgrades from.
pub const OLDEST: u32 = 1;

/// Upgrades a store of version `from`, then records [`SCHEMA_VERSION`], and syncs it all
/// to disk like any acknowledged write.
pub fn upgrade(db: &sled::Db, dir: &Path, from: u32) -> Result<()> {
    let mut batch = sled::Batch::default();
    let conversations = conversations(db)?;
    if from < 2 {
        for id in &conversations {
            upgrade_conversation(db, *id, &mut batch)?;
        }
    }
    if from < 3 {
        fill_feed(db, &conversations, &mut batch)?;
    }
    if from < 4 {
        for (key, value) in crate::search::all_entries(db)? {
            batch.insert(key, value);
        }
    }
    if from < 5 {
        index_by_visitor(db, &conversations, &mut batch)?;
        index_redactions(db, &mut batch)?;
    }
    batch.insert(SCHEMA, &SCHEMA_VERSION.to_be_bytes());
    db.apply_batch(batch).map_err(backend)?;
    let mut disk = DiskFlush::open(db.clone(), dir).map_err(chat_core::Error::backend)?;
    disk.flush().map_err(backend)
}

/// Indexes every conversation and visitor session by its visitor.
fn index_by_visitor(db: &sled::Db, ids: &[ConversationId], batch: &mut sled::Batch) -> Result<()> {
    for id in ids {
        // Its visitor, from its oldest row checkpoint.
        let mut row = None;
        for value in db
            .scan_prefix(keys::of_conversation(keys::EVENT, *id))
            .values()
        {
            let (_, checkpoint): (serde::de::IgnoredAny, Option<Conversation>) =
                decode(&value.map_err(backend)?)?;
            if checkpoint.is_some() {
                row = checkpoint;
                break;
            }
        }
        let row = row.ok_or_else(|| malformed("conversation without a row checkpoint"))?;
        batch.insert(keys::customer_conversation(row.customer_id, *id), &[]);
    }
    for value in db.scan_prefix([keys::SESSION]).values() {
        let session: Session = decode(&value.map_err(backend)?)?;
        if let SessionSubject::Visitor(_) = session.subject {
            batch.insert(keys::session_of(session.subject, &session.token_hash), &[]);
        }
    }
    Ok(())
}

/// Indexes every stored redaction by its message, as `insert_audit` now does; one whose
/// message's conversation was deleted before loses its reason, as deletes now do.
fn index_redactions(db: &sled::Db, batch: &mut sled::Batch) -> Result<()> {
    for value in db.scan_prefix([keys::AUDIT]).values() {
        let mut entry: AuditEntry = decode(&value.map_err(backend)?)?;
        let AuditAction::MessageRedacted { message, .. } = entry.action else {
            continue;
        };
        if db.contains_key(keys::message(message)).map_err(backend)? {
            batch.insert(keys::audit_of_message(message, entry.id), &[]);
        } else {
            entry.action.erase_content();
            batch.insert(keys::audit(entry.id), encode(&entry)?);
        }
    }
    Ok(())
}

/// Every conversation's id.
fn conversations(db: &sled::Db) -> Result<Vec<ConversationId>> {
    let mut ids = Vec::new();
    for key in db.scan_prefix([keys::CONVERSATION]).keys() {
        let key = key.map_err(backend)?;
        let id: [u8; 16] = key
            .get(1..17)
            .and_then(|id| id.try_into().ok())
            .ok_or_else(|| malformed("conversation key"))?;
        ids.push(ConversationId::from(Uuid::from_bytes(id)));
    }
    Ok(ids)
}

/// Gives every stored event a feed position: by timestamp, then conversation and seq (so
/// each conversation's events keep their order).
fn fill_feed(db: &sled::Db, ids: &[ConversationId], batch: &mut sled::Batch) -> Result<()> {
    let mut events = Vec::new();
    for id in ids {
        for value in db
            .scan_prefix(keys::of_conversation(keys::EVENT, *id))
            .values()
        {
            let (event, _): (Event, serde::de::IgnoredAny) = decode(&value.map_err(backend)?)?;
            events.push((event.timestamp, event.conversation_id, event.seq));
        }
    }
    events.sort_unstable();
    // A clock that stepped back could put a later seq first: each conversation's positions
    // carry its seqs in ascending order regardless.
    let mut seqs: std::collections::HashMap<ConversationId, Vec<Seq>> = Default::default();
    for (_, id, seq) in &events {
        seqs.entry(*id).or_default().push(*seq);
    }
    for list in seqs.values_mut() {
        list.sort_unstable_by(|a, b| b.cmp(a));
    }
    for (position, (_, id, _)) in events.iter().enumerate() {
        let seq = seqs
            .get_mut(id)
            .and_then(Vec::pop)
            .ok_or_else(|| malformed("feed"))?;
        batch.insert(keys::feed(position as u64 + 1), keys::place(*id, seq));
    }
    Ok(())
}

fn upgrade_conversation(db: &sled::Db, id: ConversationId, batch: &mut sled::Batch) -> Result<()> {
    let mut log_entries = Vec::new();
    for value in db
        .scan_prefix(keys::of_conversation(keys::EVENT, id))
        .values()
    {
        let (event, row): (Event, Option<Conversation>) = decode(&value.map_err(backend)?)?;
        log_entries.push((event, row));
    }
    let events: Vec<&Event> = log_entries.iter().map(|(event, _)| event).collect();
    let row = rebuild(&log_entries)?;
    if let Some(last) = events.last() {
        batch.insert(keys::event(id, last.seq), encode(&(last, Some(&row)))?);
    }
    for entry in db.scan_prefix(keys::of_conversation(keys::CURSOR, id)) {
        let (key, value) = entry.map_err(backend)?;
        let reader = keys::cursor_reader(&key).ok_or_else(|| malformed("cursor key"))?;
        let seq: [u8; 8] = value
            .as_ref()
            .get(..8)
            .and_then(|seq| seq.try_into().ok())
            .ok_or_else(|| malformed("read cursor"))?;
        let seq = Seq(u64::from_be_bytes(seq));
        let counted = events
            .iter()
            .filter(|event| event.seq <= seq)
            .filter_map(|event| event.message())
            .filter(|message| read::counts_as_unread(reader, message))
            .count() as u64;
        batch.insert(key, cursors::encode(ReadCursor { seq, counted }));
    }
    Ok(())
}

/// The row after the whole log: its oldest checkpoint, the later events applied, and the
/// counters counted over every event (by applying them all to a copy).
fn rebuild(log_entries: &[(Event, Option<Conversation>)]) -> Result<Conversation> {
    let first = log_entries
        .iter()
        .position(|(_, row)| row.is_some())
        .ok_or(Error::NotFound("conversation checkpoint"))?;
    let mut row = log_entries[first]
        .1
        .clone()
        .ok_or(Error::NotFound("checkpoint"))?;
    let mut counter = Conversation {
        customer_messages: 0,
        replies: 0,
        ..row.clone()
    };
    for (event, _) in log_entries {
        log::apply(&mut counter, event);
    }
    for (event, _) in &log_entries[first + 1..] {
        log::apply(&mut row, event);
    }
    row.customer_messages = counter.customer_messages;
    row.replies = counter.replies;
    Ok(row)
}
