//! The crate's public error (opening a store) and the one mapping of sled's errors into
//! chat-core's kinds.

use std::path::PathBuf;

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Another process (or another `SledStore` in this one) has the directory open.
    #[error("{path} is already opened by another process or store")]
    Locked {
        /// The directory.
        path: PathBuf,
    },
    /// The directory holds files that are not a chat store.
    #[error("{path} is not empty and is not a chat store directory; refusing to touch it")]
    Foreign {
        /// The directory.
        path: PathBuf,
    },
    /// The store was written by an incompatible version of this crate.
    #[error("{path} holds schema version {found}, this build reads version {expected}")]
    IncompatibleSchema {
        /// The directory.
        path: PathBuf,
        /// Version found on disk.
        found: u32,
        /// Version this build reads.
        expected: u32,
    },
    /// sled found its files damaged.
    #[error("{path} is corrupted: {detail}")]
    Corrupted {
        /// The directory.
        path: PathBuf,
        /// What sled reported.
        detail: String,
    },
    /// Any other IO failure (permissions, disk full, …).
    #[error("cannot open {path}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl OpenError {
    pub(crate) fn from_sled(path: PathBuf, error: sled::Error) -> Self {
        match error {
            sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                Self::Locked { path }
            }
            sled::Error::Io(source) => Self::Io { path, source },
            sled::Error::Corruption { at, .. } => Self::Corrupted {
                path,
                detail: format!("at {at:?}"),
            },
            other => Self::Corrupted {
                path,
                detail: other.to_string(),
            },
        }
    }
}

/// Maps a sled failure during operation.
pub(crate) fn backend(error: sled::Error) -> chat_core::Error {
    if is_storage_full(&error) {
        return chat_core::Error::storage_full(error);
    }
    chat_core::Error::backend(error)
}

fn is_storage_full(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io) if io.kind() == std::io::ErrorKind::StorageFull)
}

/// Maps a stored value that does not decode: the directory was damaged or written by
/// something else.
pub(crate) fn undecodable(error: serde_json::Error) -> chat_core::Error {
    chat_core::Error::backend(error)
}

/// A stored value that is not in the layout this build writes.
#[derive(Debug, thiserror::Error)]
#[error("malformed stored value: {0}")]
pub(crate) struct Malformed(pub &'static str);

/// Maps a malformed stored value.
pub(crate) fn malformed(what: &'static str) -> chat_core::Error {
    chat_core::Error::backend(Malformed(what))
}
