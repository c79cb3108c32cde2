//! Blob storage for uploaded files, behind a trait: the local data directory by default,
//! S3-compatible storage with the `s3` feature. Keys are attachment ids, never file names.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// A place to keep uploaded bytes.
#[async_trait]
pub trait BlobStore: Debug + Send + Sync + 'static {
    /// Stores `bytes` under `key` (atomically: all or nothing).
    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), BlobError>;
    /// The bytes under `key`.
    async fn get(&self, key: &str) -> Result<Bytes, BlobError>;
    /// Deletes `key`; deleting a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
}

/// A blob store chosen at run time.
pub type DynBlobStore = dyn BlobStore;

/// What went wrong in blob storage.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// No blob under that key.
    #[error("blob not found")]
    NotFound,
    /// The storage is full; nothing was stored.
    #[error("blob storage is full")]
    StorageFull(#[source] object_store::Error),
    /// The storage failed.
    #[error("blob storage failed")]
    Storage(#[source] object_store::Error),
}

impl From<object_store::Error> for BlobError {
    fn from(error: object_store::Error) -> Self {
        match error {
            object_store::Error::NotFound { .. } => Self::NotFound,
            full if storage_full(&full) => Self::StorageFull(full),
            other => Self::Storage(other),
        }
    }
}

impl From<BlobError> for chat_core::Error {
    /// Blob failures in chat-core's kinds, so HTTP maps kinds only.
    fn from(error: BlobError) -> Self {
        match error {
            BlobError::NotFound => Self::NotFound("attachment"),
            BlobError::StorageFull(source) => Self::storage_full(source),
            BlobError::Storage(source) => Self::backend(source),
        }
    }
}

/// Whether a failure comes from a full disk, anywhere in its source chain (the local
/// directory backend reports it as an `io::Error` inside `object_store`'s error).
fn storage_full(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::StorageFull
        {
            return true;
        }
        current = error.source();
    }
    false
}

/// Any `object_store` backend.
#[derive(Debug)]
pub struct ObjectStoreBlobs {
    store: Arc<dyn ObjectStore>,
}

impl ObjectStoreBlobs {
    /// Files in `dir` (created if missing).
    pub fn local(dir: impl AsRef<std::path::Path>) -> Result<Self, BlobError> {
        std::fs::create_dir_all(dir.as_ref()).map_err(|source| {
            BlobError::Storage(object_store::Error::Generic {
                store: "local",
                source: Box::new(source),
            })
        })?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self {
            store: Arc::new(store),
        })
    }

    /// Objects in S3-compatible storage, configured from the standard `AWS_*` environment
    /// variables (endpoint, region, credentials) and `bucket`.
    #[cfg(feature = "s3")]
    pub fn s3_from_env(bucket: &str) -> Result<Self, BlobError> {
        let store = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()?;
        Ok(Self {
            store: Arc::new(store),
        })
    }

    /// Wraps any object store.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl BlobStore for ObjectStoreBlobs {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), BlobError> {
        self.store
            .put(&Path::from(key), PutPayload::from_bytes(bytes))
            .await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        Ok(self.store.get(&Path::from(key)).await?.bytes().await?)
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}
