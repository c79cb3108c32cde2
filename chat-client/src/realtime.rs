//! The resuming real-time client: rooms joined with `since`, log events handed out once and
//! in order, and after a lost connection a reconnect (to the same server, or the next of
//! several nodes) that rejoins every room from the last event handed out.

use std::collections::{BTreeMap, VecDeque};

use backon::Retryable;
use chat_wire::realtime::{
    ConversationUpdated, Join, JoinAck, Leave, MessageChanged, MessageNew, SendMessage,
};
use chat_wire::ws::Frame;
use chat_wire::{EventDto, SendResponse};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::rest::retries;
use crate::{Connection, Error, RestClient};

/// What the server pushed.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A log event of a joined conversation (from a join's catch-up or live), each once, in
    /// seq order per conversation.
    Log(Box<EventDto>),
    /// Any other server event (`typing`, `read`, `presence`, `inbox`, `conversation:left`):
    /// its name and payload. A room the server refused on a rejoin (taken away, deleted)
    /// comes as `conversation:left` with the refusal's code as its `reason`.
    Event {
        /// The event's name.
        name: String,
        /// Its payload.
        payload: Value,
    },
    /// The connection was lost and is back: every room was joined again from where it
    /// stood, and what was missed follows as `Log`.
    Reconnected,
}

/// A real-time connection that survives losing its socket.
pub struct Realtime {
    /// The servers to connect to, tried in turn from the one last connected.
    urls: Vec<String>,
    /// Which of `urls` the connection is (or was last) to.
    current: usize,
    token: String,
    connection: Option<Connection>,
    /// Joined rooms and the last seq handed out for each.
    rooms: BTreeMap<Uuid, u64>,
    /// Handed out before anything read from the socket.
    queued: VecDeque<Incoming>,
}

impl std::fmt::Debug for Realtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a credential.
        f.debug_struct("Realtime")
            .field("url", &self.urls[self.current])
            .field("rooms", &self.rooms)
            .finish_non_exhaustive()
    }
}

impl Realtime {
    /// Connects with `client`'s session.
    pub async fn connect(client: &RestClient) -> Result<Self, Error> {
        Self::connect_to(&client.ws_url(), client.token()).await
    }

    /// Connects to `url` (`ws://host:port/api/ws`, or `wss://`) with `token`.
    pub async fn connect_to(url: &str, token: &str) -> Result<Self, Error> {
        Self::connect_to_any(&[url.to_owned()], token).await
    }

    /// Connects to the first of `urls` (server nodes sharing one store) that answers; a
    /// lost connection reconnects to the same node if it answers, else to the next one.
    ///
    /// # Panics
    /// If `urls` is empty.
    pub async fn connect_to_any(urls: &[String], token: &str) -> Result<Self, Error> {
        assert!(!urls.is_empty(), "at least one server URL");
        let (current, connection) = open_any(urls, 0, token).await?;
        Ok(Self {
            urls: urls.to_vec(),
            current,
            token: token.to_owned(),
            connection: Some(connection),
            rooms: BTreeMap::new(),
            queued: VecDeque::new(),
        })
    }

    /// The URL of the node connected to (or last connected to).
    pub fn url(&self) -> &str {
        &self.urls[self.current]
    }

    /// Joins a conversation's room with what came after `since` (the catch-up is handed out
    /// by [`next`](Self::next) like live events). Joining a joined room again moves nothing
    /// back. Reconnects first if the connection was lost.
    pub async fn join(&mut self, conversation: Uuid, since: u64) -> Result<(), Error> {
        let since = self
            .rooms
            .get(&conversation)
            .map_or(since, |last| since.max(*last));
        loop {
            self.connection().await?;
            match self.join_once(conversation, since).await {
                Ok(ack) => {
                    self.rooms.insert(conversation, since);
                    self.queue_catch_up(ack);
                    return Ok(());
                }
                Err(error) if error.is_retryable() => self.lost(),
                Err(error) => return Err(error),
            }
        }
    }

    /// Leaves a room: nothing more of it is handed out, and it is not rejoined.
    pub async fn leave(&mut self, conversation: Uuid) -> Result<(), Error> {
        self.rooms.remove(&conversation);
        let leave = Leave {
            conversation_id: conversation.to_string(),
        };
        self.request("conversation:leave", &leave).await.map(drop)
    }

    /// Sends a message with a new client id; see [`send_with_id`](Self::send_with_id).
    pub async fn send_message(
        &mut self,
        conversation: Uuid,
        text: &str,
    ) -> Result<SendResponse, Error> {
        let client_id = format!("rust-{}", Uuid::new_v4());
        self.send_with_id(conversation, text, &client_id).await
    }

    /// Sends a message under `client_id`; while the connection is down it reconnects and
    /// sends again with the same id, so the message is stored once (a retry of a send that
    /// landed answers with the original).
    pub async fn send_with_id(
        &mut self,
        conversation: Uuid,
        text: &str,
        client_id: &str,
    ) -> Result<SendResponse, Error> {
        let request = SendMessage {
            conversation_id: conversation.to_string(),
            message: text.to_owned(),
            client_message_id: Some(client_id.to_owned()),
            attachment_ids: None,
            private: None,
        };
        let answer = self.request("message:send", &request).await?;
        serde_json::from_value(answer).map_err(|e| Error::Protocol(e.to_string()))
    }

    /// Moves the read cursor of a joined conversation to `seq`.
    pub async fn mark_read(&mut self, conversation: Uuid, seq: u64) -> Result<(), Error> {
        let read = json!({"conversationId": conversation, "seq": seq});
        self.request("read", &read).await.map(drop)
    }

    /// An idempotent request, sent again after a reconnect if the connection broke before
    /// its ack.
    async fn request(&mut self, kind: &str, payload: &impl Serialize) -> Result<Value, Error> {
        let payload = serde_json::to_value(payload).map_err(|e| Error::Protocol(e.to_string()))?;
        loop {
            let connection = self.connection().await?;
            match connection.request(kind, payload.clone()).await {
                Err(error) if error.is_retryable() => self.lost(),
                other => return other,
            }
        }
    }

    /// The next thing the server pushed; reconnects (with backoff) when the socket is lost.
    /// `Err` only when the server refuses the session, sends what this client cannot read,
    /// or stays away through every reconnect attempt.
    pub async fn next(&mut self) -> Result<Option<Incoming>, Error> {
        loop {
            if let Some(incoming) = self.queued.pop_front() {
                return Ok(Some(incoming));
            }
            let connection = self.connection().await?;
            match connection.next_frame().await {
                Ok(Some(frame)) => {
                    if let Some(incoming) = self.accept(frame)? {
                        return Ok(Some(incoming));
                    }
                }
                Ok(None) => self.lost(),
                Err(error) if error.is_retryable() => self.lost(),
                Err(error) => return Err(error),
            }
        }
    }

    /// The live connection; when it was lost, reconnects with backoff and rejoins every room
    /// (a room the server now refuses is dropped and reported as `conversation:left`).
    async fn connection(&mut self) -> Result<&mut Connection, Error> {
        while self.connection.is_none() {
            let (urls, token) = (self.urls.clone(), self.token.clone());
            let open = || open_any(&urls, self.current, &token);
            let (current, connection) = open.retry(retries()).when(Error::is_retryable).await?;
            self.current = current;
            self.connection = Some(connection);
            self.queued.push_back(Incoming::Reconnected);
            self.rejoin().await?;
        }
        self.connection
            .as_mut()
            .ok_or_else(|| Error::Transport("not connected".into()))
    }

    /// Joins every room again from its last seq; stops (leaving the connection lost, to be
    /// tried again) on a transport error.
    async fn rejoin(&mut self) -> Result<(), Error> {
        for (conversation, since) in self.rooms.clone() {
            match self.join_once(conversation, since).await {
                Ok(ack) => self.queue_catch_up(ack),
                Err(error) if error.is_retryable() => {
                    self.lost();
                    return Ok(());
                }
                Err(Error::Api { code, .. }) => {
                    self.rooms.remove(&conversation);
                    self.queued.push_back(Incoming::Event {
                        name: "conversation:left".into(),
                        payload: json!({"conversationId": conversation, "reason": code}),
                    });
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// Forgets the connection, keeping what it had read but not yet handed out.
    fn lost(&mut self) {
        if let Some(connection) = self.connection.take() {
            for frame in connection.into_buffered() {
                if let Ok(Some(incoming)) = self.accept(frame) {
                    self.queued.push_back(incoming);
                }
            }
        }
    }

    async fn join_once(&mut self, conversation: Uuid, since: u64) -> Result<JoinAck, Error> {
        let join = Join {
            conversation_id: conversation.to_string(),
            since: Some(since),
        };
        let payload = serde_json::to_value(&join).map_err(|e| Error::Protocol(e.to_string()))?;
        let connection = self
            .connection
            .as_mut()
            .ok_or_else(|| Error::Transport("not connected".into()))?;
        let answer = connection.request("conversation:join", payload).await?;
        // A `conversation:left` for this room read while waiting was about an earlier
        // membership: the join just made supersedes it.
        connection.discard_buffered(|frame| {
            frame.kind == "conversation:left"
                && frame.payload["conversationId"] == json!(conversation)
        });
        serde_json::from_value(answer).map_err(|e| Error::Protocol(e.to_string()))
    }

    fn queue_catch_up(&mut self, ack: JoinAck) {
        for event in ack.events {
            if let Some(incoming) = self.log(event) {
                self.queued.push_back(incoming);
            }
        }
    }

    /// Turns a frame into what `next` hands out; `None` for an event already handed out.
    fn accept(&mut self, frame: Frame) -> Result<Option<Incoming>, Error> {
        let decode = |e: serde_json::Error| Error::Protocol(e.to_string());
        match frame.kind.as_str() {
            "message:new" => {
                let new: MessageNew = serde_json::from_value(frame.payload).map_err(decode)?;
                Ok(self.log(new.into_event()))
            }
            "conversation:updated" => {
                let update: ConversationUpdated =
                    serde_json::from_value(frame.payload).map_err(decode)?;
                Ok(self.log(update.event))
            }
            "message:updated" | "message:deleted" => {
                let changed: MessageChanged =
                    serde_json::from_value(frame.payload).map_err(decode)?;
                Ok(self.log(changed.event))
            }
            "conversation:left" => {
                let id = frame.payload["conversationId"].as_str();
                if let Some(id) = id.and_then(|id| id.parse().ok()) {
                    self.rooms.remove(&id);
                }
                Ok(Some(Incoming::Event {
                    name: frame.kind,
                    payload: frame.payload,
                }))
            }
            _ => Ok(Some(Incoming::Event {
                name: frame.kind,
                payload: frame.payload,
            })),
        }
    }

    /// A log event, unless it was handed out already (a rejoin's overlap).
    fn log(&mut self, event: EventDto) -> Option<Incoming> {
        let last = self.rooms.get_mut(&event.conversation_id)?;
        if event.seq <= *last {
            return None;
        }
        *last = event.seq;
        Some(Incoming::Log(Box::new(event)))
    }
}

/// Connects to the first of `urls`, from `start` on and around, that answers: its index
/// and the connection. Fails with the last retryable error if none answers, or at once
/// with an error no other node would change (a refused session).
async fn open_any(
    urls: &[String],
    start: usize,
    token: &str,
) -> Result<(usize, Connection), Error> {
    let mut last = Error::Transport("no server URL".into());
    for offset in 0..urls.len() {
        let index = (start + offset) % urls.len();
        match Connection::connect(&urls[index], token).await {
            Ok(connection) => return Ok((index, connection)),
            Err(error) if error.is_retryable() => last = error,
            Err(error) => return Err(error),
        }
    }
    Err(last)
}
