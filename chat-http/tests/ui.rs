//! The web UI's pages: served from the embedded bundle at the seed's routes, each with a
//! strict Content-Security-Policy; only the widget may be framed, and only by this server
//! and the configured widget origins; the widget page loads none of the dashboard's script.

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
    let pages = ["/", "/admin", "/admin/login", "/admin/chat/anything"];
    for path in pages {
        let reply = if path == "/" {
            demo(path).await
        } else {
            app.call(Method::GET, path, None, None).await
        };
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

/// The demo page is a router of its own (an app that embeds the chat owns its `/`).
async fn demo(path: &str) -> common::Reply {
    let request = axum::http::Request::get(path)
        .body(axum::body::Body::empty())
        .expect("request");
    common::send_to(chat_http::demo_page(), request).await
}

#[tokio::test]
async fn the_router_leaves_the_root_to_the_embedding_app() {
    let reply = TestApp::new().call(Method::GET, "/", None, None).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
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

    let page = html(&app, "/admin").await;
    let script = entry_script(&page);
    let asset = app.call(Method::GET, script, None, None).await;
    assert_eq!(asset.status, StatusCode::OK, "{script}");
    assert!(header(&asset, header::CACHE_CONTROL).contains("immutable"));

    let missing = app
        .call(Method::GET, "/assets/nothing-here.js", None, None)
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn the_widget_page_loads_no_dashboard_script() {
    let app = TestApp::new();
    let widget = html(&app, "/widget").await;
    let dashboard = html(&app, "/admin").await;
    let dashboard_script = entry_script(&dashboard);
    assert_ne!(entry_script(&widget), dashboard_script);
    assert!(!widget.contains(dashboard_script), "{widget}");
}

async fn html(app: &TestApp, path: &str) -> String {
    let reply = app.call(Method::GET, path, None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}");
    String::from_utf8_lossy(&reply.bytes).into_owned()
}

/// The page's module script (its entry; shared chunks are `modulepreload` links).
fn entry_script(page: &str) -> &str {
    page.split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page loads a script")
}
