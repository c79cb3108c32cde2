//! One real-time connection: a reader task that answers heartbeats, resolves acks and hands
//! events to a callback, and a writer task fed by a channel, so requests never wait on each
//! other.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::wire::{Incoming, Wire};

/// How long a connect with its handshake, or a request's ack, may take before it counts as
/// failed (a stuck server must show up as failures, not as a hung run).
const DEADLINE: Duration = Duration::from_secs(30);

/// Called on the reader task for every server event: its name and payload.
pub type OnEvent = Arc<dyn Fn(&str, &Value) + Send + Sync>;

/// Run on the reader task when an ack arrives, before any later frame is read.
type OnAck = Box<dyn FnOnce(Value) + Send>;

type Pending = Arc<Mutex<HashMap<u64, OnAck>>>;

/// An authenticated connection.
pub struct Conn {
    wire: Wire,
    out: mpsc::UnboundedSender<Message>,
    pending: Pending,
    next_id: AtomicU64,
    closed: Arc<AtomicBool>,
}

impl Conn {
    /// Connects to `base` (`http://host:port`) and authenticates with `token`.
    pub async fn open(
        base: &str,
        wire: Wire,
        token: &str,
        on_event: OnEvent,
    ) -> anyhow::Result<Self> {
        timeout(DEADLINE, Self::connect(base, wire, token, on_event))
            .await
            .context("no handshake in time")?
    }

    async fn connect(
        base: &str,
        wire: Wire,
        token: &str,
        on_event: OnEvent,
    ) -> anyhow::Result<Self> {
        // Small buffers: thousands of connections must not make the client the bottleneck.
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0);
        let (stream, _) =
            tokio_tungstenite::connect_async_with_config(wire.url(base), Some(config), true)
                .await
                .with_context(|| format!("connecting to {base}"))?;
        let (mut sink, mut source) = stream.split();
        sink.send(Message::text(wire.auth(token))).await?;
        loop {
            let Some(message) = source.next().await else {
                bail!("closed during the handshake");
            };
            let Message::Text(text) = message? else {
                continue;
            };
            match wire.decode(&text) {
                Incoming::Connected => break,
                Incoming::Refused(why) => bail!("refused: {why}"),
                Incoming::Ping(pong) => sink.send(Message::text(pong)).await?,
                _ => {}
            }
        }
        let (out, mut queue) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(message) = queue.recv().await {
                if sink.send(message).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let reader_pending = pending.clone();
        let closed = Arc::new(AtomicBool::new(false));
        let reader_closed = closed.clone();
        let pong = out.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = source.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                match wire.decode(&text) {
                    Incoming::Ack(id, answer) => {
                        let waiter = reader_pending.lock().expect("pending").remove(&id);
                        if let Some(waiter) = waiter {
                            waiter(answer);
                        }
                    }
                    Incoming::Event(name, payload) => on_event(&name, &payload),
                    Incoming::Ping(frame) => {
                        let _ = pong.send(Message::text(frame));
                    }
                    Incoming::Refused(_) => break,
                    Incoming::Connected | Incoming::Other => {}
                }
            }
            // Waiters see their sender dropped: the connection is gone.
            reader_closed.store(true, Ordering::Release);
            reader_pending.lock().expect("pending").clear();
        });
        Ok(Self {
            wire,
            out,
            pending,
            next_id: AtomicU64::new(1),
            closed,
        })
    }

    /// Sends `event` and waits for its ack; an `{error}` ack is an error.
    pub async fn request(&self, event: &str, payload: &Value) -> anyhow::Result<Value> {
        self.request_then(event, payload, |_| {}).await
    }

    /// Like [`request`](Self::request), with `first` run on the ack before the reader
    /// handles the next frame (so a join's catch-up is counted before later live events).
    pub async fn request_then(
        &self,
        event: &str,
        payload: &Value,
        first: impl FnOnce(&Value) + Send + 'static,
    ) -> anyhow::Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let on_ack: OnAck = Box::new(move |answer| {
            first(&answer);
            let _ = tx.send(answer);
        });
        self.pending.lock().expect("pending").insert(id, on_ack);
        self.out
            .send(Message::text(self.wire.request(id, event, payload)))
            .context("connection closed")?;
        let answer = timeout(DEADLINE, rx)
            .await
            .context("no ack in time")?
            .context("connection closed before the ack")?;
        if let Some(error) = answer.get("error") {
            bail!("{event} refused: {error}");
        }
        Ok(answer)
    }

    /// Whether the server side has gone (the reader stopped).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the connection (the writer stops once the queue is dropped).
    pub fn close(self) {
        let _ = self.out.send(Message::Close(None));
    }
}
