//! `NatsBroadcaster` (feature `nats`): fan-out across server nodes through a NATS server,
//! while the store (PostgreSQL, with `announce_events` off) stays the record.
//!
//! - A publish reaches this node's subscribers at once, then goes to the topic's subject
//!   (the client does not hear its own messages back). For events, inbox updates and access
//!   changes, `publish` returns once the server has confirmed it (a round trip), so a
//!   message acknowledged to its sender is on the server even if the node dies next.
//! - A node subscribes to a subject only while someone on it listens to that topic
//!   (`routes.rs`), and hands what arrives to its local subscribers; an event larger than
//!   the server's message limit travels by seq and is read back from the store.
//! - A broken link turns into resyncs (`link.rs`): this node's subscribers, and the other
//!   nodes' subscribers of what this node published around the break. NATS keeps nothing
//!   for a connection that is away; the store has it all, by seq.
//! - Publishing never waits on subscribers, and on the server only briefly: a publish the
//!   server does not confirm in time marks the link down; while it is down a publish goes
//!   to this node only and is owed a resync, and the link is probed until it answers.

mod link;
mod routes;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, ConnectOptions};
use async_trait::async_trait;
use chat_core::broadcast::{Broadcaster, Signal, Subscription, Topic};
use chat_core::{DynChatStore, LocalBroadcaster, Result};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use link::Link;
use routes::Routes;

/// How long a publish may wait for room in the client's queue before it is given up (and
/// the link treated as down, so its topic is owed a resync).
const PUBLISH_LIMIT: Duration = Duration::from_secs(2);
/// How often subjects nobody here listens to any more are dropped (and a link marked down
/// by a timeout is probed).
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// Room kept in a message for the subject and protocol line.
const HEADROOM: usize = 1024;

/// Fan-out across nodes through NATS (pair it with a shared store, such as `PostgresStore`
/// with `announce_events: false`).
#[derive(Debug)]
pub struct NatsBroadcaster {
    client: Client,
    local: Arc<LocalBroadcaster>,
    routes: Arc<Routes>,
    link: Arc<Link>,
    tasks: [JoinHandle<()>; 2],
}

impl NatsBroadcaster {
    /// Connects to the NATS server at `url` (`nats://host:4222`, several comma-separated
    /// for a cluster). Events too large for a message are read back from `store`.
    pub async fn connect(
        url: &str,
        store: Arc<DynChatStore>,
    ) -> std::result::Result<Self, async_nats::ConnectError> {
        let (events, heard) = mpsc::unbounded_channel();
        let client = ConnectOptions::new()
            .name("chat-server")
            .no_echo()
            .ping_interval(link::PING_INTERVAL)
            .event_callback(move |event| {
                let events = events.clone();
                async move {
                    let _ = events.send(event);
                }
            })
            .connect(url)
            .await?;
        let local = Arc::new(LocalBroadcaster::new());
        let link = Arc::new(Link::default());
        let routes = Arc::new(Routes::new(client.clone(), local.clone(), store));
        let follow = link::follow(client.clone(), link.clone(), local.clone(), heard);
        let sweep = sweep(client.clone(), routes.clone(), link.clone(), local.clone());
        let tasks = [tokio::spawn(follow), tokio::spawn(sweep)];
        Ok(Self {
            client,
            local,
            routes,
            link,
            tasks,
        })
    }

    /// Sends one payload, and with `confirm` waits until the server has it; `false` if the
    /// server did not take it in time.
    async fn send(&self, topic: Topic, payload: Vec<u8>, confirm: bool) -> bool {
        let publish = self.client.publish(wire::subject(topic), payload.into());
        if !matches!(
            tokio::time::timeout(PUBLISH_LIMIT, publish).await,
            Ok(Ok(()))
        ) {
            return false;
        }
        !confirm || routes::round_trip(&self.client).await
    }
}

impl Drop for NatsBroadcaster {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[async_trait]
impl Broadcaster for NatsBroadcaster {
    async fn publish(&self, topic: Topic, signal: Signal) -> Result<()> {
        // An atomic read: `server_info()` would clone the server's whole INFO per publish.
        let limit = self.client.max_payload().saturating_sub(HEADROOM);
        let payload = wire::encode(&signal, limit);
        let confirm = matches!(
            signal,
            Signal::Event { .. }
                | Signal::Inbox { .. }
                | Signal::Revoked { .. }
                | Signal::AccessChanged { .. }
        );
        self.local.publish(topic, signal).await?;
        let Some(payload) = payload else {
            tracing::warn!(?topic, "dropping a signal too large for a NATS message");
            return Ok(());
        };
        if self.link.publishing(topic) && !self.send(topic, payload, confirm).await {
            tracing::warn!(
                ?topic,
                "NATS did not confirm a signal in time; treating the link as down"
            );
            self.link.broke();
        }
        Ok(())
    }

    async fn subscribe(&self, topic: Topic) -> Result<Subscription> {
        let subscription = self.local.subscribe(topic).await?;
        self.routes.ensure(topic).await?;
        Ok(subscription)
    }
}

/// Periodically: drops unused subjects, forgets old publishes, and probes a link marked
/// down by a publish that timed out.
async fn sweep(client: Client, routes: Arc<Routes>, link: Arc<Link>, local: Arc<LocalBroadcaster>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    loop {
        every.tick().await;
        routes.sweep().await;
        link.prune();
        link::probe(&client, &link, &local).await;
    }
}
