//! Value encoding (JSON via serde) and typed reads from a [`Source`].

use chat_core::Result;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{malformed, undecodable};
use crate::source::Source;

/// Encodes a stored value.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(undecodable)
}

/// Decodes a stored value.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(undecodable)
}

/// Reads and decodes one key.
pub fn get<T: DeserializeOwned>(source: &impl Source, key: &[u8]) -> Result<Option<T>> {
    source.value(key)?.map(|bytes| decode(&bytes)).transpose()
}

/// Whether a key exists.
pub fn exists(source: &impl Source, key: &[u8]) -> Result<bool> {
    Ok(source.value(key)?.is_some())
}

/// Decodes every value under `prefix`, in key order.
pub fn scan<T: DeserializeOwned>(source: &impl Source, prefix: &[u8]) -> Result<Vec<T>> {
    source
        .entries(prefix)?
        .iter()
        .map(|(_, value)| decode(value))
        .collect()
}

/// A u64 stored big-endian (seqs).
pub fn get_u64(source: &impl Source, key: &[u8]) -> Result<Option<u64>> {
    source
        .value(key)?
        .map(|bytes| fixed(&bytes).map(u64::from_be_bytes))
        .transpose()
}

/// A 16-byte id stored as a value.
pub fn get_uuid(source: &impl Source, key: &[u8]) -> Result<Option<chat_core::ids::Uuid>> {
    source
        .value(key)?
        .map(|bytes| fixed(&bytes).map(chat_core::ids::Uuid::from_bytes))
        .transpose()
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N]> {
    bytes.try_into().map_err(|_| malformed("fixed-size value"))
}
