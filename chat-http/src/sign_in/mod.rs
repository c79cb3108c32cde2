//! Who presents a credential: a built-in session first, then the host application's
//! [`IdentityProvider`] (a JWT from the host with [`JwtProvider`], or the embedder's own),
//! whose answer the engine provisions and keeps as a session under the credential's hash,
//! so REST, Socket.IO and the WebSocket decide every later use, and every live
//! re-check, exactly like a built-in session's.

mod jwt;

use std::fmt::Debug;

use chat_core::engine::ExternalIdentity;
use chrono::{DateTime, Utc};

use crate::auth::hash_token;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::state::AppState;

pub use jwt::{JwtConfig, JwtProvider};

/// Turns the host application's credential (what a client sends as its bearer token, the
/// Socket.IO `auth.token` or the WebSocket `auth` frame's `token`) into who the host says
/// the caller is. Implement it over your own sessions or tokens; the built-in sessions are
/// always asked first, so password logins and widget sessions keep working beside it.
#[async_trait::async_trait]
pub trait IdentityProvider: Debug + Send + Sync + 'static {
    /// Who presents `credential`, and until when the answer holds (the session it opens
    /// ends then, and live connections with it close); `Ok(None)` when the credential is
    /// not the host's; [`HostRefusal`] when it is, but is not valid now.
    async fn identify(&self, credential: &str) -> Result<Option<HostSignIn>, HostRefusal>;
}

/// The host's answer for a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSignIn {
    /// Who the caller is.
    pub identity: ExternalIdentity,
    /// When the answer stops holding (a JWT's `exp`).
    pub expires_at: DateTime<Utc>,
}

/// Why the host's credential was refused (answered as 401 with this reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HostRefusal(pub String);

/// The caller behind `credential`: a built-in session, or else the host's sign-in (the
/// agent or visitor provisioned or updated, and a session opened). 401 when neither
/// knows it.
pub async fn authenticate(state: &AppState, credential: &str) -> ApiResult<Auth> {
    let token = hash_token(credential);
    let engine = state.engine();
    match engine.authenticate(&token).await {
        Ok(principal) => return Ok(Auth { principal, token }),
        Err(chat_core::Error::Unauthenticated) => {}
        Err(error) => return Err(error.into()),
    }
    let Some(provider) = &state.config().identity_provider else {
        return Err(chat_core::Error::Unauthenticated.into());
    };
    let sign_in = provider
        .identify(credential)
        .await
        .map_err(|refusal| ApiError::Unauthenticated(refusal.0))?
        .ok_or(chat_core::Error::Unauthenticated)?;
    let principal = engine
        .sign_in_external(&sign_in.identity, token, sign_in.expires_at)
        .await
        .map_err(|error| match error {
            chat_core::Error::AlreadyExists(_) => ApiError::Unauthenticated(
                "another agent has this email: the host cannot sign in as it".into(),
            ),
            error => error.into(),
        })?;
    Ok(Auth { principal, token })
}
