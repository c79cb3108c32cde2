//! The conversation rows, kept in memory: point lookups, the inbox order, and the
//! durability fence for log reads.
//!
//! Rows are not written as keys of their own. A stored event may carry the row as it was
//! after its write (a checkpoint): every write that is more than a message does, and so
//! does every [`CHECKPOINT_EVERY`]th seq. [`RowIndex::load`] takes each conversation's
//! newest checkpoint and replays the few events after it with `chat_core::log::apply`. The writer publishes a group's rows only after the group
//! is durable, so readers never see a row, nor (through [`RowIndex::durable_seq`]) an
//! event, that a crash could take back.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, RwLock, RwLockReadGuard};

use chat_core::Result;
use chat_core::event::Event;
use chat_core::ids::{ConversationId, Seq};
use chat_core::log::{self, ConversationState};
use chat_core::model::{Conversation, Participant};
use chrono::{DateTime, Utc};

use crate::codec::{decode, scan};
use crate::error::backend;
use crate::keys;

/// A write group's row changes: `None` deletes the conversation.
pub type RowChanges = HashMap<ConversationId, Option<ConversationState>>;

/// Every conversation's current state, by id and by newest activity.
#[derive(Debug, Default)]
pub struct RowIndex {
    rows: HashMap<ConversationId, ConversationState>,
    order: BTreeSet<(DateTime<Utc>, ConversationId)>,
}

impl RowIndex {
    /// Rebuilds the index: every conversation's newest checkpoint, brought up to date.
    pub fn load(tree: &sled::Tree) -> Result<Self> {
        let mut index = Self::default();
        for key in tree.scan_prefix([keys::CONVERSATION]).keys() {
            let key = key.map_err(backend)?;
            let log = [&[keys::EVENT][..], &key[1..]].concat();
            let row = replay(tree.scan_prefix(log).values().rev())?;
            let participants = scan(tree, &keys::of_conversation(keys::PARTICIPANT, row.id))?;
            index.upsert(ConversationState {
                conversation: row,
                participants,
            });
        }
        Ok(index)
    }

    /// The row, if the conversation exists.
    pub fn get(&self, id: ConversationId) -> Option<&Conversation> {
        self.rows.get(&id).map(|state| &state.conversation)
    }

    /// The whole state, if the conversation exists.
    pub fn state(&self, id: ConversationId) -> Option<&ConversationState> {
        self.rows.get(&id)
    }

    /// The participants, if the conversation exists.
    pub fn participants(&self, id: ConversationId) -> Option<&[Participant]> {
        self.rows
            .get(&id)
            .map(|state| state.participants.as_slice())
    }

    /// The newest durable seq of a conversation (`None`: no such conversation).
    pub fn durable_seq(&self, id: ConversationId) -> Option<Seq> {
        self.rows.get(&id).map(|state| state.conversation.last_seq)
    }

    /// Rows in list order: newest activity first, then id descending.
    pub fn newest_first(&self) -> impl Iterator<Item = &Conversation> {
        self.order.iter().rev().filter_map(|(_, id)| self.get(*id))
    }

    /// Inserts or replaces a row.
    pub fn upsert(&mut self, state: ConversationState) {
        let row = &state.conversation;
        if let Some(old) = self.rows.get(&row.id) {
            self.order
                .remove(&(old.conversation.updated_at, old.conversation.id));
        }
        self.order.insert((row.updated_at, row.id));
        self.rows.insert(row.id, state);
    }

    /// Removes a row.
    pub fn remove(&mut self, id: ConversationId) {
        if let Some(old) = self.rows.remove(&id) {
            self.order
                .remove(&(old.conversation.updated_at, old.conversation.id));
        }
    }

    /// Publishes a durable group's row changes.
    pub fn apply(&mut self, changes: RowChanges) {
        for (id, row) in changes {
            match row {
                Some(state) => self.upsert(state),
                None => self.remove(id),
            }
        }
    }
}

/// Seqs divisible by this carry a checkpoint even when their write is only a message.
pub const CHECKPOINT_EVERY: u64 = 32;

/// Folds a conversation's log, read newest first, from its newest checkpoint.
fn replay(newest_first: impl Iterator<Item = sled::Result<sled::IVec>>) -> Result<Conversation> {
    let mut after = Vec::new();
    for value in newest_first {
        let (event, checkpoint): (Event, Option<Conversation>) = decode(&value.map_err(backend)?)?;
        if let Some(mut row) = checkpoint {
            for event in after.iter().rev() {
                log::apply(&mut row, event);
            }
            return Ok(row);
        }
        after.push(event);
    }
    Err(chat_core::Error::NotFound("conversation checkpoint"))
}

/// The rows as readers see them (durable) and as the writer sees them (durable plus the
/// groups applied but not yet flushed).
#[derive(Debug, Default)]
pub struct SharedRows {
    durable: RwLock<RowIndex>,
    pending: Mutex<HashMap<ConversationId, (u64, Option<ConversationState>)>>,
    /// The change feed's newest position: durable (what readers may read up to) and staged
    /// (what the writer gives out after).
    feed: Mutex<FeedHeads>,
}

#[derive(Debug, Default, Clone, Copy)]
struct FeedHeads {
    durable: u64,
    staged: u64,
}

impl SharedRows {
    /// Starts from a loaded index and the feed's newest position on disk.
    pub fn new(index: RowIndex, feed: u64) -> Self {
        Self {
            durable: RwLock::new(index),
            pending: Mutex::default(),
            feed: Mutex::new(FeedHeads {
                durable: feed,
                staged: feed,
            }),
        }
    }

    /// The newest feed position readers may read.
    pub fn durable_feed_position(&self) -> u64 {
        self.feed_heads().durable
    }

    /// The newest feed position given out, durable or not: the writer continues after it.
    pub fn newest_feed_position(&self) -> u64 {
        self.feed_heads().staged
    }

    fn feed_heads(&self) -> std::sync::MutexGuard<'_, FeedHeads> {
        self.feed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The durable rows.
    pub fn durable(&self) -> RwLockReadGuard<'_, RowIndex> {
        self.durable
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The newest row, durable or not: what the writer plans against. `None` inside means
    /// deleted.
    pub fn newest(&self, id: ConversationId) -> Option<Option<ConversationState>> {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        pending.get(&id).map(|(_, row)| row.clone())
    }

    /// Group `group` was applied (not yet flushed): the writer plans against its rows and
    /// continues the feed after `feed`.
    pub fn stage(&self, group: u64, changes: &RowChanges, feed: u64) {
        self.feed_heads().staged = feed;
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        pending.extend(changes.iter().map(|(id, row)| (*id, (group, row.clone()))));
    }

    /// Group `group` is durable: readers see its rows, and the feed up to `feed`.
    pub fn publish(&self, group: u64, changes: RowChanges, feed: u64) {
        self.durable
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .apply(changes);
        let mut heads = self.feed_heads();
        heads.durable = heads.durable.max(feed);
        drop(heads);
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        pending.retain(|_, (staged, _)| *staged > group);
    }
}
