//! Erasure in the sled store, each step one writer job: a visitor's record goes only while
//! its conversation index (`C`) is empty, which every conversation start writes in its
//! own job, so the two never interleave; deleted conversations' files wait under `X`.

use chat_core::accounts::{Customer, TokenHash};
use chat_core::audit::AuditEntry;
use chat_core::error::Conflict;
use chat_core::ids::{AttachmentId, CustomerId, Uuid};
use chat_core::{Error, Result};

use crate::codec::get;
use crate::error::malformed;
use crate::keys;
use crate::source::Source;
use crate::txn::Txn;

/// Deletes the sessions an index prefix (`S` admin or `V` visitor) lists; returns how many.
pub fn delete_sessions(txn: &mut Txn<'_>, index: &[u8]) -> Result<u64> {
    let entries = txn.entries(index)?;
    for (key, _) in &entries {
        let hash: [u8; 32] = key[key.len() - 32..]
            .try_into()
            .map_err(|_| malformed("session index"))?;
        txn.remove(keys::session(&TokenHash(hash)));
        txn.remove(key.clone());
    }
    Ok(entries.len() as u64)
}

/// [`CustomerStore::delete_customer`](chat_core::store::CustomerStore::delete_customer) as
/// one job.
pub fn delete_customer(txn: &mut Txn<'_>, id: CustomerId, audit: &AuditEntry) -> Result<()> {
    let key = keys::customer(id);
    let customer: Customer = get(txn, &key)?.ok_or(Error::NotFound("customer"))?;
    if !txn.entries(&keys::customer_conversations(id))?.is_empty() {
        return Err(Conflict::VisitorHasConversations.into());
    }
    if let Some(identifier) = &customer.identifier {
        txn.remove(keys::customer_identifier(identifier.as_str()));
    }
    if let Some(contact) = &customer.contact {
        txn.remove(keys::customer_email(contact.email.as_str(), id));
    }
    txn.remove(keys::blocked_customer(id));
    delete_sessions(txn, &keys::visitor_sessions(id))?;
    txn.remove(key);
    crate::revise::insert_audit(txn, audit)
}

/// The files waiting for their bytes to go, at most `limit`, as the tree holds them now
/// (the caller waits for a flush before trusting them).
pub fn erased_files(tree: &sled::Tree, limit: usize) -> Result<Vec<AttachmentId>> {
    let mut files = Vec::new();
    for key in tree.scan_prefix([keys::ERASED_FILE]).keys().take(limit) {
        let key = key.map_err(crate::error::backend)?;
        let id: [u8; 16] = key
            .get(1..17)
            .and_then(|id| id.try_into().ok())
            .ok_or_else(|| malformed("erased file key"))?;
        files.push(AttachmentId::from_uuid(Uuid::from_bytes(id)));
    }
    Ok(files)
}
