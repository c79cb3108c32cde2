//! The conversation status workflow as a pure state machine.
//!
//! `waiting` → `active` (an admin replies or sets it) → `closed` → reopened by an admin
//! (`active`) or by a new customer message (`waiting`) when the embedder allows it. An open
//! conversation (`waiting`, `active`) may be `snoozed`: the visitor's next message wakes it
//! (`waiting`: it waits for a reply), its wake time wakes it (`active`), an agent may
//! unsnooze it (`active`) or close it. Anything else, including "change to the status it
//! already has", is an error.

use crate::error::Conflict;
use crate::model::ActorKind;
use crate::status::ConversationStatus;

impl ConversationStatus {
    /// An admin explicitly sets the status to `to`.
    pub fn set_by_admin(self, to: ConversationStatus) -> Result<ConversationStatus, Conflict> {
        use ConversationStatus::*;
        match (self, to) {
            (Waiting, Active)
            | (Waiting, Closed)
            | (Active, Closed)
            | (Closed, Active)
            | (Snoozed, Active)
            | (Snoozed, Closed) => Ok(to),
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
            (Snoozed, ActorKind::Customer) => Ok(Some(Waiting)),
            _ => Ok(None),
        }
    }
}

impl ConversationStatus {
    /// An agent snoozes the conversation: open ones may be snoozed, a snoozed one gets a
    /// new wake time.
    pub fn snooze(self) -> Result<ConversationStatus, Conflict> {
        use ConversationStatus::*;
        match self {
            Waiting | Active | Snoozed => Ok(Snoozed),
            Closed => Err(Conflict::IllegalTransition {
                from: self,
                to: Snoozed,
            }),
        }
    }
}
