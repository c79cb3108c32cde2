//! The conversation status workflow as a pure state machine.
//!
//! `waiting` → `active` (an admin replies or sets it) → `closed` → reopened by an admin
//! (`active`) or by a new customer message (`waiting`) when the embedder allows it.
//! Anything else, including "change to the status it already has", is an error.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Conflict, InvalidInput};
use crate::model::ActorKind;

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
}

impl ConversationStatus {
    /// All statuses, for exhaustive tests and filters.
    pub const ALL: [ConversationStatus; 3] = [Self::Waiting, Self::Active, Self::Closed];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Active => "active",
            Self::Closed => "closed",
        }
    }

    /// An admin explicitly sets the status to `to`.
    pub fn set_by_admin(self, to: ConversationStatus) -> Result<ConversationStatus, Conflict> {
        use ConversationStatus::*;
        match (self, to) {
            (Waiting, Active) | (Waiting, Closed) | (Active, Closed) | (Closed, Active) => Ok(to),
            (from, to) => Err(Conflict::IllegalTransition { from, to }),
        }
    }

    /// A message arrives from `sender`: returns the new status, if it changes.
    ///
    /// Private notes and system messages never change the status and are allowed in any
    /// status. A public admin reply activates a waiting conversation and is refused on a
    /// closed one. A customer message reopens a closed conversation (to `waiting`) only when
    /// `customer_may_reopen` is set.
    pub fn on_message(
        self,
        sender: ActorKind,
        private: bool,
        customer_may_reopen: bool,
    ) -> Result<Option<ConversationStatus>, Conflict> {
        use ConversationStatus::*;
        if private || sender == ActorKind::System {
            return Ok(None);
        }
        match (self, sender) {
            (Closed, ActorKind::Customer) if customer_may_reopen => Ok(Some(Waiting)),
            (Closed, _) => Err(Conflict::ConversationClosed),
            (Waiting, ActorKind::Admin) => Ok(Some(Active)),
            _ => Ok(None),
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
            .ok_or_else(|| InvalidInput::new("status", "must be waiting, active or closed"))
    }
}
