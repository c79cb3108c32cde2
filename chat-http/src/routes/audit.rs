//! The audit log (`view_audit`): read-only; no route changes an entry.

use axum::Json;
use axum::extract::State;
use chat_core::engine::AUDIT_DEFAULT;
use chat_core::ids::AuditId;

use crate::app::parse;
use crate::dto::{AuditEntryDto, AuditQuery, AuditResponse};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Auth};
use crate::state::AppState;

/// Audit entries, newest first: sign-ins, permission changes, assignments, status changes,
/// message edits and deletes (with the original text), redactions, conversation deletes.
#[utoipa::path(get, path = "/api/audit", tag = "audit",
    params(("cursor" = Option<String>, Query, description = "nextCursor of the previous page"),
        ("limit" = Option<usize>, Query, description = "1-200, default 50")),
    responses((status = 200, body = AuditResponse), (status = 401, body = ErrorBody),
        (status = 403, description = "no view_audit", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditResponse>> {
    let before: Option<AuditId> = query.cursor.as_deref().map(parse).transpose()?;
    let limit = query.limit;
    let entries = state
        .engine()
        .audit_log(&auth.principal, before, limit)
        .await?;
    let full = limit.unwrap_or(AUDIT_DEFAULT) == entries.len();
    let next_cursor = entries
        .last()
        .filter(|_| full)
        .map(|entry| entry.id.to_string());
    Ok(Json(AuditResponse {
        entries: entries.into_iter().map(AuditEntryDto::from).collect(),
        next_cursor,
    }))
}
