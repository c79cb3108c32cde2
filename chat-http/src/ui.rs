//! The web UI: the embed loader at `/widget.js`, the customer widget at `/widget`, the
//! agents' dashboard at `/admin`, `/admin/login`, `/admin/chat/{id}`, `/admin/blocked` and
//! `/admin/reports`, and (for the
//! ready server, not for apps that embed the router and own their `/`) a demo host page,
//! all served from the bundle built in `web/` and embedded in the binary. The widget and
//! the dashboard are separate pages (`widget.html`, `admin.html`) with their own scripts, so
//! a visitor's browser never loads the dashboard.
//!
//! Every page gets a strict Content-Security-Policy. Only `/widget` may be framed, by this
//! server's own pages and the configured widget origins.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::Embed;

use crate::error::ApiError;
use crate::state::AppState;

/// The built bundle (`web/dist`, committed; `.ci/run` checks it is current).
#[derive(Embed)]
#[folder = "web/dist"]
struct Bundle;

/// What every page may load: only this server's scripts, styles, connections and frames;
/// images also from the object URLs the UI makes for authorized downloads.
const POLICY: &str = "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; \
                      base-uri 'none'; form-action 'self'";

/// The UI's routes; `allowed_origins` may frame the widget.
pub fn router(allowed_origins: &[String]) -> Router<AppState> {
    let widget_policy = policy(&format!("'self'{}", framing_origins(allowed_origins)));
    let widget = get(move || {
        let policy = widget_policy.clone();
        async move { page("widget.html", policy, None) }
    });
    Router::new()
        .route("/widget", widget)
        .route(
            "/widget.js",
            get(|| async { file("widget.js", "no-cache") }),
        )
        .route("/admin", get(dashboard))
        .route("/admin/login", get(dashboard))
        .route("/admin/chat/{id}", get(dashboard))
        .route("/admin/blocked", get(dashboard))
        .route("/admin/reports", get(dashboard))
        .route("/assets/{*path}", get(asset))
}

/// The demo host page at `/`: a shop page with the widget embedded by its `<script>` tag.
pub fn demo_page() -> Router {
    Router::new().route("/", get(|| async { unframed("index.html") }))
}

/// [`POLICY`] with the pages that may frame this one.
fn policy(frame_ancestors: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{POLICY}; frame-ancestors {frame_ancestors}"))
        .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'"))
}

/// The configured origins that may frame the widget, each ` <origin>`; anything that is not
/// a plain `http(s)://host[:port]` origin is left out rather than bent into the policy.
fn framing_origins(origins: &[String]) -> String {
    origins
        .iter()
        .filter(|origin| is_plain_origin(origin))
        .map(|origin| format!(" {origin}"))
        .collect()
}

fn is_plain_origin(origin: &str) -> bool {
    let Some(host) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

async fn dashboard() -> Response {
    unframed("admin.html")
}

async fn asset(Path(path): Path<String>) -> Response {
    // Names carry a content hash, so a copy never goes stale.
    file(
        &format!("assets/{path}"),
        "public, max-age=31536000, immutable",
    )
}

/// A page nobody may frame.
fn unframed(name: &str) -> Response {
    page(
        name,
        policy("'none'"),
        Some(HeaderValue::from_static("DENY")),
    )
}

fn page(name: &str, policy: HeaderValue, frame_options: Option<HeaderValue>) -> Response {
    let mut response = file(name, "no-cache");
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    if let Some(value) = frame_options {
        headers.insert(header::X_FRAME_OPTIONS, value);
    }
    response
}

fn file(name: &str, cache: &'static str) -> Response {
    let Some(file) = Bundle::get(name) else {
        return ApiError::Core(chat_core::Error::NotFound("file")).into_response();
    };
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/") {
        HeaderValue::from_str(&format!("{mime}; charset=utf-8"))
    } else {
        HeaderValue::from_str(mime)
    }
    .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        file.data,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_origins_may_frame_the_widget() {
        let origins = [
            "https://shop.example".to_owned(),
            "http://localhost:3000".to_owned(),
            "https://evil.example; script-src *".to_owned(),
            "*".to_owned(),
            "javascript:alert(1)".to_owned(),
        ];
        assert_eq!(
            framing_origins(&origins),
            " https://shop.example http://localhost:3000"
        );
    }

    #[test]
    fn the_bundle_has_every_page() {
        for name in ["index.html", "widget.html", "admin.html", "widget.js"] {
            assert!(
                Bundle::get(name).is_some(),
                "{name} is missing from web/dist"
            );
        }
    }
}
