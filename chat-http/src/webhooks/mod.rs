//! Webhook delivery over HTTP: the worker that runs chat-core's delivery passes, the sender
//! that signs and POSTs one event (Standard Webhooks), and the guard that keeps deliveries
//! away from private and loopback addresses.

mod sender;
mod sign;
mod target;

use std::time::Duration;

use chat_core::Principal;
use chat_core::engine::DeliveryConfig;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use crate::state::AppState;

pub use sender::HttpSender;
pub use sign::{new_secret, signatures, verify_key};
pub use target::check_target;

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Whether endpoints may be private or loopback addresses (off: refused).
    pub allow_private: bool,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// The retry schedule and how long a pass holds an endpoint (more than `timeout`).
    pub delivery: DeliveryConfig,
}

impl WebhookConfig {
    /// A configuration whose attempts time out after `timeout`, and whose claims last three
    /// times that (so a crashed node's endpoints are taken over that soon).
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            allow_private: false,
            timeout,
            delivery: DeliveryConfig {
                claim_for: timeout * 3,
                ..DeliveryConfig::default()
            },
        }
    }
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self::with_timeout(Duration::from_secs(10))
    }
}

/// Runs delivery passes until the task is aborted: at once, whenever something was written
/// (any inbox update), and every `every` (retries that came due, endpoints another node let
/// go). Every node may run one: endpoints are claimed, so each is served by one pass at a
/// time.
pub fn spawn_webhook_worker(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let config = state.config().webhooks.clone();
        let sender = match HttpSender::new(&config) {
            Ok(sender) => sender,
            Err(error) => {
                tracing::error!(%error, "webhooks are not delivered: no HTTP client");
                return;
            }
        };
        let engine = state.engine().clone();
        let mut inbox = engine.subscribe_inbox(&Principal::System).await.ok();
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                Some(_) = next(&mut inbox) => {}
            }
            match engine.deliver_webhooks(&sender, &config.delivery).await {
                Ok(0) => {}
                Ok(attempts) => tracing::debug!(attempts, "webhook delivery pass"),
                Err(error) => tracing::warn!(%error, "a webhook delivery pass failed"),
            }
            if let Ok(backlog) = engine.webhook_backlog().await {
                crate::metrics::webhook_backlog(backlog);
            }
        }
    })
}

/// The next inbox delivery, or never when there is no subscription.
async fn next(
    inbox: &mut Option<chat_core::broadcast::Subscription>,
) -> Option<chat_core::broadcast::Delivery> {
    match inbox.as_mut() {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}
