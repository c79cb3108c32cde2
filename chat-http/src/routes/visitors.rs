//! Visitors as agents see them, and blocking (permission `manageConversations`): a blocked
//! visitor's every request is refused with 403 `visitor_blocked` and its sockets close. A
//! visitor leaves an address for offline replies, and its emails' unsubscribe link lands
//! here. Agents with `manage_visitor_data` export a visitor's data and erase it.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::Html;
use axum::response::{IntoResponse, Response};
use chat_core::email::UnsubscribeToken;
use chat_core::error::InvalidInput;
use chat_core::ids::CustomerId;
use chat_core::values::Email;

use crate::app::parse;
use crate::dto::{
    ErasureResponse, ExportLine, LeaveEmailRequest, UnsubscribeQuery, VisitorEnvelope, VisitorList,
};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::state::AppState;
use crate::visitor_data;

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

/// Erases a visitor (permission `manage_visitor_data`): its record (identifier, address,
/// sessions) and every conversation it started, whole, agents' replies and notes included,
/// with their files; its open sockets close. The audit log keeps that it happened, not
/// what was erased. Erasing again after a failure finishes the job.
#[utoipa::path(delete, path = "/api/visitors/{id}", tag = "visitors",
    params(("id" = String, Path)),
    responses((status = 200, body = ErasureResponse),
        (status = 403, description = "no manage_visitor_data", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the visitor kept starting conversations meanwhile: erase again", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn erase(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ErasureResponse>> {
    let id: CustomerId = parse(&id)?;
    let erased =
        visitor_data::erase_visitor(state.engine(), state.blobs(), &auth.principal, id).await?;
    Ok(Json(erased))
}

/// Exports a visitor's data (permission `manage_visitor_data`) as JSON lines: the visitor,
/// then each conversation with its messages (private notes marked) and files (metadata and
/// a download link), then an `end` line. Audited.
#[utoipa::path(get, path = "/api/visitors/{id}/export", tag = "visitors",
    params(("id" = String, Path)),
    responses((status = 200, body = ExportLine, content_type = "application/x-ndjson",
            description = "one JSON object per line"),
        (status = 403, description = "no manage_visitor_data", body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let id: CustomerId = parse(&id)?;
    let lines = visitor_data::export_lines(state.engine().clone(), auth.principal, id).await?;
    let disposition = format!("attachment; filename=\"visitor-{id}.jsonl\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(lines),
    )
        .into_response())
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

/// Leaves (or, with `null`, removes) the address the visitor's offline replies go to: when
/// an agent's reply stays unread while the visitor is away, one email carries it (the
/// visitor itself only; a new address is subscribed, the same one again changes nothing).
#[utoipa::path(put, path = "/api/visitors/{id}/email", tag = "visitors",
    params(("id" = String, Path)),
    request_body = LeaveEmailRequest,
    responses((status = 200, body = VisitorEnvelope), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn leave_email(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<LeaveEmailRequest>,
) -> ApiResult<Json<VisitorEnvelope>> {
    let id: CustomerId = parse(&id)?;
    let Some(email) = request.email else {
        let missing = InvalidInput::new("email", "is required (null removes the address)");
        return Err(missing.into());
    };
    let email = email.as_deref().map(Email::parse).transpose()?;
    let visitor = state
        .engine()
        .leave_email(&auth.principal, id, email)
        .await?;
    Ok(Json(VisitorEnvelope {
        visitor: visitor.into(),
    }))
}

/// The page an email's unsubscribe link opens: one button that unsubscribes (a link
/// scanner following the link changes nothing).
#[utoipa::path(get, path = "/api/visitors/{id}/unsubscribe", tag = "visitors",
    params(("id" = String, Path), ("token" = String, Query)),
    responses((status = 200, description = "an HTML page with the unsubscribe button", content_type = "text/html")))]
pub async fn unsubscribe_page(
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<UnsubscribeQuery>,
) -> ApiResult<Html<String>> {
    let id: CustomerId = parse(&id)?;
    let token = link_token(&query.token);
    Ok(Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Unsubscribe</title></head>\
         <body><h1>Stop emails about this chat?</h1>\
         <form method=\"post\" action=\"/api/visitors/{id}/unsubscribe?token={token}\">\
         <button type=\"submit\">Unsubscribe</button></form></body></html>"
    )))
}

/// Unsubscribes the visitor's address: nothing more is emailed to it. Answers mail
/// clients' one-click unsubscribe (RFC 8058) too. A wrong token changes nothing (404).
#[utoipa::path(post, path = "/api/visitors/{id}/unsubscribe", tag = "visitors",
    params(("id" = String, Path), ("token" = String, Query)),
    responses((status = 200, description = "unsubscribed", content_type = "text/html"), (status = 404, body = ErrorBody)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<UnsubscribeQuery>,
) -> ApiResult<(StatusCode, Html<&'static str>)> {
    let id: CustomerId = parse(&id)?;
    let token = UnsubscribeToken::from_link(&query.token);
    state.engine().unsubscribe(id, &token).await?;
    Ok((
        StatusCode::OK,
        Html(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Unsubscribed</title></head>\
              <body><h1>You are unsubscribed.</h1><p>No more emails about this chat.</p></body></html>",
        ),
    ))
}

/// The token as the page may echo it: a genuine token is hex, so anything else is dropped.
fn link_token(text: &str) -> String {
    text.chars().filter(char::is_ascii_alphanumeric).collect()
}
