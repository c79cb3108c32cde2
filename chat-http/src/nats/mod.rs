//! `NatsBroadcaster` (feature `nats`): fan-out across server nodes through a NATS server,
//! while the store (PostgreSQL, with `announce_events` off) stays the record.
//!
//! - A publish reaches this node's subscribers at once, then goes to the topic's subject
//!   (the client does not hear its own messages back). Events, inbox updates, reads and
//!   access changes are flushed to the server before `publish` returns, so a reply
//!   acknowledged to its sender has left the node even if the node dies next.
//! - A node subscribes to a subject only while someone on it listens to that topic
//!   ([`routes`]), and hands what arrives to its local subscribers; an event larger than
//!   the server's message limit travels by seq and is read back from the store.
//! - A broken link turns into resyncs ([`link`]): this node's subscribers, and the other
//!   nodes' subscribers of what this node published around the break. NATS keeps nothing
//!   for a connection that is away; the store has it all, by seq.
//! - Publishing never waits on subscribers, and on the server only briefly: while the
//!   link is down a publish goes to this node only, and is owed a resync.

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

/// How long a publish may wait on the server before it is given up (and owed a resync).
const PUBLISH_LIMIT: Duration = Duration::from_secs(2);
/// How often subjects nobody here listens to any more are dropped.
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
        let tasks = [
            tokio::spawn(follow),
            tokio::spawn(sweep(routes.clone(), link.clone())),
        ];
        Ok(Self {
            client,
            local,
            routes,
            link,
            tasks,
        })
    }

    /// How many subjects this node receives (for tests and metrics).
    pub async fn subject_count(&self) -> usize {
        self.routes.count().await
    }

    /// Sends one payload; `false` if the server did not take it in time.
    async fn send(&self, topic: Topic, payload: Vec<u8>, flush: bool) -> bool {
        let send = async {
            self.client
                .publish(wire::subject(topic), payload.into())
                .await
                .ok()?;
            if flush {
                self.client.flush().await.ok()?;
            }
            Some(())
        };
        matches!(
            tokio::time::timeout(PUBLISH_LIMIT, send).await,
            Ok(Some(()))
        )
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
        let limit = self
            .client
            .server_info()
            .max_payload
            .saturating_sub(HEADROOM);
        let payload = wire::encode(&signal, limit);
        let flush = !matches!(signal, Signal::Typing { .. } | Signal::Presence { .. });
        self.local.publish(topic, signal).await?;
        let Some(payload) = payload else {
            tracing::warn!(?topic, "dropping a signal too large for a NATS message");
            return Ok(());
        };
        if self.link.publishing(topic) && !self.send(topic, payload, flush).await {
            tracing::warn!(
                ?topic,
                "NATS did not take a signal in time; its subscribers will resync"
            );
            tokio::spawn(owe(self.client.clone(), topic));
        }
        Ok(())
    }

    async fn subscribe(&self, topic: Topic) -> Result<Subscription> {
        let subscription = self.local.subscribe(topic).await?;
        self.routes
            .ensure(topic)
            .await
            .map_err(chat_core::Error::unavailable)?;
        Ok(subscription)
    }
}

/// Tells `topic`'s subscribers on other nodes to resync, once the server takes it.
async fn owe(client: Client, topic: Topic) {
    let Some(payload) = wire::encode(&Signal::Resync, usize::MAX) else {
        return;
    };
    for _ in 0..10 {
        let sent = client.publish(wire::subject(topic), payload.clone().into());
        if sent.await.is_ok() && client.flush().await.is_ok() {
            return;
        }
        tokio::time::sleep(PUBLISH_LIMIT).await;
    }
}

/// Drops unused subjects and forgets old publishes, periodically.
async fn sweep(routes: Arc<Routes>, link: Arc<Link>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    loop {
        every.tick().await;
        routes.sweep().await;
        link.prune();
    }
}
