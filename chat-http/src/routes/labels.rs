//! Workspace labels (agents; changing them needs `manageConversations`) and the labels on a
//! conversation.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_core::ids::{ConversationId, LabelId};
use chat_core::labels::LabelChanges;
use chat_core::values::{LabelColor, LabelTitle};

use crate::app::parse;
use crate::dto::{
    CreateLabelRequest, LabelEnvelope, LabelList, SetLabelsRequest, UpdateLabelRequest,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Auth};
use crate::state::AppState;

/// Every label, in title order.
#[utoipa::path(get, path = "/api/labels", tag = "labels",
    responses((status = 200, body = LabelList), (status = 401, body = ErrorBody),
        (status = 403, description = "visitors", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<LabelList>> {
    let labels = state.engine().list_labels(&auth.principal).await?;
    Ok(Json(LabelList {
        labels: labels.into_iter().map(Into::into).collect(),
    }))
}

/// Creates a label.
#[utoipa::path(post, path = "/api/labels", tag = "labels",
    request_body = CreateLabelRequest,
    responses((status = 201, body = LabelEnvelope), (status = 403, body = ErrorBody),
        (status = 409, description = "the title is taken (ignoring case)", body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<CreateLabelRequest>,
) -> ApiResult<(StatusCode, Json<LabelEnvelope>)> {
    let title = LabelTitle::parse(&request.title)?;
    let color = request
        .color
        .as_deref()
        .map(LabelColor::parse)
        .transpose()?;
    let label = state
        .engine()
        .create_label(&auth.principal, title, color)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(LabelEnvelope {
            label: label.into(),
        }),
    ))
}

/// Renames or recolours a label; it changes on every conversation that carries it.
#[utoipa::path(patch, path = "/api/labels/{id}", tag = "labels",
    params(("id" = String, Path)), request_body = UpdateLabelRequest,
    responses((status = 200, body = LabelEnvelope), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "the title is taken", body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<UpdateLabelRequest>,
) -> ApiResult<Json<LabelEnvelope>> {
    let id: LabelId = parse(&id)?;
    let changes = LabelChanges {
        title: request
            .title
            .as_deref()
            .map(LabelTitle::parse)
            .transpose()?,
        color: match request.color {
            Some(color) => Some(color.as_deref().map(LabelColor::parse).transpose()?),
            None => None,
        },
    };
    if changes == LabelChanges::default() {
        return Err(ApiError::BadRequest("nothing to change".into()));
    }
    let label = state
        .engine()
        .update_label(&auth.principal, id, changes)
        .await?;
    Ok(Json(LabelEnvelope {
        label: label.into(),
    }))
}

/// Deletes a label; it shows on no conversation any more.
#[utoipa::path(delete, path = "/api/labels/{id}", tag = "labels",
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let id: LabelId = parse(&id)?;
    state.engine().delete_label(&auth.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The labels on a conversation, in title order (agents only).
#[utoipa::path(get, path = "/api/conversations/{id}/labels", tag = "labels",
    params(("id" = String, Path)),
    responses((status = 200, body = LabelList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn of_conversation(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<LabelList>> {
    let id: ConversationId = parse(&id)?;
    let labels = state
        .engine()
        .conversation_labels(&auth.principal, id)
        .await?;
    Ok(Json(LabelList {
        labels: labels.into_iter().map(Into::into).collect(),
    }))
}

/// Replaces the conversation's labels (`labels`), or puts some on and takes some off
/// (`add`, `remove`): an event in its log. Every title must name a label: an unknown one is
/// a 422 and nothing changes.
#[utoipa::path(post, path = "/api/conversations/{id}/labels", tag = "labels",
    params(("id" = String, Path)), request_body = SetLabelsRequest,
    responses((status = 200, body = LabelList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "a title names no label", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_on_conversation(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<SetLabelsRequest>,
) -> ApiResult<Json<LabelList>> {
    let id: ConversationId = parse(&id)?;
    let engine = state.engine();
    let (_, labels) = match request {
        SetLabelsRequest {
            labels: Some(labels),
            add: None,
            remove: None,
        } => {
            engine
                .set_conversation_labels(&auth.principal, id, &labels)
                .await?
        }
        SetLabelsRequest {
            labels: None,
            add,
            remove,
        } => {
            let (add, remove) = (add.unwrap_or_default(), remove.unwrap_or_default());
            engine
                .change_conversation_labels(&auth.principal, id, &add, &remove)
                .await?
        }
        SetLabelsRequest { .. } => {
            let refused = "give either labels, or add and remove";
            return Err(ApiError::BadRequest(refused.into()));
        }
    };
    Ok(Json(LabelList {
        labels: labels.into_iter().map(Into::into).collect(),
    }))
}
