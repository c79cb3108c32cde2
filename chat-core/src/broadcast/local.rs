//! `LocalBroadcaster`: in-process fan-out over tokio broadcast channels, one per topic.
//!
//! Each subscriber has a bounded window of the channel; a subscriber that falls further
//! behind gets [`Delivery::Lagged`] instead of blocking the publisher or anyone else.

use std::sync::Arc;

use async_trait::async_trait;
use dashmap::DashMap;
use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use crate::broadcast::{Broadcaster, Delivery, Signal, Subscription, Topic};
use crate::error::Result;

/// Default number of signals a subscriber may fall behind before it lags.
pub const DEFAULT_CAPACITY: usize = 1024;

/// Fan-out within one process (one server node).
#[derive(Debug)]
pub struct LocalBroadcaster {
    topics: DashMap<Topic, broadcast::Sender<Arc<Signal>>>,
    capacity: usize,
}

impl LocalBroadcaster {
    /// A broadcaster whose subscribers lag after [`DEFAULT_CAPACITY`](super::DEFAULT_CAPACITY) undelivered signals.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// A broadcaster whose subscribers lag after `capacity` undelivered signals.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            topics: DashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// Sends `signal` to the subscribers of every topic (e.g. [`Signal::Resync`] after a
    /// cross-node transport lost messages).
    pub fn publish_everywhere(&self, signal: &Signal) {
        for sender in self.topics.iter() {
            let _ = sender.send(Arc::new(signal.clone()));
        }
    }

    /// Whether anyone here listens to `topic`.
    pub fn is_subscribed(&self, topic: Topic) -> bool {
        self.topics
            .get(&topic)
            .is_some_and(|sender| sender.receiver_count() > 0)
    }

    /// How many topics currently have a channel (for tests and metrics).
    pub fn topic_count(&self) -> usize {
        self.topics.len()
    }
}

impl Default for LocalBroadcaster {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Broadcaster for LocalBroadcaster {
    async fn publish(&self, topic: Topic, signal: Signal) -> Result<()> {
        let delivered = match self.topics.get(&topic) {
            Some(sender) => sender.send(Arc::new(signal)).is_ok(),
            None => return Ok(()),
        };
        if !delivered {
            // Nobody listens any more: drop the channel. `remove_if` and `subscribe` take the
            // same shard lock, so a subscriber arriving now either sees the old channel
            // (still counted) or creates a new one.
            self.topics
                .remove_if(&topic, |_, sender| sender.receiver_count() == 0);
        }
        Ok(())
    }

    async fn subscribe(&self, topic: Topic) -> Result<Subscription> {
        let receiver = self
            .topics
            .entry(topic)
            .or_insert_with(|| broadcast::channel(self.capacity).0)
            .subscribe();
        let stream = BroadcastStream::new(receiver).map(|item| match item {
            Ok(signal) => Delivery::Signal(signal),
            Err(_lagged) => Delivery::Lagged,
        });
        Ok(Box::pin(stream))
    }
}
