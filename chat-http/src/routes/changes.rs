//! The change feed over REST (`manage_admins`, every conversation): every committed event
//! in commit order, read with a cursor the consumer keeps.

use axum::Json;
use axum::extract::State;
use chat_core::ids::FeedPosition;

use crate::dto::{ChangesQuery, ChangesResponse};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Auth};
use crate::state::AppState;

/// The events committed after `after`, in commit order. Save `lastPosition` once the page
/// is handled and ask again after it: nothing is missed, even across crashes.
#[utoipa::path(get, path = "/api/changes", tag = "integrations",
    params(("after" = Option<u64>, Query), ("limit" = Option<usize>, Query)),
    responses((status = 200, body = ChangesResponse), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<ChangesQuery>,
) -> ApiResult<Json<ChangesResponse>> {
    let after = FeedPosition(query.after.unwrap_or_default());
    let changes = state
        .engine()
        .changes_after(&auth.principal, after, query.limit)
        .await?;
    let limit = query.limit.unwrap_or(100);
    Ok(Json(ChangesResponse {
        last_position: changes.last().map_or(after, |c| c.position).get(),
        has_more: changes.len() == limit,
        changes: changes.into_iter().map(Into::into).collect(),
    }))
}
