//! Search for agents: messages by their words and conversations by their id or their
//! visitor's id, address or identifier, scoped like the conversation list.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::authz::{Action, Principal};
use crate::engine::{ChatEngine, page_limit, redact_for};
use crate::error::Result;
use crate::ids::{ConversationId, CustomerId, LabelId, Uuid};
use crate::model::Conversation;
use crate::search::{MessageSearch, SearchCursor, SearchResults, SearchText, whole_micros_up};
use crate::status::ConversationStatus;
use crate::store::{ListScope, in_filter};
use crate::values::{Email, VisitorIdentifier};

/// Default page size of message results.
pub const SEARCH_DEFAULT: usize = 20;
/// Largest page of message results (and most conversation results).
pub const SEARCH_MAX: usize = 100;

/// A search, as an agent asks it.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The text: words a message must all hold, or an id, address or identifier.
    pub q: String,
    /// Only conversations with this status.
    pub status: Option<ConversationStatus>,
    /// Only conversations with the label of this title (ignoring case).
    pub label: Option<String>,
    /// Only what happened at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only what happened before this time.
    pub until: Option<DateTime<Utc>>,
    /// The next page of messages, after the previous page's cursor.
    pub cursor: Option<SearchCursor>,
    /// Page size (default 20, at most 100).
    pub limit: Option<usize>,
}

/// The filters both kinds of result share.
struct Filter {
    scope: ListScope,
    status: Option<ConversationStatus>,
    label: Option<LabelId>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

impl Filter {
    /// Whether a conversation is a result: covered, and active inside the time window.
    fn admits(&self, conversation: &Conversation) -> bool {
        in_filter(self.scope, self.status, self.label, conversation)
            && self
                .since
                .is_none_or(|since| conversation.updated_at >= since)
            && self
                .until
                .is_none_or(|until| conversation.updated_at < until)
    }
}

impl ChatEngine {
    /// Searches what the agent may read: messages holding every word of `q` (private notes
    /// included: only agents search), newest first, and, on the first page, the
    /// conversations `q` names exactly (its id, or its visitor's id, address or identifier),
    /// newest activity first. Visitors may not search.
    pub async fn search(
        &self,
        principal: &Principal,
        request: SearchRequest,
    ) -> Result<SearchResults> {
        self.allowed(principal, Action::Search)?;
        let text = SearchText::parse(&request.q)?;
        let limit = page_limit(request.limit, SEARCH_DEFAULT, SEARCH_MAX)?;
        let label = match &request.label {
            Some(title) => Some(self.label_id(title).await?),
            None => None,
        };
        let filter = Filter {
            scope: self.list_scope(principal)?,
            status: request.status,
            label,
            since: request.since.map(whole_micros_up),
            until: request.until.map(whole_micros_up),
        };
        let conversations = match request.cursor {
            None => self.named_conversations(&text, &filter, limit).await?,
            Some(_) => Vec::new(),
        };
        let (messages, next) = if text.words().is_empty() {
            (Vec::new(), None)
        } else {
            let query = MessageSearch {
                words: text.words().to_vec(),
                scope: filter.scope,
                status: filter.status,
                label: filter.label,
                since: filter.since,
                until: filter.until,
                before: request.cursor,
                limit: limit + 1,
            };
            let mut hits = self.store.search_messages(&query).await?;
            let more = hits.len() > limit;
            hits.truncate(limit);
            let next = hits
                .last()
                .filter(|_| more)
                .map(|hit| SearchCursor::at(&hit.message));
            (hits, next)
        };
        let mut results = SearchResults {
            conversations,
            messages,
            next,
        };
        for conversation in &mut results.conversations {
            redact_for(principal, conversation);
        }
        for hit in &mut results.messages {
            redact_for(principal, &mut hit.conversation);
        }
        Ok(results)
    }

    /// The conversations `text` names: by id, or by their visitor (id, address or
    /// identifier), that `filter` admits, newest activity first, at most `limit`.
    async fn named_conversations(
        &self,
        text: &SearchText,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<Conversation>> {
        let mut found: Vec<Conversation> = Vec::new();
        let mut visitors: BTreeSet<CustomerId> = BTreeSet::new();
        if let Ok(uuid) = Uuid::parse_str(text.text()) {
            found.extend(
                self.store
                    .get_conversation(ConversationId::from_uuid(uuid))
                    .await?,
            );
            visitors.insert(CustomerId::from_uuid(uuid));
        }
        if let Ok(email) = Email::parse(text.text()) {
            let customers = self.store.customers_by_email(&email).await?;
            visitors.extend(customers.iter().map(|customer| customer.id));
        }
        if let Ok(identifier) = VisitorIdentifier::parse(text.text())
            && let Some(customer) = self.store.find_customer_by_identifier(&identifier).await?
        {
            visitors.insert(customer.id);
        }
        for visitor in visitors {
            found.extend(self.conversations_of(visitor, filter, limit).await?);
        }
        found.retain(|conversation| filter.admits(conversation));
        found.sort_by_key(|c| std::cmp::Reverse((c.updated_at, c.id)));
        found.dedup_by_key(|c| c.id);
        found.truncate(limit);
        Ok(found)
    }

    /// The visitor's conversations that `filter` admits, newest activity first, at most
    /// `limit`.
    async fn conversations_of(
        &self,
        visitor: CustomerId,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<Conversation>> {
        let admits = |conversation: &Conversation| filter.admits(conversation);
        self.visitor_conversations(visitor, filter.status, filter.label, limit, admits)
            .await
    }
}
