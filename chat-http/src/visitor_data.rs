//! A visitor's data on request, for the routes and `chat-server`'s subcommands: the export
//! as JSON lines, the erasure followed by the removal of its files' bytes, and that removal
//! on its own (after a message delete too; the sweeper runs it as well, so bytes whose
//! removal failed go later).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use chat_core::ids::CustomerId;
use chat_core::{ChatEngine, Principal};
use futures_util::{Stream, StreamExt, stream};

use crate::blobs::DynBlobStore;
use crate::dto::{ErasureResponse, ExportLine};
use crate::error::ApiError;

/// Files whose bytes one removal pass takes at a time.
const PURGE_BATCH: usize = 100;

/// The export of visitor `id` as JSON lines (see [`ExportLine`]). Refusals (permission, no
/// such visitor) come before the first line; a conversation deleted meanwhile is left out.
pub async fn export_lines(
    engine: ChatEngine,
    principal: Principal,
    id: CustomerId,
) -> Result<impl Stream<Item = Result<Bytes, chat_core::Error>> + Send + 'static, ApiError> {
    let export = engine.export_visitor(&principal, id).await?;
    let written = Arc::new(AtomicU64::new(0));
    let head = stream::iter([Ok(vec![ExportLine::Visitor(export.customer.into())])]);
    let counted = written.clone();
    let conversations = stream::iter(export.conversations).then(move |id| {
        let (engine, principal, counted) = (engine.clone(), principal, counted.clone());
        async move {
            match engine.export_conversation(&principal, id).await {
                Ok(export) => {
                    counted.fetch_add(1, Ordering::Relaxed);
                    Ok(ExportLine::of_conversation(export))
                }
                // Deleted since the export started: it is no longer the visitor's data.
                Err(chat_core::Error::NotFound(_)) => Ok(Vec::new()),
                Err(error) => Err(error),
            }
        }
    });
    // Read once every conversation before it was written: the count of those written.
    let end = stream::once(async move {
        Ok(vec![ExportLine::End {
            conversations: written.load(Ordering::Relaxed),
        }])
    });
    Ok(head.chain(conversations).chain(end).map(|lines| {
        let mut body = Vec::new();
        for line in lines? {
            serde_json::to_writer(&mut body, &line).map_err(chat_core::Error::backend)?;
            body.push(b'\n');
        }
        Ok(Bytes::from(body))
    }))
}

/// Erases visitor `id` (see `ChatEngine::erase_visitor`), then removes the bytes of the
/// files that went with it (a failure there is logged: the sweeper retries).
pub async fn erase_visitor(
    engine: &ChatEngine,
    blobs: &DynBlobStore,
    principal: &Principal,
    id: CustomerId,
) -> Result<ErasureResponse, ApiError> {
    let conversations = engine.erase_visitor(principal, id).await?;
    // The erasure stands whatever happens to the bytes; any left are retried later.
    let files = purge_erased_files(engine, blobs)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "removing an erased visitor's files failed; retrying later");
            0
        });
    Ok(ErasureResponse {
        conversations,
        files,
    })
}

/// Removes the bytes of deleted conversations' files, then forgets them; returns how many
/// went. A file whose bytes could not be removed stays listed for the next pass.
pub async fn purge_erased_files(
    engine: &ChatEngine,
    blobs: &DynBlobStore,
) -> Result<u64, ApiError> {
    let mut removed = 0;
    loop {
        let batch = engine.erased_files(&Principal::System, PURGE_BATCH).await?;
        let full = batch.len() == PURGE_BATCH;
        let mut failed = false;
        for id in batch {
            match blobs.delete(&id.to_string()).await {
                Ok(()) => {
                    engine.forget_erased_file(&Principal::System, id).await?;
                    removed += 1;
                }
                Err(error) => {
                    tracing::warn!(%id, %error, "could not remove an erased file's bytes; retrying later");
                    failed = true;
                }
            }
        }
        if !full || failed {
            return Ok(removed);
        }
    }
}

/// [`purge_erased_files`] after a write that erased files (a message delete): a failure is
/// logged, not answered, since the write stands and the sweeper retries.
pub async fn purge_after_write(engine: &ChatEngine, blobs: &DynBlobStore) {
    if let Err(error) = purge_erased_files(engine, blobs).await {
        tracing::warn!(%error, "removing a deleted message's files failed; retrying later");
    }
}
