//! Agent management (permission `manageAdmins`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_core::accounts::{AdminChanges, Permissions};
use chat_core::engine::NewAdmin;
use chat_core::error::InvalidInput;
use chat_core::ids::AdminId;
use chat_core::values::{DisplayName, Email};

use crate::app::parse;
use crate::auth::hash_password;
use crate::dto::{AdminEnvelope, AdminList, CreateAdminRequest, PresenceList, UpdateAdminRequest};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Auth};
use crate::state::AppState;

/// Shortest password accepted.
const MIN_PASSWORD: usize = 10;

/// All agents.
#[utoipa::path(get, path = "/api/admins", tag = "admins",
    responses((status = 200, body = AdminList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<AdminList>> {
    let admins = state.engine().list_admins(&auth.principal).await?;
    Ok(Json(AdminList {
        admins: admins.into_iter().map(Into::into).collect(),
    }))
}

/// The agents online now, on any server node (agents' sockets hear changes as `presence`
/// events).
#[utoipa::path(get, path = "/api/presence", tag = "admins",
    responses((status = 200, body = PresenceList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn presence(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<PresenceList>> {
    let engine = state.engine();
    engine.authorize_inbox(&auth.principal)?;
    let mut online = state.presence().online(engine).await?;
    online.sort();
    Ok(Json(PresenceList { online }))
}

/// Creates an agent.
#[utoipa::path(post, path = "/api/admins", tag = "admins",
    request_body = CreateAdminRequest,
    responses((status = 201, body = AdminEnvelope), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "email taken", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<CreateAdminRequest>,
) -> ApiResult<(StatusCode, Json<AdminEnvelope>)> {
    let new = NewAdmin {
        email: Email::parse(&request.email)?,
        name: DisplayName::parse(&request.name)?,
        password_hash: password_hash(request.password).await?,
        permissions: request
            .permissions
            .map_or_else(Permissions::default, Into::into),
    };
    let admin = state.engine().create_admin(&auth.principal, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(AdminEnvelope {
            admin: admin.into(),
        }),
    ))
}

/// Disables or re-enables an agent, changes permissions, its auto-assignment capacity
/// (`null`: no limit) or sets a new password. Disabling and a new password end the agent's
/// sessions.
#[utoipa::path(patch, path = "/api/admins/{id}", tag = "admins",
    params(("id" = String, Path)), request_body = UpdateAdminRequest,
    responses((status = 200, body = AdminEnvelope), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<UpdateAdminRequest>,
) -> ApiResult<Json<AdminEnvelope>> {
    let id: AdminId = parse(&id)?;
    // Everything is checked (and the password hashed) before anything is written; then
    // one write changes exactly the named fields.
    let changes = AdminChanges {
        permissions: request.permissions.map(Into::into),
        password_hash: match request.password {
            Some(password) => Some(password_hash(password).await?),
            None => None,
        },
        disabled: request.disabled,
        capacity: request.capacity,
        ..AdminChanges::default()
    };
    if changes.is_empty() {
        return Err(ApiError::BadRequest("nothing to change".into()));
    }
    let admin = state
        .engine()
        .update_admin(&auth.principal, id, changes)
        .await?;
    Ok(Json(AdminEnvelope {
        admin: admin.into(),
    }))
}

/// Checks the length and hashes off the async threads (argon2 is deliberately slow).
async fn password_hash(password: String) -> ApiResult<String> {
    if password.chars().count() < MIN_PASSWORD {
        let problem = format!("must be at least {MIN_PASSWORD} characters");
        return Err(InvalidInput::new("password", problem).into());
    }
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
}
