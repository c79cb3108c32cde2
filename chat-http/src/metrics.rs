//! What the server counts, through the `metrics` facade: nothing is recorded unless the
//! embedder installs a recorder (the `chat-server` binary installs the Prometheus one with
//! `--metrics-bind`). One function per measurement, so every name is written once.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `chat_connections` | gauge | `transport` |
//! | `chat_messages_sent_total` | counter | `transport` |
//! | `chat_send_ack_seconds` | histogram (send received → acknowledged, durable) | `transport` |
//! | `chat_deliveries_total` | counter (events written to sockets) | `event` |
//! | `chat_delivery_seconds` | histogram (message stored → written to a socket) | |
//! | `chat_rate_limited_total` | counter | `limit` |
//! | `chat_webhook_attempts_total` | counter | `outcome` |
//! | `chat_webhook_backlog` | gauge (feed positions the enabled endpoints are behind, summed; the same figure on every node) | |
//! | `chat_offline_emails_total` | counter | `outcome` (`sent`, `failed`) |
//!
//! The stores add `chat_store_batch_size` and `chat_store_commit_seconds`.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Counts one live connection of `transport` while it is held.
#[derive(Debug)]
pub struct ConnectionGauge(&'static str);

impl ConnectionGauge {
    /// A connection opened.
    pub fn open(transport: &'static str) -> Self {
        metrics::gauge!("chat_connections", "transport" => transport).increment(1.0);
        Self(transport)
    }
}

impl Drop for ConnectionGauge {
    fn drop(&mut self) {
        metrics::gauge!("chat_connections", "transport" => self.0).decrement(1.0);
    }
}

/// A message was sent and acknowledged after `took`.
pub fn message_sent(transport: &'static str, took: Duration) {
    metrics::counter!("chat_messages_sent_total", "transport" => transport).increment(1);
    metrics::histogram!("chat_send_ack_seconds", "transport" => transport).record(took);
}

/// An event named `event` was written to a socket; a message's latency is measured from
/// its server timestamp.
pub fn delivered(event: &'static str, message_time: Option<DateTime<Utc>>) {
    metrics::counter!("chat_deliveries_total", "event" => event).increment(1);
    if let Some(stored) = message_time
        && let Ok(latency) = (Utc::now() - stored).to_std()
    {
        metrics::histogram!("chat_delivery_seconds").record(latency);
    }
}

/// A request was refused by the `limit` rate limit.
pub fn rate_limited(limit: &'static str) {
    metrics::counter!("chat_rate_limited_total", "limit" => limit).increment(1);
}

/// A webhook attempt ended with `outcome`.
pub fn webhook_attempt(outcome: &'static str) {
    metrics::counter!("chat_webhook_attempts_total", "outcome" => outcome).increment(1);
}

/// How many events the enabled endpoints have yet to get.
pub fn webhook_backlog(events: u64) {
    metrics::gauge!("chat_webhook_backlog").set(events as f64);
}

/// An offline-email pass sent `sent` emails and failed `failed` sends.
pub fn offline_emails(sent: usize, failed: usize) {
    metrics::counter!("chat_offline_emails_total", "outcome" => "sent").increment(sent as u64);
    metrics::counter!("chat_offline_emails_total", "outcome" => "failed").increment(failed as u64);
}
