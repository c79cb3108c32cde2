//! One authenticated WebSocket to `/api/ws`, frame by frame: requests get ids and their
//! acks are matched, server events that arrive meanwhile are kept in order.

use std::collections::VecDeque;

use chat_wire::ws::{Frame, encode};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::Error;

/// A WebSocket to the server.
pub struct Connection {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    events: VecDeque<Frame>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("next_id", &self.next_id)
            .field("queued", &self.events.len())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Opens the socket at `url` (`ws://host:port/api/ws`) without authenticating.
    pub async fn open(url: &str) -> Result<Self, Error> {
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(Self {
            ws,
            next_id: 1,
            events: VecDeque::new(),
        })
    }

    /// Opens the socket and authenticates with `token`; a refusal is [`Error::Api`].
    pub async fn connect(url: &str, token: &str) -> Result<Self, Error> {
        let mut connection = Self::open(url).await?;
        let answer = connection
            .request("auth", json!({ "token": token }))
            .await?;
        if answer["ok"] != true {
            return Err(Error::Protocol(format!("auth answered {answer}")));
        }
        Ok(connection)
    }

    /// Sends a request and waits for its ack, keeping the events that arrive first. An ack
    /// carrying an error is [`Error::Api`]; a refusal before any ack (a `type: "error"`
    /// frame) too.
    pub async fn request(&mut self, kind: &str, payload: Value) -> Result<Value, Error> {
        let answer = self.request_frame(kind, payload).await?;
        match (answer.kind.as_str(), answer.payload.get("error")) {
            ("ack", None) => Ok(answer.payload),
            _ => Err(Error::from_body(0, &answer.payload)),
        }
    }

    /// Sends a request and returns the frame that answers it as it is: its ack (which may
    /// carry an error), or a `type: "error"` frame.
    pub async fn request_frame(&mut self, kind: &str, payload: Value) -> Result<Frame, Error> {
        let id = self.next_id;
        self.next_id += 1;
        self.send_text(encode(kind, Some(id.into()), payload))
            .await?;
        loop {
            let frame = self
                .read()
                .await?
                .ok_or_else(|| Error::Transport("the connection closed".into()))?;
            match frame.kind.as_str() {
                "ack" if frame.numeric_id() == Some(id) => return Ok(frame),
                "error" => return Ok(frame),
                _ => self.events.push_back(frame),
            }
        }
    }

    /// Sends a text frame as it is.
    pub async fn send_text(&mut self, text: String) -> Result<(), Error> {
        self.ws.send(Message::text(text)).await?;
        Ok(())
    }

    /// The next frame that is not an ack to a request: a kept event first. `None` once the
    /// server closed the connection.
    pub async fn next_frame(&mut self) -> Result<Option<Frame>, Error> {
        match self.events.pop_front() {
            Some(frame) => Ok(Some(frame)),
            None => self.read().await,
        }
    }

    /// The frames read but not yet handed out, in order (what a lost connection leaves).
    pub fn into_buffered(self) -> VecDeque<Frame> {
        self.events
    }

    /// Drops the read-but-not-handed-out frames that `stale` says are out of date.
    pub fn discard_buffered(&mut self, stale: impl Fn(&Frame) -> bool) {
        self.events.retain(|frame| !stale(frame));
    }

    /// Closes the socket.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    /// Reads the next JSON frame off the socket (pings are answered by tungstenite).
    async fn read(&mut self) -> Result<Option<Frame>, Error> {
        loop {
            let Some(message) = self.ws.next().await else {
                return Ok(None);
            };
            match message? {
                Message::Text(text) => {
                    return Frame::decode(&text)
                        .map(Some)
                        .ok_or_else(|| Error::Protocol(format!("not a JSON object: {text}")));
                }
                Message::Close(_) => return Ok(None),
                _ => continue,
            }
        }
    }
}
