//! Interest-based routing: a node subscribes to a topic's subject while someone on it
//! listens to the topic, and hands what arrives to its local subscribers (reading back, by
//! seq, events that were too large to travel).
//!
//! A subscription returns only once the NATS server has taken the node's interest (a
//! round trip after the SUB), so a signal published anywhere after it returns is
//! delivered. Subjects nobody here listens to any more are dropped by [`Routes::sweep`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, Subscriber};
use chat_core::broadcast::{Broadcaster, Signal, Topic};
use chat_core::ids::Seq;
use chat_core::{DynChatStore, LocalBroadcaster};
use futures_util::StreamExt;
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

use crate::nats::wire::{self, PREFIX, Payload};

/// Longest wait for the server to confirm something. Past it a subscription stands (the
/// client re-sends it after a reconnect, which resyncs every subscriber anyway).
pub const CONFIRM_LIMIT: Duration = Duration::from_secs(2);

/// The node's subscriptions, by topic.
#[derive(Debug)]
pub struct Routes {
    client: Client,
    local: Arc<LocalBroadcaster>,
    store: Arc<DynChatStore>,
    routes: Mutex<HashMap<Topic, Route>>,
}

/// One subject's subscription: the task handing its messages on, and whether the server
/// has confirmed it.
#[derive(Debug)]
struct Route {
    task: JoinHandle<()>,
    confirmed: watch::Receiver<bool>,
}

impl Routes {
    pub fn new(client: Client, local: Arc<LocalBroadcaster>, store: Arc<DynChatStore>) -> Self {
        Self {
            client,
            local,
            store,
            routes: Mutex::new(HashMap::new()),
        }
    }

    /// Makes sure the node receives `topic`'s subject, and returns once the server has it.
    /// Callers subscribe locally first, so [`sweep`](Self::sweep) keeps the route.
    pub async fn ensure(&self, topic: Topic) -> chat_core::Result<()> {
        let mut routes = self.routes.lock().await;
        if let Some(route) = routes.get(&topic) {
            let mut confirmed = route.confirmed.clone();
            drop(routes);
            let _ = confirmed.wait_for(|done| *done).await;
            return Ok(());
        }
        // Bounded: the client's command queue may be full while the server is away.
        let subscribe = self.client.subscribe(wire::subject(topic));
        let subscriber = match tokio::time::timeout(CONFIRM_LIMIT, subscribe).await {
            Ok(Ok(subscriber)) => subscriber,
            Ok(Err(error)) => return Err(chat_core::Error::unavailable(error)),
            Err(elapsed) => return Err(chat_core::Error::unavailable(elapsed)),
        };
        let (confirm, confirmed) = watch::channel(false);
        let task = tokio::spawn(forward(
            subscriber,
            topic,
            self.local.clone(),
            self.store.clone(),
        ));
        routes.insert(topic, Route { task, confirmed });
        drop(routes);
        if !round_trip(&self.client).await {
            tracing::warn!(
                ?topic,
                "the NATS server did not confirm a subscription in time; carrying on"
            );
        }
        let _ = confirm.send(true);
        Ok(())
    }

    /// Drops the subscriptions of topics nobody on this node listens to any more.
    pub async fn sweep(&self) {
        let mut routes = self.routes.lock().await;
        routes.retain(|topic, route| {
            let keep = self.local.is_subscribed(*topic);
            if !keep {
                route.task.abort();
            }
            keep
        });
    }
}

impl Drop for Routes {
    fn drop(&mut self) {
        for route in self.routes.get_mut().values() {
            route.task.abort();
        }
    }
}

/// Waits until the server has processed everything this client sent before (a request
/// nobody answers comes back as "no responders" only after it); `false` if it did not
/// answer in time.
pub async fn round_trip(client: &Client) -> bool {
    let subject = format!("{PREFIX}.barrier.{}", uuid::Uuid::new_v4());
    let answered = tokio::time::timeout(CONFIRM_LIMIT, client.request(subject, Default::default()));
    match answered.await {
        Ok(Ok(_)) => true,
        Ok(Err(error)) => error.kind() == async_nats::RequestErrorKind::NoResponders,
        Err(_) => false,
    }
}

/// Hands one subject's messages to the local subscribers of `topic`, in order.
async fn forward(
    mut subscriber: Subscriber,
    topic: Topic,
    local: Arc<LocalBroadcaster>,
    store: Arc<DynChatStore>,
) {
    while let Some(message) = subscriber.next().await {
        match wire::decode(&message.payload) {
            Ok(Payload::Signal { signal }) => {
                let _ = local.publish(topic, *signal).await;
            }
            Ok(Payload::EventAt {
                conversation_id,
                seq,
            }) => {
                let before = Seq(seq.get().saturating_sub(1));
                let signals = match store.events_since(conversation_id, before, 1).await {
                    Ok(events) => events
                        .into_iter()
                        .map(|event| Signal::Event { event })
                        .collect(),
                    Err(error) => {
                        tracing::warn!(%error, "could not read back an announced event; subscribers resync");
                        vec![Signal::Resync]
                    }
                };
                for signal in signals {
                    let _ = local.publish(topic, signal).await;
                }
            }
            Err(error) => tracing::warn!(%error, "ignoring a malformed NATS message"),
        }
    }
}
