//! The chat engine's wire types, shared by the server (`chat-http`) and its clients
//! (`chat-client`, the bot example, the load generator): the JSON bodies of REST answers,
//! log events, the change feed, the real-time payloads, and the plain WebSocket's framing.
//!
//! No HTTP framework and no store: a client depends on this crate alone. The server turns
//! chat-core's domain types into these with the `core` feature.

pub mod changes;
#[cfg(feature = "core")]
mod convert;
pub mod fields;
pub mod messages;
pub mod realtime;
pub mod rest;
pub mod ws;

pub use changes::{ChangeDto, ChangesResponse};
#[cfg(feature = "core")]
pub use convert::{actor_parts, file_type_name};
pub use messages::{AttachmentDto, EventDto, MessageDto, file_url};
pub use rest::{
    AdminDto, LoginRequest, LoginResponse, PermissionsDto, ScopeDto, SendRequest, SendResponse,
    VisitorSessionRequest, VisitorSessionResponse,
};
