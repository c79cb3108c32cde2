//! A connection's background tasks: the end of its session (revocation, expiry), changed
//! permissions (signalled, or found by the periodic re-check) and agents' presence (the
//! inbox is in `inbox.rs`).

use std::sync::Arc;
use std::time::Duration;

use chat_core::Principal;
use chat_core::broadcast::{Delivery, Revoked, Signal, Subscription};
use chat_core::ids::CustomerId;
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::broadcast;

use crate::app::connection::Connection;
use crate::app::presence::PresenceChange;
use crate::app::protocol::ServerEvent;

/// How often a connection re-reads its session even when no signal said so: the backstop
/// for a revocation or permission change whose cross-node signal never arrived (the
/// publishing node died before it could notify).
const RECHECK: Duration = Duration::from_secs(60);

/// Re-reads the session every [`RECHECK`] (jittered, so connections do not all read at
/// once).
pub async fn recheck(connection: Arc<Connection>) {
    loop {
        tokio::time::sleep(jittered(RECHECK)).await;
        connection.request_refresh();
    }
}

/// The one task that re-reads the connection's session when asked.
pub async fn refresher(connection: Arc<Connection>) {
    loop {
        connection.refresh_requested().await;
        connection.refresh().await;
    }
}

/// `about` give or take a quarter, at random.
pub fn jittered(about: Duration) -> Duration {
    about.mul_f64(0.75 + rand::random::<f64>() / 2.0)
}

/// Keeps a visitor's `last_seen` fresh while its socket is open (offline email waits until
/// it is older than the email delay). A failed write is retried on the next beat.
pub async fn heartbeat(connection: Arc<Connection>, visitor: CustomerId, every: Duration) {
    let mut beats = tokio::time::interval(every);
    beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        beats.tick().await;
        if let Err(error) = connection.state.engine().visitor_seen(visitor).await {
            tracing::warn!(%error, "could not record that a visitor is here");
        }
    }
}

/// Closes the connection when its session expires.
pub async fn expiry(connection: Arc<Connection>, expires_at: chrono::DateTime<chrono::Utc>) {
    let left = (expires_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(left).await;
    tracing::info!("closing a connection whose session expired");
    connection.outbox.close();
}

/// Closes the connection when its session ends; re-reads the principal when its
/// permissions change or when such a signal may have been missed (lag, a lost cross-node
/// link), which also closes it if the session ended meanwhile.
pub async fn revocations(connection: Arc<Connection>, mut signals: Subscription) {
    while let Some(delivery) = signals.next().await {
        let signal = match delivery {
            Delivery::Lagged => Arc::new(Signal::Resync),
            Delivery::Signal(signal) => signal,
        };
        match (&*signal, connection.principal()) {
            (Signal::Revoked { sessions }, principal)
                if ends(*sessions, &connection, principal) =>
            {
                tracing::info!("closing a connection whose session ended");
                connection.outbox.close();
                return;
            }
            (Signal::AccessChanged { admin_id }, Principal::Admin { id, .. })
                if *admin_id == id =>
            {
                connection.request_refresh();
            }
            (Signal::Resync, _) => connection.request_refresh(),
            _ => {}
        }
    }
}

fn ends(sessions: Revoked, connection: &Connection, principal: Principal) -> bool {
    match (sessions, principal) {
        (Revoked::Token(hash), _) => hash == connection.token,
        (Revoked::Admin(admin), Principal::Admin { id, .. }) => admin == id,
        (Revoked::Admin(_), _) => false,
        (Revoked::Visitor(blocked), Principal::Visitor(id)) => blocked == id,
        (Revoked::Visitor(_), _) => false,
    }
}

/// Forwards agents' presence changes (visitors see no agent ids).
pub async fn presence(
    connection: Arc<Connection>,
    mut changes: broadcast::Receiver<PresenceChange>,
) {
    loop {
        let change = match changes.recv().await {
            Ok(change) => change,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let payload = match connection.principal() {
            Principal::Admin { .. } => json!({"adminId": change.admin_id, "online": change.online}),
            _ => json!({"online": change.online}),
        };
        let event = ServerEvent {
            name: "presence",
            payload,
            stored_at: None,
        };
        if !connection.deliver(event).await {
            return;
        }
    }
}
