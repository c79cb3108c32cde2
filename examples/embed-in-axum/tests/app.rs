//! The merged app answers on its own routes and on the chat's, and its staff use the chat
//! with the shop's own sign-in: provisioned on first use, permissions following the shop.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use embed_in_axum::StaffMember;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

async fn call(app: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let location = response.headers().get(header::LOCATION).cloned();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = match location {
        Some(location) => location.to_str().expect("location").to_owned(),
        None => String::from_utf8_lossy(&body).into_owned(),
    };
    (status, body)
}

fn bearer(method: &str, path: &str, token: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(if method == "POST" { "{}" } else { "" }))
        .expect("request")
}

fn app() -> (axum::Router, std::sync::Arc<embed_in_axum::StaffSessions>) {
    let blobs = std::env::temp_dir().join(format!("embed-in-axum-{}", std::process::id()));
    embed_in_axum::app(&blobs).expect("app")
}

fn sam(manager: bool) -> StaffMember {
    StaffMember {
        id: "staff-1".into(),
        name: "Sam Staff".into(),
        email: "sam@shop.example".into(),
        manager,
    }
}

#[tokio::test]
async fn the_shop_and_the_chat_share_one_router() {
    let (app, staff) = app();
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
    let session: Value = serde_json::from_str(&body).expect("JSON");
    let token = session["token"].as_str().expect("token");
    let start = bearer("POST", "/api/conversations", token);
    assert_eq!(call(&app, start).await.0, StatusCode::CREATED);

    let shop_session = staff.sign_in(sam(true));
    let staff_page = Request::get("/staff/open-conversations")
        .header(
            header::COOKIE,
            format!("theme=dark; shop_session={shop_session}"),
        )
        .body(Body::empty());
    assert_eq!(
        call(&app, staff_page.expect("request")).await,
        (StatusCode::OK, "1 conversations".into())
    );
    let intruder = Request::get("/staff/open-conversations")
        .body(Body::empty())
        .expect("request");
    assert_eq!(call(&app, intruder).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn staff_use_the_dashboard_with_the_shops_own_sign_in() {
    let (app, staff) = app();
    let shop_session = staff.sign_in(sam(true));
    let support = |session: &str| {
        Request::get("/staff/support")
            .header(header::COOKIE, format!("shop_session={session}"))
            .body(Body::empty())
            .expect("request")
    };
    let (status, location) = call(&app, support(&shop_session)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let pass = location
        .strip_prefix("/admin#token=")
        .expect("a dashboard link")
        .to_owned();
    assert_ne!(
        pass, shop_session,
        "the shop's own session never leaves the shop"
    );
    let (status, _) = call(&app, bearer("GET", "/api/session", &shop_session)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the shop session is no chat credential"
    );

    // The dashboard presents the pass: the chat knows Sam as a manager.
    let (status, body) = call(&app, bearer("GET", "/api/session", &pass)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let me: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(me["admin"]["name"], "Sam Staff");
    assert_eq!(me["admin"]["permissions"]["manageAdmins"], true);
    let (status, _) = call(&app, bearer("GET", "/api/admins", &pass)).await;
    assert_eq!(status, StatusCode::OK);

    // The shop demotes Sam: the next pass says so, and the chat follows, the earlier
    // pass included.
    let demoted = staff.sign_in(sam(false));
    let (_, location) = call(&app, support(&demoted)).await;
    let narrow = location
        .strip_prefix("/admin#token=")
        .expect("a dashboard link");
    let (_, body) = call(&app, bearer("GET", "/api/session", narrow)).await;
    let me: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(me["admin"]["permissions"]["manageAdmins"], false, "{me}");
    let (status, _) = call(&app, bearer("GET", "/api/admins", &pass)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the earlier pass narrowed too"
    );

    let (status, _) = call(&app, support("not-a-shop-session")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Signed out of the shop: an unused pass of that session signs nobody in.
    let (_, location) = call(&app, support(&demoted)).await;
    let unused = location
        .strip_prefix("/admin#token=")
        .expect("a dashboard link")
        .to_owned();
    staff.sign_out(&demoted);
    let (status, _) = call(&app, bearer("GET", "/api/session", &unused)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
