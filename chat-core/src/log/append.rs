//! The append procedure every store runs inside its atomic section, and the conversation
//! state it plans against: a backend supplies the reads ([`LogSource`]) and persists the
//! [`Commit`]; the order of checks and the state it keeps are decided here, once.

use crate::error::{Error, Result};
use crate::ids::{AttachmentId, ConversationId, Seq};
use crate::log::{AppendOutcome, AppendRequest, Commit, IdempotencyKey, LogState, plan};
use crate::model::{Attachment, Conversation, Message, Participant};

/// A conversation's row and its participants: what a write plans against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationState {
    /// The row.
    pub conversation: Conversation,
    /// Who takes part.
    pub participants: Vec<Participant>,
}

impl ConversationState {
    /// The state a starting commit ([`plan_create`](crate::log::plan_create)) creates.
    pub fn created(commit: &Commit) -> Self {
        let mut state = Self {
            conversation: commit.conversation.clone(),
            participants: Vec::new(),
        };
        state.apply(commit);
        state
    }

    /// Applies a commit's row and participant changes.
    pub fn apply(&mut self, commit: &Commit) {
        self.conversation = commit.conversation.clone();
        self.participants
            .retain(|participant| !commit.left.contains(&participant.user));
        self.participants.extend(commit.joined.iter().cloned());
    }
}

/// What a store reads for [`append`], inside its atomic section. Every read must see the
/// writes made earlier in the same section (a write group, a batch).
pub trait LogSource {
    /// The conversation's row and participants, if it exists.
    fn current(&mut self, id: ConversationId) -> Result<Option<ConversationState>>;
    /// The message stored earlier under `key`, if any.
    fn sent(&mut self, key: &IdempotencyKey) -> Result<Option<Message>>;
    /// An uploaded file's record, if it exists (in any conversation).
    fn attachment(&mut self, id: AttachmentId) -> Result<Option<Attachment>>;
    /// The message created at `seq` in the conversation, as it is now, if there is one.
    fn message(&mut self, id: ConversationId, seq: Seq) -> Result<Option<Message>>;
}

/// Runs `request` against `source`: the conversation must exist; a retried send returns the
/// message stored under its idempotency key; anything else is [`plan`]ned against the
/// current state. The store persists a returned [`AppendOutcome::Committed`] whole (and,
/// if it keeps state between writes, applies it with [`ConversationState::apply`]).
pub fn append(source: &mut impl LogSource, request: &AppendRequest) -> Result<AppendOutcome> {
    let ConversationState {
        conversation,
        participants,
    } = source
        .current(request.conversation_id)?
        .ok_or(Error::NotFound("conversation"))?;
    if let Some(key) = request.idempotency_key()
        && let Some(original) = source.sent(&key)?
    {
        return Ok(AppendOutcome::Duplicate(original));
    }
    let mut attachments = Vec::new();
    for id in request.attachment_ids() {
        attachments.extend(source.attachment(*id)?);
    }
    let target = match request.target_seq() {
        Some(seq) => source.message(request.conversation_id, seq)?,
        None => None,
    };
    let state = LogState {
        conversation,
        participants,
        attachments,
        target,
    };
    plan(&state, request).map(|commit| AppendOutcome::Committed(Box::new(commit)))
}
