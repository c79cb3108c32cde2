//! Message search in `MemoryStore`: a scan of every message, the reference the indexed
//! stores are checked against.

use async_trait::async_trait;

use crate::error::Result;
use crate::search::{MessageHit, MessageSearch, SearchCursor};
use crate::store::{MemoryStore, SearchStore};

#[async_trait]
impl SearchStore for MemoryStore {
    async fn search_messages(&self, query: &MessageSearch) -> Result<Vec<MessageHit>> {
        let mut hits: Vec<MessageHit> = Vec::new();
        for record in &self.conversations {
            let conversation = &record.state.conversation;
            if !query.covers(conversation) {
                continue;
            }
            hits.extend(
                record
                    .messages
                    .iter()
                    .filter(|message| query.finds(message))
                    .map(|message| MessageHit {
                        message: message.clone(),
                        conversation: conversation.clone(),
                    }),
            );
        }
        hits.sort_by_key(|hit| std::cmp::Reverse(SearchCursor::at(&hit.message)));
        hits.truncate(query.limit);
        Ok(hits)
    }
}
