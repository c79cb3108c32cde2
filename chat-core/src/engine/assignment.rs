//! Auto-assignment passes: under the deployment-wide assignment lease, the unassigned open
//! conversations (oldest first) go to the online agents by [`assignment::pick`]. The caller
//! says who is online (presence is the HTTP layer's) and runs a pass whenever something
//! changed (a new or woken conversation, an agent online, capacity freed) and now and then.

use std::collections::HashMap;

use crate::assignment::{self, Candidate};
use crate::engine::ChatEngine;
use crate::error::{Conflict, Error, Result};
use crate::ids::AdminId;
use crate::log::Command;

/// How many waiting conversations one pass looks at.
const PASS_LIMIT: usize = 500;

/// What a pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssignmentPass {
    /// How many conversations it assigned.
    pub assigned: usize,
    /// The agent it assigned last (where the next pass continues the turns).
    pub last: Option<AdminId>,
}

impl ChatEngine {
    /// Assigns waiting conversations to the `online` agents (disabled ones are skipped),
    /// continuing the turns after `last`. Returns at once, assigning nothing, when another
    /// pass holds the lease (on this node or another). Each assignment is conditional on
    /// the conversation being unassigned and open when it is written, so exactly one agent
    /// gets it.
    pub async fn auto_assign(
        &self,
        online: &[AdminId],
        last: Option<AdminId>,
    ) -> Result<AssignmentPass> {
        let mut pass = AssignmentPass { assigned: 0, last };
        let Some(_lease) = self.store.try_assignment_lease().await? else {
            return Ok(pass);
        };
        let mut candidates = self.candidates(online).await?;
        if candidates.is_empty() {
            return Ok(pass);
        }
        for conversation in self.store.unassigned_conversations(PASS_LIMIT).await? {
            let Some(agent) = assignment::pick(&candidates, pass.last) else {
                break;
            };
            let command = Command::AutoAssign { assignee: agent };
            match self.commit(conversation.id, command).await {
                Ok(_) => {
                    pass.assigned += 1;
                    pass.last = Some(agent);
                    if let Some(c) = candidates.iter_mut().find(|c| c.agent == agent) {
                        c.open += 1;
                    }
                }
                Err(Error::Conflict(Conflict::AlreadyAssigned) | Error::NotFound(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(pass)
    }

    /// The online, enabled agents with their load and capacity.
    async fn candidates(&self, online: &[AdminId]) -> Result<Vec<Candidate>> {
        let open: HashMap<AdminId, u64> = self
            .store
            .open_conversation_counts()
            .await?
            .into_iter()
            .collect();
        let agents = self.store.list_admins().await?;
        Ok(agents
            .into_iter()
            .filter(|admin| !admin.disabled && online.contains(&admin.id))
            .map(|admin| Candidate {
                agent: admin.id,
                open: open.get(&admin.id).copied().unwrap_or(0),
                capacity: admin.capacity,
            })
            .collect())
    }
}
