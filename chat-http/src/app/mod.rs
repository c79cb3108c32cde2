//! The transport-neutral application layer: what REST handlers, the plain WebSocket and
//! Socket.IO all call. Commands (send; join, read and typing on a live [`Connection`]),
//! the hub of presence and inbox counts, and the wire payloads. Transports only decode,
//! call and encode; nothing here knows which transport it serves.
//!
//! [`Connection`]: connection::Connection

pub mod connection;
pub mod identity;
pub mod inbox;
pub mod inbox_snapshots;
pub mod presence;
pub mod protocol;
mod rooms;
pub mod send;
mod watchers;

pub use send::{Outgoing, parse, send_message};
