//! Satisfaction ratings: the visitor rates its closed conversation; agents with
//! `manageConversations` read the report.

use axum::Json;
use axum::extract::State;
use chat_core::ids::{AdminId, ConversationId, Seq};
use chat_core::ratings::{RatingQuery, Score};

use crate::app::parse;
use crate::dto::{
    ConversationDto, ConversationEnvelope, RateRequest, RatingReportDto, RatingReportQuery,
};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::state::AppState;

/// The visitor rates its closed conversation, 1 to 5 with an optional comment. A second
/// rating replaces the first within 7 days of the first, then is refused (409
/// `rating_final`); an open conversation is 409 `not_closed`.
#[utoipa::path(post, path = "/api/conversations/{id}/rating", tag = "ratings",
    params(("id" = String, Path)), request_body = RateRequest,
    responses((status = 200, body = ConversationEnvelope), (status = 403, description = "agents", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "`not_closed` or `rating_final`", body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rate(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<RateRequest>,
) -> ApiResult<Json<ConversationEnvelope>> {
    let id: ConversationId = parse(&id)?;
    let score = Score::new(request.rating)?;
    let engine = state.engine();
    let conversation = engine
        .rate_conversation(&auth.principal, id, score, request.comment.as_deref())
        .await?;
    let conversation = match auth.principal.user() {
        Some(_) => ConversationDto::with_read_state(
            conversation,
            engine.read_state(&auth.principal, id).await?,
        ),
        None => ConversationDto::new(conversation, Seq::ZERO, 0),
    };
    Ok(Json(ConversationEnvelope { conversation }))
}

/// Ratings per score with their average, overall and per agent (the conversation's
/// assignee when it was rated), rated in `[since, until)`.
#[utoipa::path(get, path = "/api/reports/ratings", tag = "ratings",
    params(("since" = Option<String>, Query, description = "RFC 3339"),
        ("until" = Option<String>, Query, description = "RFC 3339"),
        ("agentId" = Option<String>, Query)),
    responses((status = 200, body = RatingReportDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<RatingReportQuery>,
) -> ApiResult<Json<RatingReportDto>> {
    let query = RatingQuery {
        since: query.since,
        until: query.until,
        agent: query
            .agent_id
            .as_deref()
            .map(parse::<AdminId>)
            .transpose()?,
    };
    let report = state.engine().rating_report(&auth.principal, query).await?;
    Ok(Json(report.into()))
}
