//! A plain WebSocket client of `/api/ws` for tests: `chat-client`'s frame-by-frame
//! [`Connection`] (the protocol's one client codec), with frames as JSON values and a guard
//! that turns a hang into a failure.

use std::net::SocketAddr;
use std::time::Duration;

use chat_client::Connection;
use serde_json::{Value, json};

/// Not a performance bound: turns a hang into a failure.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

pub struct Client {
    connection: Connection,
}

impl Client {
    /// A client on `/api/ws`, not yet authenticated.
    pub async fn open(address: SocketAddr) -> Self {
        let connection = Connection::open(&format!("ws://{address}/api/ws"))
            .await
            .expect("connect");
        Self { connection }
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
        self.connection
            .send_text(frame.to_string())
            .await
            .expect("send");
    }

    /// Sends an event with an id and returns the frame answering it (its ack, or an error
    /// frame); other frames are kept for `event`.
    pub async fn request(&mut self, kind: &str, payload: Value) -> Value {
        let answer = tokio::time::timeout(HANG_GUARD, self.connection.request_frame(kind, payload))
            .await
            .expect("no answer arrived")
            .expect("connection closed while waiting for an ack");
        answer.into_value()
    }

    /// Joins a conversation from `since`; the ack, which must not be a refusal.
    pub async fn join(&mut self, conversation: &str, since: u64) -> Value {
        let payload = json!({"conversationId": conversation, "since": since});
        let ack = self.request("conversation:join", payload).await;
        assert!(ack["error"].is_null(), "join refused: {ack}");
        ack
    }

    /// The next server event (kept ones first).
    pub async fn event(&mut self) -> Option<Value> {
        self.frame().await
    }

    /// The next frame that is not an awaited ack; `None` once the server closed.
    pub async fn frame(&mut self) -> Option<Value> {
        let frame = tokio::time::timeout(HANG_GUARD, self.connection.next_frame())
            .await
            .expect("no frame arrived");
        match frame {
            Ok(frame) => frame.map(|frame| frame.into_value()),
            // A connection that broke off is closed; a frame that cannot be read is a bug.
            Err(chat_client::Error::Transport(_)) => None,
            Err(error) => panic!("an unreadable frame: {error}"),
        }
    }

    /// The seqs of the log events (`message:new`, `message:updated`, `message:deleted`,
    /// `conversation:updated`) until `last`.
    pub async fn log_until(&mut self, last: u64) -> Vec<u64> {
        let mut seqs = Vec::new();
        while seqs.last().copied().unwrap_or(0) < last {
            let event = self.event().await.expect("closed before the log caught up");
            let log = [
                "message:new",
                "message:updated",
                "message:deleted",
                "conversation:updated",
            ];
            if log.iter().any(|name| event["type"] == *name) {
                seqs.push(event["seq"].as_u64().expect("seq"));
            }
        }
        seqs
    }
}
