//! The change feed as `GET /api/changes` shows it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::messages::EventDto;

/// One committed event and its position in the feed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeDto {
    /// Its position: pass it as `after` to read what follows.
    pub position: u64,
    /// The event, as `GET /api/conversations/{id}/events` shows it.
    pub event: EventDto,
}

/// A page of the change feed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangesResponse {
    /// In commit order.
    pub changes: Vec<ChangeDto>,
    /// Pass as `after` for the next page (the request's `after` when the page is empty).
    pub last_position: u64,
    /// Whether the page was full (more may follow at once).
    pub has_more: bool,
}
