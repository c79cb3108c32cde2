//! A typed Rust client of the chat server.
//!
//! - [`RestClient`]: a visitor session or an agent login, starting conversations, sending
//!   messages (each with a client id, retried with the same id when the server is out of
//!   reach, so a retry never stores a second copy), the log of a conversation and the
//!   store-wide change feed.
//! - [`Realtime`]: the WebSocket at `/api/ws`. It joins conversations with `since`, and
//!   after a lost connection reconnects by itself and rejoins each room from the last event
//!   it handed out: every log event arrives once, in order, across reconnects.
//! - [`Connection`]: the same socket without the resuming, for speaking the protocol
//!   frame by frame (tests, load generators).
//!
//! The types on the wire are `chat-wire`'s, the ones the server itself serializes.
//!
//! ```no_run
//! # async fn run() -> Result<(), chat_client::Error> {
//! use chat_client::{Incoming, Realtime, RestClient};
//!
//! let agent = RestClient::login("http://127.0.0.1:8080", "owner@example.com", "password").await?;
//! let mut socket = Realtime::connect(&agent).await?;
//! while let Some(incoming) = socket.next().await? {
//!     if let Incoming::Log(event) = incoming {
//!         println!("{} #{}: {}", event.conversation_id, event.seq, event.kind);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod connection;
mod error;
mod realtime;
mod rest;

pub use chat_wire;
pub use connection::Connection;
pub use error::Error;
pub use realtime::{Incoming, Realtime};
pub use reqwest::Method;
pub use rest::RestClient;
