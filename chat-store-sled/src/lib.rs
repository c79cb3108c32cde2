//! chat-store-sled: [`SledStore`], the durable embedded backend and the zero-config default.
//!
//! - **Atomic writes.** One sled tree; every write is planned by `chat_core::log::plan` on
//!   one writer thread, so `seq` stays gap-free under any number of concurrent writers.
//!   The writes queued while the thread was busy go out as one sled batch.
//! - **Acknowledged means durable.** With [`Durability::Flush`] (the default) a write method
//!   returns only after the data is flushed; concurrent writers share one batch and one
//!   flush (group commit). Readers see a write only once it is durable.
//! - **Rows in memory.** Conversation rows are derived from the log (each event carries the
//!   row after its write) and kept in memory for lookups and the inbox list: about half a
//!   kilobyte per conversation, rebuilt at open.
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
mod cursors;
mod disk;
mod email;
mod erasure;
mod error;
mod integrations;
mod keys;
mod migrate;
mod revise;
mod rows;
mod search;
mod source;
mod store;
mod txn;
mod watermark;
mod workspace;
mod writer;

pub use config::{Durability, SledConfig};
pub use error::OpenError;
pub use keys::SCHEMA_VERSION;
pub use store::SledStore;
