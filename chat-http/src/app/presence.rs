//! Agents' presence across server nodes. Each node counts its own connections per agent
//! and announces, through the broadcaster, when an agent's first connection opens there or
//! its last one closes; every node folds those announcements into "online on which nodes"
//! and tells its sockets only when an agent's presence as a whole changes. So closing an
//! agent's last tab on one node says nothing while the agent is connected on another.
//!
//! Nodes repeat the agents they hold every 10 s, and a node not heard from for 35 s
//! counts as gone (it crashed, or its announcements were lost), so presence
//! converges after lost signals and node failures, and a node that starts late learns who
//! is online within one heartbeat.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_core::broadcast::{Delivery, Signal};
use chat_core::ids::AdminId;
use chat_core::{ChatEngine, Principal};
use futures_util::StreamExt;
use tokio::sync::{OnceCell, broadcast};
use tokio::task::AbortHandle;
use tokio::time::Instant;
use uuid::Uuid;

use crate::error::ApiResult;

/// How often a node repeats the agents connected to it.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// How long a node's word on an agent holds without being repeated.
const EXPIRY: Duration = Duration::from_secs(35);
/// Presence changes a connection may fall behind by (presence is a hint: a lagging
/// connection skips to the newest).
const CHANGES: usize = 256;

/// An agent's presence changed as a whole (across every node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceChange {
    /// The agent.
    pub admin_id: AdminId,
    /// Online on at least one node.
    pub online: bool,
}

/// This node's presence hub.
#[derive(Debug)]
pub struct Presence {
    node: Uuid,
    state: Mutex<State>,
    /// Announcements take turns, each saying the count as it is when sent, so a quick
    /// close-and-reopen can never be announced in the wrong order.
    announcing: tokio::sync::Mutex<HashMap<AdminId, bool>>,
    changes: broadcast::Sender<PresenceChange>,
    started: OnceCell<()>,
    tasks: Mutex<Vec<AbortHandle>>,
}

#[derive(Debug, Default)]
struct State {
    /// This node's open connections per agent.
    local: HashMap<AdminId, usize>,
    /// Per agent, the nodes that said it is online, and when they last said so.
    nodes: HashMap<AdminId, HashMap<Uuid, Instant>>,
}

impl Default for Presence {
    fn default() -> Self {
        Self {
            node: Uuid::new_v4(),
            state: Mutex::default(),
            announcing: tokio::sync::Mutex::default(),
            changes: broadcast::Sender::new(CHANGES),
            started: OnceCell::new(),
            tasks: Mutex::default(),
        }
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        let tasks = self
            .tasks
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for task in tasks.drain(..) {
            task.abort();
        }
    }
}

impl Presence {
    /// Presence changes for one connection; starts the hub's listener and heartbeat on
    /// first use.
    pub async fn subscribe(
        self: &Arc<Self>,
        engine: &ChatEngine,
    ) -> ApiResult<broadcast::Receiver<PresenceChange>> {
        self.started
            .get_or_try_init(|| self.start(engine.clone()))
            .await?;
        Ok(self.changes.subscribe())
    }

    /// The agents online on any node, as this node knows; starts the hub on first use.
    pub async fn online(self: &Arc<Self>, engine: &ChatEngine) -> ApiResult<Vec<AdminId>> {
        self.started
            .get_or_try_init(|| self.start(engine.clone()))
            .await?;
        Ok(self.lock().nodes.keys().copied().collect())
    }

    /// Counts a new connection of the agent; its first one here is announced.
    pub async fn connected(&self, engine: &ChatEngine, admin_id: AdminId) {
        *self.lock().local.entry(admin_id).or_default() += 1;
        self.sync(engine, admin_id).await;
    }

    /// Counts a closed connection of the agent; its last one here is announced.
    pub async fn disconnected(&self, engine: &ChatEngine, admin_id: AdminId) {
        {
            let mut state = self.lock();
            let Some(count) = state.local.get_mut(&admin_id) else {
                return;
            };
            *count -= 1;
            if *count == 0 {
                state.local.remove(&admin_id);
            }
        }
        self.sync(engine, admin_id).await;
    }

    /// Announces the agent's presence here if it differs from the last announcement, as it
    /// is when sent.
    async fn sync(&self, engine: &ChatEngine, admin_id: AdminId) {
        let mut announced = self.announcing.lock().await;
        let online = self.lock().local.contains_key(&admin_id);
        if announced.get(&admin_id).copied().unwrap_or(false) == online {
            return;
        }
        if online {
            announced.insert(admin_id, true);
        } else {
            announced.remove(&admin_id);
        }
        self.announce(engine, admin_id, online).await;
    }

    /// Repeats the agents online here (under the same turns, so never after their last
    /// connection's "offline").
    async fn repeat(&self, engine: &ChatEngine) {
        let announced = self.announcing.lock().await;
        for admin_id in announced.keys() {
            self.announce(engine, *admin_id, true).await;
        }
    }

    async fn start(self: &Arc<Self>, engine: ChatEngine) -> ApiResult<()> {
        let signals = engine.subscribe_presence(&Principal::System).await?;
        let listener = tokio::spawn(listen(Arc::downgrade(self), signals));
        let heartbeat = tokio::spawn(heartbeat(Arc::downgrade(self), engine));
        let mut tasks = self
            .tasks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tasks.extend([listener.abort_handle(), heartbeat.abort_handle()]);
        Ok(())
    }

    async fn announce(&self, engine: &ChatEngine, admin_id: AdminId, online: bool) {
        let announced = engine.set_presence(&Principal::System, admin_id, self.node, online);
        if let Err(error) = announced.await {
            tracing::warn!(%error, "could not announce an agent's presence");
        }
    }

    /// Folds one node's word into the state; tells the sockets if the agent's presence as a
    /// whole changed.
    fn observe(&self, admin_id: AdminId, node: Uuid, online: bool) {
        let change = {
            let mut state = self.lock();
            let nodes = state.nodes.entry(admin_id).or_default();
            let before = !nodes.is_empty();
            if online {
                nodes.insert(node, Instant::now());
            } else {
                nodes.remove(&node);
            }
            let after = !nodes.is_empty();
            if !after {
                state.nodes.remove(&admin_id);
            }
            (before != after).then_some(PresenceChange {
                admin_id,
                online: after,
            })
        };
        if let Some(change) = change {
            let _ = self.changes.send(change);
        }
    }

    /// Forgets nodes that stopped repeating themselves.
    fn expire(&self) {
        let now = Instant::now();
        let stale: Vec<(AdminId, Uuid)> = self
            .lock()
            .nodes
            .iter()
            .flat_map(|(admin, nodes)| {
                nodes
                    .iter()
                    .filter(|(_, seen)| now.duration_since(**seen) > EXPIRY)
                    .map(|(node, _)| (*admin, *node))
            })
            .collect();
        for (admin, node) in stale {
            self.observe(admin, node, false);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Folds every node's announcements (this one's included) until the hub is dropped.
async fn listen(hub: std::sync::Weak<Presence>, mut signals: chat_core::broadcast::Subscription) {
    while let Some(delivery) = signals.next().await {
        let Some(hub) = hub.upgrade() else { return };
        if let Delivery::Signal(signal) = delivery
            && let Signal::Presence {
                admin_id,
                online,
                node,
            } = *signal
        {
            hub.observe(admin_id, node, online);
        }
    }
}

/// Repeats this node's agents and expires silent nodes until the hub is dropped.
async fn heartbeat(hub: std::sync::Weak<Presence>, engine: ChatEngine) {
    let mut ticks = tokio::time::interval(HEARTBEAT);
    loop {
        ticks.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        hub.expire();
        hub.repeat(&engine).await;
    }
}
