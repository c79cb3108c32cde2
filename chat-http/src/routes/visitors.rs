//! Visitors as agents see them, and blocking (permission `manageConversations`): a blocked
//! visitor's every request is refused with 403 `visitor_blocked` and its sockets close.

use axum::Json;
use axum::extract::State;
use chat_core::ids::CustomerId;

use crate::app::parse;
use crate::dto::{VisitorEnvelope, VisitorList};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, Auth};
use crate::state::AppState;

/// The blocked visitors, most recently blocked first (agents).
#[utoipa::path(get, path = "/api/visitors/blocked", tag = "visitors",
    responses((status = 200, body = VisitorList), (status = 403, description = "visitors", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn blocked(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<VisitorList>> {
    let visitors = state.engine().blocked_visitors(&auth.principal).await?;
    Ok(Json(VisitorList {
        visitors: visitors.into_iter().map(Into::into).collect(),
    }))
}

/// One visitor (agents; a visitor only itself).
#[utoipa::path(get, path = "/api/visitors/{id}", tag = "visitors",
    params(("id" = String, Path)),
    responses((status = 200, body = VisitorEnvelope), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<VisitorEnvelope>> {
    let id: CustomerId = parse(&id)?;
    let visitor = state.engine().get_customer(&auth.principal, id).await?;
    Ok(Json(VisitorEnvelope {
        visitor: visitor.into(),
    }))
}

/// Blocks a visitor: its requests are refused (403 `visitor_blocked`), nothing it sends is
/// stored, its open sockets close. Blocking again changes nothing.
#[utoipa::path(post, path = "/api/visitors/{id}/block", tag = "visitors",
    params(("id" = String, Path)),
    responses((status = 200, body = VisitorEnvelope), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn block(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<VisitorEnvelope>> {
    let id: CustomerId = parse(&id)?;
    let visitor = state.engine().block_visitor(&auth.principal, id).await?;
    Ok(Json(VisitorEnvelope {
        visitor: visitor.into(),
    }))
}

/// Unblocks a visitor.
#[utoipa::path(delete, path = "/api/visitors/{id}/block", tag = "visitors",
    params(("id" = String, Path)),
    responses((status = 200, body = VisitorEnvelope), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn unblock(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<VisitorEnvelope>> {
    let id: CustomerId = parse(&id)?;
    let visitor = state.engine().unblock_visitor(&auth.principal, id).await?;
    Ok(Json(VisitorEnvelope {
        visitor: visitor.into(),
    }))
}
