//! One live connection, whatever the transport: joined rooms (each a resumable feed
//! forwarded to the client), sends with acks, read markers, typing, presence, the agents'
//! inbox, and the live authorization rule: the connection's principal is re-read whenever
//! a fact it rests on may have changed, and every room and the inbox follow it.
//!
//! Transports implement [`Outbox`]; it must be bounded: a client that stops reading fills
//! it, and after `ChatConfig::stall_limit` the connection is closed rather than buffered
//! without limit. A transport delivers each [`Handled`] reply (the ack) itself and reports
//! whether it could: an ack that cannot be delivered closes the connection, never vanishes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chat_core::Principal;
use chat_core::accounts::TokenHash;
use chat_core::feed::ConversationFeed;
use chat_core::ids::{ConversationId, Seq};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

use crate::app::protocol::{self, ServerEvent};
use crate::app::{Outgoing, inbox, parse, rooms, send_message, watchers};
use crate::dto::EventDto;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::state::AppState;

/// Most bytes of events a join acknowledgement carries (at least one event, however large);
/// later ones follow as live events, in order, before any newer one.
const JOIN_BYTES: usize = 48 * 1024;
/// Tries to re-read a session before a connection gives up and closes.
const REREAD_ATTEMPTS: u32 = 5;
/// About how long to wait between those tries (jittered).
const REREAD_PAUSE: std::time::Duration = std::time::Duration::from_secs(2);

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
    /// The transport's name, for metrics (`websocket`, `socketio`).
    fn transport(&self) -> &'static str;
}

/// A live connection of one authenticated session.
pub struct Connection {
    pub(crate) state: AppState,
    pub(crate) token: TokenHash,
    /// The principal as it stands now; replaced when its permissions change.
    pub(crate) principal: watch::Sender<Principal>,
    pub(crate) outbox: Arc<dyn Outbox>,
    _counted: crate::metrics::ConnectionGauge,
    rooms: Mutex<HashMap<ConversationId, AbortHandle>>,
    background: Mutex<Vec<AbortHandle>>,
    inbox: Mutex<Option<AbortHandle>>,
    /// Set by [`close`](Connection::close): nothing starts afterwards.
    closed: AtomicBool,
    /// Wakes the one task that re-reads the session (requests made meanwhile coalesce).
    refresh_requested: tokio::sync::Notify,
    /// Whether this connection was counted in the agent's presence.
    counted: AtomicBool,
}

/// A handled client event: the reply for the transport to deliver as the ack, then
/// [`Connection::acknowledged`].
pub struct Handled {
    /// The ack payload (or `{"error": …}`).
    pub reply: Value,
    /// A joined room, forwarded once its ack is delivered, with the principal as the join
    /// decided on it (a change since then makes the forwarder re-decide at once).
    room: Option<(ConversationFeed, watch::Receiver<Principal>)>,
}

impl Connection {
    /// Starts a connection: watches for the end of its session and for changed permissions,
    /// subscribes agents to the inbox and everyone to presence. Agents are announced online.
    pub async fn open(
        state: AppState,
        auth: Auth,
        outbox: Arc<dyn Outbox>,
    ) -> ApiResult<Arc<Self>> {
        let connection = Arc::new(Self {
            state,
            token: auth.token,
            principal: watch::Sender::new(auth.principal),
            _counted: crate::metrics::ConnectionGauge::open(outbox.transport()),
            outbox,
            rooms: Mutex::default(),
            background: Mutex::default(),
            inbox: Mutex::default(),
            closed: AtomicBool::new(false),
            refresh_requested: tokio::sync::Notify::new(),
            counted: AtomicBool::new(false),
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
        let revocations = engine.subscribe_revocations().await?;
        // Read after subscribing: a change since the handshake is either seen here or
        // arrives as a signal.
        let principal = engine.authenticate(&self.token).await?;
        self.principal.send_replace(principal);
        self.restart_inbox().await?;
        // From here on only the refresher re-reads the session and renews the inbox, one
        // re-read at a time; signals arriving meanwhile wait in the subscription.
        self.spawn_background(watchers::refresher(self.clone()));
        self.spawn_background(watchers::revocations(self.clone(), revocations));
        self.spawn_background(watchers::recheck(self.clone()));
        let presence = self.state.presence().subscribe(engine).await?;
        self.spawn_background(watchers::presence(self.clone(), presence));
        let expires_at = engine.session_expires_at(&self.token).await?;
        self.spawn_background(watchers::expiry(self.clone(), expires_at));
        if let Principal::Admin { id, .. } = principal {
            self.counted.store(true, Ordering::Release);
            self.state.presence().connected(engine, id).await;
        }
        if let (Principal::Visitor(id), Some(email)) =
            (principal, &self.state.config().offline_email)
        {
            let every = email.rules.heartbeat();
            self.spawn_background(watchers::heartbeat(self.clone(), id, every));
        }
        Ok(())
    }

    /// The principal as it stands now.
    pub fn principal(&self) -> Principal {
        *self.principal.borrow()
    }

    /// Handles one client event. The transport delivers `reply` as the ack, then calls
    /// [`acknowledged`](Self::acknowledged). `acked` says whether the client asked for an
    /// ack: a join without one gets its catch-up as live events instead.
    pub async fn handle(&self, event: &str, payload: Value, acked: bool) -> Handled {
        let result = match event {
            "conversation:join" => self.join(payload, acked).await,
            "conversation:leave" => self.leave(payload),
            "message:send" => self.send(payload).await,
            "read" => self.read(payload).await,
            "typing" => self.typing(payload).await,
            _ => Err(ApiError::BadRequest(format!("unknown event {event:?}"))),
        };
        match result {
            Ok(handled) => handled,
            Err(error) => Handled {
                reply: serde_json::to_value(error.body().1).unwrap_or(Value::Null),
                room: None,
            },
        }
    }

    /// After the transport delivered (or failed to deliver) a reply: a joined room starts
    /// forwarding, after its ack so the seam has no gap; an undeliverable ack closes the
    /// connection (the client reconnects and resumes by `since`).
    pub fn acknowledged(self: &Arc<Self>, handled: Handled, delivered: bool) {
        if !delivered {
            tracing::info!("closing a connection whose ack could not be delivered");
            self.outbox.close();
            return;
        }
        if let Some((feed, seen)) = handled.room {
            let id = feed.conversation_id();
            let task = tokio::spawn(rooms::forward(self.clone(), feed, seen));
            let mut rooms = lock(&self.rooms);
            if self.closed.load(Ordering::Acquire) {
                task.abort();
            } else if let Some(previous) = rooms.insert(id, task.abort_handle()) {
                previous.abort();
            }
        }
    }

    /// Stops everything the connection started; agents are announced offline.
    pub async fn close(&self) {
        let rooms: Vec<AbortHandle> = {
            let mut rooms = lock(&self.rooms);
            self.closed.store(true, Ordering::Release);
            rooms.drain().map(|(_, task)| task).collect()
        };
        let inbox = {
            let mut inbox = lock(&self.inbox);
            self.closed.store(true, Ordering::Release);
            inbox.take()
        };
        for task in rooms
            .into_iter()
            .chain(lock(&self.background).drain(..))
            .chain(inbox)
        {
            task.abort();
        }
        if let Principal::Admin { id, .. } = self.principal()
            && self.counted.swap(false, Ordering::AcqRel)
        {
            let engine = self.state.engine();
            self.state.presence().disconnected(engine, id).await;
        }
        // A visitor's absence, for offline email, counts from now.
        if let Principal::Visitor(id) = self.principal()
            && self.state.config().offline_email.is_some()
            && let Err(error) = self.state.engine().visitor_seen(id).await
        {
            tracing::warn!(%error, "could not record when a visitor left");
        }
    }

    /// Asks the refresher to re-read the session soon; never waits for it, so a watcher
    /// keeps hearing revocations while a re-read retries.
    pub(crate) fn request_refresh(&self) {
        self.refresh_requested.notify_one();
    }

    /// Waits for the next [`request_refresh`](Self::request_refresh).
    pub(crate) async fn refresh_requested(&self) {
        self.refresh_requested.notified().await;
    }

    /// Re-reads the principal from the session (a permission change, a signal that may
    /// have been lost, the periodic re-check): rooms and inbox follow the new one. Run by
    /// the refresher task only, so re-reads never overlap. A session that ended closes the
    /// connection; a store out of reach is retried a few times, then the connection
    /// closes: when in doubt, close.
    pub(crate) async fn refresh(self: &Arc<Self>) {
        let Some(principal) = self.reread_session().await else {
            self.outbox.close();
            return;
        };
        let changed = self.principal.send_if_modified(|current| {
            let changed = *current != principal;
            *current = principal;
            changed
        });
        if changed && let Err(error) = self.restart_inbox().await {
            tracing::info!(%error, "closing a connection whose inbox could not be renewed");
            self.outbox.close();
        }
    }

    /// The session's principal now, or `None` when it ended or could not be read after a
    /// few tries spread over some seconds (so a database blip does not close every socket
    /// at once).
    async fn reread_session(&self) -> Option<Principal> {
        for attempt in 1..=REREAD_ATTEMPTS {
            match self.state.engine().authenticate(&self.token).await {
                Ok(principal) => return Some(principal),
                Err(chat_core::Error::Unauthenticated | chat_core::Error::VisitorBlocked) => {
                    tracing::info!("closing a connection whose session ended");
                    return None;
                }
                Err(error) if attempt < REREAD_ATTEMPTS => {
                    tracing::warn!(%error, attempt, "could not re-read a session; retrying");
                    tokio::time::sleep(watchers::jittered(REREAD_PAUSE)).await;
                }
                Err(error) => {
                    tracing::warn!(%error, "could not re-read a session; closing the connection");
                }
            }
        }
        None
    }

    /// (Re)subscribes the agent's inbox with its current scope; a replaced inbox tells the
    /// client to reload its list.
    async fn restart_inbox(self: &Arc<Self>) -> ApiResult<()> {
        let principal = self.principal();
        let inbox = match self.state.engine().subscribe_inbox(&principal).await {
            Ok(inbox) => Some(inbox),
            // Not an agent (or no longer allowed one): no inbox.
            Err(chat_core::Error::PermissionDenied(_)) => None,
            Err(error) => return Err(error.into()),
        };
        let task = inbox.map(|inbox| tokio::spawn(inbox::forward(self.clone(), inbox, principal)));
        let previous = {
            let mut slot = lock(&self.inbox);
            if self.closed.load(Ordering::Acquire) {
                task.inspect(JoinHandle::abort);
                return Ok(());
            }
            std::mem::replace(&mut *slot, task.map(|task| task.abort_handle()))
        };
        if let Some(previous) = previous {
            previous.abort();
            let resync = ServerEvent {
                name: "inbox",
                payload: json!({"kind": "resync"}),
                stored_at: None,
            };
            let _ = self.deliver(resync).await;
        }
        Ok(())
    }

    /// Takes the connection out of a room it may no longer read and tells the client. Only
    /// the room's current forwarder (the calling task) is removed.
    pub(crate) async fn leave_room(&self, id: ConversationId, reason: &str) {
        {
            let mut rooms = lock(&self.rooms);
            let current = tokio::task::try_id();
            if rooms.get(&id).map(AbortHandle::id) == current {
                rooms.remove(&id);
            }
        }
        let _ = self.deliver(protocol::left(id, reason)).await;
    }

    async fn join(&self, payload: Value, acked: bool) -> ApiResult<Handled> {
        let join: protocol::Join = decode(payload)?;
        let id: ConversationId = parse(&join.conversation_id)?;
        let since = Seq(join.since.unwrap_or(0));
        let mut seen = self.principal.subscribe();
        let principal = *seen.borrow_and_update();
        let engine = self.state.engine();
        let mut feed = engine.subscribe(&principal, id, since).await?;
        if !acked {
            // Nowhere to put a catch-up: it comes as live events, from `since`.
            return Ok(Handled {
                reply: json!({"lastSeq": since}),
                room: Some((feed, seen)),
            });
        }
        let (events, taken) = catch_up(&mut feed).await?;
        // Access may have changed since the join was decided: by the principal, or by an
        // event in the catch-up itself (an assignment committed meanwhile).
        let decided = feed.authorized_through();
        let joining = |event: &&chat_core::event::Event| event.seq > decided;
        if seen.has_changed().unwrap_or(true)
            || taken.iter().filter(joining).any(rooms::changes_access)
        {
            let now = *seen.borrow_and_update();
            engine.may_stay_in_room(&now, id).await?;
        }
        let reply =
            json!({"lastSeq": feed.cursor(), "events": events, "hasMore": feed.has_backlog()});
        Ok(Handled {
            reply,
            room: Some((feed, seen)),
        })
    }

    fn leave(&self, payload: Value) -> ApiResult<Handled> {
        let leave: protocol::Leave = decode(payload)?;
        let id: ConversationId = parse(&leave.conversation_id)?;
        if let Some(task) = lock(&self.rooms).remove(&id) {
            task.abort();
        }
        Ok(ack(json!({})))
    }

    async fn send(&self, payload: Value) -> ApiResult<Handled> {
        let send: protocol::Send = decode(payload)?;
        let outgoing = Outgoing {
            conversation_id: send.conversation_id,
            message: send.message,
            client_message_id: send.client_message_id,
            client_timestamp: None,
            attachment_ids: send.attachment_ids.unwrap_or_default(),
            private: send.private.unwrap_or(false),
        };
        let auth = Auth {
            principal: self.principal(),
            token: self.token,
        };
        let sent = send_message(&self.state, &auth, outgoing, self.outbox.transport()).await?;
        Ok(ack(serde_json::to_value(sent).map_err(ApiError::internal)?))
    }

    async fn read(&self, payload: Value) -> ApiResult<Handled> {
        let read: protocol::Read = decode(payload)?;
        let id = parse(&read.conversation_id)?;
        let engine = self.state.engine();
        let last_read_seq = engine
            .mark_read(&self.principal(), id, Seq(read.seq))
            .await?;
        Ok(ack(json!({"lastReadSeq": last_read_seq})))
    }

    async fn typing(&self, payload: Value) -> ApiResult<Handled> {
        let typing: protocol::Typing = decode(payload)?;
        let id = parse(&typing.conversation_id)?;
        let engine = self.state.engine();
        engine
            .typing(&self.principal(), id, typing.is_typing)
            .await?;
        Ok(ack(json!({})))
    }

    /// Hands an event to the transport; a stalled client is disconnected.
    pub(crate) async fn deliver(&self, event: ServerEvent) -> bool {
        let (name, stored) = (event.name, event.stored_at);
        let delivered = self.outbox.push(event).await;
        if delivered {
            crate::metrics::delivered(name, stored);
        }
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

/// The join ack's events: up to about [`JOIN_BYTES`] of them as JSON (at least one), and
/// the events themselves.
async fn catch_up(
    feed: &mut ConversationFeed,
) -> ApiResult<(Vec<Value>, Vec<chat_core::event::Event>)> {
    let mut bytes = 0;
    let mut events = Vec::new();
    let taken = feed
        .catch_up_while(|event| {
            let dto = EventDto::from(event.clone());
            let value = serde_json::to_value(dto).unwrap_or(Value::Null);
            bytes += value.to_string().len();
            events.push(value);
            bytes <= JOIN_BYTES
        })
        .await?;
    events.truncate(taken.len());
    Ok((events, taken))
}

fn ack(reply: Value) -> Handled {
    Handled { reply, room: None }
}

fn decode<T: DeserializeOwned>(payload: Value) -> ApiResult<T> {
    serde_json::from_value(payload).map_err(|error| ApiError::WrongShape(error.to_string()))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
