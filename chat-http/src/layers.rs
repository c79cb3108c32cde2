//! What wraps every route: body limit, CORS for the widget's sites, request logs, the API's
//! security headers, JSON 404s for unknown routes and 405s for wrong methods, and a JSON 500
//! instead of a dropped connection if a handler panics.

use std::any::Any;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::ChatConfig;
use crate::error::ApiError;
use crate::state::AppState;

/// Adds the API's security headers (the UI's pages set their own).
pub fn api_headers(router: Router<AppState>) -> Router<AppState> {
    let headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    headers.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    })
}

/// Adds what wraps every route, API and UI.
pub fn apply(router: Router<AppState>, config: &ChatConfig) -> Router<AppState> {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.max_json_bytes))
        .layer(cors(&config.allowed_origins))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(CatchPanicLayer::custom(panicked))
}

/// One span per request, at `info` (so trace export sees it), named by its method and its
/// route's template: never the full URI, whose query may carry a secret (an unsubscribe
/// token).
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |path| path.as_str());
    let name = format!("{} {route}", request.method());
    tracing::info_span!("request", otel.name = name, http.method = %request.method(), http.route = route)
}

/// Browsers on the configured sites may call the API with a bearer token (no cookies).
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-requested-with"),
        ])
}

async fn not_found() -> ApiError {
    ApiError::Core(chat_core::Error::NotFound("route"))
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

fn panicked(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    tracing::error!(panic = detail.unwrap_or("unknown"), "a handler panicked");
    ApiError::Internal("handler panicked".into()).into_response()
}
