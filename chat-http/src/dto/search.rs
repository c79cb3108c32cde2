//! The wire types of search: the query, and a page of found messages (each with its
//! conversation) and of conversations named exactly.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::{ConversationDto, MessageDto};

/// `GET /api/search` query.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchQuery {
    /// Words a message must all hold (whole words, any case), or a conversation id, or a
    /// visitor's id, address or identifier.
    pub q: String,
    /// Only conversations with this status.
    pub status: Option<String>,
    /// Only conversations with the label of this title (ignoring case).
    pub label: Option<String>,
    /// Only what happened at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Only what happened before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<usize>,
}

/// A message found, with its conversation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageHitDto {
    /// The message (private notes included: only agents search).
    pub message: MessageDto,
    /// Its conversation, as it is now.
    pub conversation: ConversationDto,
}

/// A page of search results.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResponse {
    /// Conversations `q` names exactly (by id, or by their visitor's id, address or
    /// identifier), newest activity first; on the first page only.
    pub conversations: Vec<ConversationDto>,
    /// Messages holding every word of `q`, newest first.
    pub messages: Vec<MessageHitDto>,
    /// Pass as `cursor` for the next page of messages; absent on the last page.
    pub next_cursor: Option<String>,
}
