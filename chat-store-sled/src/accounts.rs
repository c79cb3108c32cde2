//! The account-side traits: attachments, agents, visitors and sessions.

use async_trait::async_trait;
use chat_core::accounts::{Admin, AdminChanges, Customer, Session, SessionSubject, TokenHash};
use chat_core::audit::AuditEntry;
use chat_core::email::{EmailContact, UnsubscribeToken};
use chat_core::ids::{AdminId, AttachmentId, CustomerId};
use chat_core::model::Attachment;
use chat_core::store::{AdminStore, AttachmentStore, CustomerStore, SessionStore};
use chat_core::values::{DisplayName, Email, ExternalId, VisitorIdentifier};
use chat_core::{Error, Result};
use chrono::{DateTime, Utc};

use crate::codec::{encode, exists, get, get_uuid, scan};
use crate::error::{backend, malformed};
use crate::keys;
use crate::store::SledStore;

#[async_trait]
impl AttachmentStore for SledStore {
    async fn get_attachment(&self, id: AttachmentId) -> Result<Option<Attachment>> {
        get(self.tree(), &keys::attachment(id))
    }

    async fn unlinked_attachments(
        &self,
        uploaded_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Attachment>> {
        let all: Vec<Attachment> = scan(self.tree(), &[keys::ATTACHMENT])?;
        let stale = all
            .into_iter()
            .filter(|a| a.message_id.is_none() && a.uploaded_at < uploaded_before);
        Ok(stale.take(limit).collect())
    }

    async fn remove_unlinked_attachment(&self, id: AttachmentId) -> Result<bool> {
        self.writer
            .run(move |txn| {
                let Some(attachment) = get::<Attachment>(txn, &keys::attachment(id))? else {
                    return Ok(false);
                };
                if attachment.message_id.is_some() {
                    return Ok(false);
                }
                txn.remove(keys::attachment(id));
                txn.remove(keys::attachment_of(attachment.conversation_id, id));
                Ok(true)
            })
            .await
    }

    async fn erased_files(&self, limit: usize) -> Result<Vec<AttachmentId>> {
        let files = crate::erasure::erased_files(self.tree(), limit)?;
        // Read before a flush: every listed deletion was applied before it, so it is
        // durable after it, and no file's bytes go before its conversation has. The
        // writer's job waits for the flush of its group; sled's own flush covers the
        // periodic mode, whose groups are not flushed one by one.
        self.writer.run(|_| Ok(())).await?;
        self.tree().flush_async().await.map_err(backend)?;
        Ok(files)
    }

    async fn forget_erased_file(&self, id: AttachmentId) -> Result<()> {
        self.writer
            .run(move |txn| {
                txn.remove(keys::erased_file(id));
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl AdminStore for SledStore {
    async fn create_admin(&self, admin: &Admin) -> Result<()> {
        let admin = admin.clone();
        self.writer
            .run(move |txn| {
                let email = keys::admin_email(admin.email.as_str());
                if exists(txn, &keys::admin(admin.id))? || exists(txn, &email)? {
                    return Err(Error::AlreadyExists("admin"));
                }
                if let Some(external_id) = &admin.external_id {
                    let external_id = keys::admin_external_id(external_id.as_str());
                    if exists(txn, &external_id)? {
                        return Err(Error::AlreadyExists("admin external id"));
                    }
                    txn.insert(external_id, admin.id.as_uuid().as_bytes().to_vec());
                }
                txn.insert(email, admin.id.as_uuid().as_bytes().to_vec());
                txn.insert(keys::admin(admin.id), encode(&admin)?);
                Ok(())
            })
            .await
    }

    async fn get_admin(&self, id: AdminId) -> Result<Option<Admin>> {
        get(self.tree(), &keys::admin(id))
    }

    async fn find_admin_by_email(&self, email: &Email) -> Result<Option<Admin>> {
        match get_uuid(self.tree(), &keys::admin_email(email.as_str()))? {
            Some(id) => self.get_admin(AdminId::from_uuid(id)).await,
            None => Ok(None),
        }
    }

    async fn find_admin_by_external_id(&self, external_id: &ExternalId) -> Result<Option<Admin>> {
        match get_uuid(self.tree(), &keys::admin_external_id(external_id.as_str()))? {
            Some(id) => self.get_admin(AdminId::from_uuid(id)).await,
            None => Ok(None),
        }
    }

    async fn list_admins(&self) -> Result<Vec<Admin>> {
        let mut admins: Vec<Admin> = scan(self.tree(), &[keys::ADMIN])?;
        admins.sort_by_key(|a| (a.created_at, a.id));
        Ok(admins)
    }

    async fn update_admin(&self, id: AdminId, changes: &AdminChanges) -> Result<Admin> {
        let changes = changes.clone();
        // On the writer thread: the read, the change and the write are one step.
        self.writer
            .run(move |txn| {
                let mut admin: Admin =
                    get(txn, &keys::admin(id))?.ok_or(Error::NotFound("admin"))?;
                if changes.is_stale_for(&admin) {
                    return Ok(admin);
                }
                let old_email = admin.email.clone();
                changes.apply(&mut admin);
                if old_email != admin.email {
                    let email = keys::admin_email(admin.email.as_str());
                    if exists(txn, &email)? {
                        return Err(Error::AlreadyExists("admin email"));
                    }
                    txn.remove(keys::admin_email(old_email.as_str()));
                    txn.insert(email, admin.id.as_uuid().as_bytes().to_vec());
                }
                txn.insert(keys::admin(admin.id), encode(&admin)?);
                Ok(admin)
            })
            .await
    }
}

#[async_trait]
impl CustomerStore for SledStore {
    async fn create_customer(&self, customer: &Customer) -> Result<()> {
        let customer = customer.clone();
        self.writer
            .run(move |txn| {
                let identifier = customer
                    .identifier
                    .as_ref()
                    .map(|i| keys::customer_identifier(i.as_str()));
                if exists(txn, &keys::customer(customer.id))? {
                    return Err(Error::AlreadyExists("customer"));
                }
                if let Some(identifier) = identifier {
                    if exists(txn, &identifier)? {
                        return Err(Error::AlreadyExists("customer identifier"));
                    }
                    txn.insert(identifier, customer.id.as_uuid().as_bytes().to_vec());
                }
                if let Some(contact) = &customer.contact {
                    txn.insert(
                        keys::customer_email(contact.email.as_str(), customer.id),
                        Vec::new(),
                    );
                }
                txn.insert(keys::customer(customer.id), encode(&customer)?);
                Ok(())
            })
            .await
    }

    async fn get_customer(&self, id: CustomerId) -> Result<Option<Customer>> {
        get(self.tree(), &keys::customer(id))
    }

    async fn find_customer_by_identifier(
        &self,
        identifier: &VisitorIdentifier,
    ) -> Result<Option<Customer>> {
        match get_uuid(self.tree(), &keys::customer_identifier(identifier.as_str()))? {
            Some(id) => self.get_customer(CustomerId::from_uuid(id)).await,
            None => Ok(None),
        }
    }

    async fn set_customer_blocked(
        &self,
        id: CustomerId,
        blocked_at: Option<DateTime<Utc>>,
    ) -> Result<Customer> {
        self.writer
            .run(move |txn| {
                let key = keys::customer(id);
                let mut customer: Customer = get(txn, &key)?.ok_or(Error::NotFound("customer"))?;
                customer.blocked_at = blocked_at;
                match blocked_at {
                    Some(_) => txn.insert(keys::blocked_customer(id), Vec::new()),
                    None => txn.remove(keys::blocked_customer(id)),
                }
                txn.insert(key, encode(&customer)?);
                Ok(customer)
            })
            .await
    }

    async fn blocked_customers(&self) -> Result<Vec<Customer>> {
        let mut blocked = Vec::new();
        for entry in self.tree().scan_prefix([keys::BLOCKED_CUSTOMER]) {
            let (key, _) = entry.map_err(crate::error::backend)?;
            let id: [u8; 16] = key[1..]
                .try_into()
                .map_err(|_| malformed("blocked index"))?;
            let id = CustomerId::from_uuid(chat_core::ids::Uuid::from_bytes(id));
            blocked.extend(self.get_customer(id).await?);
        }
        blocked.sort_by_key(|c: &Customer| std::cmp::Reverse((c.blocked_at, c.id)));
        Ok(blocked)
    }

    async fn set_customer_contact(
        &self,
        id: CustomerId,
        contact: Option<&EmailContact>,
    ) -> Result<Customer> {
        let contact = contact.cloned();
        self.writer
            .run(move |txn| {
                let key = keys::customer(id);
                let mut customer: Customer = get(txn, &key)?.ok_or(Error::NotFound("customer"))?;
                if let Some(old) = &customer.contact {
                    txn.remove(keys::customer_email(old.email.as_str(), id));
                }
                if let Some(new) = &contact {
                    txn.insert(keys::customer_email(new.email.as_str(), id), Vec::new());
                }
                customer.contact = contact;
                txn.insert(key, encode(&customer)?);
                Ok(customer)
            })
            .await
    }

    async fn set_customer_name(
        &self,
        id: CustomerId,
        name: Option<&DisplayName>,
    ) -> Result<Customer> {
        let name = name.cloned();
        self.writer
            .run(move |txn| {
                let key = keys::customer(id);
                let mut customer: Customer = get(txn, &key)?.ok_or(Error::NotFound("customer"))?;
                customer.name = name;
                txn.insert(key, encode(&customer)?);
                Ok(customer)
            })
            .await
    }

    async fn unsubscribe_customer(&self, id: CustomerId, token: &UnsubscribeToken) -> Result<bool> {
        let token = token.clone();
        self.writer
            .run(move |txn| {
                let key = keys::customer(id);
                let Some(mut customer) = get::<Customer>(txn, &key)? else {
                    return Ok(false);
                };
                match customer.contact.as_mut() {
                    Some(contact) if contact.token.matches(&token) => contact.unsubscribed = true,
                    _ => return Ok(false),
                }
                txn.insert(key, encode(&customer)?);
                Ok(true)
            })
            .await
    }

    async fn mark_customer_seen(&self, id: CustomerId, at: DateTime<Utc>) -> Result<()> {
        self.writer
            .run(move |txn| {
                let key = keys::customer(id);
                if let Some(mut customer) = get::<Customer>(txn, &key)?
                    && customer.last_seen < Some(at)
                {
                    customer.last_seen = Some(at);
                    txn.insert(key, encode(&customer)?);
                }
                Ok(())
            })
            .await
    }

    async fn customers_by_email(&self, email: &Email) -> Result<Vec<Customer>> {
        let mut found = Vec::new();
        for key in self
            .tree()
            .scan_prefix(keys::customers_with_email(email.as_str()))
            .keys()
        {
            let key = key.map_err(backend)?;
            let id = key
                .get(key.len().saturating_sub(16)..)
                .and_then(|id| <[u8; 16]>::try_from(id).ok())
                .ok_or_else(|| malformed("address index key"))?;
            let customer = self
                .get_customer(CustomerId::from_uuid(chat_core::ids::Uuid::from_bytes(id)))
                .await?;
            found.extend(customer.filter(|c| {
                c.contact
                    .as_ref()
                    .is_some_and(|contact| contact.email == *email)
            }));
        }
        found.sort_by_key(|c| (c.first_seen, c.id));
        Ok(found)
    }

    async fn delete_customer(&self, id: CustomerId, audit: &AuditEntry) -> Result<()> {
        let audit = audit.clone();
        self.writer
            .run(move |txn| crate::erasure::delete_customer(txn, id, &audit))
            .await
    }
}

#[async_trait]
impl SessionStore for SledStore {
    async fn create_session(&self, session: &Session) -> Result<()> {
        let session = session.clone();
        self.writer
            .run(move |txn| {
                let key = keys::session(&session.token_hash);
                if exists(txn, &key)? {
                    return Err(Error::AlreadyExists("session"));
                }
                // In one job with the visitor's deletion's check: no session outlives it.
                if let SessionSubject::Visitor(id) = session.subject
                    && !exists(txn, &keys::customer(id))?
                {
                    return Err(Error::NotFound("customer"));
                }
                txn.insert(
                    keys::session_of(session.subject, &session.token_hash),
                    Vec::new(),
                );
                txn.insert(key, encode(&session)?);
                Ok(())
            })
            .await
    }

    async fn get_session(&self, token_hash: &TokenHash) -> Result<Option<Session>> {
        get(self.tree(), &keys::session(token_hash))
    }

    async fn delete_session(&self, token_hash: &TokenHash) -> Result<bool> {
        let token_hash = *token_hash;
        self.writer
            .run(move |txn| {
                let Some(session) = get::<Session>(txn, &keys::session(&token_hash))? else {
                    return Ok(false);
                };
                txn.remove(keys::session_of(session.subject, &token_hash));
                txn.remove(keys::session(&token_hash));
                Ok(true)
            })
            .await
    }

    async fn delete_admin_sessions(&self, admin: AdminId) -> Result<u64> {
        self.writer
            .run(move |txn| crate::erasure::delete_sessions(txn, &keys::admin_sessions(admin)))
            .await
    }
}
