//! Auto-assignment (opt-in): a new or woken conversation nobody holds goes to the online
//! agent with the fewest open conversations under its capacity, ties taken in turn (round
//! robin); when nobody is free it waits, and the longest-waiting goes first.

use crate::error::InvalidInput;
use crate::ids::AdminId;

/// The largest capacity an agent may be given.
pub const MAX_CAPACITY: u32 = 10_000;

/// Checks a capacity: at most [`MAX_CAPACITY`] (`None`, no limit, is always fine).
pub fn check_capacity(capacity: Option<u32>) -> Result<(), InvalidInput> {
    match capacity {
        Some(n) if n > MAX_CAPACITY => Err(InvalidInput::new(
            "capacity",
            format!("must be at most {MAX_CAPACITY}, or null for no limit"),
        )),
        _ => Ok(()),
    }
}

/// An agent that could take a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The agent.
    pub agent: AdminId,
    /// How many conversations it holds that are not closed.
    pub open: u64,
    /// The most it takes; `None`: no limit.
    pub capacity: Option<u32>,
}

impl Candidate {
    /// Whether it may take one more.
    pub fn is_free(&self) -> bool {
        self.capacity.is_none_or(|cap| self.open < u64::from(cap))
    }
}

/// The agent the next conversation goes to, if anyone is free: the fewest open
/// conversations; among those, the first after `last` in id order (wrapping), so ties are
/// taken in turn.
pub fn pick(candidates: &[Candidate], last: Option<AdminId>) -> Option<AdminId> {
    let fewest = candidates
        .iter()
        .filter(|c| c.is_free())
        .map(|c| c.open)
        .min()?;
    let mut tied: Vec<AdminId> = candidates
        .iter()
        .filter(|c| c.is_free() && c.open == fewest)
        .map(|c| c.agent)
        .collect();
    tied.sort();
    let next = last.and_then(|last| tied.iter().find(|agent| **agent > last));
    next.or(tied.first()).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agents(n: usize) -> Vec<AdminId> {
        let mut ids: Vec<AdminId> = (0..n).map(|_| AdminId::new()).collect();
        ids.sort();
        ids
    }

    #[test]
    fn the_least_loaded_free_agent_wins() {
        let ids = agents(3);
        let candidates = [
            Candidate {
                agent: ids[0],
                open: 2,
                capacity: None,
            },
            Candidate {
                agent: ids[1],
                open: 1,
                capacity: Some(1),
            },
            Candidate {
                agent: ids[2],
                open: 1,
                capacity: Some(5),
            },
        ];
        assert_eq!(pick(&candidates, None), Some(ids[2]), "ids[1] is full");
    }

    #[test]
    fn an_auto_assignment_is_refused_once_someone_holds_the_conversation_or_it_is_not_open() {
        use crate::error::{Conflict, Error};
        use crate::ids::{ConversationId, CustomerId};
        use crate::log::{AppendRequest, Command, LogState, NewConversation, plan, plan_create};
        use crate::model::Conversation;
        use crate::status::ConversationStatus;

        let new = NewConversation {
            id: ConversationId::new(),
            customer_id: CustomerId::new(),
            customer_ip: None,
            metadata: Default::default(),
        };
        let fresh = plan_create(new, chrono::Utc::now()).conversation;
        let agent = AdminId::new();
        let attempt = |conversation: &Conversation| {
            let state = LogState {
                conversation: conversation.clone(),
                participants: Vec::new(),
                attachments: Vec::new(),
                target: None,
            };
            let request = AppendRequest {
                conversation_id: conversation.id,
                command: Command::AutoAssign { assignee: agent },
                at: chrono::Utc::now(),
            };
            plan(&state, &request)
        };
        let assigned = attempt(&fresh).expect("unassigned and open: assigned");
        assert_eq!(assigned.conversation.assignee, Some(agent));
        let held = Conversation {
            assignee: Some(AdminId::new()),
            ..fresh.clone()
        };
        let snoozed = Conversation {
            status: ConversationStatus::Snoozed,
            ..fresh.clone()
        };
        for conversation in [held, snoozed] {
            let refused = attempt(&conversation);
            assert!(
                matches!(refused, Err(Error::Conflict(Conflict::AlreadyAssigned))),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn ties_are_taken_in_turn_and_nobody_free_means_wait() {
        let ids = agents(3);
        let all: Vec<Candidate> = ids
            .iter()
            .map(|agent| Candidate {
                agent: *agent,
                open: 0,
                capacity: None,
            })
            .collect();
        let mut last = None;
        let mut order = Vec::new();
        for _ in 0..4 {
            last = pick(&all, last);
            order.push(last.unwrap());
        }
        assert_eq!(order, [ids[0], ids[1], ids[2], ids[0]]);
        let full = [Candidate {
            agent: ids[0],
            open: 3,
            capacity: Some(3),
        }];
        assert_eq!(pick(&full, None), None);
        assert_eq!(pick(&[], None), None);
    }
}
