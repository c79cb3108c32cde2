//! Where stored keys are read from: the tree itself, or a write group in progress.

use chat_core::Result;

use crate::error::backend;

/// Something keys can be read from: the tree itself, or a write group in progress.
pub trait Source {
    /// The value at `key`.
    fn value(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Every entry under `prefix`, in key order.
    fn entries(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
}

impl Source for sled::Tree {
    fn value(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.get(key).map_err(backend)?.map(|v| v.to_vec()))
    }

    fn entries(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.scan_prefix(prefix)
            .map(|entry| {
                entry
                    .map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(backend)
            })
            .collect()
    }
}
