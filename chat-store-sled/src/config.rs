//! How a `SledStore` is opened: where, and how durable an acknowledged write is.

use std::path::PathBuf;
use std::time::Duration;

/// When a write counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every write method returns only after its data is flushed to disk (fsync). Concurrent
    /// writers share flushes (group commit). The default.
    #[default]
    Flush,
    /// Writes return once applied in memory; a background thread flushes every interval.
    /// **A crash loses up to the last interval of acknowledged writes.** Opt-in, for tests
    /// and deployments that accept that.
    Periodic(Duration),
}

/// Options for [`SledStore::open_with`](crate::SledStore::open_with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SledConfig {
    /// The store's directory (created if missing).
    pub path: PathBuf,
    /// Durability policy.
    pub durability: Durability,
    /// sled's page cache size in bytes (default 64 MiB).
    pub cache_capacity: u64,
}

impl SledConfig {
    /// Defaults for a directory: flush on every write, 64 MiB cache.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            durability: Durability::Flush,
            cache_capacity: 64 * 1024 * 1024,
        }
    }
}
