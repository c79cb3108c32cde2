//! The change feed and the webhook endpoints of `PostgresStore`.
//!
//! Feed positions are a column of `events`, given by `batch::insert_events` in the writing
//! transaction (see the migration for why they become visible in order). Endpoint changes
//! lock the endpoint's row and run chat-core's steps (`StoredWebhook`) on it, so an agent's
//! change, a claim and a pass's progress never undo each other, on any number of nodes.

use async_trait::async_trait;
use chat_core::changes::Change;
use chat_core::event::Event;
use chat_core::ids::{DeliveryId, FeedPosition, WebhookId};
use chat_core::store::{ChangeFeedStore, WebhookStore};
use chat_core::webhooks::{
    AttemptOutcome, DELIVERY_LOG_KEEP, DeliveryAttempt, DeliveryProgress, DeliveryState,
    StoredWebhook, WebhookChanges, WebhookClaim, WebhookEndpoint, WebhookSecret, WebhookUrl,
};
use chat_core::{Error, Result};
use chrono::{DateTime, Utc};
use sqlx::types::Uuid;
use sqlx::{Postgres, Transaction};

use crate::error::map;
use crate::rows::{EventRow, db_count};
use crate::store::PostgresStore;

#[derive(sqlx::FromRow)]
struct ChangeRow {
    position: i64,
    #[sqlx(flatten)]
    event: EventRow,
}

#[async_trait]
impl ChangeFeedStore for PostgresStore {
    async fn changes_after(&self, after: FeedPosition, limit: usize) -> Result<Vec<Change>> {
        let rows: Vec<ChangeRow> = sqlx::query_as(
            "SELECT position, conversation_id, seq, timestamp, kind FROM events \
             WHERE position > $1 ORDER BY position LIMIT $2",
        )
        .bind(db_count(after.get()))
        .bind(db_count(limit as u64))
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        Ok(rows
            .into_iter()
            .map(|row| Change {
                position: FeedPosition(u64::try_from(row.position).unwrap_or_default()),
                event: Event::from(row.event),
            })
            .collect())
    }

    async fn feed_head(&self) -> Result<FeedPosition> {
        // The counter may be ahead of what is visible while a writer holds it; the newest
        // visible event is the head a reader can count on.
        let head: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM events")
            .fetch_one(&self.pool)
            .await
            .map_err(map)?;
        Ok(FeedPosition(
            head.and_then(|h| u64::try_from(h).ok()).unwrap_or_default(),
        ))
    }
}

const WEBHOOK_COLUMNS: &str = "id, url, events, secret, previous_secret, previous_secret_until, \
     disabled, cursor, attempts, next_attempt_at, claim_token, claimed_until, generation, created_at";

#[derive(sqlx::FromRow)]
struct WebhookRow {
    id: Uuid,
    url: String,
    events: Option<Vec<String>>,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_until: Option<DateTime<Utc>>,
    disabled: Option<String>,
    cursor: i64,
    attempts: i32,
    next_attempt_at: Option<DateTime<Utc>>,
    claim_token: Option<Uuid>,
    claimed_until: Option<DateTime<Utc>>,
    generation: i64,
    created_at: DateTime<Utc>,
}

impl TryFrom<WebhookRow> for StoredWebhook {
    type Error = Error;

    fn try_from(row: WebhookRow) -> Result<Self> {
        let previous_secret = match (row.previous_secret, row.previous_secret_until) {
            (Some(secret), Some(until)) => Some((WebhookSecret::parse(&secret)?, until)),
            _ => None,
        };
        Ok(StoredWebhook {
            endpoint: WebhookEndpoint {
                id: WebhookId::from_uuid(row.id),
                url: WebhookUrl::parse(&row.url)?,
                events: row.events,
                secret: WebhookSecret::parse(&row.secret)?,
                previous_secret,
                disabled: row.disabled,
                delivery: DeliveryState {
                    cursor: FeedPosition(u64::try_from(row.cursor).unwrap_or_default()),
                    attempts: u32::try_from(row.attempts).unwrap_or_default(),
                    next_attempt_at: row.next_attempt_at,
                },
                created_at: row.created_at,
            },
            claim: row.claim_token.zip(row.claimed_until),
            generation: u64::try_from(row.generation).unwrap_or_default(),
        })
    }
}

/// Writes every column of `stored` (an insert or, on conflict, a replacement).
async fn save(tx: &mut Transaction<'_, Postgres>, stored: &StoredWebhook) -> sqlx::Result<()> {
    let e = &stored.endpoint;
    let (previous, previous_until) = e
        .previous_secret
        .as_ref()
        .map(|(s, until)| (s.as_str(), *until))
        .unzip();
    sqlx::query(
        "INSERT INTO webhooks (id, url, events, secret, previous_secret, previous_secret_until, \
         disabled, cursor, attempts, next_attempt_at, claim_token, claimed_until, created_at, \
         generation) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (id) DO UPDATE SET url = $2, events = $3, secret = $4, \
         previous_secret = $5, previous_secret_until = $6, disabled = $7, cursor = $8, \
         attempts = $9, next_attempt_at = $10, claim_token = $11, claimed_until = $12, \
         generation = $14",
    )
    .bind(e.id.as_uuid())
    .bind(e.url.as_str())
    .bind(&e.events)
    .bind(e.secret.as_str())
    .bind(previous)
    .bind(previous_until)
    .bind(&e.disabled)
    .bind(db_count(e.delivery.cursor.get()))
    .bind(i32::try_from(e.delivery.attempts).unwrap_or(i32::MAX))
    .bind(e.delivery.next_attempt_at)
    .bind(stored.claim.map(|(token, _)| token))
    .bind(stored.claim.map(|(_, until)| until))
    .bind(e.created_at)
    .bind(i64::try_from(stored.generation).unwrap_or(i64::MAX))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The endpoint's row, locked until the transaction ends.
async fn lock(tx: &mut Transaction<'_, Postgres>, id: WebhookId) -> Result<Option<StoredWebhook>> {
    let query = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1 FOR UPDATE");
    let row: Option<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(query))
        .bind(id.as_uuid())
        .fetch_optional(&mut **tx)
        .await
        .map_err(map)?;
    row.map(StoredWebhook::try_from).transpose()
}

fn missing() -> Error {
    Error::NotFound("webhook")
}

#[async_trait]
impl WebhookStore for PostgresStore {
    async fn create_webhook(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(map)?;
        if lock(&mut tx, endpoint.id).await?.is_some() {
            tx.rollback().await.map_err(map)?;
            return Err(Error::AlreadyExists("webhook"));
        }
        let stored = StoredWebhook {
            endpoint: endpoint.clone(),
            claim: None,
            generation: 0,
        };
        save(&mut tx, &stored).await.map_err(map)?;
        tx.commit().await.map_err(map)
    }

    async fn list_webhooks(&self) -> Result<Vec<WebhookEndpoint>> {
        let query = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, id");
        let rows: Vec<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(query))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        rows.into_iter()
            .map(|row| StoredWebhook::try_from(row).map(|w| w.endpoint))
            .collect()
    }

    async fn get_webhook(&self, id: WebhookId) -> Result<Option<WebhookEndpoint>> {
        let query = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1");
        let row: Option<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(query))
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(|row| StoredWebhook::try_from(row).map(|w| w.endpoint))
            .transpose()
    }

    async fn update_webhook(
        &self,
        id: WebhookId,
        changes: &WebhookChanges,
    ) -> Result<WebhookEndpoint> {
        let mut tx = self.pool.begin().await.map_err(map)?;
        let Some(mut stored) = lock(&mut tx, id).await? else {
            tx.rollback().await.map_err(map)?;
            return Err(missing());
        };
        if let Err(conflict) = stored.update(changes) {
            tx.rollback().await.map_err(map)?;
            return Err(conflict.into());
        }
        save(&mut tx, &stored).await.map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(stored.endpoint)
    }

    async fn delete_webhook(&self, id: WebhookId) -> Result<()> {
        let deleted = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id.as_uuid())
            .execute(&self.pool)
            .await
            .map_err(map)?;
        if deleted.rows_affected() == 0 {
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
        let mut tx = self.pool.begin().await.map_err(map)?;
        // Rows another node is changing right now are left for the next pass.
        let query = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE disabled IS NULL AND cursor < $1 \
             AND (next_attempt_at IS NULL OR next_attempt_at <= $2) \
             AND (claimed_until IS NULL OR claimed_until <= $2) \
             ORDER BY id FOR UPDATE SKIP LOCKED"
        );
        let rows: Vec<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(query))
            .bind(db_count(head.get()))
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(map)?;
        let mut claims = Vec::new();
        for row in rows {
            let mut stored = StoredWebhook::try_from(row)?;
            if let Some(claim) = stored.claim(head, now, until) {
                save(&mut tx, &stored).await.map_err(map)?;
                claims.push(claim);
            }
        }
        tx.commit().await.map_err(map)?;
        Ok(claims)
    }

    async fn record_delivery(
        &self,
        claim: &WebhookClaim,
        progress: &DeliveryProgress,
        release: bool,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(map)?;
        // Rolled back at once, not when the connection is next used: a dropped transaction
        // would keep the row locked meanwhile, and claims skip locked rows.
        let Some(mut stored) = lock(&mut tx, claim.endpoint.id).await? else {
            tx.rollback().await.map_err(map)?;
            return Ok(false);
        };
        let before = stored.clone();
        if !stored.record(claim, progress, release) {
            // Refused; the claim may still have ended (the endpoint changed since).
            if stored == before {
                tx.rollback().await.map_err(map)?;
            } else {
                save(&mut tx, &stored).await.map_err(map)?;
                tx.commit().await.map_err(map)?;
            }
            return Ok(false);
        }
        save(&mut tx, &stored).await.map_err(map)?;
        if let Some(attempt) = &progress.attempt {
            insert_attempt(&mut tx, attempt).await.map_err(map)?;
            prune_log(&mut tx, attempt.webhook_id).await.map_err(map)?;
        }
        tx.commit().await.map_err(map)?;
        Ok(true)
    }

    async fn webhook_deliveries(
        &self,
        id: WebhookId,
        before: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>> {
        if self.get_webhook(id).await?.is_none() {
            return Err(missing());
        }
        let rows: Vec<DeliveryRow> = sqlx::query_as(
            "SELECT id, webhook_id, position, message_id, event_type, attempt, at, status, error, \
             duration_ms, outcome FROM webhook_deliveries \
             WHERE webhook_id = $1 AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(id.as_uuid())
        .bind(before.map(|b| b.as_uuid()))
        .bind(db_count(limit as u64))
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        rows.into_iter().map(DeliveryAttempt::try_from).collect()
    }
}

/// Keeps the newest [`DELIVERY_LOG_KEEP`] attempts of an endpoint's log.
async fn prune_log(tx: &mut Transaction<'_, Postgres>, id: WebhookId) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND id <= \
         (SELECT id FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)",
    )
    .bind(id.as_uuid())
    .bind(db_count(DELIVERY_LOG_KEEP as u64))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_attempt(
    tx: &mut Transaction<'_, Postgres>,
    attempt: &DeliveryAttempt,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, webhook_id, position, message_id, event_type, \
         attempt, at, status, error, duration_ms, outcome) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(attempt.id.as_uuid())
    .bind(attempt.webhook_id.as_uuid())
    .bind(db_count(attempt.position.get()))
    .bind(&attempt.message_id)
    .bind(&attempt.event_type)
    .bind(i32::try_from(attempt.attempt).unwrap_or(i32::MAX))
    .bind(attempt.at)
    .bind(attempt.status.map(i32::from))
    .bind(&attempt.error)
    .bind(db_count(attempt.duration_ms))
    .bind(outcome_name(attempt.outcome))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn outcome_name(outcome: AttemptOutcome) -> &'static str {
    match outcome {
        AttemptOutcome::Delivered => "delivered",
        AttemptOutcome::WillRetry => "willRetry",
        AttemptOutcome::Failed => "failed",
        AttemptOutcome::Disabled => "disabled",
    }
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: Uuid,
    webhook_id: Uuid,
    position: i64,
    message_id: String,
    event_type: String,
    attempt: i32,
    at: DateTime<Utc>,
    status: Option<i32>,
    error: Option<String>,
    duration_ms: i64,
    outcome: String,
}

impl TryFrom<DeliveryRow> for DeliveryAttempt {
    type Error = Error;

    fn try_from(row: DeliveryRow) -> Result<Self> {
        let outcome = [
            AttemptOutcome::Delivered,
            AttemptOutcome::WillRetry,
            AttemptOutcome::Failed,
            AttemptOutcome::Disabled,
        ]
        .into_iter()
        .find(|o| outcome_name(*o) == row.outcome)
        .ok_or_else(|| Error::backend(UnknownOutcome(row.outcome.clone())))?;
        Ok(DeliveryAttempt {
            id: DeliveryId::from_uuid(row.id),
            webhook_id: WebhookId::from_uuid(row.webhook_id),
            position: FeedPosition(u64::try_from(row.position).unwrap_or_default()),
            message_id: row.message_id,
            event_type: row.event_type,
            attempt: u32::try_from(row.attempt).unwrap_or_default(),
            at: row.at,
            status: row.status.and_then(|s| u16::try_from(s).ok()),
            error: row.error,
            duration_ms: u64::try_from(row.duration_ms).unwrap_or_default(),
            outcome,
        })
    }
}

/// A delivery row whose outcome this build does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown webhook delivery outcome {0:?}")]
struct UnknownOutcome(String);
