//! The wire types of the integration surface: the change feed, webhook endpoints and their
//! delivery log.

use chat_core::ids::{DeliveryId, WebhookId};
use chat_core::webhooks::{AttemptOutcome, DeliveryAttempt, WebhookEndpoint};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// `GET /api/changes` query.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangesQuery {
    /// Changes after this position (default 0: from the start).
    pub after: Option<u64>,
    /// 1–1000 (default 100).
    pub limit: Option<usize>,
}

/// A webhook endpoint. (No `Debug`: it carries the secret.)
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDto {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: WebhookId,
    /// Where events are POSTed.
    pub url: String,
    /// The event types it takes; absent: every type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// Its signing secret (`whsec_…`).
    pub secret: String,
    /// Until when the secret before the last rotation also signs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// Why not, when disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// The last feed position it is done with.
    pub cursor: u64,
    /// Failed attempts at the next event.
    pub attempts: u32,
    /// When the next attempt is due, while retrying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Registration time.
    pub created_at: DateTime<Utc>,
}

impl From<WebhookEndpoint> for WebhookDto {
    fn from(endpoint: WebhookEndpoint) -> Self {
        Self {
            id: endpoint.id,
            url: endpoint.url.as_str().to_owned(),
            events: endpoint.events,
            secret: endpoint.secret.as_str().to_owned(),
            previous_secret_expires_at: endpoint.previous_secret.map(|(_, until)| until),
            enabled: endpoint.disabled.is_none(),
            disabled_reason: endpoint.disabled,
            cursor: endpoint.delivery.cursor.get(),
            attempts: endpoint.delivery.attempts,
            next_attempt_at: endpoint.delivery.next_attempt_at,
            created_at: endpoint.created_at,
        }
    }
}

/// `{webhook}`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct WebhookEnvelope {
    /// The endpoint.
    pub webhook: WebhookDto,
}

/// `{webhooks}`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct WebhookList {
    /// Oldest first.
    pub webhooks: Vec<WebhookDto>,
}

/// `POST /api/webhooks` body. (No `Debug`: it may carry a secret.)
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// An `http://` or `https://` URL of a public host.
    pub url: String,
    /// Event types to send (absent: every type).
    pub events: Option<Vec<String>>,
    /// A `whsec_…` secret (absent: one is made).
    pub secret: Option<String>,
}

/// `PATCH /api/webhooks/{id}` body: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    /// A new URL.
    pub url: Option<String>,
    /// New event types; `null`: every type.
    #[serde(default, deserialize_with = "present_list")]
    #[schema(value_type = Option<Vec<String>>)]
    pub events: Option<Option<Vec<String>>>,
    /// `true` resumes delivery (retrying at once), `false` stops it.
    pub enabled: Option<bool>,
}

/// `POST /api/webhooks/{id}/rotate-secret` body. (No `Debug`: it may carry a secret.)
#[derive(Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotateSecretRequest {
    /// The new `whsec_…` secret (absent: one is made).
    pub secret: Option<String>,
}

/// `POST /api/webhooks/{id}/replay` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayRequest {
    /// Deliver again every event after this feed position (same `webhook-id`s).
    pub after: u64,
}

/// `GET /api/webhooks/{id}/deliveries` query.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Attempts older than this delivery id.
    pub before: Option<String>,
    /// 1–200 (default 50).
    pub limit: Option<usize>,
}

/// One delivery attempt.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryDto {
    /// Id (time-ordered).
    #[schema(value_type = String, format = Uuid)]
    pub id: DeliveryId,
    /// The event's feed position.
    pub position: u64,
    /// The `webhook-id` header sent.
    pub message_id: String,
    /// The event's type.
    pub event_type: String,
    /// 1 for the first attempt at the event.
    pub attempt: u32,
    /// When.
    pub at: DateTime<Utc>,
    /// The receiver's status, if it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why there was no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: u64,
    /// `delivered`, `willRetry`, `failed` or `disabled`.
    #[schema(value_type = String)]
    pub outcome: AttemptOutcome,
}

impl From<DeliveryAttempt> for DeliveryDto {
    fn from(attempt: DeliveryAttempt) -> Self {
        Self {
            id: attempt.id,
            position: attempt.position.get(),
            message_id: attempt.message_id,
            event_type: attempt.event_type,
            attempt: attempt.attempt,
            at: attempt.at,
            status: attempt.status,
            error: attempt.error,
            duration_ms: attempt.duration_ms,
            outcome: attempt.outcome,
        }
    }
}

/// `{deliveries}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first.
    pub deliveries: Vec<DeliveryDto>,
}

/// A list field that is absent (`None`), `null` (`Some(None)`) or a list.
fn present_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<Vec<String>>>, D::Error> {
    Option::<Vec<String>>::deserialize(deserializer).map(Some)
}
