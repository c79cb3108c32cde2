//! What a commit changes besides its own events, on `SledStore`: a revised message (in
//! place of every copy of it in the log, with its search entries), audit entries (with
//! a redaction erasing what earlier ones keep of the message) and a deleted message's
//! files to remove. Written in the commit's batch.

use chat_core::Result;
use chat_core::audit::{AuditAction, AuditEntry};
use chat_core::event::Event;
use chat_core::ids::MessageId;
use chat_core::log::Commit;
use chat_core::model::{Conversation, Message};

use crate::codec::{decode, encode, get};
use crate::keys;
use crate::source::Source;
use crate::txn::Txn;

/// Adds the revision and the audit entries of `commit` to `txn`.
pub fn persist(txn: &mut Txn<'_>, commit: &Commit) -> Result<()> {
    if let Some(revised) = &commit.revised {
        revise(txn, revised)?;
    }
    if let Some(redacted) = commit.redacted {
        erase_kept_text(txn, redacted)?;
    }
    for entry in &commit.audit {
        insert_audit(txn, entry)?;
    }
    for file in &commit.erased_files {
        txn.insert(keys::erased_file(*file), Vec::new());
    }
    Ok(())
}

/// Erases the text every audit entry keeps of `message` (a redaction).
pub fn erase_kept_text(txn: &mut Txn<'_>, message: MessageId) -> Result<()> {
    rewrite_entries_about(txn, message, AuditAction::erase_text)
}

/// Erases what every audit entry says of `message`'s content (its conversation's delete).
pub fn erase_content(txn: &mut Txn<'_>, message: MessageId) -> Result<()> {
    rewrite_entries_about(txn, message, AuditAction::erase_content)
}

/// Applies `change` to every audit entry about `message`.
fn rewrite_entries_about(
    txn: &mut Txn<'_>,
    message: MessageId,
    change: fn(&mut AuditAction),
) -> Result<()> {
    for (key, _) in txn.entries(&keys::audits_of_message(message))? {
        let id = keys::audit_id_of(&key)?;
        if let Some(mut entry) = get::<AuditEntry>(txn, &keys::audit(id))? {
            change(&mut entry.action);
            txn.insert(keys::audit(id), encode(&entry)?);
        }
    }
    Ok(())
}

/// Stores an audit entry, and its place among those about a message.
pub fn insert_audit(txn: &mut Txn<'_>, entry: &AuditEntry) -> Result<()> {
    if let Some(message) = entry.action.about_message() {
        txn.insert(keys::audit_of_message(message, entry.id), Vec::new());
    }
    txn.insert(keys::audit(entry.id), encode(entry)?);
    Ok(())
}

/// Puts `revised` in place of every copy of the message in its conversation's log (from
/// its seq on, checkpoint rows kept), and moves its search entries to its new words.
fn revise(txn: &mut Txn<'_>, revised: &Message) -> Result<()> {
    let prefix = keys::of_conversation(keys::EVENT, revised.conversation_id);
    let from = keys::event(revised.conversation_id, revised.seq);
    for (key, value) in txn.entries(&prefix)? {
        if key < from {
            continue;
        }
        let (mut event, row): (Event, Option<Conversation>) = decode(&value)?;
        let before = event.message().filter(|m| m.id == revised.id).cloned();
        if !event.revise(revised) {
            continue;
        }
        if let Some(before) = before {
            for (word, _) in crate::search::entries(&before) {
                txn.remove(word);
            }
            crate::search::index(txn, revised);
        }
        txn.insert(key, encode(&(event, row))?);
    }
    Ok(())
}

#[async_trait::async_trait]
impl chat_core::store::AuditStore for crate::store::SledStore {
    async fn record_audit(&self, entry: &AuditEntry) -> Result<()> {
        let entry = entry.clone();
        self.writer.run(move |txn| insert_audit(txn, &entry)).await
    }

    async fn audit_log(
        &self,
        before: Option<chat_core::ids::AuditId>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        let end = match before {
            Some(before) => keys::audit(before),
            None => vec![keys::AUDIT + 1],
        };
        self.tree()
            .range(vec![keys::AUDIT]..end)
            .values()
            .rev()
            .take(limit)
            .map(|value| decode(&value.map_err(crate::error::backend)?))
            .collect()
    }
}
