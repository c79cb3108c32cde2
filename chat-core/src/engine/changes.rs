//! The change feed for integrations, and the webhook delivery pass that reads it.
//!
//! A pass claims the endpoints that are behind the feed's head (a claim expires, so a
//! crashed node's endpoints are picked up by another), then sends each its events one at a
//! time in feed order through a [`WebhookSender`], writing back after every attempt: the
//! cursor moves past an event only once it is delivered (or has failed for good), so a crash
//! anywhere re-sends the event, never skips it.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::future::join_all;

use crate::authz::{Action, Principal};
use crate::changes::{Change, MAX_PAGE};
use crate::engine::{ChatEngine, now, page_limit};
use crate::error::Result;
use crate::ids::{DeliveryId, FeedPosition};
use crate::webhooks::{
    self, AttemptOutcome, AttemptResult, DeliveryAttempt, DeliveryProgress, RetrySchedule,
    WebhookClaim, WebhookEndpoint,
};

/// Sends one event to one endpoint: the transport (signing, HTTP) lives outside the core.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Delivers `change` to `endpoint` as attempt number `attempt` (1 for the first).
    async fn send(
        &self,
        endpoint: &WebhookEndpoint,
        change: &Change,
        attempt: u32,
    ) -> AttemptResult;
}

/// How delivery passes run.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// The waits between attempts at one event.
    pub schedule: RetrySchedule,
    /// How long a claim on an endpoint lasts unless renewed: a pass renews it after every
    /// attempt, and ends its work on an endpoint after this long. It must exceed the
    /// sender's timeout; after a crash, the endpoint waits this long for another pass.
    pub claim_for: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            schedule: RetrySchedule::default(),
            claim_for: Duration::from_secs(30),
        }
    }
}

/// Events read per endpoint per round of a pass.
const PASS_PAGE: usize = 100;

impl ChatEngine {
    /// The committed events after `after`, in commit order (owners only: every event of
    /// every conversation, private notes included).
    pub async fn changes_after(
        &self,
        principal: &Principal,
        after: FeedPosition,
        limit: Option<usize>,
    ) -> Result<Vec<Change>> {
        self.allowed(principal, Action::ReadChangeFeed)?;
        let limit = page_limit(limit, 100, MAX_PAGE)?;
        self.store.changes_after(after, limit).await
    }

    /// How many feed positions the enabled endpoints are behind, summed (for monitoring).
    pub async fn webhook_backlog(&self) -> Result<u64> {
        let head = self.store.feed_head().await?;
        let endpoints = self.store.list_webhooks().await?;
        Ok(endpoints
            .iter()
            .filter(|e| e.disabled.is_none())
            .map(|e| head.get().saturating_sub(e.delivery.cursor.get()))
            .sum())
    }

    /// One delivery pass over every endpoint that is due; returns how many attempts it made.
    pub async fn deliver_webhooks(
        &self,
        sender: &dyn WebhookSender,
        config: &DeliveryConfig,
    ) -> Result<usize> {
        self.allowed(&Principal::System, Action::ManageWebhooks)?;
        let head = self.store.feed_head().await?;
        let claims = self
            .store
            .claim_webhooks(head, now(), claim_until(config))
            .await?;
        let passes = claims
            .into_iter()
            .map(|claim| self.deliver_to(claim, head, sender, config));
        let mut attempts = 0;
        for result in join_all(passes).await {
            attempts += result?;
        }
        Ok(attempts)
    }

    /// Sends a claimed endpoint its events until it is caught up, must wait, or has been at
    /// it for a claim's length (other endpoints wait for the pass to end); then ends the
    /// claim.
    async fn deliver_to(
        &self,
        claim: WebhookClaim,
        head: FeedPosition,
        sender: &dyn WebhookSender,
        config: &DeliveryConfig,
    ) -> Result<usize> {
        let started = Instant::now();
        let mut recorded = claim.endpoint.delivery;
        let mut state = recorded;
        let mut attempts = 0;
        loop {
            let changes = self.store.changes_after(state.cursor, PASS_PAGE).await?;
            let exhausted = changes.len() < PASS_PAGE;
            for change in &changes {
                if started.elapsed() > config.claim_for {
                    return self.release(&claim, recorded.cursor, state, attempts).await;
                }
                if !claim.endpoint.takes(&change.event) {
                    state = webhooks::DeliveryState {
                        cursor: change.position,
                        ..Default::default()
                    };
                    continue;
                }
                let attempt_number = state.attempts + 1;
                let began = Instant::now();
                let result = sender.send(&claim.endpoint, change, attempt_number).await;
                let at = now();
                let step = config
                    .schedule
                    .next_step(state, change.position, &result, at, jitter());
                attempts += 1;
                let progress = DeliveryProgress {
                    from: recorded.cursor,
                    state: step.state,
                    attempt: Some(attempt_record(
                        &claim,
                        change,
                        attempt_number,
                        &result,
                        began,
                        step.outcome,
                    )),
                    disabled: (step.outcome == AttemptOutcome::Disabled)
                        .then(|| disabled_because(&result)),
                    renew_until: Some(claim_until(config)),
                };
                let done = matches!(
                    step.outcome,
                    AttemptOutcome::WillRetry | AttemptOutcome::Disabled
                );
                if !self.store.record_delivery(&claim, &progress, done).await? || done {
                    return Ok(attempts);
                }
                (recorded, state) = (step.state, step.state);
            }
            if exhausted {
                // Every position up to the head was read (a short page reads to the end):
                // what lies between was deleted, so the cursor may pass it.
                if state.cursor < head && state.attempts == 0 {
                    state.cursor = head;
                }
                return self.release(&claim, recorded.cursor, state, attempts).await;
            }
        }
    }

    /// Ends a claim, saving the cursor past any events the endpoint does not take.
    async fn release(
        &self,
        claim: &WebhookClaim,
        from: FeedPosition,
        state: webhooks::DeliveryState,
        attempts: usize,
    ) -> Result<usize> {
        let progress = DeliveryProgress {
            from,
            state,
            attempt: None,
            disabled: None,
            renew_until: None,
        };
        self.store.record_delivery(claim, &progress, true).await?;
        Ok(attempts)
    }
}

/// When a claim made or renewed now ends.
fn claim_until(config: &DeliveryConfig) -> chrono::DateTime<chrono::Utc> {
    now() + chrono::Duration::from_std(config.claim_for).unwrap_or_default()
}

/// The delivery log's record of one attempt.
fn attempt_record(
    claim: &WebhookClaim,
    change: &Change,
    attempt: u32,
    result: &AttemptResult,
    began: Instant,
    outcome: AttemptOutcome,
) -> DeliveryAttempt {
    let (status, error) = match result {
        AttemptResult::Answered { status, .. } => (Some(*status), None),
        AttemptResult::NoAnswer(why) | AttemptResult::Refused(why) => (None, Some(why.clone())),
    };
    DeliveryAttempt {
        id: DeliveryId::new(),
        webhook_id: claim.endpoint.id,
        position: change.position,
        message_id: webhooks::message_id(&change.event),
        event_type: change.event.kind.type_name().to_owned(),
        attempt,
        at: now(),
        status,
        error,
        duration_ms: u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX),
        outcome,
    }
}

/// Why an attempt disabled its endpoint.
fn disabled_because(result: &AttemptResult) -> String {
    match result {
        AttemptResult::Refused(why) => format!("the target is not allowed: {why}"),
        _ => "the receiver answered 410 Gone".to_owned(),
    }
}

/// A number in `[0, 1)` that spreads retries apart.
fn jitter() -> f64 {
    (uuid::Uuid::new_v4().as_u128() % 1_000) as f64 / 1_000.0
}
