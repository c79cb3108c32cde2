//! Extractors that answer in the JSON error shape: JSON bodies, query strings, path ids,
//! the caller's session and address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{
    ConnectInfo, FromRequest, FromRequestParts, Multipart, OptionalFromRequestParts, Request,
};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chat_core::Principal;
use chat_core::accounts::TokenHash;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body; rejections become [`ApiError`]s.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// A query string; rejections become [`ApiError`]s.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A multipart form; rejections become [`ApiError`]s.
pub struct ApiMultipart(pub Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let form = Multipart::from_request(request, state).await;
        form.map(Self)
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

/// A path; rejections become [`ApiError`]s.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// The caller, from `Authorization: Bearer <token>` (a built-in session's token or the host
/// application's credential, see [`sign_in`](crate::sign_in)): a missing, unknown,
/// expired or revoked token is 401.
#[derive(Debug, Clone, Copy)]
pub struct Auth {
    /// Who is calling.
    pub principal: Principal,
    /// The token's hash (for logout and rate limits).
    pub token: TokenHash,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let credential = bearer(parts).ok_or(chat_core::Error::Unauthenticated)?;
        crate::sign_in::authenticate(state, credential).await
    }
}

impl OptionalFromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        match bearer(parts) {
            None => Ok(None),
            Some(_) => <Self as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .map(Some),
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?
        .trim();
    (!token.is_empty()).then_some(token)
}

/// The client's address as the socket saw it (no proxy headers are trusted).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(Self(address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}
