//! An agent connection's `inbox` events: each update with the principal's unread count,
//! decided and counted from the snapshot the node reads once per update
//! (`inbox_snapshots.rs`). Updates that queue up while the client is slow to read (or
//! arrive in a burst) are coalesced to the latest per conversation before they are sent,
//! in the order they last changed, so a connection never falls further behind than the
//! conversations that changed, and the final state of each is always sent (or, after
//! anything was missed, one `resync` that reloads the list). Message events (the rooms)
//! are never coalesced.

use std::sync::Arc;

use chat_core::Principal;
use chat_core::broadcast::{Delivery, InboxKind, InboxUpdate, Signal, Subscription};
use futures_util::{FutureExt, StreamExt};
use serde_json::{Value, json};

use crate::app::connection::Connection;
use crate::app::protocol::ServerEvent;

/// Most updates one round takes from the subscription before sending.
const COALESCE: usize = 256;

/// Forwards the inbox of `principal` (the connection restarts it when that changes).
pub async fn forward(connection: Arc<Connection>, inbox: Subscription, principal: Principal) {
    let mut inbox = inbox.fuse();
    while let Some(first) = inbox.next().await {
        let mut pending = Pending::default();
        pending.add(first);
        while pending.len() < COALESCE
            && let Some(Some(next)) = inbox.next().now_or_never()
        {
            pending.add(next);
        }
        for payload in payloads(&connection, &principal, pending).await {
            let event = ServerEvent {
                name: "inbox",
                payload,
                stored_at: None,
            };
            if !connection.deliver(event).await {
                return;
            }
        }
    }
}

/// The payloads for a round: one `resync` when anything was missed (the client reloads
/// its list, which covers the rest), else one event per changed conversation.
async fn payloads(connection: &Connection, principal: &Principal, pending: Pending) -> Vec<Value> {
    if pending.resync {
        return vec![json!({"kind": "resync"})];
    }
    let (engine, snapshots) = (
        connection.state.engine(),
        connection.state.inbox_snapshots(),
    );
    let mut payloads = Vec::with_capacity(pending.updates.len());
    for update in &pending.updates {
        let Ok(snapshot) = snapshots.get(engine, principal, update).await else {
            // The conversation could not be read: the client reloads its list.
            return vec![json!({"kind": "resync"})];
        };
        let id = update.conversation_id;
        payloads.push(match engine.inbox_unread(principal, snapshot.as_deref()) {
            Some(unread) => {
                json!({"conversationId": id, "kind": update.kind, "seq": update.seq, "unreadCount": unread})
            }
            // No longer readable (taken away, or deleted): the list drops it.
            None => json!({"conversationId": id, "kind": "removed", "seq": update.seq}),
        });
    }
    payloads
}

/// Updates taken in one round: the latest per conversation, in order of last arrival (a
/// client that moves each changed conversation to the top of its list ends in the right
/// order).
#[derive(Debug, Default)]
struct Pending {
    resync: bool,
    updates: Vec<InboxUpdate>,
}

impl Pending {
    fn len(&self) -> usize {
        self.updates.len()
    }

    fn add(&mut self, delivery: Delivery) {
        let update = match delivery {
            Delivery::Lagged => return self.resync = true,
            Delivery::Signal(signal) => match &*signal {
                Signal::Resync => return self.resync = true,
                Signal::Inbox { update } => *update,
                _ => return,
            },
        };
        let id = update.conversation_id;
        let update = match self.updates.iter().position(|u| u.conversation_id == id) {
            Some(at) => merged(self.updates.remove(at), update),
            None => update,
        };
        self.updates.push(update);
    }
}

/// Two updates of one conversation as one: the newer, still `created` if either was (the
/// client has not seen the conversation yet).
fn merged(older: InboxUpdate, newer: InboxUpdate) -> InboxUpdate {
    let (older, newer) = if newer.seq >= older.seq {
        (older, newer)
    } else {
        (newer, older)
    };
    let created = older.kind == InboxKind::Created || newer.kind == InboxKind::Created;
    InboxUpdate {
        kind: if created {
            InboxKind::Created
        } else {
            newer.kind
        },
        ..newer
    }
}

#[cfg(test)]
mod tests {
    use chat_core::ids::{ConversationId, Seq};

    use super::*;

    fn update(id: ConversationId, kind: InboxKind, seq: u64) -> Delivery {
        let update = InboxUpdate {
            conversation_id: id,
            kind,
            assignee: None,
            released: None,
            seq: Seq(seq),
        };
        Delivery::Signal(Arc::new(Signal::Inbox { update }))
    }

    #[test]
    fn keeps_the_latest_update_per_conversation_in_order_of_last_arrival() {
        let (a, b) = (ConversationId::new(), ConversationId::new());
        let mut pending = Pending::default();
        pending.add(update(a, InboxKind::Message, 3));
        pending.add(update(b, InboxKind::Created, 1));
        pending.add(update(a, InboxKind::Updated, 5));
        pending.add(update(b, InboxKind::Message, 2));
        let seen: Vec<_> = pending
            .updates
            .iter()
            .map(|u| (u.conversation_id, u.kind, u.seq))
            .collect();
        assert_eq!(
            seen,
            vec![
                (a, InboxKind::Updated, Seq(5)),
                (b, InboxKind::Created, Seq(2))
            ]
        );
        pending.add(update(a, InboxKind::Message, 6));
        let order: Vec<_> = pending.updates.iter().map(|u| u.conversation_id).collect();
        assert_eq!(
            order,
            vec![b, a],
            "a changed last, so it comes last (top of the list)"
        );
        assert!(!pending.resync);
    }

    #[test]
    fn an_older_update_arriving_late_never_replaces_a_newer_one() {
        let a = ConversationId::new();
        let mut pending = Pending::default();
        pending.add(update(a, InboxKind::Message, 7));
        pending.add(update(a, InboxKind::Updated, 6));
        assert_eq!(pending.updates[0].seq, Seq(7));
        assert_eq!(pending.updates[0].kind, InboxKind::Message);
    }

    #[test]
    fn a_missed_signal_turns_the_round_into_a_resync() {
        let mut pending = Pending::default();
        pending.add(update(ConversationId::new(), InboxKind::Message, 1));
        pending.add(Delivery::Lagged);
        assert!(pending.resync);
    }
}
