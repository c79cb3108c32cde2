//! The store-wide change feed: every committed event of every conversation, in commit
//! order, each with its [`FeedPosition`]. Integrations (webhooks, bots, pipelines) read it
//! with a cursor they keep (see [`ChangeFeedStore`](crate::store::ChangeFeedStore)).

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::ids::FeedPosition;

/// Most changes one read returns.
pub const MAX_PAGE: usize = 1000;

/// One committed event and its place in the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Its position: pass it as `after` to read what follows.
    pub position: FeedPosition,
    /// The event.
    pub event: Event,
}
