//! The conversation behind an `inbox` update, read once per update on this node however
//! many agents' connections receive it (single flight): each connection then decides and
//! counts for its own principal from the shared snapshot, so a message costs the store
//! one read of the conversation and its cursors, not one (or two) per agent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chat_core::broadcast::InboxUpdate;
use chat_core::engine::InboxSnapshot;
use chat_core::ids::{ConversationId, Seq};
use chat_core::{ChatEngine, Principal};
use tokio::sync::OnceCell;

/// Beyond this many conversations the cache starts over; an entry is only useful while
/// one update fans out, so dropping them all costs a re-read at most (and bounds what the
/// cache holds: each entry is a conversation row with its cursors).
const MAX_ENTRIES: usize = 1_024;

/// A snapshot as read (`None`: the conversation is gone), shared by its readers.
pub type Shared = Option<Arc<InboxSnapshot>>;
type Cell = Arc<OnceCell<Shared>>;

/// The cache: the newest update's snapshot per conversation.
#[derive(Debug, Default)]
pub struct InboxSnapshots(Mutex<HashMap<ConversationId, (Seq, Cell)>>);

impl InboxSnapshots {
    /// The conversation as of `update` or later, read for `principal` (an agent with an
    /// inbox) if no other connection has read it yet; an error if the store failed (not
    /// cached: the next update tries again).
    pub async fn get(
        &self,
        engine: &ChatEngine,
        principal: &Principal,
        update: &InboxUpdate,
    ) -> Result<Shared, chat_core::Error> {
        let read = || async {
            let snapshot = engine
                .inbox_snapshot(principal, update.conversation_id)
                .await?;
            Ok(snapshot.map(Arc::new))
        };
        self.cell(update).get_or_try_init(read).await.cloned()
    }

    /// The shared cell for this update: its own, or a newer update's (whose snapshot is as
    /// of a later seq, which is all an older update asks for).
    fn cell(&self, update: &InboxUpdate) -> Cell {
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
        entry.1.clone()
    }
}

#[cfg(test)]
mod tests {
    use chat_core::broadcast::InboxKind;

    use super::*;

    fn update(id: ConversationId, seq: u64) -> InboxUpdate {
        InboxUpdate {
            conversation_id: id,
            kind: InboxKind::Message,
            assignee: None,
            released: None,
            seq: Seq(seq),
        }
    }

    #[test]
    fn one_cell_per_update_and_a_newer_update_gets_a_fresh_one() {
        let snapshots = InboxSnapshots::default();
        let id = ConversationId::new();
        let first = snapshots.cell(&update(id, 4));
        assert!(Arc::ptr_eq(&first, &snapshots.cell(&update(id, 4))));
        let newer = snapshots.cell(&update(id, 5));
        assert!(!Arc::ptr_eq(&first, &newer), "a newer update reads again");
        let late = snapshots.cell(&update(id, 4));
        assert!(
            Arc::ptr_eq(&newer, &late),
            "an older update arriving late shares the newer snapshot"
        );
        let other = snapshots.cell(&update(ConversationId::new(), 4));
        assert!(!Arc::ptr_eq(&newer, &other));
    }
}
