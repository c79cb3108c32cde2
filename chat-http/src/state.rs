//! The router's shared state: the engine, the configuration, blob storage, the rate
//! limiters, agents' presence and the inbox's shared unread counts.

use std::sync::Arc;

use chat_core::ChatEngine;

use crate::app::inbox_snapshots::InboxSnapshots;
use crate::app::presence::Presence;
use crate::blobs::DynBlobStore;
use crate::config::ChatConfig;
use crate::ratelimit::Limiters;

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
    presence: Arc<Presence>,
    inbox_snapshots: InboxSnapshots,
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
                presence: Arc::default(),
                inbox_snapshots: InboxSnapshots::default(),
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

    /// Agents' presence across nodes.
    pub fn presence(&self) -> &Arc<Presence> {
        &self.inner.presence
    }

    /// The conversations behind inbox updates, read once per update for every connection.
    pub fn inbox_snapshots(&self) -> &InboxSnapshots {
        &self.inner.inbox_snapshots
    }

    /// The rate limiters.
    pub fn limiters(&self) -> &Limiters {
        &self.inner.limiters
    }
}
