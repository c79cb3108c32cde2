//! Snoozing: an agent puts a conversation aside until the visitor writes again or a wake
//! time passes. The wake time is kept in the conversation's row, so waking is durable: a
//! time that passed while no node ran is found by the next [`wake_due_snoozes`] (every
//! node runs it at start and then every few seconds).
//!
//! [`wake_due_snoozes`]: ChatEngine::wake_due_snoozes

use chrono::{DateTime, Duration, Utc};

use crate::authz::{Action, Principal};
use crate::engine::{ChatEngine, now};
use crate::error::{Conflict, Error, InvalidInput, Result};
use crate::ids::ConversationId;
use crate::log::Command;
use crate::model::Conversation;

/// The furthest a wake time may be.
pub const MAX_SNOOZE: Duration = Duration::days(366);

/// How many due conversations one pass wakes at most.
const WAKE_BATCH: usize = 100;

impl ChatEngine {
    /// An agent snoozes a waiting or active conversation (permission
    /// `manage_conversations`), until `until` (in the future, within [`MAX_SNOOZE`]) or,
    /// with `None`, until the visitor writes. A snoozed conversation gets the new time.
    pub async fn snooze(
        &self,
        principal: &Principal,
        id: ConversationId,
        until: Option<DateTime<Utc>>,
    ) -> Result<Conversation> {
        self.authorized(principal, Action::ChangeStatus, id).await?;
        if let Some(at) = until {
            check_wake_time(at, now())?;
        }
        let by = principal.actor().ok_or(Error::Unauthenticated)?;
        let command = Command::Snooze { until, by };
        Ok(self.commit(id, command).await?.conversation)
    }

    /// Wakes every snoozed conversation whose wake time has passed (status `active`, a log
    /// event by the system) and returns how many it woke. Safe on several nodes at once:
    /// each wake is planned under the conversation's lock, and one that another node (or
    /// the visitor) woke first is skipped.
    pub async fn wake_due_snoozes(&self) -> Result<usize> {
        let mut woken = 0;
        loop {
            let due = self.store.due_snoozes(now(), WAKE_BATCH).await?;
            let mut progress = false;
            for id in &due {
                match self.commit(*id, Command::Wake).await {
                    Ok(_) => {
                        woken += 1;
                        progress = true;
                    }
                    Err(Error::Conflict(Conflict::NotDue) | Error::NotFound(_)) => {}
                    // One conversation that cannot be woken now must not hold back the
                    // others: the next pass tries it again.
                    Err(error) => {
                        tracing::warn!(conversation = %id, %error, "could not wake a snoozed conversation");
                    }
                }
            }
            if due.len() < WAKE_BATCH || !progress {
                return Ok(woken);
            }
        }
    }
}

fn check_wake_time(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), InvalidInput> {
    if at <= now {
        return Err(InvalidInput::new("snoozedUntil", "must be in the future"));
    }
    if at - now > MAX_SNOOZE {
        return Err(InvalidInput::new("snoozedUntil", "must be within a year"));
    }
    Ok(())
}
