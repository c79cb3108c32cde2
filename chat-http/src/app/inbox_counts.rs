//! Unread counts for `inbox` events, computed once per agent and update however many of the
//! agent's connections are open on this node (single flight), instead of once per
//! connection: an agent with many tabs, or many agents' worth of connections from one
//! account, costs one store query per message, not one per socket.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chat_core::ChatEngine;
use chat_core::authz::Principal;
use chat_core::broadcast::InboxUpdate;
use chat_core::ids::{AdminId, ConversationId, Seq};
use tokio::sync::OnceCell;

/// Beyond this many (agent, conversation) entries the cache starts over; an entry is only
/// useful while one update fans out, so dropping them all costs a recount at most.
const MAX_ENTRIES: usize = 10_000;

type Cell = Arc<OnceCell<Option<u64>>>;

/// The cache: the newest update's count per agent and conversation.
#[derive(Debug, Default)]
pub struct InboxCounts(Mutex<HashMap<(AdminId, ConversationId), (Seq, Cell)>>);

impl InboxCounts {
    /// The principal's unread count in the updated conversation: `None` if it may not read
    /// it, an error if the store failed (not cached: the next update tries again).
    pub async fn unread(
        &self,
        engine: &ChatEngine,
        principal: &Principal,
        update: &InboxUpdate,
    ) -> Result<Option<u64>, chat_core::Error> {
        let count = || async {
            match engine.unread_count(principal, update.conversation_id).await {
                Ok(count) => Ok(Some(count)),
                Err(chat_core::Error::NotFound(_) | chat_core::Error::PermissionDenied(_)) => {
                    Ok(None)
                }
                Err(error) => Err(error),
            }
        };
        let Principal::Admin { id, .. } = principal else {
            return count().await;
        };
        let Some(cell) = self.cell(*id, update) else {
            return count().await;
        };
        cell.get_or_try_init(count).await.copied()
    }

    /// The shared cell for this update, or `None` for an update older than the cached one.
    fn cell(&self, admin: AdminId, update: &InboxUpdate) -> Option<Cell> {
        let mut entries = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        let entry = entries
            .entry((admin, update.conversation_id))
            .or_insert_with(|| (update.seq, Cell::default()));
        if update.seq > entry.0 {
            *entry = (update.seq, Cell::default());
        }
        (update.seq == entry.0).then(|| entry.1.clone())
    }
}
