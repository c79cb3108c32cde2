//! The node's link to NATS, and what a break in it owes. NATS keeps nothing for a
//! connection that is away, so after a break:
//!
//! - this node's subscribers resync from the store (they may have missed anything);
//! - the other nodes' subscribers of every topic this node published to shortly before
//!   the break, or during it, are told to resync (what it sent may never have arrived).
//!
//! A break is the client's `Disconnected`, any reconnect (a `Connected` after the first,
//! even if its `Disconnected` was lost), or a publish the server did not confirm in time
//! (the link is then treated as down, and probed, until a round trip succeeds). "Shortly
//! before" is [`GRACE`]: longer than a dead connection takes to be noticed.

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
/// How far before a noticed break a publish may have been lost: past the ping timeout,
/// with a margin.
const GRACE: Duration = Duration::from_secs(5 * PING_INTERVAL.as_secs());
/// Pause between attempts to send the resyncs a break owes.
const RETRY: Duration = Duration::from_millis(500);
/// Attempts at telling a topic to resync before giving up (the client is closed).
const ATTEMPTS: usize = 240;
/// Slow-consumer reports closer together than this resync once.
const SLOW_CONSUMER_QUIET: Duration = Duration::from_secs(1);
/// A second resync after a reconnect, once interest has spread through a NATS cluster.
const SETTLE: Duration = Duration::from_secs(1);

/// Whether the link is up, and when this node last published to each topic.
#[derive(Debug, Default)]
pub struct Link {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// When the current break started; `None` while the link is up.
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

    /// Marks the link down (a disconnect, or a publish the server did not confirm).
    pub fn broke(&self) {
        self.lock().broken_since.get_or_insert_with(Instant::now);
    }

    /// Whether the link is marked down.
    pub fn is_broken(&self) -> bool {
        self.lock().broken_since.is_some()
    }

    /// Forgets publishes too old to be owed anything.
    pub fn prune(&self) {
        let mut state = self.lock();
        let horizon = state.broken_since.unwrap_or_else(Instant::now);
        state
            .published
            .retain(|_, at| horizon.saturating_duration_since(*at) < GRACE);
    }

    /// Ends a break (one that started now, if none was noticed): the topics published to
    /// since shortly before it.
    fn mended(&self) -> Vec<Topic> {
        let mut state = self.lock();
        let since = state.broken_since.take().unwrap_or_else(Instant::now);
        state
            .published
            .iter()
            .filter(|(_, at)| since.saturating_duration_since(**at) < GRACE)
            .map(|(topic, _)| *topic)
            .collect()
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
    let mut connected_before = false;
    let mut last_slow_resync: Option<Instant> = None;
    while let Some(event) = events.recv().await {
        match event {
            Event::Disconnected => {
                tracing::warn!("lost the NATS connection; reconnecting, then resyncing");
                link.broke();
            }
            Event::Connected if !connected_before => connected_before = true,
            Event::Connected => {
                tracing::info!("NATS connection back; resyncing");
                recover(&client, &link, &local).await;
            }
            Event::SlowConsumer(_) => {
                let recent = last_slow_resync.is_some_and(|at| at.elapsed() < SLOW_CONSUMER_QUIET);
                if !recent {
                    tracing::warn!("NATS dropped messages for a slow subscription; resyncing");
                    local.publish_everywhere(&Signal::Resync);
                    last_slow_resync = Some(Instant::now());
                }
            }
            other => tracing::info!(event = %other, "NATS"),
        }
    }
}

/// Probes a link marked down while the client thinks it is connected (a publish timed
/// out): once a round trip succeeds, recovers as after a reconnect.
pub async fn probe(client: &Client, link: &Arc<Link>, local: &Arc<LocalBroadcaster>) {
    let connected = client.connection_state() == async_nats::connection::State::Connected;
    if link.is_broken() && connected && round_trip(client).await {
        tracing::info!("NATS answers again; resyncing");
        recover(client, link, local).await;
    }
}

/// After a break: once the server has this node's subscriptions again (the client re-sent
/// them on reconnecting), this node's subscribers resync, and the other nodes' subscribers
/// of what this node published around the break are told to.
async fn recover(client: &Client, link: &Arc<Link>, local: &Arc<LocalBroadcaster>) {
    let owed = link.mended();
    round_trip(client).await;
    local.publish_everywhere(&Signal::Resync);
    tokio::spawn(tell_resync(client.clone(), link.clone(), owed));
    // In a NATS cluster, interest reaches the other servers a moment later.
    let local = local.clone();
    tokio::spawn(async move {
        tokio::time::sleep(SETTLE).await;
        local.publish_everywhere(&Signal::Resync);
    });
}

/// Tells the other nodes' subscribers of `topics` to resync. If the link breaks again
/// first, the topics not yet told are owed by that break.
async fn tell_resync(client: Client, link: Arc<Link>, topics: Vec<Topic>) {
    let Some(payload) = wire::encode(&Signal::Resync, usize::MAX) else {
        return;
    };
    for (told, topic) in topics.iter().enumerate() {
        let mut attempts = 0;
        while !round_trip_after_publish(&client, *topic, &payload).await {
            attempts += 1;
            if link.is_broken() || attempts >= ATTEMPTS {
                for topic in &topics[told..] {
                    link.publishing(*topic);
                }
                return;
            }
            tokio::time::sleep(RETRY).await;
        }
    }
}

/// Publishes `payload` to `topic` and waits for the server to confirm it.
async fn round_trip_after_publish(client: &Client, topic: Topic, payload: &[u8]) -> bool {
    let sent = client
        .publish(wire::subject(topic), payload.to_vec().into())
        .await;
    sent.is_ok() && round_trip(client).await
}
