//! Upgrades a store of schema version 1 at open, before anything reads it. Version 2 keeps
//! message counters in the conversation rows (`customer_messages`, `replies`) and, with each
//! read cursor, how many messages counted for its reader up to it, so unread counts need no
//! scan. The upgrade rebuilds each row from its log and writes it as the newest checkpoint,
//! rewrites each cursor, and records the new version, all in one batch.

use std::path::Path;

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

/// The version this module upgrades from.
pub const FROM: u32 = 1;

/// Upgrades every conversation and cursor, then records [`SCHEMA_VERSION`], and syncs it
/// all to disk like any acknowledged write.
pub fn upgrade(db: &sled::Db, dir: &Path) -> Result<()> {
    let mut batch = sled::Batch::default();
    for key in db.scan_prefix([keys::CONVERSATION]).keys() {
        let key = key.map_err(backend)?;
        let id: [u8; 16] = key
            .get(1..17)
            .and_then(|id| id.try_into().ok())
            .ok_or_else(|| malformed("conversation key"))?;
        upgrade_conversation(db, ConversationId::from(Uuid::from_bytes(id)), &mut batch)?;
    }
    batch.insert(SCHEMA, &SCHEMA_VERSION.to_be_bytes());
    db.apply_batch(batch).map_err(backend)?;
    let mut disk = DiskFlush::open(db.clone(), dir).map_err(chat_core::Error::backend)?;
    disk.flush().map_err(backend)
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
