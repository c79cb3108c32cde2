//! The merged app answers on its own routes and on the chat's.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn call(app: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn the_shop_and_the_chat_share_one_router() {
    let blobs = std::env::temp_dir().join(format!("embed-in-axum-{}", std::process::id()));
    let app = embed_in_axum::app(&blobs, "secret").expect("app");
    let (status, body) = call(
        &app,
        Request::get("/").body(Body::empty()).expect("request"),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "Welcome to the shop")
    );
    let session = Request::post("/api/sessions/visitor")
        .header("content-type", "application/json")
        .body(Body::from("{}"));
    let (status, body) = call(&app, session.expect("request")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let session: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let token = session["token"].as_str().expect("token");
    let start = Request::post("/api/conversations")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from("{}"));
    assert_eq!(
        call(&app, start.expect("request")).await.0,
        StatusCode::CREATED
    );
    let staff = Request::get("/staff/open-conversations")
        .header("x-staff-key", "secret")
        .body(Body::empty());
    assert_eq!(
        call(&app, staff.expect("request")).await,
        (StatusCode::OK, "1 conversations".into())
    );
    let intruder = Request::get("/staff/open-conversations")
        .body(Body::empty())
        .expect("request");
    assert_eq!(call(&app, intruder).await.0, StatusCode::UNAUTHORIZED);
}
