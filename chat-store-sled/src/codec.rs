//! Value encoding (JSON via serde) and typed reads over a sled tree.

use chat_core::Result;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{backend, undecodable};

/// Encodes a stored value.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(undecodable)
}

/// Decodes a stored value.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(undecodable)
}

/// Reads and decodes one key.
pub fn get<T: DeserializeOwned>(tree: &sled::Tree, key: &[u8]) -> Result<Option<T>> {
    tree.get(key)
        .map_err(backend)?
        .map(|bytes| decode(&bytes))
        .transpose()
}

/// Whether a key exists.
pub fn exists(tree: &sled::Tree, key: &[u8]) -> Result<bool> {
    tree.contains_key(key).map_err(backend)
}

/// Decodes every value under `prefix`, in key order.
pub fn scan<T: DeserializeOwned>(tree: &sled::Tree, prefix: &[u8]) -> Result<Vec<T>> {
    tree.scan_prefix(prefix)
        .values()
        .map(|value| decode(&value.map_err(backend)?))
        .collect()
}

/// Every key under `prefix`.
pub fn keys(tree: &sled::Tree, prefix: &[u8]) -> Result<Vec<sled::IVec>> {
    tree.scan_prefix(prefix)
        .keys()
        .map(|key| key.map_err(backend))
        .collect()
}

/// A u64 stored big-endian (seqs, versions).
pub fn get_u64(tree: &sled::Tree, key: &[u8]) -> Result<Option<u64>> {
    let Some(bytes) = tree.get(key).map_err(backend)? else {
        return Ok(None);
    };
    let array: [u8; 8] = bytes
        .as_ref()
        .try_into()
        .map_err(|_| chat_core::Error::NotSupported("malformed u64 value"))?;
    Ok(Some(u64::from_be_bytes(array)))
}

/// A 16-byte id stored as a value.
pub fn get_uuid(tree: &sled::Tree, key: &[u8]) -> Result<Option<[u8; 16]>> {
    let Some(bytes) = tree.get(key).map_err(backend)? else {
        return Ok(None);
    };
    let array: [u8; 16] = bytes
        .as_ref()
        .try_into()
        .map_err(|_| chat_core::Error::NotSupported("malformed id value"))?;
    Ok(Some(array))
}
