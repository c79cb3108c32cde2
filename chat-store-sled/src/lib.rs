//! chat-store-sled: [`SledStore`], the durable embedded backend and the zero-config default.
//!
//! - **Atomic writes.** One sled tree; every write is a single `apply_batch` planned by
//!   `chat_core::log::plan`, run on one writer thread, so `seq` stays gap-free under any
//!   number of concurrent writers.
//! - **Acknowledged means durable.** With [`Durability::Flush`] (the default) a write method
//!   returns only after the data is flushed; concurrent writers share flushes (group
//!   commit).
//! - **Safe to open.** A foreign directory, a locked one, a store of another schema
//!   version or a damaged one is refused with a clear [`OpenError`].
//!
//! Reads run on the caller's task: they are served from sled's page cache and do not wait
//! for the writer.

mod accounts;
mod codec;
mod commit;
mod config;
mod conversations;
mod error;
mod keys;
mod store;
mod writer;

pub use config::{Durability, SledConfig};
pub use error::OpenError;
pub use keys::SCHEMA_VERSION;
pub use store::SledStore;
