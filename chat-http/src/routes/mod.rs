//! The REST routes, collected with their OpenAPI descriptions (one registration serves
//! both, so the document cannot miss a route).

mod admins;
mod audit;
mod canned;
mod changes;
mod conversations;
mod files;
mod health;
mod labels;
mod message_changes;
pub(crate) mod messages;
mod ratings;
mod search;
mod sessions;
mod visitors;
mod webhooks;

use axum::extract::DefaultBodyLimit;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The document's frame; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(title = "chat-engine", description = "Customer-support chat: the REST API."),
    modifiers(&BearerAuth),
    components(schemas(crate::error::ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme =
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build());
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", scheme);
    }
}

/// Every REST route, with its OpenAPI description. `max_upload_bytes` bounds the upload
/// route's body; the others get the router's JSON limit.
pub fn api(max_upload_bytes: usize) -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(files::upload))
        .layer(DefaultBodyLimit::max(
            max_upload_bytes.saturating_add(64 * 1024),
        ));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(sessions::create_visitor))
        .routes(routes!(sessions::login))
        .routes(routes!(sessions::logout))
        .routes(routes!(sessions::current))
        .routes(routes!(conversations::create))
        .routes(routes!(conversations::list))
        .routes(routes!(conversations::get_one))
        .routes(routes!(conversations::events))
        .routes(routes!(conversations::messages))
        .routes(routes!(conversations::read))
        .routes(routes!(conversations::set_status))
        .routes(routes!(conversations::assign))
        .routes(routes!(messages::send))
        .routes(routes!(message_changes::edit, message_changes::delete))
        .routes(routes!(message_changes::redact))
        .routes(routes!(audit::list))
        .routes(routes!(files::download))
        .routes(routes!(admins::list, admins::create))
        .routes(routes!(admins::update))
        .routes(routes!(admins::presence))
        .routes(routes!(labels::list, labels::create))
        .routes(routes!(labels::update, labels::delete))
        .routes(routes!(
            labels::of_conversation,
            labels::set_on_conversation
        ))
        .routes(routes!(canned::search, canned::create))
        .routes(routes!(canned::update, canned::delete))
        .routes(routes!(visitors::blocked))
        .routes(routes!(visitors::get_one, visitors::erase))
        .routes(routes!(visitors::export))
        .routes(routes!(visitors::block, visitors::unblock))
        .routes(routes!(visitors::leave_email))
        .routes(routes!(visitors::unsubscribe_page, visitors::unsubscribe))
        .routes(routes!(ratings::rate))
        .routes(routes!(ratings::report))
        .routes(routes!(changes::list))
        .routes(routes!(search::search))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(
            webhooks::get_one,
            webhooks::update,
            webhooks::delete
        ))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::replay))
        .routes(routes!(webhooks::deliveries))
        .merge(uploads)
}

/// Errors any route may answer, in the JSON error shape, besides those a route documents
/// itself: unreadable or mistyped input, an unknown or unauthorized caller, something not
/// found or not allowed, a wrong method, a body too large or of the wrong type, too many
/// requests, and the store out of reach for a moment.
const COMMON_ERRORS: [(&str, &str); 10] = [
    ("400", "the request could not be read"),
    ("401", "no valid session"),
    ("403", "not allowed for this session"),
    ("404", "not found, or not the caller's"),
    ("405", "the route does not take this method"),
    ("413", "the body is too large"),
    ("415", "the body's type is not accepted"),
    ("422", "the input is invalid"),
    ("429", "too many requests; see Retry-After"),
    (
        "503",
        "the store is out of reach for a moment; retry after Retry-After",
    ),
];

/// Documents [`COMMON_ERRORS`] on every operation (after the routes added their paths).
pub fn document_common_errors(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error_body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            for (code, description) in COMMON_ERRORS {
                let response = ResponseBuilder::new()
                    .description(description)
                    .content("application/json", error_body.clone());
                operation
                    .responses
                    .responses
                    .entry(code.to_owned())
                    .or_insert_with(|| response.build().into());
            }
        }
    }
}
