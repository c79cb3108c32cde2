//! Turns a planned `Commit` into writes of a [`Txn`]: the events (with a row checkpoint
//! where due) and their change-feed entries, the row itself, the message's search entries,
//! place and idempotency key, a revised message and audit entries (`revise.rs`),
//! participants and attachments.

use chat_core::Result;
use chat_core::ids::Seq;
use chat_core::log::{Commit, ConversationState};

use crate::codec::encode;
use crate::keys;
use crate::rows::CHECKPOINT_EVERY;
use crate::txn::Txn;

/// Adds every change of `commit` to `txn`. `before` is the conversation's state before the
/// commit, `None` when the commit starts it.
pub fn persist(
    txn: &mut Txn<'_>,
    commit: &Commit,
    before: Option<ConversationState>,
) -> Result<()> {
    let conversation = &commit.conversation;
    let mut state = before.unwrap_or_else(|| {
        txn.insert(keys::conversation(conversation.id), Vec::new());
        ConversationState {
            conversation: conversation.clone(),
            participants: Vec::new(),
        }
    });
    let checkpoint_at = checkpoint(commit);
    for event in &commit.events {
        let row = (Some(event.seq) == checkpoint_at).then_some(conversation);
        txn.insert(
            keys::event(conversation.id, event.seq),
            encode(&(event, row))?,
        );
        txn.add_to_feed(conversation.id, event.seq);
    }
    if let Some(message) = &commit.message {
        crate::search::index(txn, message);
        txn.insert(
            keys::message(message.id),
            keys::place(conversation.id, message.seq),
        );
    }
    crate::revise::persist(txn, commit)?;
    if let Some(message) = &commit.message
        && let Some(client_id) = &message.client_message_id
    {
        let key = keys::idempotency(conversation.id, message.sender, client_id.as_str());
        txn.insert(key, message.seq.get().to_be_bytes());
    }
    for participant in &commit.joined {
        txn.insert(
            keys::participant(conversation.id, participant.id),
            encode(participant)?,
        );
    }
    for left in state
        .participants
        .iter()
        .filter(|p| commit.left.contains(&p.user))
    {
        txn.remove(keys::participant(conversation.id, left.id));
    }
    for attachment in &commit.attachments {
        txn.insert(keys::attachment(attachment.id), encode(attachment)?);
        txn.insert(
            keys::attachment_of(conversation.id, attachment.id),
            Vec::new(),
        );
    }
    state.apply(commit);
    txn.set_state(state);
    Ok(())
}

/// Which event of `commit` carries the row: its last, when the write is more than one
/// message or lands on a checkpoint seq.
fn checkpoint(commit: &Commit) -> Option<Seq> {
    let last = commit.events.last()?.seq;
    let only_a_message = commit.events.len() == 1 && commit.message.is_some();
    (!only_a_message || last.get().is_multiple_of(CHECKPOINT_EVERY)).then_some(last)
}
