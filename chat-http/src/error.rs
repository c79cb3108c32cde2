//! The one JSON error shape, `{"error": {"code", "message"}}`, and the one place where
//! errors become status codes.

use std::time::Duration;

use axum::extract::multipart::MultipartError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chat_core::error::ErrorKind;
use serde::Serialize;
use utoipa::ToSchema;

/// Everything a handler can answer instead of its result.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// An engine or store error.
    #[error(transparent)]
    Core(#[from] chat_core::Error),
    /// The request could not be read (malformed JSON, bad query, broken multipart).
    #[error("{0}")]
    BadRequest(String),
    /// The body is well-formed JSON of the wrong shape (wrong types, missing fields).
    #[error("{0}")]
    WrongShape(String),
    /// The body is larger than allowed.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// The body has the wrong content type, or an upload's content is not allowed.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The path exists, but not with this method.
    #[error("this route does not take this method")]
    MethodNotAllowed,
    /// The credential is the host application's, refused for the given reason (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// Too many requests; try again after the given time.
    #[error("too many requests")]
    RateLimited(Duration),
    /// A failure of the HTTP layer itself (blob storage, hashing); logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and human-readable message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`, `invalid_input`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// Wraps an internal failure.
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(error))
    }

    /// Status, code and message. The only mapping of errors to status codes.
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::Core(error) => core_parts(error),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, "bad_request", message.clone()),
            Self::WrongShape(message) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                message.clone(),
            ),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                self.to_string(),
            ),
            Self::UnsupportedMediaType(message) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                message.clone(),
            ),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                self.to_string(),
            ),
            Self::Unauthenticated(reason) => {
                (StatusCode::UNAUTHORIZED, "unauthenticated", reason.clone())
            }
            Self::RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                self.to_string(),
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".into(),
            ),
        }
    }
}

/// A full disk is the server's problem, but a clear one: 507, nothing stored.
const STORAGE_FULL: &str = "the server is out of storage; nothing was stored, try again later";

/// What a client reads when the store stopped (an operator must reopen it).
const STOPPED: &str = "the service cannot store anything until it is restarted";

/// What a client reads when the store is out of reach.
const UNAVAILABLE: &str = "the service is unavailable for a moment; try again";

fn core_parts(error: &chat_core::Error) -> (StatusCode, &'static str, String) {
    let status = match error.kind() {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::AlreadyExists | ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::NotSupported => StatusCode::NOT_IMPLEMENTED,
        ErrorKind::Backend => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::Unavailable | ErrorKind::Stopped => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
    };
    let message = match error.kind() {
        ErrorKind::Unavailable => UNAVAILABLE.to_owned(),
        ErrorKind::StorageFull => STORAGE_FULL.to_owned(),
        ErrorKind::Stopped => STOPPED.to_owned(),
        _ if status.is_server_error() => "internal error".to_owned(),
        _ => error.to_string(),
    };
    (status, error.code(), message)
}

impl ApiError {
    /// The error shape, for answers that are not HTTP responses (socket acks). Server
    /// errors are logged here, and shown only as `internal`.
    pub fn body(&self) -> (StatusCode, ErrorBody) {
        let (status, code, message) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = ?self, source = ?std::error::Error::source(self), "request failed");
        }
        (
            status,
            ErrorBody {
                error: ErrorDetail {
                    code: code.into(),
                    message,
                },
            },
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.body();
        let mut response = (status, axum::Json(body)).into_response();
        let retry_after = match &self {
            Self::RateLimited(wait) => Some(wait.as_secs().max(1)),
            Self::Core(error) if error.kind() == ErrorKind::Unavailable => Some(1),
            _ => None,
        };
        if let Some(value) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Self::UnsupportedMediaType("expected Content-Type: application/json".into())
            }
            StatusCode::UNPROCESSABLE_ENTITY => Self::WrongShape(rejection.body_text()),
            _ => Self::BadRequest(rejection.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

impl From<MultipartError> for ApiError {
    fn from(error: MultipartError) -> Self {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::PayloadTooLarge
        } else {
            Self::BadRequest(error.body_text())
        }
    }
}

impl From<chat_core::error::InvalidInput> for ApiError {
    fn from(error: chat_core::error::InvalidInput) -> Self {
        Self::Core(error.into())
    }
}

/// Handler results.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_store_is_a_503_to_retry_without_its_details() {
        let source = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "secret host");
        let response = ApiError::Core(chat_core::Error::unavailable(source)).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let (_, body) = ApiError::Core(chat_core::Error::unavailable(std::io::Error::other(
            "secret host",
        )))
        .body();
        assert_eq!(body.error.code, "unavailable");
        assert!(
            !body.error.message.contains("secret"),
            "{}",
            body.error.message
        );
    }

    #[test]
    fn a_failing_store_is_a_500_without_its_details() {
        let (status, body) =
            ApiError::Core(chat_core::Error::backend(std::io::Error::other("secret"))).body();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body.error.code, "internal");
        assert_eq!(body.error.message, "internal error");
    }
}
