//! Turns a planned `Commit` into one sled batch: the conversation row and its list entry,
//! events, the message index and idempotency key, participants and attachments.

use chat_core::Result;
use chat_core::log::Commit;
use chat_core::model::{Conversation, Participant};

use crate::codec::encode;
use crate::keys;

/// Adds every row change of `commit` to `batch`. `previous` is the conversation row before
/// the write (`None` when the commit creates it); `participants` are the rows it had.
pub fn persist(
    batch: &mut sled::Batch,
    commit: &Commit,
    previous: Option<&Conversation>,
    participants: &[Participant],
) -> Result<()> {
    let conversation = &commit.conversation;
    let encoded = encode(conversation)?;
    if let Some(previous) = previous {
        batch.remove(keys::list(previous.updated_at, previous.id));
    }
    batch.insert(
        keys::list(conversation.updated_at, conversation.id),
        encoded.clone(),
    );
    batch.insert(keys::conversation(conversation.id), encoded);
    for event in &commit.events {
        batch.insert(keys::event(conversation.id, event.seq), encode(event)?);
    }
    if let Some(message) = &commit.message {
        batch.insert(
            keys::message(conversation.id, message.seq),
            &keys::message_flags(message.sender, message.private),
        );
        if let Some(client_id) = &message.client_message_id {
            let key = keys::idempotency(conversation.id, message.sender, client_id.as_str());
            batch.insert(key, &message.seq.get().to_be_bytes());
        }
    }
    for participant in &commit.joined {
        batch.insert(
            keys::participant(conversation.id, participant.id),
            encode(participant)?,
        );
    }
    for left in participants
        .iter()
        .filter(|p| commit.left.contains(&p.user))
    {
        batch.remove(keys::participant(conversation.id, left.id));
    }
    for attachment in &commit.attachments {
        batch.insert(keys::attachment(attachment.id), encode(attachment)?);
        batch.insert(keys::attachment_of(conversation.id, attachment.id), &[]);
    }
    Ok(())
}
