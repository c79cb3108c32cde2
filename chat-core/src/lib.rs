//! chat-core: the pure logic of a customer-support chat engine.
//!
//! Conversations, participants, messages, the per-conversation event log with gap-free
//! `seq`, read state and the authorization policy, behind storage ([`store`]) and broadcast
//! ([`broadcast`]) traits. It performs no network or disk IO; backends live in
//! `chat-store-sled` and `chat-store-postgres`, the HTTP surface in `chat-http`.
//!
//! ```
//! use std::sync::Arc;
//! use chat_core::{ChatEngine, EngineConfig, LocalBroadcaster, MemoryStore, Principal};
//! use chat_core::engine::{NewVisitor, SendMessage, StartConversation};
//! use chat_core::values::{Limits, MessageBody};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> chat_core::Result<()> {
//! let engine = ChatEngine::new(
//!     Arc::new(MemoryStore::new()),
//!     Arc::new(LocalBroadcaster::new()),
//!     EngineConfig::default(),
//! );
//! let customer = engine.create_visitor(&Principal::Anonymous, NewVisitor::default()).await?;
//! let visitor = Principal::Visitor(customer.id);
//! let conversation = engine.start_conversation(&visitor, StartConversation::default()).await?;
//! let body = MessageBody::parse("Hello, I need help", &Limits::default())?;
//! let sent = engine.send_message(&visitor, SendMessage::text(conversation.id, body)).await?;
//! assert_eq!(sent.message.seq.get(), 3); // 1: created, 2: visitor joined, 3: this message
//! # Ok(()) }
//! ```

pub mod accounts;
pub mod assignment;
pub mod audit;
pub mod authz;
pub mod broadcast;
pub mod canned;
pub mod changes;
pub mod email;
pub mod engine;
pub mod error;
pub mod event;
pub mod feed;
pub mod ids;
mod invalid;
pub mod labels;
pub mod log;
pub mod model;
pub mod ratings;
pub mod read;
pub mod search;
pub mod status;
pub mod store;
pub mod values;
pub mod webhooks;
mod workflow;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use authz::Principal;
pub use broadcast::{Broadcaster, DynBroadcaster, LocalBroadcaster};
pub use engine::{ChatEngine, EngineConfig};
pub use error::{Error, Result};
pub use store::{ChatStore, DynChatStore, MemoryStore};
