//! REST requests through the whole router (extractors, validation, authorization, the
//! engine): any method, URI, content type and body, as the visitor, the agent, nobody or a
//! forged token. No answer is a server error; every error under `/api/` is in
//! the JSON error shape.

#![no_main]

use axum::body::Body;
use axum::http::{Request, header};
use chat_fuzz::{World, assert_client_error, block_on};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tower::ServiceExt;

fuzz_target!(|input: &[u8]| {
    block_on(async {
        let world = World::new().await;
        let Some(request) = request(&world, input) else {
            return;
        };
        let path = request.uri().path().to_owned();
        let response = chat_http::router(world.state.clone())
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert!(
            !status.is_server_error(),
            "{status} for {:?}: {body}",
            String::from_utf8_lossy(input)
        );
        if status.is_client_error() && path.starts_with("/api/") {
            assert_client_error(&body["error"]);
        }
    });
});

/// The request the input describes, if it is one HTTP can carry. The input is
/// `WHO METHOD URI\nCONTENT-TYPE\nBODY`: `WHO` is `visitor`, `agent`, `nobody` or else the
/// literal `Authorization` header; an empty content type sends none.
fn request(world: &World, input: &[u8]) -> Option<Request<Body>> {
    let mut parts = input.splitn(3, |byte| *byte == b'\n');
    let line = std::str::from_utf8(parts.next()?).ok()?;
    let content_type = std::str::from_utf8(parts.next().unwrap_or_default()).ok()?;
    let body = parts.next().unwrap_or_default();
    let mut words = line.splitn(3, ' ');
    let (who, method, uri) = (words.next()?, words.next()?, words.next()?);
    let mut request = Request::builder().method(method).uri(world.resolve(uri));
    let authorization = match who {
        "visitor" => Some(format!("Bearer {}", world.visitor.token)),
        "agent" => Some(format!("Bearer {}", world.agent.token)),
        "nobody" => None,
        forged => Some(forged.to_owned()),
    };
    if let Some(authorization) = authorization {
        request = request.header(header::AUTHORIZATION, authorization);
    }
    if !content_type.is_empty() {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let body = match std::str::from_utf8(body) {
        Ok(text) => world.resolve(text).into_bytes(),
        Err(_) => body.to_vec(),
    };
    request.body(Body::from(body)).ok()
}
