//! Real time: Socket.IO at `/socket.io/` and a plain WebSocket at `/api/ws`, both thin
//! adapters over one [`Connection`](connection::Connection) with the same events.

pub mod connection;
pub mod inbox_counts;
mod origin;
pub mod protocol;
pub mod socketio;
pub mod websocket;
pub mod ws_frame;
