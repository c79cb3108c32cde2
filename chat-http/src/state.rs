//! The router's shared state: the engine, the configuration, blob storage, the rate
//! limiters, agents' presence and the inbox's shared unread counts.

use std::sync::Arc;

use chat_core::ChatEngine;

use crate::blobs::DynBlobStore;
use crate::config::ChatConfig;
use crate::ratelimit::Limiters;
use crate::realtime::inbox_counts::InboxCounts;

/// Everything handlers share; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    engine: ChatEngine,
    config: ChatConfig,
    blobs: Arc<DynBlobStore>,
    limiters: Limiters,
    presence: Presence,
    inbox_counts: InboxCounts,
}

/// How many live connections each agent has on this node, so an agent with two tabs goes
/// offline only when the last one closes.
#[derive(Debug, Default)]
pub struct Presence(std::sync::Mutex<std::collections::HashMap<chat_core::ids::AdminId, usize>>);

impl Presence {
    /// Counts a new connection; `true` if it is the agent's first.
    pub fn connected(&self, id: chat_core::ids::AdminId) -> bool {
        let mut counts = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = counts.entry(id).or_default();
        *count += 1;
        *count == 1
    }

    /// Counts a closed connection; `true` if it was the agent's last.
    pub fn disconnected(&self, id: chat_core::ids::AdminId) -> bool {
        let mut counts = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(count) = counts.get_mut(&id) else {
            return false;
        };
        *count -= 1;
        let last = *count == 0;
        if last {
            counts.remove(&id);
        }
        last
    }
}

impl AppState {
    /// State over an engine, blob storage and a configuration. Build the engine with
    /// `config.engine` so that the HTTP layer's early checks and the engine's final ones use
    /// the same limits.
    pub fn new(engine: ChatEngine, blobs: Arc<DynBlobStore>, config: ChatConfig) -> Self {
        let limiters = Limiters::new(&config.rate_limits);
        Self {
            inner: Arc::new(Inner {
                engine,
                config,
                blobs,
                limiters,
                presence: Presence::default(),
                inbox_counts: InboxCounts::default(),
            }),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &ChatEngine {
        &self.inner.engine
    }

    /// The configuration.
    pub fn config(&self) -> &ChatConfig {
        &self.inner.config
    }

    /// Blob storage for uploads.
    pub fn blobs(&self) -> &DynBlobStore {
        self.inner.blobs.as_ref()
    }

    /// Agents' live connections on this node.
    pub fn presence(&self) -> &Presence {
        &self.inner.presence
    }

    /// Unread counts shared by an agent's connections.
    pub fn inbox_counts(&self) -> &InboxCounts {
        &self.inner.inbox_counts
    }

    /// The rate limiters.
    pub fn limiters(&self) -> &Limiters {
        &self.inner.limiters
    }
}
