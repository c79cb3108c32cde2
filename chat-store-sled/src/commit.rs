//! Turns a planned `Commit` into writes of a [`Txn`]: the events (each carrying the row
//! after the write), the row itself, the idempotency key, participants and attachments.

use chat_core::Result;
use chat_core::log::Commit;
use chat_core::model::Participant;

use crate::codec::encode;
use crate::keys;
use crate::rows::ConversationState;
use crate::txn::Txn;

/// Adds every change of `commit` to `txn`. `participants` are the rows the conversation
/// had before; `creates` says whether the commit starts the conversation.
pub fn persist(
    txn: &mut Txn<'_>,
    commit: &Commit,
    participants: &[Participant],
    creates: bool,
) -> Result<()> {
    let conversation = &commit.conversation;
    if creates {
        txn.insert(keys::conversation(conversation.id), Vec::new());
    }
    for event in &commit.events {
        txn.insert(
            keys::event(conversation.id, event.seq),
            encode(&(event, conversation))?,
        );
    }
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
    for left in participants
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
    let mut members: Vec<Participant> = participants
        .iter()
        .filter(|p| !commit.left.contains(&p.user))
        .cloned()
        .collect();
    members.extend(commit.joined.iter().cloned());
    txn.set_state(ConversationState {
        row: conversation.clone(),
        participants: members,
    });
    Ok(())
}
