//! Canned replies: agents search and insert them; changing them needs
//! `manageConversations`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_core::canned::CannedReplyChanges;
use chat_core::ids::{CannedReplyId, ConversationId};
use chat_core::values::{MessageBody, ShortCode};

use crate::app::parse;
use crate::dto::{
    CannedReplyEnvelope, CannedReplyList, CannedSearchQuery, CreateCannedReplyRequest,
    UpdateCannedReplyRequest,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::state::AppState;

/// Canned replies matching `search`, best first: short codes starting with it, then short
/// codes containing it, then contents containing it. With `conversationId`, each carries
/// `filled`: its content with `{{visitor.name}}` and `{{agent.name}}` filled in.
#[utoipa::path(get, path = "/api/canned-replies", tag = "canned replies",
    params(("search" = Option<String>, Query), ("conversationId" = Option<String>, Query)),
    responses((status = 200, body = CannedReplyList), (status = 403, description = "visitors", body = ErrorBody),
        (status = 404, description = "the conversation is missing or not the caller's", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn search(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<CannedSearchQuery>,
) -> ApiResult<Json<CannedReplyList>> {
    let conversation: Option<ConversationId> =
        query.conversation_id.as_deref().map(parse).transpose()?;
    let found = state
        .engine()
        .search_canned_replies(
            &auth.principal,
            query.search.as_deref().unwrap_or(""),
            conversation,
        )
        .await?;
    Ok(Json(CannedReplyList {
        canned_replies: found.into_iter().map(Into::into).collect(),
    }))
}

/// Saves a canned reply.
#[utoipa::path(post, path = "/api/canned-replies", tag = "canned replies",
    request_body = CreateCannedReplyRequest,
    responses((status = 201, body = CannedReplyEnvelope), (status = 403, body = ErrorBody),
        (status = 409, description = "`already_exists`: the short code is taken (ignoring case)", body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<CreateCannedReplyRequest>,
) -> ApiResult<(StatusCode, Json<CannedReplyEnvelope>)> {
    let short_code = ShortCode::parse(&request.short_code)?;
    let content = MessageBody::parse(request.content, &state.config().engine.limits)?;
    let reply = state
        .engine()
        .create_canned_reply(&auth.principal, short_code, content)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CannedReplyEnvelope {
            canned_reply: reply.into(),
        }),
    ))
}

/// Changes a canned reply's short code or content.
#[utoipa::path(patch, path = "/api/canned-replies/{id}", tag = "canned replies",
    params(("id" = String, Path)), request_body = UpdateCannedReplyRequest,
    responses((status = 200, body = CannedReplyEnvelope), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "the short code is taken", body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<UpdateCannedReplyRequest>,
) -> ApiResult<Json<CannedReplyEnvelope>> {
    let id: CannedReplyId = parse(&id)?;
    let limits = &state.config().engine.limits;
    let changes = CannedReplyChanges {
        short_code: request
            .short_code
            .as_deref()
            .map(ShortCode::parse)
            .transpose()?,
        content: request
            .content
            .map(|content| MessageBody::parse(content, limits))
            .transpose()?,
    };
    if changes == CannedReplyChanges::default() {
        return Err(ApiError::BadRequest("nothing to change".into()));
    }
    let reply = state
        .engine()
        .update_canned_reply(&auth.principal, id, changes)
        .await?;
    Ok(Json(CannedReplyEnvelope {
        canned_reply: reply.into(),
    }))
}

/// Deletes a canned reply.
#[utoipa::path(delete, path = "/api/canned-replies/{id}", tag = "canned replies",
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let id: CannedReplyId = parse(&id)?;
    state
        .engine()
        .delete_canned_reply(&auth.principal, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
