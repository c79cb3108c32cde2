//! Changing a sent message: its sender edits or deletes it within the edit window; an
//! agent with `delete_messages` deletes or redacts any.

use axum::Json;
use axum::extract::State;
use chat_core::ids::MessageId;
use chat_core::values::MessageBody;

use crate::app::parse;
use crate::dto::{EditRequest, MessageDto, MessageEnvelope, RedactRequest};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Auth};
use crate::state::AppState;
use crate::visitor_data;

fn envelope(message: chat_core::model::Message) -> Json<MessageEnvelope> {
    Json(MessageEnvelope {
        message: MessageDto::from(message),
    })
}

/// The sender changes its message's text, within the edit window (default 15 minutes).
/// The room gets `message:updated`; the old text is kept in the audit log.
#[utoipa::path(patch, path = "/api/messages/{id}", tag = "messages",
    params(("id" = String, Path)), request_body = EditRequest,
    responses((status = 200, body = MessageEnvelope), (status = 401, body = ErrorBody),
        (status = 403, description = "not the sender", body = ErrorBody),
        (status = 404, description = "missing, or not the caller's to read", body = ErrorBody),
        (status = 409, description = "deleted, or the edit window passed", body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn edit(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<EditRequest>,
) -> ApiResult<Json<MessageEnvelope>> {
    let id: MessageId = parse(&id)?;
    let body = MessageBody::parse(request.message, &state.config().engine.limits)?;
    let message = state
        .engine()
        .edit_message(&auth.principal, id, body)
        .await?;
    Ok(envelope(message))
}

/// Deletes a message: its sender within the edit window, or an agent with
/// `delete_messages`. Its text is gone everywhere (it stays, with `deletedAt`), its files
/// are no longer served, the room gets `message:deleted`; the text is kept in the audit log.
#[utoipa::path(delete, path = "/api/messages/{id}", tag = "messages",
    params(("id" = String, Path)),
    responses((status = 200, body = MessageEnvelope), (status = 401, body = ErrorBody),
        (status = 403, description = "not the sender, and no delete_messages", body = ErrorBody),
        (status = 404, description = "missing, or not the caller's to read", body = ErrorBody),
        (status = 409, description = "already deleted, or the edit window passed", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MessageEnvelope>> {
    let id: MessageId = parse(&id)?;
    let message = state.engine().delete_message(&auth.principal, id).await?;
    visitor_data::purge_after_write(state.engine(), state.blobs()).await;
    Ok(envelope(message))
}

/// Redacts a message (`delete_messages`): deletes it and erases its text from the audit
/// log too, keeping who redacted it, when and why. For a card number sent by mistake.
#[utoipa::path(post, path = "/api/messages/{id}/redact", tag = "messages",
    params(("id" = String, Path)), request_body = RedactRequest,
    responses((status = 200, body = MessageEnvelope), (status = 401, body = ErrorBody),
        (status = 403, description = "no delete_messages", body = ErrorBody),
        (status = 404, description = "missing, or not the caller's to read", body = ErrorBody),
        (status = 422, description = "no reason, or a reason over 500 characters", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn redact(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<RedactRequest>,
) -> ApiResult<Json<MessageEnvelope>> {
    let id: MessageId = parse(&id)?;
    let message = state
        .engine()
        .redact_message(&auth.principal, id, &request.reason)
        .await?;
    visitor_data::purge_after_write(state.engine(), state.blobs()).await;
    Ok(envelope(message))
}
