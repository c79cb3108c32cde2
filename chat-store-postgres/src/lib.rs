//! chat-store-postgres: [`PostgresStore`], the production backend, and [`PgBroadcaster`],
//! fan-out across server nodes over PostgreSQL's LISTEN/NOTIFY.
//!
//! - Schema as sqlx migrations (`migrations/`), applied on connect.
//! - **Group commit**: concurrent appends share one transaction and one commit
//!   (`synchronous_commit = on`), one multi-row statement per table; each caller gets its
//!   own result.
//! - **Several nodes**: appends lock their conversations' rows, so seqs stay gap-free
//!   across nodes; new events are announced by NOTIFY inside the writing transaction, so
//!   nothing is announced that was not committed.
//! - Queries are checked at run time (`query`/`query_as`): no database is needed to build.

mod accounts;
mod batch;
mod broadcaster;
mod conversations;
mod email;
mod error;
mod integrations;
mod notify;
mod revise;
mod rows;
mod search;
mod store;
mod workspace;

#[doc(hidden)]
pub use batch::IDEMPOTENCY_LOOKUP;
pub use broadcaster::PgBroadcaster;
pub use error::ConnectError;
pub use store::{PoolConfig, PostgresStore};
