//! Canned replies: search, insert (placeholders filled for one conversation) and manage.

use crate::authz::{Action, Principal};
use crate::canned::{self, CannedReply, CannedReplyChanges, Placeholders};
use crate::engine::{ChatEngine, now};
use crate::error::{Error, Result};
use crate::ids::{CannedReplyId, ConversationId};
use crate::model::Conversation;
use crate::values::{MessageBody, ShortCode};

/// A search result: the reply, and its content filled in for the conversation named in the
/// search, if one was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedMatch {
    /// The reply as stored.
    pub reply: CannedReply,
    /// Its content with `{{visitor.name}}` and `{{agent.name}}` filled in.
    pub filled: Option<String>,
}

impl ChatEngine {
    /// The replies matching `search`, best first (see [`canned::rank`]); with `conversation`,
    /// each also filled in for that conversation's visitor and the calling agent.
    pub async fn search_canned_replies(
        &self,
        principal: &Principal,
        search: &str,
        conversation: Option<ConversationId>,
    ) -> Result<Vec<CannedMatch>> {
        self.allowed(principal, Action::UseCannedReplies)?;
        let names = match conversation {
            Some(id) => Some(self.placeholders(principal, id).await?),
            None => None,
        };
        let replies = canned::rank(self.store.list_canned_replies().await?, search);
        Ok(replies
            .into_iter()
            .map(|reply| CannedMatch {
                filled: names
                    .as_ref()
                    .map(|names| canned::fill(reply.content.as_str(), names)),
                reply,
            })
            .collect())
    }

    /// Saves a reply; `AlreadyExists` if its short code is taken (ignoring case).
    pub async fn create_canned_reply(
        &self,
        principal: &Principal,
        short_code: ShortCode,
        content: MessageBody,
    ) -> Result<CannedReply> {
        self.allowed(principal, Action::ManageCannedReplies)?;
        let reply = CannedReply {
            id: CannedReplyId::new(),
            short_code,
            content,
            created_at: now(),
        };
        self.store.create_canned_reply(&reply).await?;
        Ok(reply)
    }

    /// Changes a reply's short code or content.
    pub async fn update_canned_reply(
        &self,
        principal: &Principal,
        id: CannedReplyId,
        changes: CannedReplyChanges,
    ) -> Result<CannedReply> {
        self.allowed(principal, Action::ManageCannedReplies)?;
        self.store.update_canned_reply(id, &changes).await
    }

    /// Deletes a reply.
    pub async fn delete_canned_reply(
        &self,
        principal: &Principal,
        id: CannedReplyId,
    ) -> Result<()> {
        self.allowed(principal, Action::ManageCannedReplies)?;
        self.store.delete_canned_reply(id).await
    }

    /// The names a reply inserted into conversation `id` by `principal` is filled with.
    async fn placeholders(
        &self,
        principal: &Principal,
        id: ConversationId,
    ) -> Result<Placeholders> {
        let conversation = self
            .authorized(principal, Action::ReadConversation, id)
            .await?;
        let agent_name = match *principal {
            Principal::Admin { id, .. } => self
                .store
                .get_admin(id)
                .await?
                .ok_or(Error::Unauthenticated)?
                .name
                .to_string(),
            _ => String::new(),
        };
        Ok(Placeholders {
            visitor_name: visitor_name(&conversation),
            agent_name,
        })
    }
}

/// The visitor's name as the embedder passed it in the conversation's metadata (`name`).
fn visitor_name(conversation: &Conversation) -> Option<String> {
    let value = serde_json::Value::from(conversation.metadata.clone());
    value
        .get("name")
        .and_then(|name| name.as_str())
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}
