//! The Socket.IO transport (socketioxide) at `/socket.io/`, namespace `/`, token in the
//! handshake's `auth: {token}`. Each client event is answered through its ack; server
//! events are emitted by name.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Data, Extension, SocketRef, TryData};
use socketioxide::handler::{ConnectHandler, FromMessageParts};
use socketioxide::layer::SocketIoLayer;
use socketioxide::socket::Socket;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::app::connection::{Connection, Outbox};
use crate::app::protocol::ServerEvent;
use crate::error::ApiError;
use crate::extract::Auth;
use crate::realtime::origin;
use crate::state::AppState;

/// Packets a client may fall behind by before it is disconnected.
const MAX_BUFFER: usize = 256;
/// The client events, all handled by [`Connection::handle`].
pub const EVENTS: [&str; 5] = [
    "conversation:join",
    "conversation:leave",
    "message:send",
    "read",
    "typing",
];

/// The handshake's `auth` payload.
#[derive(Debug, Deserialize)]
struct Handshake {
    token: String,
}

/// Why a handshake was refused (sent to the client as `connect_error`). Only a session
/// that is not valid says "authentication required" (clients sign out on it); the database
/// out of reach says "unavailable" (clients retry), anything else "internal".
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The page's origin may not embed the chat.
    #[error("this origin may not open a socket")]
    Origin,
    /// No valid session.
    #[error("authentication required")]
    Unauthenticated,
    /// The session's visitor is blocked.
    #[error("visitor_blocked")]
    Blocked,
    /// The store is out of reach for now: try again.
    #[error("unavailable")]
    Unavailable,
    /// Anything else (logged).
    #[error("internal")]
    Internal,
}

impl From<chat_core::Error> for Refused {
    fn from(error: chat_core::Error) -> Self {
        match error {
            chat_core::Error::Unauthenticated => Self::Unauthenticated,
            chat_core::Error::VisitorBlocked => Self::Blocked,
            chat_core::Error::Unavailable { .. } => Self::Unavailable,
            error => {
                tracing::warn!(%error, "a Socket.IO handshake failed");
                Self::Internal
            }
        }
    }
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Core(error) => error.into(),
            // The host's credential, refused: the client signs out like for any session.
            ApiError::Unauthenticated(_) => Self::Unauthenticated,
            error => {
                tracing::warn!(%error, "a Socket.IO handshake failed");
                Self::Internal
            }
        }
    }
}

/// The Socket.IO layer for the router.
pub fn layer(state: AppState) -> SocketIoLayer {
    let (layer, io) = SocketIo::builder()
        .max_buffer_size(MAX_BUFFER)
        .ws_read_buffer_size(4 * 1024)
        .max_payload(64 * 1024)
        .ping_interval(Duration::from_secs(20))
        .ping_timeout(Duration::from_secs(20))
        .build_layer();
    let authenticate = {
        let state = state.clone();
        move |socket: SocketRef, auth: TryData<Handshake>| authenticate(state.clone(), socket, auth)
    };
    io.ns(
        "/",
        (move |socket: SocketRef,
               Extension(auth): Extension<Auth>,
               Extension(opening): Extension<Arc<Opening>>,
               Extension(gate): Extension<Arc<AckGate>>| {
            connected(state.clone(), socket, auth, opening, gate)
        })
        .with(authenticate),
    );
    layer
}

async fn authenticate(
    state: AppState,
    socket: SocketRef,
    TryData(handshake): TryData<Handshake>,
) -> Result<(), Refused> {
    if !origin::allowed(&socket.req_parts().headers, &state.config().allowed_origins) {
        return Err(Refused::Origin);
    }
    let credential = handshake.map_err(|_| Refused::Unauthenticated)?.token;
    let auth = crate::sign_in::authenticate(&state, &credential)
        .await
        .map_err(Refused::from)?;
    socket.extensions.insert(auth);
    // The handlers go in before the client is told it is connected: socketioxide drops an
    // event that has no handler yet, and a client may emit the moment it has the connect
    // packet.
    socket
        .extensions
        .insert(Arc::new(register_handlers(&socket)));
    Ok(())
}

/// The connection as it opens: `None` while opening, then `Some(None)` if it could not be
/// opened or `Some(Some(connection))`.
type Opening = watch::Sender<Option<Option<Arc<Connection>>>>;

/// Whether the client asked for an ack (socketioxide hands extractors the packet's ack id).
struct Acked(bool);

impl<A: Adapter> FromMessageParts<A> for Acked {
    type Error = Infallible;

    fn from_message_parts(
        _: &Arc<Socket<A>>,
        _: &mut socketioxide::handler::Value,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        Ok(Self(ack_id.is_some()))
    }
}

/// A client event as received, waiting for the connection's handling task.
struct Request {
    event: &'static str,
    payload: Value,
    ack: AckSender,
    acked: bool,
}

/// Requests a client may have waiting before it is disconnected (it sends faster than it is
/// answered). They are queued boxed: the channel allocates its slots in blocks of 32 up
/// front, and an idle connection should not hold 32 whole requests' worth of memory.
const REQUESTS: usize = 256;

/// Registers the event and disconnect handlers. socketioxide runs each event's handler in a
/// task of its own, in no fixed order; the handlers only queue the request (that part runs
/// in arrival order), and one task per connection handles them in that order, once the
/// connection is open, so a join and the leave after it apply in the order they were sent.
fn register_handlers(socket: &SocketRef) -> Opening {
    let (opening, ready) = watch::channel(None);
    let (requests, queue) = mpsc::channel(REQUESTS);
    let gate = Arc::new(AckGate::default());
    socket.extensions.insert(gate.clone());
    // socketioxide keeps a socket's event handlers (and so the request senders) until the
    // socket itself is dropped, and the connection holds the socket: the request task must
    // be told the socket is gone, or it, the connection and the socket outlive it forever.
    let gone = Arc::new(tokio::sync::Notify::new());
    tokio::spawn(handle_requests(ready.clone(), queue, gate, gone.clone()));
    for event in EVENTS {
        let requests = requests.clone();
        socket.on(
            event,
            move |socket: SocketRef,
                  Data(payload): Data<Value>,
                  ack: AckSender,
                  Acked(acked): Acked| {
                let request = Box::new(Request {
                    event,
                    payload,
                    ack,
                    acked,
                });
                if requests.try_send(request).is_err() {
                    tracing::info!(
                        "closing a Socket.IO connection that sends faster than it is answered"
                    );
                    let _ = socket.disconnect();
                }
                std::future::ready(())
            },
        );
    }
    socket.on_disconnect(move || {
        let (ready, gone) = (ready.clone(), gone.clone());
        async move {
            gone.notify_one();
            if let Some(connection) = open_connection(ready).await {
                connection.close().await;
            }
        }
    });
    opening
}

/// How long requests queued by a socket that disconnected while its connection was still
/// opening wait for it to open (it may never: then they are dropped with the socket).
const OPEN_GRACE: Duration = Duration::from_secs(10);

/// Handles one connection's requests in arrival order; each ack is sent before the next
/// request is handled. An ack that cannot be delivered closes the connection. When the
/// socket disconnects (`gone`) the queue is closed and what was already queued is still
/// handled (a send or a read the client made before leaving takes effect), then it ends.
async fn handle_requests(
    ready: watch::Receiver<Option<Option<Arc<Connection>>>>,
    mut queue: mpsc::Receiver<Box<Request>>,
    gate: Arc<AckGate>,
    gone: Arc<tokio::sync::Notify>,
) {
    let connection = tokio::select! {
        connection = open_connection(ready.clone()) => connection,
        () = gone.notified() => {
            queue.close();
            let opened = tokio::time::timeout(OPEN_GRACE, open_connection(ready)).await;
            opened.ok().flatten()
        }
    };
    let Some(connection) = connection else {
        return;
    };
    loop {
        let request = tokio::select! {
            biased;
            request = queue.recv() => request,
            () = gone.notified() => {
                queue.close();
                continue;
            }
        };
        let Some(request) = request else { return };
        gate.answering.store(true, Ordering::Release);
        let handled = connection
            .handle(request.event, request.payload, request.acked)
            .await;
        if let Some(left) = gate.drain_left() {
            tokio::time::sleep(left).await;
        }
        // If the buffer is still full, socketioxide refuses the ack and takes the sender
        // with it: the connection closes rather than lose the ack (the client reconnects
        // and resumes by `since`; a send retried with its client id gets the original).
        let delivered = request.ack.send(&handled.reply).is_ok();
        gate.answering.store(false, Ordering::Release);
        connection.acknowledged(handled, delivered);
    }
}

async fn connected(
    state: AppState,
    socket: SocketRef,
    auth: Auth,
    opened: Arc<Opening>,
    gate: Arc<AckGate>,
) {
    // The handlers hold the receiving side; the socket need not keep the sender.
    socket.extensions.remove::<Arc<Opening>>();
    socket.extensions.remove::<Arc<AckGate>>();
    let outbox = Arc::new(SocketOutbox {
        socket: socket.clone(),
        stall_limit: state.config().stall_limit,
        gate,
    });
    match Connection::open(state, auth, outbox).await {
        Ok(connection) => {
            let _ = opened.send(Some(Some(connection)));
        }
        Err(error) => {
            tracing::warn!(%error, "could not open a Socket.IO connection");
            let _ = opened.send(Some(None));
            let _ = socket.disconnect();
        }
    }
}

/// Waits until the connection is open; `None` if it could not be.
async fn open_connection(
    mut ready: watch::Receiver<Option<Option<Arc<Connection>>>>,
) -> Option<Arc<Connection>> {
    let state = ready.wait_for(Option::is_some).await.ok()?;
    state.clone().flatten()
}

/// Emits on the socket; socketioxide's bounded buffer refuses while the client lags, so
/// the push retries until the stall limit.
struct SocketOutbox {
    socket: SocketRef,
    stall_limit: Duration,
    gate: Arc<AckGate>,
}

/// Pause between attempts to emit into a full socket buffer.
const RETRY_EMIT: Duration = Duration::from_millis(20);
/// How long an ack waits, with live events paused, for a buffer that was full to drain.
const DRAIN: Duration = Duration::from_millis(200);

/// Lets acks go first. socketioxide's ack is single-shot (a full buffer refuses it and it
/// cannot be retried), so while a request is answered live events wait, and an ack waits
/// for a buffer that live events filled lately to drain before it is sent.
#[derive(Debug, Default)]
struct AckGate {
    answering: AtomicBool,
    full_at: std::sync::Mutex<Option<Instant>>,
}

impl AckGate {
    fn saw_full(&self) {
        *self.full_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// How long an ack should still wait for the buffer to drain.
    fn drain_left(&self) -> Option<Duration> {
        let full_at = *self.full_at.lock().unwrap_or_else(|p| p.into_inner());
        full_at.and_then(|at| DRAIN.checked_sub(at.elapsed()))
    }
}

#[async_trait::async_trait]
impl Outbox for SocketOutbox {
    async fn push(&self, event: ServerEvent) -> bool {
        let deadline = Instant::now() + self.stall_limit;
        loop {
            let may_wait = self.socket.connected() && Instant::now() < deadline;
            if self.gate.answering.load(Ordering::Acquire) {
                if !may_wait {
                    return false;
                }
                tokio::time::sleep(RETRY_EMIT).await;
                continue;
            }
            match self.socket.emit(event.name, &event.payload) {
                Ok(()) => return true,
                Err(_) if may_wait => {
                    self.gate.saw_full();
                    tokio::time::sleep(RETRY_EMIT).await;
                }
                Err(_) => return false,
            }
        }
    }

    fn close(&self) {
        let _ = self.socket.clone().disconnect();
    }

    fn transport(&self) -> &'static str {
        "socketio"
    }
}
