//! Visitor sessions, agent login and logout.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_core::Principal;
use chat_core::accounts::SessionSubject;
use chat_core::engine::NewVisitor;
use chat_core::values::{Email, UserAgent, VisitorIdentifier};

use crate::auth::{dummy_password_hash, identity_matches, open_session, verify_password};
use crate::dto::{
    LoginRequest, LoginResponse, SessionResponse, VisitorSessionRequest, VisitorSessionResponse,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth, ClientIp};
use crate::state::AppState;

/// Starts a visitor session (the widget calls this once and keeps the token).
#[utoipa::path(post, path = "/api/sessions/visitor", tag = "sessions",
    request_body = VisitorSessionRequest,
    responses(
        (status = 201, body = VisitorSessionResponse),
        (status = 403, description = "identity verification failed or required", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ))]
pub async fn create_visitor(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<VisitorSessionRequest>,
) -> ApiResult<(StatusCode, Json<VisitorSessionResponse>)> {
    state.limiters().session(ip)?;
    let verified_identifier = verified_identity(&state, &request)?;
    let user_agent = request
        .user_agent
        .as_deref()
        .map(UserAgent::parse)
        .transpose()?;
    let new = NewVisitor {
        verified_identifier,
        user_agent,
        ..NewVisitor::default()
    };
    let customer = state
        .engine()
        .create_visitor(&Principal::Anonymous, new)
        .await?;
    let ttl = state.config().visitor_session_ttl;
    let token = open_session(&state, SessionSubject::Visitor(customer.id), ttl).await?;
    Ok((
        StatusCode::CREATED,
        Json(VisitorSessionResponse {
            token,
            customer_id: customer.id.as_uuid(),
        }),
    ))
}

/// The identifier, when it comes with a valid HMAC; refuses a wrong HMAC, and a missing one
/// in enforce mode.
fn verified_identity(
    state: &AppState,
    request: &VisitorSessionRequest,
) -> ApiResult<Option<VisitorIdentifier>> {
    let identity = &state.config().identity;
    let Some(secret) = &identity.secret else {
        return Ok(None);
    };
    match (&request.identifier, &request.identifier_hash) {
        (Some(identifier), Some(hash)) if identity_matches(secret, identifier, hash) => {
            Ok(Some(VisitorIdentifier::parse(identifier)?))
        }
        (None, None) if !identity.enforce => Ok(None),
        (None, None) => {
            Err(chat_core::Error::PermissionDenied("identity verification is required").into())
        }
        _ => Err(chat_core::Error::PermissionDenied("identity verification failed").into()),
    }
}

/// Logs an agent in.
#[utoipa::path(post, path = "/api/auth/login", tag = "sessions",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "wrong email or password", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    state.limiters().session(ip)?;
    let admin = match Email::parse(&request.email) {
        Ok(email) => state.engine().find_admin_for_login(&email).await?,
        Err(_) => None,
    };
    // An agent the host signs in has no password: it is checked against the dummy hash
    // like an unknown email, so neither answers faster than a wrong password.
    let stored = admin
        .as_ref()
        .filter(|a| !a.password_hash.is_empty())
        .map_or_else(
            || dummy_password_hash().to_owned(),
            |a| a.password_hash.clone(),
        );
    let password = request.password;
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .map_err(ApiError::internal)?;
    let admin = admin
        .filter(|a| matches && !a.password_hash.is_empty())
        .ok_or(chat_core::Error::Unauthenticated)?;
    let ttl = state.config().admin_session_ttl;
    let token = open_session(&state, SessionSubject::Admin(admin.id), ttl).await?;
    Ok(Json(LoginResponse {
        token,
        admin: admin.into(),
    }))
}

/// Who the bearer is: a built-in session's or the host application's credential (the
/// first use of a host's credential signs its agent or visitor in).
#[utoipa::path(get, path = "/api/session", tag = "sessions",
    responses((status = 200, body = SessionResponse), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn current(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<SessionResponse>> {
    let engine = state.engine();
    let left = engine.session_expires_at(&auth.token).await? - chrono::Utc::now();
    let expires_in = u64::try_from(left.num_seconds()).unwrap_or(0);
    let answer = match auth.principal {
        Principal::Visitor(id) => SessionResponse {
            role: "visitor",
            admin: None,
            customer_id: Some(id.as_uuid()),
            expires_in,
        },
        principal => SessionResponse {
            role: "agent",
            admin: Some(engine.own_admin(&principal).await?.into()),
            customer_id: None,
            expires_in,
        },
    };
    Ok(Json(answer))
}

/// Ends the caller's session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "sessions",
    responses((status = 204), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn logout(State(state): State<AppState>, auth: Auth) -> ApiResult<StatusCode> {
    state.engine().revoke_session(&auth.token).await?;
    Ok(StatusCode::NO_CONTENT)
}
