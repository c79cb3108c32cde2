//! Search for agents: messages by their words, conversations by id, visitor id, address
//! or identifier.

use axum::Json;
use axum::extract::State;
use chat_core::engine::SearchRequest;
use chat_core::ids::Seq;
use chat_core::search::SearchCursor;
use chat_core::status::ConversationStatus;

use crate::dto::{ConversationDto, MessageDto, MessageHitDto, SearchQuery, SearchResponse};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Auth};
use crate::state::AppState;

/// Searches what the agent may read (a restricted agent: its assigned conversations),
/// newest first, with no time limit. Visitors may not search.
#[utoipa::path(get, path = "/api/search", tag = "search",
    params(("q" = String, Query, description = "words (all must match, whole, any case), or an id, address or identifier"),
        ("status" = Option<String>, Query, description = "waiting, active, snoozed or closed"),
        ("label" = Option<String>, Query, description = "a label's title"),
        ("since" = Option<String>, Query, description = "RFC 3339; at or after"),
        ("until" = Option<String>, Query, description = "RFC 3339; before"),
        ("cursor" = Option<String>, Query, description = "nextCursor of the previous page"),
        ("limit" = Option<usize>, Query, description = "1-100, default 20")),
    responses((status = 200, body = SearchResponse),
        (status = 400, description = "a malformed or unknown query parameter", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, description = "visitors may not search", body = ErrorBody),
        (status = 422, description = "a blank or too long q, a bad cursor, limit or status, or no label of that title", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn search(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<Json<SearchResponse>> {
    let request = SearchRequest {
        q: query.q,
        status: query
            .status
            .as_deref()
            .map(str::parse::<ConversationStatus>)
            .transpose()?,
        label: query.label,
        since: query.since,
        until: query.until,
        cursor: query
            .cursor
            .as_deref()
            .map(str::parse::<SearchCursor>)
            .transpose()?,
        limit: query.limit,
    };
    let results = state.engine().search(&auth.principal, request).await?;
    let summary = |conversation| ConversationDto::new(conversation, Seq::ZERO, 0);
    Ok(Json(SearchResponse {
        conversations: results.conversations.into_iter().map(summary).collect(),
        messages: results
            .messages
            .into_iter()
            .map(|hit| MessageHitDto {
                message: MessageDto::from(hit.message),
                conversation: summary(hit.conversation),
            })
            .collect(),
        next_cursor: results.next.map(|cursor| cursor.to_string()),
    }))
}
