//! A joined room's forwarder: the conversation's feed to the client, each push allowed by
//! the policy as it stands now. The room is re-decided through `chat_core::authz` when the
//! connection's principal changes and before forwarding anything that follows an event
//! that can change access (an assignment, any event but a message): a room the principal
//! may no longer read is left, and the client is told with `conversation:left`.

use std::sync::Arc;
use std::time::Duration;

use chat_core::Error;
use chat_core::event::EventKind;
use chat_core::feed::{ConversationFeed, FeedItem};
use chat_core::ids::ConversationId;

use crate::app::connection::Connection;
use crate::app::protocol;

/// Pause after a store error in a forwarder before it retries.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// Forwards the feed until the room is left, access ends or the connection closes.
pub async fn forward(connection: Arc<Connection>, mut feed: ConversationFeed) {
    let id = feed.conversation_id();
    let me = connection.principal().actor();
    let mut principal = connection.principal.subscribe();
    loop {
        let item = tokio::select! {
            biased;
            changed = principal.changed() => {
                if changed.is_err() || !may_stay(&connection, id).await {
                    return;
                }
                continue;
            }
            item = feed.next() => item,
        };
        let Some(item) = item else { return };
        let item = match item {
            Ok(item) => item,
            Err(error) => {
                tracing::warn!(%error, %id, "reading the log for a live room failed; retrying");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        };
        if changes_access(&item) && !may_stay(&connection, id).await {
            return;
        }
        if let Some(event) = protocol::from_feed(id, item, me)
            && !connection.deliver(event).await
        {
            return;
        }
    }
}

/// Whether an item can change who may read the conversation.
fn changes_access(item: &FeedItem) -> bool {
    match item {
        FeedItem::Event(event) => !matches!(event.kind, EventKind::MessageCreated { .. }),
        FeedItem::Typing { .. } | FeedItem::Read { .. } => false,
    }
}

/// Re-decides the room for the principal as it stands now; leaves it (telling the client)
/// when access ended, and closes the connection when the facts cannot be read.
async fn may_stay(connection: &Connection, id: ConversationId) -> bool {
    let principal = connection.principal();
    match connection
        .state
        .engine()
        .may_stay_in_room(&principal, id)
        .await
    {
        Ok(()) => true,
        Err(Error::NotFound(_) | Error::PermissionDenied(_) | Error::Unauthenticated) => {
            connection.leave_room(id, "forbidden").await;
            false
        }
        Err(error) => {
            tracing::warn!(%error, %id, "could not re-decide a live room; closing the connection");
            connection.outbox.close();
            false
        }
    }
}
