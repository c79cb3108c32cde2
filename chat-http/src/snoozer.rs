//! Wakes snoozed conversations whose wake time passed: at once when started (so a time that
//! passed while the server was down fires at the next start), then every `every`.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::state::AppState;

/// Runs [`ChatEngine::wake_due_snoozes`](chat_core::ChatEngine::wake_due_snoozes) now and
/// every `every` until the task is aborted. Every node may run one: a conversation is woken
/// once, whoever finds it first.
pub fn spawn_snooze_waker(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match state.engine().wake_due_snoozes().await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "woke snoozed conversations"),
                Err(error) => tracing::warn!(%error, "waking snoozed conversations failed"),
            }
        }
    })
}
