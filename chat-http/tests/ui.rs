//! The web UI's pages: served from the embedded bundle at the seed's routes, each with a
//! strict Content-Security-Policy; only the widget may be framed, and only by this server
//! and the configured widget origins.

mod common;

use axum::http::{Method, StatusCode, header};
use chat_http::ChatConfig;
use common::{TestApp, assert_error};

fn header(reply: &common::Reply, name: header::HeaderName) -> &str {
    reply
        .headers
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_page_is_served_and_nobody_frames_the_dashboard() {
    let app = TestApp::new();
    for path in ["/", "/admin", "/admin/login", "/admin/chat/anything"] {
        let reply = app.call(Method::GET, path, None, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(
            header(&reply, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert!(String::from_utf8_lossy(&reply.bytes).contains("<!doctype html>"));
        let policy = header(&reply, header::CONTENT_SECURITY_POLICY);
        assert!(policy.contains("default-src 'self'"), "{path}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert_eq!(header(&reply, header::X_FRAME_OPTIONS), "DENY", "{path}");
    }
}

#[tokio::test]
async fn the_widget_may_be_framed_by_the_configured_sites_only() {
    let app = TestApp::with_config(ChatConfig {
        allowed_origins: vec!["https://shop.example".into()],
        ..TestApp::config()
    });
    let reply = app.call(Method::GET, "/widget", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let policy = header(&reply, header::CONTENT_SECURITY_POLICY);
    assert!(
        policy.ends_with("frame-ancestors 'self' https://shop.example"),
        "{policy}"
    );
    assert!(reply.headers.get(header::X_FRAME_OPTIONS).is_none());
}

#[tokio::test]
async fn the_loader_and_hashed_assets_are_served_with_their_caching() {
    let app = TestApp::new();
    let loader = app.call(Method::GET, "/widget.js", None, None).await;
    assert_eq!(loader.status, StatusCode::OK);
    assert_eq!(
        header(&loader, header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(header(&loader, header::CACHE_CONTROL), "no-cache");

    let page = String::from_utf8_lossy(&app.call(Method::GET, "/admin", None, None).await.bytes)
        .into_owned();
    let script = page
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page loads a script");
    let asset = app.call(Method::GET, script, None, None).await;
    assert_eq!(asset.status, StatusCode::OK, "{script}");
    assert!(header(&asset, header::CACHE_CONTROL).contains("immutable"));

    let missing = app
        .call(Method::GET, "/assets/nothing-here.js", None, None)
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
}
