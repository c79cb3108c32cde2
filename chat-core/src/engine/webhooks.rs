//! Webhook endpoints: register, change, rotate secrets, replay, read the delivery log
//! (`manage_admins`, all conversations).

use crate::authz::{Action, Principal};
use crate::engine::{ChatEngine, now, page_limit};
use crate::error::InvalidInput;
use crate::error::{Error, Result};
use crate::ids::{DeliveryId, FeedPosition, WebhookId};
use crate::webhooks::{
    DeliveryAttempt, DeliveryState, WebhookChanges, WebhookEndpoint, WebhookSecret, WebhookUrl,
};

const DELIVERIES_DEFAULT: usize = 50;
const DELIVERIES_MAX: usize = 200;

/// A new endpoint.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// Where events are POSTed.
    pub url: WebhookUrl,
    /// The event types it takes; `None`: every type.
    pub events: Option<Vec<String>>,
    /// Its signing secret.
    pub secret: WebhookSecret,
}

impl ChatEngine {
    /// Refuses a principal who may not manage webhooks: for checks the HTTP layer makes
    /// before calling (resolving an endpoint's host), so a refused caller learns nothing
    /// from them.
    pub fn may_manage_webhooks(&self, principal: &Principal) -> Result<()> {
        self.allowed(principal, Action::ManageWebhooks)
    }

    /// Registers an endpoint; it is sent the events committed from now on.
    pub async fn create_webhook(
        &self,
        principal: &Principal,
        new: NewWebhook,
    ) -> Result<WebhookEndpoint> {
        self.allowed(principal, Action::ManageWebhooks)?;
        let endpoint = WebhookEndpoint {
            id: WebhookId::new(),
            url: new.url,
            events: new.events,
            secret: new.secret,
            previous_secret: None,
            disabled: None,
            delivery: DeliveryState {
                cursor: self.store.feed_head().await?,
                ..DeliveryState::default()
            },
            created_at: now(),
        };
        self.store.create_webhook(&endpoint).await?;
        Ok(endpoint)
    }

    /// Every endpoint.
    pub async fn list_webhooks(&self, principal: &Principal) -> Result<Vec<WebhookEndpoint>> {
        self.allowed(principal, Action::ManageWebhooks)?;
        self.store.list_webhooks().await
    }

    /// One endpoint.
    pub async fn webhook(&self, principal: &Principal, id: WebhookId) -> Result<WebhookEndpoint> {
        self.allowed(principal, Action::ManageWebhooks)?;
        self.store
            .get_webhook(id)
            .await?
            .ok_or(Error::NotFound("webhook"))
    }

    /// Changes an endpoint (URL, event types, enabled, replay).
    pub async fn update_webhook(
        &self,
        principal: &Principal,
        id: WebhookId,
        changes: WebhookChanges,
    ) -> Result<WebhookEndpoint> {
        self.allowed(principal, Action::ManageWebhooks)?;
        self.store.update_webhook(id, &changes).await
    }

    /// Replaces the signing secret; the old one keeps signing for
    /// [`ROTATION_OVERLAP`](crate::webhooks::ROTATION_OVERLAP), so
    /// receivers can switch without losing a delivery (another rotation meanwhile is a
    /// conflict).
    pub async fn rotate_webhook_secret(
        &self,
        principal: &Principal,
        id: WebhookId,
        secret: WebhookSecret,
    ) -> Result<WebhookEndpoint> {
        let changes = WebhookChanges {
            rotate_secret: Some((secret, now())),
            ..WebhookChanges::default()
        };
        self.update_webhook(principal, id, changes).await
    }

    /// Delivers again, in order, every event after `after` (at most the feed's head).
    pub async fn replay_webhook(
        &self,
        principal: &Principal,
        id: WebhookId,
        after: FeedPosition,
    ) -> Result<WebhookEndpoint> {
        self.allowed(principal, Action::ManageWebhooks)?;
        let head = self.store.feed_head().await?;
        if after > head {
            let problem = format!("must be at most the feed's newest position, {head}");
            return Err(InvalidInput::new("after", problem).into());
        }
        let changes = WebhookChanges {
            replay_after: Some(after),
            ..WebhookChanges::default()
        };
        self.store.update_webhook(id, &changes).await
    }

    /// Deletes an endpoint and its delivery log.
    pub async fn delete_webhook(&self, principal: &Principal, id: WebhookId) -> Result<()> {
        self.allowed(principal, Action::ManageWebhooks)?;
        self.store.delete_webhook(id).await
    }

    /// The endpoint's delivery log, newest first.
    pub async fn webhook_deliveries(
        &self,
        principal: &Principal,
        id: WebhookId,
        before: Option<DeliveryId>,
        limit: Option<usize>,
    ) -> Result<Vec<DeliveryAttempt>> {
        self.allowed(principal, Action::ManageWebhooks)?;
        let limit = page_limit(limit, DELIVERIES_DEFAULT, DELIVERIES_MAX)?;
        self.store.webhook_deliveries(id, before, limit).await
    }
}
