//! One live connection, whatever the transport: joined rooms (each a resumable feed
//! forwarded to the client), sends with acks, read markers, typing, presence, the agents'
//! inbox, and closing when the session ends.
//!
//! Transports implement [`Outbox`]; it must be bounded: a client that stops reading fills
//! it, and after `ChatConfig::stall_limit` the connection is closed rather than buffered
//! without limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_core::Principal;
use chat_core::broadcast::{Delivery, Revoked, Signal, Subscription};
use chat_core::ids::{ConversationId, Seq};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::task::AbortHandle;

use crate::dto::EventDto;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::realtime::protocol::{self, ServerEvent};
use crate::routes::messages::{Outgoing, send_message};
use crate::routes::parse;
use crate::state::AppState;

/// Most stored events a join acknowledgement carries; later ones follow as live events.
const JOIN_BATCH: usize = 500;
/// Pause after a store error in a forwarder before it retries.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// Where a connection's server events go. Implementations queue into a bounded buffer.
///
/// A push waits for room up to `ChatConfig::stall_limit`; meanwhile the waiting forwarder's
/// subscription may lag and its feed then resyncs from the store, so a slow client never
/// slows anyone else and costs no more than its queue.
#[async_trait::async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Queues an event, waiting up to the stall limit for room; `false` if the client did
    /// not make room in time or is gone (the connection then closes).
    async fn push(&self, event: ServerEvent) -> bool;
    /// Closes the transport.
    fn close(&self);
}

/// A live connection of one authenticated principal.
pub struct Connection {
    state: AppState,
    auth: Auth,
    outbox: Arc<dyn Outbox>,
    rooms: Mutex<HashMap<ConversationId, AbortHandle>>,
    background: Mutex<Vec<AbortHandle>>,
    /// Whether this connection was counted in the agent's presence.
    counted: std::sync::atomic::AtomicBool,
}

impl Connection {
    /// Starts a connection: watches for the end of its session, and subscribes agents to
    /// the inbox and everyone to presence. Agents are announced online.
    pub async fn open(
        state: AppState,
        auth: Auth,
        outbox: Arc<dyn Outbox>,
    ) -> ApiResult<Arc<Self>> {
        let connection = Arc::new(Self {
            state,
            auth,
            outbox,
            rooms: Mutex::default(),
            background: Mutex::default(),
            counted: std::sync::atomic::AtomicBool::new(false),
        });
        if let Err(error) = connection.start().await {
            connection.close().await;
            return Err(error);
        }
        Ok(connection)
    }

    /// Starts the background tasks; agents are announced online with their first connection.
    async fn start(self: &Arc<Self>) -> ApiResult<()> {
        let engine = self.state.engine();
        let auth = self.auth;
        let revocations = engine.subscribe_revocations().await?;
        self.spawn_background(watch_revocations(self.clone(), revocations));
        let presence = engine.subscribe_presence(&auth.principal).await?;
        self.spawn_background(forward_presence(self.clone(), presence));
        let expires_at = engine.session_expires_at(&auth.token).await?;
        self.spawn_background(close_at_expiry(self.clone(), expires_at));
        if let Principal::Admin { id, .. } = auth.principal {
            let inbox = engine.subscribe_inbox(&auth.principal).await?;
            self.spawn_background(forward_inbox(self.clone(), inbox));
            self.counted
                .store(true, std::sync::atomic::Ordering::Release);
            if self.state.presence().connected(id) {
                engine.set_presence(&auth.principal, true).await?;
            }
        }
        Ok(())
    }

    /// Handles one client event; `reply` receives the acknowledgement (or `{"error": …}`)
    /// before any live event that follows from it.
    pub async fn handle(self: &Arc<Self>, event: &str, payload: Value, reply: impl FnOnce(Value)) {
        let result = match event {
            "conversation:join" => self.join(payload).await,
            "conversation:leave" => self.leave(payload),
            "message:send" => self.send(payload).await,
            "read" => self.read(payload).await,
            "typing" => self.typing(payload).await,
            _ => Err(ApiError::BadRequest(format!("unknown event {event:?}"))),
        };
        match result {
            Ok(Reply::Ack(ack)) => reply(ack),
            Ok(Reply::Joined(ack, feed)) => {
                let id = feed.conversation_id();
                reply(ack);
                self.forward(id, feed);
            }
            Err(error) => reply(serde_json::to_value(error.body().1).unwrap_or(Value::Null)),
        }
    }

    /// Stops everything the connection started; agents are announced offline.
    pub async fn close(&self) {
        let rooms: Vec<AbortHandle> = lock(&self.rooms).drain().map(|(_, task)| task).collect();
        for task in rooms.into_iter().chain(lock(&self.background).drain(..)) {
            task.abort();
        }
        if let Principal::Admin { id, .. } = self.auth.principal
            && self
                .counted
                .swap(false, std::sync::atomic::Ordering::AcqRel)
            && self.state.presence().disconnected(id)
            && let Err(error) = self
                .state
                .engine()
                .set_presence(&self.auth.principal, false)
                .await
        {
            tracing::warn!(%error, "could not announce an agent offline");
        }
    }

    async fn join(&self, payload: Value) -> ApiResult<Reply> {
        let join: protocol::Join = decode(payload)?;
        let id: ConversationId = parse(&join.conversation_id)?;
        let since = Seq(join.since.unwrap_or(0));
        let mut feed = self
            .state
            .engine()
            .subscribe(&self.auth.principal, id, since)
            .await?;
        let events = feed.catch_up(JOIN_BATCH).await?;
        let events: Vec<EventDto> = events.into_iter().map(EventDto::from).collect();
        Ok(Reply::Joined(
            json!({"lastSeq": feed.cursor(), "events": events}),
            feed,
        ))
    }

    fn leave(&self, payload: Value) -> ApiResult<Reply> {
        let leave: protocol::Leave = decode(payload)?;
        let id: ConversationId = parse(&leave.conversation_id)?;
        if let Some(task) = lock(&self.rooms).remove(&id) {
            task.abort();
        }
        Ok(Reply::Ack(json!({})))
    }

    async fn send(&self, payload: Value) -> ApiResult<Reply> {
        let send: protocol::Send = decode(payload)?;
        let outgoing = Outgoing {
            conversation_id: send.conversation_id,
            message: send.message,
            client_message_id: send.client_message_id,
            client_timestamp: None,
            attachment_ids: send.attachment_ids.unwrap_or_default(),
            private: send.private.unwrap_or(false),
        };
        let sent = send_message(&self.state, &self.auth, outgoing).await?;
        Ok(Reply::Ack(
            serde_json::to_value(sent).map_err(ApiError::internal)?,
        ))
    }

    async fn read(&self, payload: Value) -> ApiResult<Reply> {
        let read: protocol::Read = decode(payload)?;
        let id = parse(&read.conversation_id)?;
        let last_read_seq = self
            .state
            .engine()
            .mark_read(&self.auth.principal, id, Seq(read.seq))
            .await?;
        Ok(Reply::Ack(json!({"lastReadSeq": last_read_seq})))
    }

    async fn typing(&self, payload: Value) -> ApiResult<Reply> {
        let typing: protocol::Typing = decode(payload)?;
        let id = parse(&typing.conversation_id)?;
        self.state
            .engine()
            .typing(&self.auth.principal, id, typing.is_typing)
            .await?;
        Ok(Reply::Ack(json!({})))
    }

    /// Forwards a joined conversation's feed to the client until left or closed; a rejoin
    /// replaces the previous forwarder.
    fn forward(self: &Arc<Self>, id: ConversationId, mut feed: chat_core::feed::ConversationFeed) {
        let connection = self.clone();
        let me = self.auth.principal.actor();
        let task = tokio::spawn(async move {
            while let Some(item) = feed.next().await {
                let item = match item {
                    Ok(item) => item,
                    Err(error) => {
                        tracing::warn!(%error, %id, "reading the log for a live room failed; retrying");
                        tokio::time::sleep(RETRY_AFTER).await;
                        continue;
                    }
                };
                if let Some(event) =
                    protocol::from_feed(connection.state.engine(), id, item, me).await
                    && !connection.deliver(event).await
                {
                    return;
                }
            }
        });
        if let Some(previous) = lock(&self.rooms).insert(id, task.abort_handle()) {
            previous.abort();
        }
    }

    /// Hands an event to the transport; a stalled client is disconnected.
    async fn deliver(&self, event: ServerEvent) -> bool {
        let delivered = self.outbox.push(event).await;
        if !delivered {
            tracing::info!("closing a connection whose client stopped reading");
            self.outbox.close();
        }
        delivered
    }

    fn spawn_background(&self, task: impl Future<Output = ()> + Send + 'static) {
        lock(&self.background).push(tokio::spawn(task).abort_handle());
    }
}

/// What a handled event answers.
enum Reply {
    Ack(Value),
    /// The join ack, then the feed to forward once the ack is sent.
    Joined(Value, chat_core::feed::ConversationFeed),
}

/// Closes the connection when its session expires.
async fn close_at_expiry(connection: Arc<Connection>, expires_at: chrono::DateTime<chrono::Utc>) {
    let left = (expires_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(left).await;
    tracing::info!("closing a connection whose session expired");
    connection.outbox.close();
}

async fn watch_revocations(connection: Arc<Connection>, mut revocations: Subscription) {
    let Auth { principal, token } = connection.auth;
    while let Some(delivery) = revocations.next().await {
        let Delivery::Signal(signal) = delivery else {
            continue;
        };
        let Signal::Revoked { sessions } = &*signal else {
            continue;
        };
        let ended = match (*sessions, principal) {
            (Revoked::Token(hash), _) => hash == token,
            (Revoked::Admin(admin), Principal::Admin { id, .. }) => admin == id,
            (Revoked::Admin(_), _) => false,
        };
        if ended {
            tracing::info!("closing a connection whose session ended");
            connection.outbox.close();
            return;
        }
    }
}

async fn forward_presence(connection: Arc<Connection>, mut presence: Subscription) {
    let show_ids = matches!(connection.auth.principal, Principal::Admin { .. });
    while let Some(delivery) = presence.next().await {
        let Delivery::Signal(signal) = delivery else {
            continue;
        };
        let Signal::Presence { admin_id, online } = &*signal else {
            continue;
        };
        let payload = if show_ids {
            json!({"adminId": admin_id, "online": online})
        } else {
            json!({"online": online})
        };
        if !connection
            .deliver(ServerEvent {
                name: "presence",
                payload,
            })
            .await
        {
            return;
        }
    }
}

async fn forward_inbox(connection: Arc<Connection>, mut inbox: Subscription) {
    let engine = connection.state.engine();
    while let Some(delivery) = inbox.next().await {
        let payload = match delivery {
            Delivery::Lagged => json!({"kind": "resync"}),
            Delivery::Signal(signal) if matches!(*signal, Signal::Resync) => {
                json!({"kind": "resync"})
            }
            Delivery::Signal(signal) => {
                let Signal::Inbox { update } = &*signal else {
                    continue;
                };
                let counts = connection.state.inbox_counts();
                let Some(unread) = counts
                    .unread(engine, &connection.auth.principal, update)
                    .await
                else {
                    continue;
                };
                json!({"conversationId": update.conversation_id, "kind": update.kind, "seq": update.seq, "unreadCount": unread})
            }
        };
        if !connection
            .deliver(ServerEvent {
                name: "inbox",
                payload,
            })
            .await
        {
            return;
        }
    }
}

fn decode<T: DeserializeOwned>(payload: Value) -> ApiResult<T> {
    serde_json::from_value(payload).map_err(|error| ApiError::WrongShape(error.to_string()))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
