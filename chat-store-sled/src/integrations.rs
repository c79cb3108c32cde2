//! The change feed and the webhook endpoints of `SledStore`.
//!
//! Feed entries are written by [`commit`](crate::commit) in the same batch as their events;
//! readers read up to the durable feed position only, so a position is never visible before
//! it is on disk. Endpoints are changed on the writer thread (one step each), their claims
//! and progress included.

use async_trait::async_trait;
use chat_core::changes::Change;
use chat_core::ids::{DeliveryId, FeedPosition, WebhookId};
use chat_core::store::{ChangeFeedStore, WebhookStore};
use chat_core::webhooks::{
    DELIVERY_LOG_KEEP, DeliveryAttempt, DeliveryProgress, StoredWebhook, WebhookChanges,
    WebhookClaim, WebhookEndpoint,
};
use chat_core::{Error, Result};
use chrono::{DateTime, Utc};

use crate::codec::{decode, encode, exists, get, scan};
use crate::conversations::decode_event;
use crate::error::{backend, malformed};
use crate::keys;
use crate::source::Source;
use crate::store::SledStore;

#[async_trait]
impl ChangeFeedStore for SledStore {
    async fn changes_after(&self, after: FeedPosition, limit: usize) -> Result<Vec<Change>> {
        let head = self.rows_shared().durable_feed_position();
        if after.get() >= head {
            return Ok(Vec::new());
        }
        let range = keys::feed(after.get() + 1)..=keys::feed(head);
        let mut changes = Vec::new();
        // Entries of deleted conversations are skipped, not counted: a page is short only
        // at the head, however many lie in a row.
        for entry in self.tree().range(range) {
            if changes.len() == limit {
                break;
            }
            let (key, value) = entry.map_err(backend)?;
            let (position, id, seq) =
                keys::feed_entry(&key, &value).ok_or_else(|| malformed("feed entry"))?;
            // A deleted conversation's events leave the feed with it.
            if let Some(stored) = self.tree().get(keys::event(id, seq)).map_err(backend)? {
                changes.push(Change {
                    position: FeedPosition(position),
                    event: decode_event(&stored)?,
                });
            }
        }
        Ok(changes)
    }

    async fn feed_head(&self) -> Result<FeedPosition> {
        Ok(FeedPosition(self.rows_shared().durable_feed_position()))
    }
}

fn missing() -> Error {
    Error::NotFound("webhook")
}

#[async_trait]
impl WebhookStore for SledStore {
    async fn create_webhook(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        let stored = StoredWebhook {
            endpoint: endpoint.clone(),
            claim: None,
            generation: 0,
        };
        self.writer
            .run(move |txn| {
                let key = keys::webhook(stored.endpoint.id);
                if exists(txn, &key)? {
                    return Err(Error::AlreadyExists("webhook"));
                }
                txn.insert(key, encode(&stored)?);
                Ok(())
            })
            .await
    }

    async fn list_webhooks(&self) -> Result<Vec<WebhookEndpoint>> {
        let mut stored: Vec<StoredWebhook> = scan(self.tree(), &[keys::WEBHOOK])?;
        stored.sort_by_key(|w| (w.endpoint.created_at, w.endpoint.id));
        Ok(stored.into_iter().map(|w| w.endpoint).collect())
    }

    async fn get_webhook(&self, id: WebhookId) -> Result<Option<WebhookEndpoint>> {
        let stored: Option<StoredWebhook> = get(self.tree(), &keys::webhook(id))?;
        Ok(stored.map(|w| w.endpoint))
    }

    async fn update_webhook(
        &self,
        id: WebhookId,
        changes: &WebhookChanges,
    ) -> Result<WebhookEndpoint> {
        let changes = changes.clone();
        self.writer
            .run(move |txn| {
                let key = keys::webhook(id);
                let mut stored: StoredWebhook = get(txn, &key)?.ok_or_else(missing)?;
                stored.update(&changes)?;
                txn.insert(key, encode(&stored)?);
                Ok(stored.endpoint)
            })
            .await
    }

    async fn delete_webhook(&self, id: WebhookId) -> Result<()> {
        self.writer
            .run(move |txn| {
                let key = keys::webhook(id);
                if !exists(txn, &key)? {
                    return Err(missing());
                }
                txn.remove(key);
                for (entry, _) in txn.entries(&keys::delivery(id, None))? {
                    txn.remove(entry);
                }
                Ok(())
            })
            .await
    }

    async fn claim_webhooks(
        &self,
        head: FeedPosition,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<WebhookClaim>> {
        self.writer
            .run(move |txn| {
                let mut claims = Vec::new();
                for (key, value) in txn.entries(&[keys::WEBHOOK])? {
                    let mut stored: StoredWebhook = decode(&value)?;
                    if let Some(claim) = stored.claim(head, now, until) {
                        txn.insert(key, encode(&stored)?);
                        claims.push(claim);
                    }
                }
                Ok(claims)
            })
            .await
    }

    async fn record_delivery(
        &self,
        claim: &WebhookClaim,
        progress: &DeliveryProgress,
        release: bool,
    ) -> Result<bool> {
        let (claim, progress) = (claim.clone(), progress.clone());
        self.writer
            .run(move |txn| {
                let key = keys::webhook(claim.endpoint.id);
                let Some(mut stored) = get::<StoredWebhook>(txn, &key)? else {
                    return Ok(false);
                };
                let before = stored.clone();
                let held = stored.record(&claim, &progress, release);
                // A refused write back may still have ended the claim.
                if stored != before {
                    txn.insert(key, encode(&stored)?);
                }
                if !held {
                    return Ok(false);
                }
                if let Some(attempt) = &progress.attempt {
                    let entry = keys::delivery(attempt.webhook_id, Some(attempt.id));
                    txn.insert(entry, encode(attempt)?);
                    prune_log(txn, attempt.webhook_id)?;
                }
                Ok(true)
            })
            .await
    }

    async fn webhook_deliveries(
        &self,
        id: WebhookId,
        before: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>> {
        if !exists(self.tree(), &keys::webhook(id))? {
            return Err(missing());
        }
        let start = keys::delivery(id, None);
        let end = match before {
            Some(before) => keys::delivery(id, Some(before)),
            None => [start.as_slice(), &[0xff; 17]].concat(),
        };
        self.tree()
            .range(start..end)
            .values()
            .rev()
            .take(limit)
            .map(|value| decode(&value.map_err(backend)?))
            .collect()
    }
}

/// Keeps the newest [`DELIVERY_LOG_KEEP`] attempts of an endpoint's log.
fn prune_log(txn: &mut crate::txn::Txn<'_>, id: WebhookId) -> Result<()> {
    let entries = txn.entries(&keys::delivery(id, None))?;
    let excess = entries.len().saturating_sub(DELIVERY_LOG_KEEP);
    for (key, _) in entries.into_iter().take(excess) {
        txn.remove(key);
    }
    Ok(())
}

/// The newest feed position on disk (zero for a store without one).
pub fn feed_head_on_disk(tree: &sled::Tree) -> Result<u64> {
    match tree.scan_prefix([keys::FEED]).keys().next_back() {
        Some(key) => {
            let key = key.map_err(backend)?;
            let position = key.get(1..9).ok_or_else(|| malformed("feed key"))?;
            Ok(u64::from_be_bytes(
                position.try_into().map_err(|_| malformed("feed key"))?,
            ))
        }
        None => Ok(0),
    }
}
