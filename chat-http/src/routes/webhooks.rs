//! Webhook endpoints (`manage_admins`): register, list, change, rotate the secret, replay,
//! delete, and read the delivery log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_core::ids::{DeliveryId, FeedPosition, WebhookId};
use chat_core::webhooks::{self as rules, WebhookChanges, WebhookSecret, WebhookUrl};

use crate::app::parse;
use crate::dto::{
    CreateWebhookRequest, DeliveriesQuery, DeliveryList, ReplayRequest, RotateSecretRequest,
    UpdateWebhookRequest, WebhookEnvelope, WebhookList,
};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::state::AppState;
use crate::webhooks::{check_target, new_secret, verify_key};

/// Every endpoint.
#[utoipa::path(get, path = "/api/webhooks", tag = "webhooks",
    responses((status = 200, body = WebhookList), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<WebhookList>> {
    let webhooks = state.engine().list_webhooks(&auth.principal).await?;
    Ok(Json(WebhookList {
        webhooks: webhooks.into_iter().map(Into::into).collect(),
    }))
}

/// Registers an endpoint; it is sent the events committed from now on. The answer carries
/// its `id` and `secret`.
#[utoipa::path(post, path = "/api/webhooks", tag = "webhooks",
    request_body = CreateWebhookRequest,
    responses((status = 201, body = WebhookEnvelope), (status = 403, body = ErrorBody),
        (status = 422, description = "a bad URL, a private target, an unknown event type or a malformed secret", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<CreateWebhookRequest>,
) -> ApiResult<(StatusCode, Json<WebhookEnvelope>)> {
    state.engine().may_manage_webhooks(&auth.principal)?;
    let url = target(&state, &request.url).await?;
    let events = request
        .events
        .as_deref()
        .map(rules::parse_event_types)
        .transpose()?;
    let secret = match request.secret.as_deref() {
        Some(raw) => given_secret(raw)?,
        None => new_secret(),
    };
    let new = chat_core::engine::NewWebhook {
        url,
        events,
        secret,
    };
    let webhook = state.engine().create_webhook(&auth.principal, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookEnvelope {
            webhook: webhook.into(),
        }),
    ))
}

/// One endpoint.
#[utoipa::path(get, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookEnvelope), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<WebhookEnvelope>> {
    let webhook = state.engine().webhook(&auth.principal, parse(&id)?).await?;
    Ok(Json(WebhookEnvelope {
        webhook: webhook.into(),
    }))
}

/// Changes the URL or event types, or stops and resumes delivery.
#[utoipa::path(patch, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path)), request_body = UpdateWebhookRequest,
    responses((status = 200, body = WebhookEnvelope), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<UpdateWebhookRequest>,
) -> ApiResult<Json<WebhookEnvelope>> {
    state.engine().may_manage_webhooks(&auth.principal)?;
    let id: WebhookId = parse(&id)?;
    let url = match request.url.as_deref() {
        Some(raw) => Some(target(&state, raw).await?),
        None => None,
    };
    let events = match request.events {
        Some(Some(names)) => Some(Some(rules::parse_event_types(&names)?)),
        Some(None) => Some(None),
        None => None,
    };
    let changes = WebhookChanges {
        url,
        events,
        disabled: request
            .enabled
            .map(|enabled| (!enabled).then(|| "disabled by an agent".to_owned())),
        ..WebhookChanges::default()
    };
    let webhook = state
        .engine()
        .update_webhook(&auth.principal, id, changes)
        .await?;
    Ok(Json(WebhookEnvelope {
        webhook: webhook.into(),
    }))
}

/// Replaces the signing secret. The old one keeps signing beside it for 24 hours, so
/// receivers can switch without refusing a delivery.
#[utoipa::path(post, path = "/api/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = String, Path)), request_body = RotateSecretRequest,
    responses((status = 200, body = WebhookEnvelope), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "the previous secret still signs", body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<RotateSecretRequest>,
) -> ApiResult<Json<WebhookEnvelope>> {
    state.engine().may_manage_webhooks(&auth.principal)?;
    let secret = match request.secret.as_deref() {
        Some(raw) => given_secret(raw)?,
        None => new_secret(),
    };
    let webhook = state
        .engine()
        .rotate_webhook_secret(&auth.principal, parse(&id)?, secret)
        .await?;
    Ok(Json(WebhookEnvelope {
        webhook: webhook.into(),
    }))
}

/// Delivers again, in order, every event after the feed position `after`, with the same
/// `webhook-id`s (receivers that dedupe see each event once).
#[utoipa::path(post, path = "/api/webhooks/{id}/replay", tag = "webhooks",
    params(("id" = String, Path)), request_body = ReplayRequest,
    responses((status = 200, body = WebhookEnvelope), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, description = "`after` is past the feed's head", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn replay(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<ReplayRequest>,
) -> ApiResult<Json<WebhookEnvelope>> {
    let webhook = state
        .engine()
        .replay_webhook(&auth.principal, parse(&id)?, FeedPosition(request.after))
        .await?;
    Ok(Json(WebhookEnvelope {
        webhook: webhook.into(),
    }))
}

/// Deletes an endpoint and its delivery log.
#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state
        .engine()
        .delete_webhook(&auth.principal, parse(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The endpoint's delivery log, newest first.
#[utoipa::path(get, path = "/api/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path), ("before" = Option<String>, Query), ("limit" = Option<usize>, Query)),
    responses((status = 200, body = DeliveryList), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn deliveries(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<DeliveriesQuery>,
) -> ApiResult<Json<DeliveryList>> {
    let before: Option<DeliveryId> = query.before.as_deref().map(parse).transpose()?;
    let deliveries = state
        .engine()
        .webhook_deliveries(&auth.principal, parse(&id)?, before, query.limit)
        .await?;
    Ok(Json(DeliveryList {
        deliveries: deliveries.into_iter().map(Into::into).collect(),
    }))
}

/// A URL whose host is an allowed delivery target.
async fn target(state: &AppState, raw: &str) -> ApiResult<WebhookUrl> {
    let url = WebhookUrl::parse(raw)?;
    check_target(&url, state.config().webhooks.allow_private).await?;
    Ok(url)
}

/// A secret given by the agent, checked.
fn given_secret(raw: &str) -> ApiResult<WebhookSecret> {
    let secret = WebhookSecret::parse(raw)?;
    verify_key(&secret)?;
    Ok(secret)
}
