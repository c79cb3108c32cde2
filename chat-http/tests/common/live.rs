//! Helpers for tests of live sockets: waiting for a close or a named event, and a
//! broadcaster that loses the signals about sessions, as a cross-node link that dropped
//! them would.

use std::sync::Arc;
use std::time::Duration;

use chat_core::broadcast::{Broadcaster, Signal, Subscription, Topic};
use serde_json::Value;

use super::ws_client::Client;

/// Whether the socket closes within `within` (other frames are skipped).
pub async fn closes(client: &mut Client, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, client.event()).await {
            Ok(None) => return true,
            Ok(Some(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// The next event named `name` within `within`, skipping others; `None` if none came or
/// the socket closed.
pub async fn next_named(client: &mut Client, name: &str, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let event = tokio::time::timeout(left, client.event()).await.ok()??;
        if event["type"] == name {
            return Some(event);
        }
    }
}

/// Loses every signal about sessions, as a cross-node link that dropped them would.
#[derive(Debug)]
pub struct LosesSessionSignals(pub Arc<chat_core::LocalBroadcaster>);

#[async_trait::async_trait]
impl Broadcaster for LosesSessionSignals {
    async fn publish(&self, topic: Topic, signal: Signal) -> chat_core::Result<()> {
        if topic == Topic::Sessions {
            return Ok(());
        }
        self.0.publish(topic, signal).await
    }

    async fn subscribe(&self, topic: Topic) -> chat_core::Result<Subscription> {
        self.0.subscribe(topic).await
    }
}
