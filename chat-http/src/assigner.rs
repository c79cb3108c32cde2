//! Auto-assignment (opt-in, `--auto-assign round-robin`): runs an assignment pass with the
//! agents online across nodes whenever something may have changed who gets what (any inbox
//! update: a new, woken, closed or reassigned conversation; an agent coming online) and
//! every few seconds, a burst of changes coalesced into one pass.

use std::time::Duration;

use chat_core::Principal;
use chat_core::ids::AdminId;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// How long a burst of changes is gathered before a pass.
const SETTLE: Duration = Duration::from_millis(100);

/// Runs auto-assignment passes until the task is aborted: at once, after every change (a
/// burst coalesced), and every `every`. Every node may run one: passes take a
/// deployment-wide lease, and each assignment is conditional, so one agent gets each
/// conversation.
pub fn spawn_auto_assigner(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut last: Option<AdminId> = None;
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let engine = state.engine().clone();
        let presence = state.presence().clone();
        let mut inbox = engine.subscribe_inbox(&Principal::System).await.ok();
        let mut changes = presence.subscribe(&engine).await.ok();
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                Some(_) = next(&mut inbox) => {}
                Some(_) = presence_change(&mut changes) => {}
            }
            tokio::time::sleep(SETTLE).await;
            last = pass(&state, last).await;
        }
    })
}

/// The next inbox delivery, or never when there is no subscription.
async fn next(
    inbox: &mut Option<chat_core::broadcast::Subscription>,
) -> Option<chat_core::broadcast::Delivery> {
    match inbox.as_mut() {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

/// The next presence change (a lagging receiver counts as one), or never when there is no
/// subscription; `None` once the hub is gone.
async fn presence_change(
    changes: &mut Option<tokio::sync::broadcast::Receiver<crate::app::presence::PresenceChange>>,
) -> Option<()> {
    use tokio::sync::broadcast::error::RecvError;
    match changes.as_mut() {
        Some(receiver) => match receiver.recv().await {
            Ok(_) | Err(RecvError::Lagged(_)) => Some(()),
            Err(RecvError::Closed) => None,
        },
        None => std::future::pending().await,
    }
}

/// One pass; returns where the turns continue.
async fn pass(state: &AppState, last: Option<AdminId>) -> Option<AdminId> {
    let engine = state.engine();
    let online = match state.presence().online(engine).await {
        Ok(online) => online,
        Err(error) => {
            tracing::warn!(%error, "auto-assignment could not read presence");
            return last;
        }
    };
    match engine.auto_assign(&online, last).await {
        Ok(pass) => {
            if pass.assigned > 0 {
                tracing::info!(count = pass.assigned, "auto-assigned conversations");
            }
            pass.last
        }
        Err(error) => {
            tracing::warn!(%error, "auto-assignment failed");
            last
        }
    }
}
