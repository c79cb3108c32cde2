//! A conversation's status and its wire names; the rules for changing it are in `workflow`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::invalid::InvalidInput;

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    /// Started by a visitor, no agent has answered yet.
    Waiting,
    /// An agent is on it.
    Active,
    /// Done; `closed_at` is set.
    Closed,
    /// Put aside by an agent until the visitor writes again or `snoozed_until` passes.
    Snoozed,
}

impl ConversationStatus {
    /// All statuses, for exhaustive tests and filters.
    pub const ALL: [ConversationStatus; 4] =
        [Self::Waiting, Self::Active, Self::Closed, Self::Snoozed];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Active => "active",
            Self::Closed => "closed",
            Self::Snoozed => "snoozed",
        }
    }
}

impl fmt::Display for ConversationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConversationStatus {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                InvalidInput::new("status", "must be waiting, active, closed or snoozed")
            })
    }
}
