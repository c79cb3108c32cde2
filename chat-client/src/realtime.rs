//! The resuming real-time client: rooms joined with `since`, log events handed out once and
//! in order, and after a lost connection a reconnect that rejoins every room from the last
//! event handed out.

use std::collections::BTreeMap;

use backon::Retryable;
use chat_wire::EventDto;
use chat_wire::SendResponse;
use chat_wire::realtime::{ConversationUpdated, Join, JoinAck, MessageNew, SendMessage};
use chat_wire::ws::Frame;
use serde_json::Value;
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
    /// its name and payload.
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
#[derive(Debug)]
pub struct Realtime {
    url: String,
    token: String,
    connection: Option<Connection>,
    /// Joined rooms and the last seq handed out for each.
    rooms: BTreeMap<Uuid, u64>,
    /// Handed out before anything read from the socket.
    queued: std::collections::VecDeque<Incoming>,
}

impl Realtime {
    /// Connects with `client`'s session.
    pub async fn connect(client: &RestClient) -> Result<Self, Error> {
        Self::connect_to(&client.ws_url(), client.token()).await
    }

    /// Connects to `url` (`ws://host:port/api/ws`) with `token`.
    pub async fn connect_to(url: &str, token: &str) -> Result<Self, Error> {
        let connection = Connection::connect(url, token).await?;
        Ok(Self {
            url: url.to_owned(),
            token: token.to_owned(),
            connection: Some(connection),
            rooms: BTreeMap::new(),
            queued: Default::default(),
        })
    }

    /// Joins a conversation's room with what came after `since` (the catch-up is handed out
    /// by [`next`](Self::next) like live events). Joining again moves nothing back.
    pub async fn join(&mut self, conversation: Uuid, since: u64) -> Result<(), Error> {
        let since = self
            .rooms
            .get(&conversation)
            .copied()
            .unwrap_or(since)
            .max(since);
        let ack = self.join_once(conversation, since).await?;
        self.rooms.insert(conversation, since);
        self.queue_catch_up(ack);
        Ok(())
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
        let payload = serde_json::to_value(&request).map_err(|e| Error::Protocol(e.to_string()))?;
        let answer = self.request("message:send", payload).await?;
        serde_json::from_value(answer).map_err(|e| Error::Protocol(e.to_string()))
    }

    /// Any request, sent again after a reconnect if the connection broke before its ack.
    pub async fn request(&mut self, kind: &str, payload: Value) -> Result<Value, Error> {
        loop {
            let connection = self.connection().await?;
            match connection.request(kind, payload.clone()).await {
                Err(error) if error.is_retryable() => self.lost(),
                other => return other,
            }
        }
    }

    /// The next thing the server pushed; reconnects (with backoff) when the socket is lost.
    /// `Err` only when the server refuses the session or the reconnects give up.
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

    /// The live connection, reconnecting and rejoining first if it was lost.
    async fn connection(&mut self) -> Result<&mut Connection, Error> {
        if self.connection.is_none() {
            let (url, token) = (self.url.clone(), self.token.clone());
            let open = || Connection::connect(&url, &token);
            let connection = open.retry(retries()).when(Error::is_retryable).await?;
            self.connection = Some(connection);
            self.queued.push_back(Incoming::Reconnected);
            for (conversation, since) in self.rooms.clone() {
                let ack = self.join_once(conversation, since).await?;
                self.queue_catch_up(ack);
            }
        }
        self.connection
            .as_mut()
            .ok_or_else(|| Error::Transport("not connected".into()))
    }

    fn lost(&mut self) {
        self.connection = None;
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
            "conversation:left" => {
                if let Some(id) = frame.payload["conversationId"]
                    .as_str()
                    .and_then(|id| id.parse().ok())
                {
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
