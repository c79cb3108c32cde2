//! Erasure in `MemoryStore`: a visitor's record goes only while none of its conversations
//! exists, and deleted conversations' files wait here until their bytes are gone.

use std::collections::BTreeSet;
use std::sync::MutexGuard;

use dashmap::mapref::entry::Entry;

use crate::accounts::SessionSubject;
use crate::audit::AuditEntry;
use crate::error::{Conflict, Error, Result};
use crate::ids::{AttachmentId, CustomerId};
use crate::store::MemoryStore;

impl MemoryStore {
    /// The files whose bytes are still to be removed.
    pub(super) fn erased(&self) -> MutexGuard<'_, BTreeSet<AttachmentId>> {
        self.erased_files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues the bytes of these files for removal.
    pub(super) fn erase_files(&self, files: impl IntoIterator<Item = AttachmentId>) {
        self.erased().extend(files);
    }

    /// [`CustomerStore::delete_customer`](crate::store::CustomerStore::delete_customer).
    ///
    /// The visitor's entry is write-locked throughout: `create_conversation` holds it
    /// read-locked while it inserts, so the check below sees every conversation.
    pub(super) fn remove_customer(&self, id: CustomerId, audit: &AuditEntry) -> Result<()> {
        let Entry::Occupied(entry) = self.customers.entry(id) else {
            return Err(Error::NotFound("customer"));
        };
        if self
            .conversations
            .iter()
            .any(|r| r.state.conversation.customer_id == id)
        {
            return Err(Conflict::VisitorHasConversations.into());
        }
        let customer = entry.remove();
        if let Some(identifier) = &customer.identifier {
            self.customer_identifiers.remove(identifier);
        }
        self.sessions
            .retain(|_, session| session.subject != SessionSubject::Visitor(id));
        self.audit_entries().push(audit.clone());
        Ok(())
    }
}
