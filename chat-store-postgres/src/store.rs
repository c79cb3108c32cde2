//! `PostgresStore`: the pool, the schema migrations and the group-commit writer.

use std::str::FromStr;
use std::time::Duration;

use chat_core::log::{AppendOutcome, AppendRequest};
use chat_core::{Error, Result};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::{mpsc, oneshot};

use crate::batch::{self, Job, Writer};
use crate::error::ConnectError;

/// Appends waiting for the writers before callers wait for room.
const QUEUE: usize = 4096;
/// Concurrent write batches.
const WRITERS: usize = 4;

/// Pool settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most connections (default 10).
    pub max_connections: u32,
    /// How long a query waits for a free connection before failing (default 5 s).
    pub acquire_timeout: Duration,
    /// **Unsafe.** Let PostgreSQL answer a commit before its WAL is flushed
    /// (`synchronous_commit = off`): a crash of the database server then loses up to about
    /// three `wal_writer_delay`s of acknowledged writes (it never corrupts). Default `false`:
    /// every connection sets `synchronous_commit = on`, whatever the server, database or
    /// role configure, so an acknowledged write is on disk.
    pub asynchronous_commit: bool,
    /// Announce each committed event by NOTIFY, inside its transaction, for
    /// [`PgBroadcaster`](crate::PgBroadcaster) (default `true`). Turn it off when another
    /// broadcaster (NATS) carries events between nodes: NOTIFY serializes commits on a
    /// database-wide lock.
    pub announce_events: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            asynchronous_commit: false,
            announce_events: true,
        }
    }
}

/// The PostgreSQL backend. Cheap to share behind an `Arc`; several nodes may use one
/// database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
    appends: mpsc::Sender<Job>,
    /// Whether committed events are announced by NOTIFY.
    pub(crate) announce: bool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…`), applies the migrations and starts the writer.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_url(url, PoolConfig::default()).await
    }

    /// [`connect`](Self::connect) with explicit pool settings.
    pub async fn connect_url(url: &str, config: PoolConfig) -> Result<Self, ConnectError> {
        let options = PgConnectOptions::from_str(url).map_err(ConnectError::Connect)?;
        Self::connect_with(options, config).await
    }

    /// Connects with explicit options.
    pub async fn connect_with(
        options: PgConnectOptions,
        config: PoolConfig,
    ) -> Result<Self, ConnectError> {
        let commit = if config.asynchronous_commit {
            "off"
        } else {
            "on"
        };
        let options = options.options([("synchronous_commit", commit)]);
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(ConnectError::Connect)?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(ConnectError::Migrate)?;
        crate::search::fill_search_words(&pool)
            .await
            .map_err(ConnectError::Upgrade)?;
        let (appends, queue) = mpsc::channel(QUEUE);
        let queue = std::sync::Arc::new(tokio::sync::Mutex::new(queue));
        let writer = Writer {
            pool: pool.clone(),
            announce: config.announce_events,
        };
        for _ in 0..WRITERS {
            tokio::spawn(batch::run(writer.clone(), queue.clone()));
        }
        Ok(Self {
            pool,
            appends,
            announce: config.announce_events,
        })
    }

    /// The pool, for the broadcaster and for embedders' own queries.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Queues an append for the next group commit and waits for its outcome.
    pub(crate) async fn queue_append(&self, request: AppendRequest) -> Result<AppendOutcome> {
        let (reply, outcome) = oneshot::channel();
        let stopped = || Error::NotSupported("the store's writer stopped");
        self.appends
            .send(Job { request, reply })
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}
