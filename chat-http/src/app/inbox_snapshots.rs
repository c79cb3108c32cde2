//! The conversation behind an `inbox` update, read once per update on this node however
//! many agents' connections receive it (single flight): each connection then decides and
//! counts for its own principal from the shared snapshot, so a message costs the store
//! one read of the conversation and its cursors, not one (or two) per agent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chat_core::ChatEngine;
use chat_core::broadcast::InboxUpdate;
use chat_core::engine::InboxSnapshot;
use chat_core::ids::{ConversationId, Seq};
use tokio::sync::OnceCell;

/// Beyond this many conversations the cache starts over; an entry is only useful while
/// one update fans out, so dropping them all costs a re-read at most.
const MAX_ENTRIES: usize = 10_000;

/// A snapshot as read (`None`: the conversation is gone), shared by its readers.
pub type Shared = Option<Arc<InboxSnapshot>>;
type Cell = Arc<OnceCell<Shared>>;

/// The cache: the newest update's snapshot per conversation.
#[derive(Debug, Default)]
pub struct InboxSnapshots(Mutex<HashMap<ConversationId, (Seq, Cell)>>);

impl InboxSnapshots {
    /// The conversation as of `update` or later; an error if the store failed (not
    /// cached: the next update tries again).
    pub async fn get(
        &self,
        engine: &ChatEngine,
        update: &InboxUpdate,
    ) -> Result<Shared, chat_core::Error> {
        let read = || async {
            let snapshot = engine.inbox_snapshot(update.conversation_id).await?;
            Ok(snapshot.map(Arc::new))
        };
        match self.cell(update) {
            Some(cell) => cell.get_or_try_init(read).await.cloned(),
            None => read().await,
        }
    }

    /// The shared cell for this update, or `None` for an update older than the cached one.
    fn cell(&self, update: &InboxUpdate) -> Option<Cell> {
        let mut entries = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        let entry = entries
            .entry(update.conversation_id)
            .or_insert_with(|| (update.seq, Cell::default()));
        if update.seq > entry.0 {
            *entry = (update.seq, Cell::default());
        }
        (update.seq == entry.0).then(|| entry.1.clone())
    }
}
