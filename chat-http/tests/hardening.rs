//! Client mistakes get a 4xx in the JSON error shape, never a 5xx: malformed, mistyped,
//! incomplete, oversized, deeply nested and non-UTF-8 bodies; unknown routes; rate limits.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chat_http::{ChatConfig, RateLimits};
use common::{TestApp, assert_error};
use serde_json::json;

fn raw(uri: &str, token: &str, content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    request.body(body.into()).expect("request")
}

#[tokio::test]
async fn broken_bodies_are_client_errors_in_the_error_shape() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let json_type = Some("application/json");
    let nested = format!(
        "{{\"metadata\": {}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let huge = format!(
        "{{\"conversationId\":\"{conversation}\",\"senderType\":\"customer\",\"message\":\"{}\"}}",
        "x".repeat(10 * 1024 * 1024)
    );
    let cases: Vec<(Request<Body>, StatusCode)> = vec![
        (
            raw("/api/messages/send", &visitor, json_type, "{not json"),
            StatusCode::BAD_REQUEST,
        ),
        (
            raw(
                "/api/messages/send",
                &visitor,
                json_type,
                "{\"conversationId\": 5}",
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            raw(
                "/api/messages/send",
                &visitor,
                json_type,
                "{\"message\": \"hi\"}",
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            raw("/api/messages/send", &visitor, json_type, "[]"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            raw("/api/conversations", &visitor, json_type, nested),
            StatusCode::BAD_REQUEST,
        ),
        (
            raw("/api/messages/send", &visitor, json_type, huge),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            raw(
                "/api/messages/send",
                &visitor,
                json_type,
                &b"{\"message\": \"\xff\xfe\"}"[..],
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            raw("/api/messages/send", &visitor, None, "{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            raw(
                "/api/conversations",
                &visitor,
                json_type,
                "{\"metadata\": [1]}",
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            raw(
                "/api/conversations",
                &visitor,
                json_type,
                "{\"surprise\": 1}",
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            raw(
                "/api/files/upload",
                &visitor,
                Some("multipart/form-data; boundary=x"),
                "garbage",
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            raw("/api/files/upload", &visitor, json_type, "{}"),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (index, (request, status)) in cases.into_iter().enumerate() {
        let reply = app.send(request).await;
        assert_eq!(
            reply.status,
            status,
            "case {index}: {}",
            String::from_utf8_lossy(&reply.bytes)
        );
        assert!(
            reply.json["error"]["code"].is_string() && reply.json["error"]["message"].is_string(),
            "case {index}: {}",
            reply.json
        );
    }
    assert_eq!(
        app.last_seq(&visitor, &conversation).await,
        2,
        "nothing was stored"
    );
}

#[tokio::test]
async fn bad_paths_and_queries_are_client_errors() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    assert_error(
        &app.get("/api/conversations/not-a-uuid", &visitor).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    assert_error(
        &app.get("/api/nothing-here", &visitor).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // Found by fuzzing: a known path with another method answered 405 with an empty body.
    let wrong_method = app
        .call(Method::DELETE, "/api/messages/send", Some(&visitor), None)
        .await;
    assert_error(
        &wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    assert_eq!(wrong_method.headers[header::ALLOW], "POST");
    let conversation = app.conversation(&visitor).await;
    let events = format!("/api/conversations/{conversation}/events?since=-1");
    assert_error(
        &app.get(&events, &visitor).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    let past_end = format!("/api/conversations/{conversation}/events?since=99");
    assert_error(
        &app.get(&past_end, &visitor).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let limit = format!("/api/conversations/{conversation}/messages?limit=0");
    assert_error(
        &app.get(&limit, &visitor).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let injection = "/api/conversations/list?status=active'%3B%20DROP%20TABLE%20messages%3B--";
    let (agent, _) = app
        .admin(
            "sql@example.com",
            chat_core::accounts::Permissions::default(),
        )
        .await;
    assert_error(
        &app.get(injection, &agent).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let app = TestApp::with_config(ChatConfig {
        rate_limits: RateLimits {
            sessions_per_ip: 2,
            conversations_per_session: 1,
            messages_per_session: 2,
            uploads_per_session: 1,
        },
        ..ChatConfig::default()
    });
    let (visitor, _) = app.visitor().await;
    let _second = app.visitor().await;
    let third = app
        .call(Method::POST, "/api/sessions/visitor", None, Some(json!({})))
        .await;
    assert_error(&third, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry_after: u64 = third.headers[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry_after >= 1);

    let conversation = app.conversation(&visitor).await;
    let again = app.post("/api/conversations", &visitor, json!({})).await;
    assert_error(&again, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    for _ in 0..2 {
        assert_eq!(
            app.send_as_visitor(&visitor, &conversation, "hi")
                .await
                .status,
            StatusCode::OK
        );
    }
    assert_error(
        &app.send_as_visitor(&visitor, &conversation, "hi").await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
}

#[tokio::test]
async fn responses_carry_security_headers_and_cors_answers_configured_origins_only() {
    let app = TestApp::with_config(ChatConfig {
        allowed_origins: vec!["https://shop.example".into()],
        ..ChatConfig::default()
    });
    let reply = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(reply.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/messages/send")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(Body::empty())
            .expect("request")
    };
    let allowed = app.send(preflight("https://shop.example")).await;
    assert_eq!(
        allowed.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://shop.example"
    );
    let refused = app.send(preflight("https://evil.example")).await;
    assert!(
        refused
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
}

#[tokio::test]
async fn rotating_sessions_from_one_address_does_not_lift_the_limits() {
    let app = TestApp::with_config(ChatConfig {
        rate_limits: RateLimits {
            sessions_per_ip: 3,
            conversations_per_session: 1,
            messages_per_session: 2,
            uploads_per_session: 1,
        },
        ..ChatConfig::default()
    });
    let mut sent = 0;
    let mut sessions = 0;
    for _ in 0..10 {
        let session = app
            .call(Method::POST, "/api/sessions/visitor", None, Some(json!({})))
            .await;
        if session.status == StatusCode::TOO_MANY_REQUESTS {
            continue;
        }
        sessions += 1;
        let token = session.json["token"].as_str().expect("token").to_owned();
        let conversation = app.conversation(&token).await;
        for _ in 0..5 {
            sent += u32::from(
                app.send_as_visitor(&token, &conversation, "spam")
                    .await
                    .status
                    == StatusCode::OK,
            );
        }
    }
    assert_eq!(sessions, 3, "new sessions from one address are limited");
    assert_eq!(
        sent,
        3 * 2,
        "so rotating sessions sends at most sessions × messages per session"
    );
}

#[tokio::test]
async fn store_failures_map_by_kind_never_by_backend_type() {
    use axum::response::IntoResponse;
    use http_body_util::BodyExt;
    let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
    let cases = [
        (
            chat_core::Error::Stopped("closed"),
            StatusCode::SERVICE_UNAVAILABLE,
            "store_stopped",
        ),
        (
            chat_core::Error::storage_full(full),
            StatusCode::INSUFFICIENT_STORAGE,
            "storage_full",
        ),
    ];
    for (error, status, code) in cases {
        let response = chat_http::error::ApiError::Core(error).into_response();
        assert_eq!(response.status(), status);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(json["error"]["code"], code, "{json}");
    }
}
