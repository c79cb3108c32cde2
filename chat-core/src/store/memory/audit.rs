//! The audit log of `MemoryStore`: entries in id order behind one lock.

use std::sync::MutexGuard;

use async_trait::async_trait;

use crate::audit::AuditEntry;
use crate::error::Result;
use crate::ids::{AuditId, MessageId};
use crate::log::Commit;
use crate::store::{AuditStore, MemoryStore};

impl MemoryStore {
    pub(super) fn audit_entries(&self) -> MutexGuard<'_, Vec<AuditEntry>> {
        self.audit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps a commit's audit entries, erasing what earlier entries keep of a redacted
    /// message.
    pub(super) fn keep_audit(&self, commit: &Commit) {
        self.forget_kept_text(commit.redacted);
        self.audit_entries().extend(commit.audit.iter().cloned());
    }

    /// Erases the text audit entries keep of a redacted message.
    fn forget_kept_text(&self, message: Option<MessageId>) {
        for entry in self.audit_entries().iter_mut() {
            if message.is_some() && entry.action.kept_text_of() == message {
                entry.action.erase_text();
            }
        }
    }

    /// Erases what audit entries say of these messages' content (their conversation was
    /// deleted).
    pub(super) fn forget_content(&self, messages: impl IntoIterator<Item = MessageId>) {
        let messages: Vec<MessageId> = messages.into_iter().collect();
        for entry in self.audit_entries().iter_mut() {
            if entry
                .action
                .about_message()
                .is_some_and(|m| messages.contains(&m))
            {
                entry.action.erase_content();
            }
        }
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn record_audit(&self, entry: &AuditEntry) -> Result<()> {
        self.audit_entries().push(entry.clone());
        Ok(())
    }

    async fn audit_log(&self, before: Option<AuditId>, limit: usize) -> Result<Vec<AuditEntry>> {
        let mut entries: Vec<AuditEntry> = self
            .audit_entries()
            .iter()
            .filter(|entry| before.is_none_or(|before| entry.id < before))
            .cloned()
            .collect();
        entries.sort_by_key(|entry| std::cmp::Reverse(entry.id));
        entries.truncate(limit);
        Ok(entries)
    }
}
