//! The node's link to NATS, and what a break in it owes. NATS keeps nothing for a
//! connection that is away, so after a reconnect:
//!
//! - this node's subscribers resync from the store (they may have missed anything);
//! - the other nodes' subscribers of every topic this node published to shortly before
//!   the break, or during it, are told to resync (what it sent may never have arrived).
//!
//! "Shortly before" is [`GRACE`]: longer than a dead connection takes to be noticed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::{Client, Event};
use chat_core::LocalBroadcaster;
use chat_core::broadcast::{Signal, Topic};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::nats::routes::round_trip;
use crate::nats::wire;

/// How often the client pings the server; two unanswered pings mark the link dead.
pub const PING_INTERVAL: Duration = Duration::from_secs(10);
/// How far before a noticed break a publish may have been lost.
const GRACE: Duration = Duration::from_secs(3 * PING_INTERVAL.as_secs());
/// Pause between attempts to send the resyncs a break owes.
const RETRY: Duration = Duration::from_millis(500);

/// Whether the link is up, and when this node last published to each topic.
#[derive(Debug, Default)]
pub struct Link {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// When the current break started; `None` while connected.
    broken_since: Option<Instant>,
    /// The last publish to each topic (pruned past [`GRACE`]).
    published: HashMap<Topic, Instant>,
}

impl Link {
    /// Records a publish to `topic`; returns whether the link is up to send it now.
    pub fn publishing(&self, topic: Topic) -> bool {
        let mut state = self.lock();
        state.published.insert(topic, Instant::now());
        state.broken_since.is_none()
    }

    /// Forgets publishes too old to be owed anything.
    pub fn prune(&self) {
        let mut state = self.lock();
        let horizon = state.broken_since.unwrap_or_else(Instant::now);
        state
            .published
            .retain(|_, at| horizon.saturating_duration_since(*at) < GRACE);
    }

    fn broke(&self) {
        self.lock().broken_since.get_or_insert_with(Instant::now);
    }

    /// Ends a break: the topics published to since shortly before it.
    fn mended(&self) -> Option<Vec<Topic>> {
        let mut state = self.lock();
        let since = state.broken_since.take()?;
        let owed = state
            .published
            .iter()
            .filter(|(_, at)| since.saturating_duration_since(**at) < GRACE)
            .map(|(topic, _)| *topic)
            .collect();
        Some(owed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Follows the client's connection events until the client is gone.
pub async fn follow(
    client: Client,
    link: Arc<Link>,
    local: Arc<LocalBroadcaster>,
    mut events: mpsc::UnboundedReceiver<Event>,
) {
    while let Some(event) = events.recv().await {
        match event {
            Event::Disconnected => {
                tracing::warn!("lost the NATS connection; reconnecting, then resyncing");
                link.broke();
            }
            Event::Connected => {
                let Some(owed) = link.mended() else {
                    continue;
                };
                // The client re-sent this node's subscriptions on reconnecting; once the
                // server has them, anything missed is in the store.
                round_trip(&client).await;
                local.publish_everywhere(&Signal::Resync);
                tracing::info!(topics = owed.len(), "NATS connection back; resyncing");
                tokio::spawn(tell_resync(client.clone(), link.clone(), owed));
            }
            Event::SlowConsumer(_) => {
                tracing::warn!("NATS dropped messages for a slow subscription; resyncing");
                local.publish_everywhere(&Signal::Resync);
            }
            other => tracing::info!(event = %other, "NATS"),
        }
    }
}

/// Tells the other nodes' subscribers of `topics` to resync. If the link breaks again
/// first, the topics not yet told are owed by that break.
async fn tell_resync(client: Client, link: Arc<Link>, topics: Vec<Topic>) {
    let Some(payload) = wire::encode(&Signal::Resync, usize::MAX) else {
        return;
    };
    for (told, topic) in topics.iter().enumerate() {
        loop {
            let sent = client
                .publish(wire::subject(*topic), payload.clone().into())
                .await;
            if sent.is_ok() && client.flush().await.is_ok() {
                break;
            }
            if link.lock().broken_since.is_some() {
                for topic in &topics[told..] {
                    link.publishing(*topic);
                }
                return;
            }
            tokio::time::sleep(RETRY).await;
        }
    }
}
