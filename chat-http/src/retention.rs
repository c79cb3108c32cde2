//! Retention: a background pass that erases the conversations closed for longer than the
//! retention period, then removes their files' bytes. It keeps no state of its own (each
//! pass asks the store what is due), so it survives restarts, and the store deletes each
//! conversation once however many nodes pass at the same time.

use std::time::Duration;

use chat_core::Principal;
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::state::AppState;
use crate::visitor_data::purge_erased_files;

/// Erases every conversation closed for longer than `retain`; returns how many.
pub async fn erase_expired(state: &AppState, retain: Duration) -> Result<usize, ApiError> {
    let retain = chrono::Duration::from_std(retain).map_err(ApiError::internal)?;
    let cutoff = chat_core::engine::now() - retain;
    let mut erased = 0;
    loop {
        let batch = state
            .engine()
            .erase_closed_before(&Principal::System, cutoff)
            .await?;
        if batch.is_empty() {
            break;
        }
        erased += batch.len();
    }
    purge_erased_files(state.engine(), state.blobs()).await?;
    Ok(erased)
}

/// Runs [`erase_expired`] every `every` until the task is aborted.
pub fn spawn_retention(state: AppState, retain: Duration, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            match erase_expired(&state, retain).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "erased conversations past their retention"),
                Err(error) => tracing::warn!(%error, "the retention pass failed"),
            }
        }
    })
}
