//! A plain WebSocket client of `/api/ws` for tests: authenticates, sends events with ids and
//! waits for their acks, and keeps the other frames as events.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Not a performance bound: turns a hang into a failure.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    events: VecDeque<Value>,
}

impl Client {
    /// A client on `/api/ws`, not yet authenticated.
    pub async fn open(address: SocketAddr) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{address}/api/ws"))
            .await
            .expect("connect");
        Self {
            ws,
            next_id: 1,
            events: VecDeque::new(),
        }
    }

    /// A client authenticated with `token`.
    pub async fn connect(address: SocketAddr, token: &str) -> Self {
        let mut client = Self::open(address).await;
        let ack = client.request("auth", json!({"token": token})).await;
        assert_eq!(ack["ok"], true, "auth refused: {ack}");
        client
    }

    /// Sends a frame as it is.
    pub async fn send_raw(&mut self, frame: Value) {
        self.ws
            .send(Message::text(frame.to_string()))
            .await
            .expect("send");
    }

    /// Sends an event with an id and returns its ack; other frames are kept for `event`.
    pub async fn request(&mut self, kind: &str, mut payload: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        payload["type"] = kind.into();
        payload["id"] = id.into();
        self.send_raw(payload).await;
        loop {
            let frame = self
                .frame()
                .await
                .expect("connection closed while waiting for an ack");
            if frame["type"] == "ack" && frame["id"] == id {
                return frame;
            }
            self.events.push_back(frame);
        }
    }

    /// The next server event.
    pub async fn event(&mut self) -> Option<Value> {
        if let Some(event) = self.events.pop_front() {
            return Some(event);
        }
        self.frame().await
    }

    pub async fn frame(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(HANG_GUARD, self.ws.next())
                .await
                .expect("no frame arrived")?;
            match message.ok()? {
                Message::Text(text) => {
                    return Some(serde_json::from_str(&text).expect("JSON frame"));
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Events until one satisfies `done`, keeping those that are `message:new` or
    /// `conversation:updated` (the log), with their seqs.
    pub async fn log_until(&mut self, last: u64) -> Vec<u64> {
        let mut seqs = Vec::new();
        while seqs.last().copied().unwrap_or(0) < last {
            let event = self.event().await.expect("closed before the log caught up");
            if event["type"] == "message:new" || event["type"] == "conversation:updated" {
                seqs.push(event["seq"].as_u64().expect("seq"));
            }
        }
        seqs
    }
}
