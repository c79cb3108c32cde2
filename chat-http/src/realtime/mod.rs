//! Real time: Socket.IO at `/socket.io/` and a plain WebSocket at `/api/ws`, both thin
//! adapters over one [`Connection`](crate::app::connection::Connection) with the same events.

mod origin;
pub mod socketio;
pub mod websocket;
pub mod ws_frame;
