//! Removes uploads that were never sent with a message: the record first (so nobody is
//! handed a file whose bytes are going), then the bytes; and the bytes of deleted
//! conversations' files whose removal failed before.

use std::time::Duration;

use chat_core::Principal;
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::state::AppState;

/// Removes the uploads older than `ChatConfig::unattached_upload_ttl` that no message
/// carries; returns how many.
pub async fn sweep_unattached_uploads(state: &AppState) -> Result<usize, ApiError> {
    let ttl = chrono::Duration::from_std(state.config().unattached_upload_ttl)
        .map_err(ApiError::internal)?;
    let cutoff = chat_core::engine::now() - ttl;
    let removed = state
        .engine()
        .remove_unattached_uploads(&Principal::System, cutoff)
        .await?;
    for attachment in &removed {
        if let Err(error) = state.blobs().delete(&attachment.id.to_string()).await {
            tracing::warn!(id = %attachment.id, %error, "could not delete the bytes of a swept upload");
        }
    }
    Ok(removed.len())
}

/// Sweeps every `every` until the task is aborted.
pub fn spawn_upload_sweeper(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            match sweep_unattached_uploads(&state).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "removed uploads never sent with a message"),
                Err(error) => tracing::warn!(%error, "sweeping uploads failed"),
            }
            let erased = crate::visitor_data::purge_erased_files(state.engine(), state.blobs());
            match erased.await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "removed the bytes of erased files"),
                Err(error) => tracing::warn!(%error, "removing erased files failed"),
            }
        }
    })
}
