//! `PgBroadcaster`: chat-core's broadcaster across server nodes, over LISTEN/NOTIFY on the
//! store's own database.
//!
//! New events are announced by `PostgresStore` inside the transaction that writes them;
//! every node hands what it hears (or, for large events, reads back by seq) to its local
//! subscribers. The node that wrote an event does not wait for that round trip: the
//! engine's `publish` after the commit reaches its subscribers at once, and the copy that
//! comes back by NOTIFY is dropped by the subscribers' feeds, which deliver each seq once,
//! in order. Ephemeral signals are sent whole;
//! revocations and permission changes reach local subscribers at once and are notified
//! on their own, retried until the database takes them. When the listening connection drops (database restart), it listens
//! again and only then tells every local subscriber to resync from the store by seq, since
//! notifications sent meanwhile are lost.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chat_core::broadcast::{Broadcaster, Signal, Subscription, Topic};
use chat_core::ids::Seq;
use chat_core::{LocalBroadcaster, Result};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::conversations::load_events;
use crate::error::ConnectError;
use crate::notify::{CHANNEL, Notice};

/// Pause before listening again after an error (and the first pause before sending a
/// revocation again).
const RETRY: Duration = Duration::from_millis(500);
/// Longest pause between attempts to send a revocation.
const MAX_RETRY: Duration = Duration::from_secs(5);
/// How long a revocation is retried: past chat-http's periodic session re-read (60 s, give
/// or take 15 s), which reaches every connection anyway.
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);

/// Fan-out across nodes sharing one PostgreSQL database (pair it with `PostgresStore`).
#[derive(Debug)]
pub struct PgBroadcaster {
    pool: PgPool,
    outgoing: mpsc::Sender<String>,
    local: Arc<LocalBroadcaster>,
    tasks: [JoinHandle<()>; 2],
}

/// Ephemeral signals waiting to be sent; beyond this they are dropped (they are hints).
const OUTGOING: usize = 8192;

impl PgBroadcaster {
    /// Starts listening on `pool`'s database.
    pub async fn start(pool: PgPool) -> Result<Self, ConnectError> {
        let mut listener = PgListener::connect_with(&pool)
            .await
            .map_err(ConnectError::Connect)?;
        listener
            .listen(CHANNEL)
            .await
            .map_err(ConnectError::Connect)?;
        let local = Arc::new(LocalBroadcaster::new());
        let (outgoing, queue) = mpsc::channel(OUTGOING);
        let listen = tokio::spawn(listen(pool.clone(), listener, local.clone()));
        let tasks = [listen, tokio::spawn(send(pool.clone(), queue))];
        Ok(Self {
            pool,
            outgoing,
            local,
            tasks,
        })
    }
}

impl Drop for PgBroadcaster {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[async_trait]
impl Broadcaster for PgBroadcaster {
    async fn publish(&self, topic: Topic, signal: Signal) -> Result<()> {
        if let Signal::Event { .. } = signal {
            // Committed here: local subscribers at once. The other nodes hear the store's
            // NOTIFY, sent inside the transaction that wrote it.
            return self.local.publish(topic, signal).await;
        }
        let payload = serde_json::to_string(&Notice::Signal {
            topic,
            signal: Box::new(signal.clone()),
        })
        .map_err(chat_core::Error::backend)?;
        if signal.is_access() {
            return self.publish_access(topic, signal, payload).await;
        }
        if self.outgoing.try_send(payload).is_err() {
            tracing::warn!("dropping an ephemeral signal: the notification queue is full");
        }
        Ok(())
    }

    async fn subscribe(&self, topic: Topic) -> Result<Subscription> {
        self.local.subscribe(topic).await
    }
}

impl PgBroadcaster {
    /// A revocation or permission change never waits behind (or is dropped with) hints: it
    /// reaches this node's connections at once, and the other nodes' by a NOTIFY of its own,
    /// retried until the database takes it. (This node hears its own NOTIFY again; acting on
    /// these signals twice is harmless.)
    async fn publish_access(&self, topic: Topic, signal: Signal, payload: String) -> Result<()> {
        self.local.publish(topic, signal).await?;
        tokio::spawn(notify_until_sent(self.pool.clone(), payload));
        Ok(())
    }
}

/// Sends one NOTIFY, retrying with backoff while the database is out of reach, for up to
/// [`GIVE_UP_AFTER`] (by then every connection has re-read its session on its own) or until
/// the pool is closed (the node is shutting down).
async fn notify_until_sent(pool: PgPool, payload: String) {
    let mut pause = RETRY;
    let deadline = tokio::time::Instant::now() + GIVE_UP_AFTER;
    loop {
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(&payload)
            .execute(&pool)
            .await;
        match sent {
            Ok(_) => return,
            Err(error) if pool.is_closed() || tokio::time::Instant::now() >= deadline => {
                tracing::warn!(%error, "gave up sending a revocation to other nodes; their connections re-read sessions periodically");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "could not send a revocation to other nodes; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_RETRY);
            }
        }
    }
}

/// Sends queued ephemeral signals, everything queued at once in one statement.
async fn send(pool: PgPool, mut queue: mpsc::Receiver<String>) {
    while let Some(first) = queue.recv().await {
        let mut payloads = vec![first];
        while let Ok(payload) = queue.try_recv() {
            payloads.push(payload);
        }
        let sent = sqlx::query("SELECT pg_notify($1, payload) FROM UNNEST($2::text[]) AS payload")
            .bind(CHANNEL)
            .bind(&payloads)
            .execute(&pool)
            .await;
        if let Err(error) = sent {
            tracing::warn!(%error, dropped = payloads.len(), "could not send ephemeral signals");
        }
    }
}

/// Hands notifications to local subscribers. When the LISTEN connection is lost, it is
/// replaced and only once the new one listens are subscribers told to resync: anything
/// committed before that is in the store, anything after arrives as a notification.
async fn listen(pool: PgPool, mut listener: PgListener, local: Arc<LocalBroadcaster>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => deliver(&pool, &local, notification.payload()).await,
            Ok(None) => {
                tracing::warn!("lost the LISTEN connection; listening again, then resyncing");
                listener = listen_again(&pool).await;
                local.publish_everywhere(&Signal::Resync);
            }
            Err(error) => {
                tracing::warn!(%error, "listening for notifications failed; listening again");
                listener = listen_again(&pool).await;
                local.publish_everywhere(&Signal::Resync);
            }
        }
    }
}

/// A new listener on the channel, retried until the database answers.
async fn listen_again(pool: &PgPool) -> PgListener {
    loop {
        match PgListener::connect_with(pool).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => return listener,
                Err(error) => tracing::warn!(%error, "LISTEN failed; retrying"),
            },
            Err(error) => tracing::warn!(%error, "could not connect to LISTEN; retrying"),
        }
        tokio::time::sleep(RETRY).await;
    }
}

async fn deliver(pool: &PgPool, local: &LocalBroadcaster, payload: &str) {
    match serde_json::from_str::<Notice>(payload) {
        Ok(Notice::Event { event }) => {
            let topic = Topic::Conversation(event.conversation_id);
            if local.is_subscribed(topic) {
                let _ = local.publish(topic, Signal::Event { event: *event }).await;
            }
        }
        Ok(Notice::Events {
            conversation_id,
            from,
            to,
        }) => {
            let topic = Topic::Conversation(conversation_id);
            if !local.is_subscribed(topic) {
                return;
            }
            let count =
                usize::try_from(to.get().saturating_sub(from.get()) + 1).unwrap_or(usize::MAX);
            match load_events(
                pool,
                conversation_id,
                Seq(from.get().saturating_sub(1)),
                count,
            )
            .await
            {
                Ok(events) => {
                    for event in events {
                        let _ = local.publish(topic, Signal::Event { event }).await;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "could not read announced events; subscribers resync");
                    let _ = local.publish(topic, Signal::Resync).await;
                }
            }
        }
        Ok(Notice::Signal { topic, signal }) => {
            let _ = local.publish(topic, *signal).await;
        }
        Err(error) => tracing::warn!(%error, "ignoring a malformed notification"),
    }
}
