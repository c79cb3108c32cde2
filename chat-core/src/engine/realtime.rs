//! Live features: joining a conversation's room with resumable sync, typing and presence
//! (the agents' inbox is in `inbox.rs`).

use crate::authz::{Action, Principal};
use crate::broadcast::{Signal, Subscription, Topic};
use crate::engine::{ChatEngine, audience};
use crate::error::{Error, InvalidInput, Result};
use crate::feed::ConversationFeed;
use crate::ids::{AdminId, ConversationId, Seq};

impl ChatEngine {
    /// Joins a conversation's live room, resuming after `since`: the feed yields every
    /// visible event after `since` exactly once, in order, then live ones.
    pub async fn subscribe(
        &self,
        principal: &Principal,
        id: ConversationId,
        since: Seq,
    ) -> Result<ConversationFeed> {
        let conversation = self.authorized(principal, Action::JoinRoom, id).await?;
        if since > conversation.last_seq {
            return Err(InvalidInput::new("since", "is past the end of the conversation").into());
        }
        // Subscribe before the feed reads the backlog, so nothing falls in between.
        let live = self.broadcaster.subscribe(Topic::Conversation(id)).await?;
        let feed = ConversationFeed::new(self.store.clone(), id, audience(principal), live, since);
        Ok(feed.decided_at(conversation.last_seq))
    }

    /// Re-decides a live room against the facts as they are now (after an assignment, a
    /// permission change, a lost signal): `Ok` while the principal may still receive the
    /// conversation's events, `NotFound` once it may not.
    pub async fn may_stay_in_room(&self, principal: &Principal, id: ConversationId) -> Result<()> {
        self.authorized(principal, Action::JoinRoom, id).await?;
        Ok(())
    }

    /// Tells the room that the principal started or stopped typing. Not stored.
    pub async fn typing(
        &self,
        principal: &Principal,
        id: ConversationId,
        is_typing: bool,
    ) -> Result<()> {
        self.authorized(principal, Action::SendTyping, id).await?;
        let actor = principal.actor().ok_or(Error::Unauthenticated)?;
        let signal = Signal::Typing {
            conversation_id: id,
            actor,
            is_typing,
        };
        self.publish(Topic::Conversation(id), signal).await;
        Ok(())
    }

    /// Announces that an agent has (or no longer has) connections on server node `node`.
    /// Not stored. Only the system announces presence (the server's connection layer).
    pub async fn set_presence(
        &self,
        principal: &Principal,
        admin_id: AdminId,
        node: uuid::Uuid,
        online: bool,
    ) -> Result<()> {
        if *principal != Principal::System {
            return Err(Error::PermissionDenied(
                "only the system announces presence",
            ));
        }
        let signal = Signal::Presence {
            admin_id,
            online,
            node,
        };
        self.publish(Topic::Presence, signal).await;
        Ok(())
    }

    /// Agent presence changes, for any signed-in principal.
    pub async fn subscribe_presence(&self, principal: &Principal) -> Result<Subscription> {
        if *principal == Principal::Anonymous {
            return Err(Error::Unauthenticated);
        }
        self.broadcaster.subscribe(Topic::Presence).await
    }
}
