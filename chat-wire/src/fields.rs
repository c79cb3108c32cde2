//! Serde helpers for fields whose absence and `null` mean different things.

use serde::{Deserialize, Deserializer};

/// A field that is absent (`None`, with `#[serde(default)]`), `null` (`Some(None)`) or
/// set (`Some(Some(value))`): for changes where `null` clears and absence keeps.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}
