//! Satisfaction ratings: the visitor rates its closed conversation; agents read the report.

use crate::authz::{Action, Principal};
use crate::engine::{ChatEngine, redact_for};
use crate::error::{Error, Result};
use crate::ids::ConversationId;
use crate::log::Command;
use crate::model::Conversation;
use crate::ratings::{self, RatingQuery, RatingReport, Score};

impl ChatEngine {
    /// The conversation's visitor rates it (it must be closed). A second rating replaces
    /// the first within [`CHANGE_WINDOW`](ratings::CHANGE_WINDOW) of the first, then is
    /// refused. The rating is an event in the log.
    pub async fn rate_conversation(
        &self,
        principal: &Principal,
        id: ConversationId,
        score: Score,
        comment: Option<&str>,
    ) -> Result<Conversation> {
        self.authorized(principal, Action::RateConversation, id)
            .await?;
        let comment = ratings::comment(comment)?;
        let by = principal.actor().ok_or(Error::Unauthenticated)?;
        let command = Command::Rate { score, comment, by };
        let mut conversation = self.commit(id, command).await?.conversation;
        redact_for(principal, &mut conversation);
        Ok(conversation)
    }

    /// Ratings counted per score, overall and per agent (agents with
    /// `manage_conversations`).
    pub async fn rating_report(
        &self,
        principal: &Principal,
        query: RatingQuery,
    ) -> Result<RatingReport> {
        self.allowed(principal, Action::ViewReports)?;
        let counts = self.store.rating_counts(&query).await?;
        Ok(ratings::report(&counts))
    }
}
