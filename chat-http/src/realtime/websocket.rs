//! The plain WebSocket transport at `/api/ws`: JSON text frames `{"type": EVENT, "id"?: n,
//! ...payload}`, the token in the first frame `{"type": "auth", "token"}`, replies to framed
//! ids as `{"type": "ack", "id": n, ...}`.
//!
//! Buffers are small and explicit (4 KiB reads, a bounded queue of outgoing frames); the
//! server pings every 20 s and drops a peer silent for 60 s.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, interval_at, sleep_until, timeout};

use crate::app::connection::{Connection, Outbox};
use crate::app::protocol::ServerEvent;
use crate::error::ApiError;
use crate::extract::Auth;
use crate::realtime::origin;
use crate::realtime::ws_frame::{self, ClientFrame};
use crate::state::AppState;

const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 4 * 1024;
const MAX_MESSAGE: usize = 64 * 1024;
/// The writer hands tungstenite one frame at a time, so its buffer never holds more than
/// one; this bound only has to exceed the largest single frame (a message at the hard size
/// limit, JSON-escaped). Memory is bounded by `QUEUE` frames, not by this.
const MAX_WRITE_BUFFER: usize = 16 * 1024 * 1024;
/// Outgoing frames a client may fall behind by before it is disconnected.
const QUEUE: usize = 256;
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(20);
const IDLE_LIMIT: Duration = Duration::from_secs(60);
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// `GET /api/ws`: refuses foreign origins, then upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin::allowed(&headers, &state.config().allowed_origins) {
        return ApiError::Core(chat_core::Error::PermissionDenied(
            "this origin may not open a socket",
        ))
        .into_response();
    }
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| run(state, socket))
}

/// Queues frames for the writer task; staying full means the client stopped reading.
struct WsOutbox {
    frames: mpsc::Sender<Message>,
    closing: watch::Sender<bool>,
    stall_limit: Duration,
}

impl WsOutbox {
    /// Queues a frame, waiting up to the stall limit for room.
    async fn queue(&self, frame: Message) -> bool {
        matches!(
            timeout(self.stall_limit, self.frames.send(frame)).await,
            Ok(Ok(()))
        )
    }
}

#[async_trait::async_trait]
impl Outbox for WsOutbox {
    async fn push(&self, event: ServerEvent) -> bool {
        self.queue(Message::text(ws_frame::event(event))).await
    }

    fn transport(&self) -> &'static str {
        "websocket"
    }

    fn close(&self) {
        self.closing.send_replace(true);
    }
}

async fn run(state: AppState, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let auth = match timeout(AUTH_TIMEOUT, authenticate(&state, &mut stream)).await {
        Ok(Ok((auth, id))) => {
            let ready = ws_frame::ack(id.unwrap_or(Value::Null), json!({"ok": true}));
            if sink.send(Message::text(ready)).await.is_err() {
                return;
            }
            auth
        }
        Ok(Err(error)) => {
            let _ = sink.send(Message::text(ws_frame::error(&error))).await;
            let _ = sink.close().await;
            return;
        }
        Err(_) => return,
    };
    let (frames, queue) = mpsc::channel(QUEUE);
    let (closing, closed) = watch::channel(false);
    let stall_limit = state.config().stall_limit;
    let outbox = Arc::new(WsOutbox {
        frames,
        closing,
        stall_limit,
    });
    let connection = match Connection::open(state, auth, outbox.clone()).await {
        Ok(connection) => connection,
        Err(error) => {
            let _ = sink.send(Message::text(ws_frame::error(&error))).await;
            return;
        }
    };
    let writer = tokio::spawn(write_frames(sink, queue, closed.clone()));
    read_frames(&connection, &mut stream, &outbox, closed).await;
    outbox.close();
    connection.close().await;
    // A writer stuck on a client that does not read is dropped with the socket.
    let abort = writer.abort_handle();
    if timeout(CLOSE_GRACE, writer).await.is_err() {
        abort.abort();
    }
}

/// Waits for the `auth` frame; returns the principal and the frame's id.
async fn authenticate(
    state: &AppState,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
) -> Result<(Auth, Option<Value>), ApiError> {
    loop {
        let Some(Ok(message)) = stream.next().await else {
            return Err(ApiError::BadRequest("closed before authenticating".into()));
        };
        let Message::Text(text) = message else {
            continue;
        };
        let frame = ClientFrame::decode(&text)?;
        if frame.event != "auth" {
            return Err(chat_core::Error::Unauthenticated.into());
        }
        let credential = frame.payload["token"]
            .as_str()
            .ok_or(chat_core::Error::Unauthenticated)?;
        let auth = crate::sign_in::authenticate(state, credential).await?;
        return Ok((auth, frame.id));
    }
}

/// Reads client frames and answers each; an answer waits for room in the queue like any
/// event, and one that cannot be queued closes the connection instead of vanishing.
async fn read_frames(
    connection: &Arc<Connection>,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    outbox: &WsOutbox,
    mut closed: watch::Receiver<bool>,
) {
    let mut deadline = Instant::now() + IDLE_LIMIT;
    loop {
        let message = tokio::select! {
            message = stream.next() => message,
            _ = closed.wait_for(|closing| *closing) => return,
            () = sleep_until(deadline) => return,
        };
        let Some(Ok(message)) = message else { return };
        deadline = Instant::now() + IDLE_LIMIT;
        let Message::Text(text) = message else {
            if matches!(message, Message::Close(_)) {
                return;
            }
            continue;
        };
        let frame = match ClientFrame::decode(&text) {
            Ok(frame) => frame,
            Err(error) => {
                if !outbox.queue(Message::text(ws_frame::error(&error))).await {
                    return;
                }
                continue;
            }
        };
        let acked = frame.id.is_some();
        let mut handled = connection.handle(&frame.event, frame.payload, acked).await;
        let delivered = match frame.id {
            Some(id) => {
                let ack = ws_frame::ack(id, std::mem::take(&mut handled.reply));
                outbox.queue(Message::text(ack)).await
            }
            None => true,
        };
        connection.acknowledged(handled, delivered);
    }
}

async fn write_frames(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Message>,
    mut closed: watch::Receiver<bool>,
) {
    let mut pings = interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        let frame = tokio::select! {
            frame = queue.recv() => match frame {
                Some(frame) => frame,
                None => break,
            },
            _ = pings.tick() => Message::Ping(Default::default()),
            _ = closed.wait_for(|closing| *closing) => break,
        };
        let sent = tokio::select! {
            sent = sink.send(frame) => sent.is_ok(),
            _ = closed.wait_for(|closing| *closing) => false,
        };
        if !sent {
            break;
        }
    }
    let _ = sink.close().await;
}
