//! A write group's view of the tree: reads see the tree plus the writes of earlier jobs in
//! the group plus the current job's own writes; a job's writes join the group only if the
//! job succeeds. The whole group is then applied as one sled batch.
//!
//! One batch per group (instead of one per write) matters: sled's `apply_batch` has a large
//! fixed cost, while the inserts inside a batch cost about as much as plain inserts.
//!
//! Conversation rows live in [`SharedRows`]; a group's row changes are kept here the same
//! way, staged once the group is applied and published to readers once it is durable.

use std::collections::BTreeMap;
use std::ops::Bound;

use chat_core::Result;
use chat_core::ids::ConversationId;

use chat_core::log::ConversationState;

use crate::rows::{RowChanges, SharedRows};
use crate::source::Source;

type Overlay = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The writes of one group, and of the job being run in it.
pub struct Txn<'a> {
    tree: &'a sled::Tree,
    rows: &'a SharedRows,
    group: Overlay,
    job: Overlay,
    group_rows: RowChanges,
    job_rows: RowChanges,
    /// The newest feed position given out by the group, and by the job.
    group_feed: u64,
    job_feed: u64,
}

impl<'a> Txn<'a> {
    /// An empty group over `tree` and `rows`.
    pub fn new(tree: &'a sled::Tree, rows: &'a SharedRows) -> Self {
        let feed = rows.newest_feed_position();
        Self {
            group_feed: feed,
            job_feed: feed,
            tree,
            rows,
            group: Overlay::new(),
            job: Overlay::new(),
            group_rows: RowChanges::new(),
            job_rows: RowChanges::new(),
        }
    }

    /// The conversation's state as this job sees it.
    pub fn state(&self, id: ConversationId) -> Option<ConversationState> {
        match self.job_rows.get(&id).or_else(|| self.group_rows.get(&id)) {
            Some(pending) => pending.clone(),
            None => self
                .rows
                .newest(id)
                .unwrap_or_else(|| self.rows.durable().state(id).cloned()),
        }
    }

    /// Sets a conversation's state.
    pub fn set_state(&mut self, state: ConversationState) {
        self.job_rows.insert(state.conversation.id, Some(state));
    }

    /// Deletes a conversation's state.
    pub fn drop_state(&mut self, id: ConversationId) {
        self.job_rows.insert(id, None);
    }

    /// Gives `id`'s event `seq` the next feed position.
    pub fn add_to_feed(&mut self, id: ConversationId, seq: chat_core::ids::Seq) {
        self.job_feed += 1;
        let key = crate::keys::feed(self.job_feed);
        self.insert(key, crate::keys::place(id, seq));
    }

    /// Sets `key` to `value` (visible to this job's reads at once).
    pub fn insert(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.job.insert(key.into(), Some(value.into()));
    }

    /// Deletes `key`.
    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.job.insert(key.into(), None);
    }

    /// Keeps the current job's writes in the group.
    pub fn commit_job(&mut self) {
        // `extend`, not `append`: append merges whole trees, quadratic over a group.
        let job = std::mem::take(&mut self.job);
        self.group.extend(job);
        self.group_rows.extend(self.job_rows.drain());
        self.group_feed = self.job_feed;
    }

    /// Drops the current job's writes.
    pub fn abort_job(&mut self) {
        self.job.clear();
        self.job_rows.clear();
        self.job_feed = self.group_feed;
    }

    /// Whether the group wrote anything.
    pub fn is_empty(&self) -> bool {
        self.group.is_empty()
    }

    /// The group's writes as one batch, its row changes, and its newest feed position.
    pub fn into_parts(self) -> (sled::Batch, RowChanges, u64) {
        let mut batch = sled::Batch::default();
        for (key, value) in self.group {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        (batch, self.group_rows, self.group_feed)
    }

    fn pending(&self, key: &[u8]) -> Option<&Option<Vec<u8>>> {
        self.job.get(key).or_else(|| self.group.get(key))
    }
}

impl Source for Txn<'_> {
    fn value(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.pending(key) {
            Some(pending) => Ok(pending.clone()),
            None => self.tree.value(key),
        }
    }

    fn entries(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut merged: BTreeMap<Vec<u8>, Option<Vec<u8>>> = self
            .tree
            .entries(prefix)?
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .collect();
        for overlay in [&self.group, &self.job] {
            let range = (Bound::Included(prefix.to_vec()), Bound::Unbounded);
            for (key, value) in overlay
                .range::<Vec<u8>, _>(range)
                .take_while(|(k, _)| k.starts_with(prefix))
            {
                merged.insert(key.clone(), value.clone());
            }
        }
        Ok(merged
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect())
    }
}
