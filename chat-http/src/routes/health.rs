//! Liveness and readiness.

use axum::Json;
use axum::extract::State;

use crate::dto::Health;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// The store answers.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, body = Health),
        (status = 503, description = "the store is out of reach", body = ErrorBody),
        (status = 500, description = "the store failed", body = ErrorBody),
    ))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.engine().check_ready().await?;
    Ok(Json(Health {
        status: "ok".into(),
    }))
}
