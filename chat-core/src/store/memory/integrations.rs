//! The change feed and the webhook endpoints of `MemoryStore`.
//!
//! The feed is a list of `(conversation, seq)` in commit order; an append pushes its events
//! while it still holds its conversation's entry lock, so a position is never visible before
//! its event. Endpoints live in one list behind one lock: every change is one step.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::changes::Change;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::ids::{ConversationId, DeliveryId, FeedPosition, Seq, WebhookId};
use crate::store::{ChangeFeedStore, MemoryStore, WebhookStore};
use crate::webhooks::{
    DELIVERY_LOG_KEEP, DeliveryAttempt, DeliveryProgress, StoredWebhook, WebhookChanges,
    WebhookClaim, WebhookEndpoint,
};

/// The feed: position `n` is entry `n - 1`.
#[derive(Debug, Default)]
pub(super) struct Feed(Mutex<Vec<(ConversationId, Seq)>>);

impl Feed {
    /// Gives `events` the next positions.
    pub(super) fn push(&self, events: &[Event]) {
        let mut feed = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        feed.extend(events.iter().map(|e| (e.conversation_id, e.seq)));
    }

    /// Every entry after `after`, with its position.
    fn after(&self, after: FeedPosition) -> Vec<(FeedPosition, ConversationId, Seq)> {
        let feed = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let start = usize::try_from(after.get()).unwrap_or(usize::MAX);
        feed.iter()
            .enumerate()
            .skip(start)
            .map(|(index, (id, seq))| (FeedPosition(index as u64 + 1), *id, *seq))
            .collect()
    }

    fn head(&self) -> FeedPosition {
        let feed = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        FeedPosition(feed.len() as u64)
    }
}

/// An endpoint and its delivery log.
#[derive(Debug)]
pub(super) struct Webhook {
    stored: StoredWebhook,
    log: Vec<DeliveryAttempt>,
}

#[async_trait]
impl ChangeFeedStore for MemoryStore {
    async fn changes_after(&self, after: FeedPosition, limit: usize) -> Result<Vec<Change>> {
        let mut changes = Vec::new();
        for (position, id, seq) in self.feed.after(after) {
            if changes.len() == limit {
                break;
            }
            // A deleted conversation's events leave the feed with it (skipped, not counted).
            let Some(record) = self.conversations.get(&id) else {
                continue;
            };
            let index = usize::try_from(seq.get() - 1).unwrap_or(usize::MAX);
            if let Some(event) = record.events.get(index) {
                changes.push(Change {
                    position,
                    event: event.clone(),
                });
            }
        }
        Ok(changes)
    }

    async fn feed_head(&self) -> Result<FeedPosition> {
        Ok(self.feed.head())
    }
}

fn missing() -> Error {
    Error::NotFound("webhook")
}

impl MemoryStore {
    fn webhooks(&self) -> std::sync::MutexGuard<'_, Vec<Webhook>> {
        self.webhooks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn create_webhook(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        let mut webhooks = self.webhooks();
        if webhooks.iter().any(|w| w.stored.endpoint.id == endpoint.id) {
            return Err(Error::AlreadyExists("webhook"));
        }
        webhooks.push(Webhook {
            stored: StoredWebhook {
                endpoint: endpoint.clone(),
                claim: None,
                generation: 0,
            },
            log: Vec::new(),
        });
        Ok(())
    }

    async fn list_webhooks(&self) -> Result<Vec<WebhookEndpoint>> {
        Ok(self
            .webhooks()
            .iter()
            .map(|w| w.stored.endpoint.clone())
            .collect())
    }

    async fn get_webhook(&self, id: WebhookId) -> Result<Option<WebhookEndpoint>> {
        let webhooks = self.webhooks();
        let found = webhooks.iter().find(|w| w.stored.endpoint.id == id);
        Ok(found.map(|w| w.stored.endpoint.clone()))
    }

    async fn update_webhook(
        &self,
        id: WebhookId,
        changes: &WebhookChanges,
    ) -> Result<WebhookEndpoint> {
        let mut webhooks = self.webhooks();
        let webhook = webhooks
            .iter_mut()
            .find(|w| w.stored.endpoint.id == id)
            .ok_or_else(missing)?;
        webhook.stored.update(changes)?;
        Ok(webhook.stored.endpoint.clone())
    }

    async fn delete_webhook(&self, id: WebhookId) -> Result<()> {
        let mut webhooks = self.webhooks();
        let before = webhooks.len();
        webhooks.retain(|w| w.stored.endpoint.id != id);
        if webhooks.len() == before {
            return Err(missing());
        }
        Ok(())
    }

    async fn claim_webhooks(
        &self,
        head: FeedPosition,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<WebhookClaim>> {
        let mut webhooks = self.webhooks();
        Ok(webhooks
            .iter_mut()
            .filter_map(|w| w.stored.claim(head, now, until))
            .collect())
    }

    async fn record_delivery(
        &self,
        claim: &WebhookClaim,
        progress: &DeliveryProgress,
        release: bool,
    ) -> Result<bool> {
        let mut webhooks = self.webhooks();
        let Some(webhook) = webhooks
            .iter_mut()
            .find(|w| w.stored.endpoint.id == claim.endpoint.id)
        else {
            return Ok(false);
        };
        let held = webhook.stored.record(claim, progress, release);
        if held && let Some(attempt) = &progress.attempt {
            webhook.log.push(attempt.clone());
            let excess = webhook.log.len().saturating_sub(DELIVERY_LOG_KEEP);
            webhook.log.drain(..excess);
        }
        Ok(held)
    }

    async fn webhook_deliveries(
        &self,
        id: WebhookId,
        before: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>> {
        let webhooks = self.webhooks();
        let webhook = webhooks
            .iter()
            .find(|w| w.stored.endpoint.id == id)
            .ok_or_else(missing)?;
        Ok(webhook
            .log
            .iter()
            .rev()
            .filter(|a| before.is_none_or(|before| a.id < before))
            .take(limit)
            .cloned()
            .collect())
    }
}
