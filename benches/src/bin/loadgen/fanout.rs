//! Counts a run's cross-node messages: the NOTIFYs on chat-server's channel (through a
//! LISTEN connection of its own), or a NATS server's messages in and out (its monitoring
//! endpoint's `/varz`). The capacity model (`benches/scaling.md`) prices them per send.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use serde_json::{Value, json};

/// chat-server's NOTIFY channel.
const CHANNEL: &str = "chat_signals";

/// Where cross-node messages are counted.
pub enum Fanout {
    /// Not counted.
    None,
    /// NOTIFYs heard so far.
    Notify(Arc<AtomicU64>),
    /// A NATS server's monitoring endpoint (`http://127.0.0.1:8222`).
    Nats {
        monitor: String,
        http: reqwest::Client,
    },
}

/// Counts at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Count {
    notifications: u64,
    nats_in: u64,
    nats_out: u64,
}

impl Fanout {
    /// Listens on `database_url`'s chat channel, or reads `nats_monitor`, or neither.
    pub async fn start(
        database_url: Option<&str>,
        nats_monitor: Option<&str>,
    ) -> anyhow::Result<Self> {
        if let Some(monitor) = nats_monitor {
            return Ok(Self::Nats {
                monitor: monitor.trim_end_matches('/').to_owned(),
                http: reqwest::Client::new(),
            });
        }
        let Some(url) = database_url else {
            return Ok(Self::None);
        };
        let mut listener = sqlx::postgres::PgListener::connect(url)
            .await
            .context("LISTEN connection")?;
        listener.listen(CHANNEL).await.context("LISTEN")?;
        let heard = Arc::new(AtomicU64::new(0));
        let count = heard.clone();
        tokio::spawn(async move {
            while listener.recv().await.is_ok() {
                count.fetch_add(1, Ordering::Relaxed);
            }
        });
        Ok(Self::Notify(heard))
    }

    /// The counts now.
    pub async fn count(&self) -> anyhow::Result<Count> {
        match self {
            Self::None => Ok(Count::default()),
            Self::Notify(heard) => Ok(Count {
                notifications: heard.load(Ordering::Relaxed),
                ..Count::default()
            }),
            Self::Nats { monitor, http } => {
                let varz: Value = http
                    .get(format!("{monitor}/varz"))
                    .send()
                    .await?
                    .json()
                    .await?;
                let field = |name: &str| varz[name].as_u64().unwrap_or(0);
                Ok(Count {
                    nats_in: field("in_msgs"),
                    nats_out: field("out_msgs"),
                    ..Count::default()
                })
            }
        }
    }
}

impl Count {
    /// What was counted since `earlier`, per message sent, as JSON fields.
    pub fn since(self, earlier: Count, sent: u64) -> Value {
        let per = |n: u64| n as f64 / sent.max(1) as f64;
        // Saturating: a broker restarted mid-run, or a monitoring read that failed (zeros).
        let notifications = self.notifications.saturating_sub(earlier.notifications);
        let nats_in = self.nats_in.saturating_sub(earlier.nats_in);
        let nats_out = self.nats_out.saturating_sub(earlier.nats_out);
        json!({
            "notifications": notifications,
            "notificationsPerSent": per(notifications),
            "natsIn": nats_in,
            "natsInPerSent": per(nats_in),
            "natsOut": nats_out,
            "natsOutPerSent": per(nats_out),
        })
    }
}
