//! A joined room's forwarder: the conversation's feed to the client, each push allowed by
//! the policy as it stands now. The room is re-decided through `chat_core::authz` when the
//! connection's principal changes and before forwarding anything that follows an event
//! that can change access (an assignment, any event but a message): a room the principal
//! may no longer read is left, and the client is told with `conversation:left`.

use std::sync::Arc;
use std::time::Duration;

use chat_core::event::{Event, EventKind};
use chat_core::feed::{ConversationFeed, FeedItem};
use chat_core::ids::ConversationId;
use chat_core::{Error, Principal};
use tokio::sync::watch;

use crate::app::connection::Connection;
use crate::app::protocol;

/// Pause after a store error in a forwarder before it retries.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// Forwards the feed until the room is left, access ends or the connection closes.
///
/// `principal` is the receiver the join decided with: a change since then (even before
/// this task starts) makes it re-decide before forwarding anything.
pub async fn forward(
    connection: Arc<Connection>,
    mut feed: ConversationFeed,
    mut principal: watch::Receiver<Principal>,
) {
    let id = feed.conversation_id();
    let me = connection.principal().actor();
    loop {
        let item = tokio::select! {
            biased;
            changed = principal.changed() => {
                let now = *principal.borrow_and_update();
                if changed.is_err() || !may_stay_as(&connection, id, now).await {
                    return;
                }
                continue;
            }
            item = feed.next() => item,
        };
        let Some(item) = item else { return };
        let item = match item {
            Ok(item) => item,
            // The conversation is gone (deleted, erased): the room is re-decided, and left.
            Err(Error::NotFound(_)) => {
                if !may_stay(&connection, id).await {
                    return;
                }
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
            Err(error) => {
                tracing::warn!(%error, %id, "reading the log for a live room failed; retrying");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        };
        let event_changes_access = matches!(&item, FeedItem::Event(event) if changes_access(event));
        if event_changes_access && !may_stay(&connection, id).await {
            return;
        }
        if let Some(event) = protocol::from_feed(id, item, me)
            && !connection.deliver(event).await
        {
            return;
        }
    }
}

/// Whether an event can change who may read the conversation: it changes a fact the policy
/// reads (the assignee, the status), or is of a kind the policy may read one day (anything
/// but a message or a change to one, a join or an upload).
pub fn changes_access(event: &Event) -> bool {
    !matches!(
        event.kind,
        EventKind::MessageCreated { .. }
            | EventKind::MessageUpdated { .. }
            | EventKind::MessageDeleted { .. }
            | EventKind::Created { .. }
            | EventKind::ParticipantJoined { .. }
            | EventKind::AttachmentAdded { .. }
    )
}

/// Re-decides the room for the principal as it stands now; leaves it (telling the client)
/// when access ended, and closes the connection when the facts cannot be read.
async fn may_stay(connection: &Connection, id: ConversationId) -> bool {
    let principal = connection.principal();
    may_stay_as(connection, id, principal).await
}

async fn may_stay_as(connection: &Connection, id: ConversationId, principal: Principal) -> bool {
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
