//! The account-side traits: attachments, agents, visitors and sessions.

use async_trait::async_trait;
use chat_core::accounts::{Admin, Customer, Session, SessionSubject, TokenHash};
use chat_core::ids::{AdminId, AttachmentId, CustomerId};
use chat_core::model::Attachment;
use chat_core::store::{AdminStore, AttachmentStore, CustomerStore, SessionStore};
use chat_core::values::{Email, VisitorIdentifier};
use chat_core::{Error, Result};

use crate::codec::{encode, exists, get, get_uuid, keys as scan_keys, scan};
use crate::error::backend;
use crate::keys;
use crate::store::SledStore;

#[async_trait]
impl AttachmentStore for SledStore {
    async fn get_attachment(&self, id: AttachmentId) -> Result<Option<Attachment>> {
        get(&self.db, &keys::attachment(id))
    }
}

#[async_trait]
impl AdminStore for SledStore {
    async fn create_admin(&self, admin: &Admin) -> Result<()> {
        let admin = admin.clone();
        self.writer
            .run(move |db| {
                let email = keys::admin_email(admin.email.as_str());
                if exists(db, &keys::admin(admin.id))? || exists(db, &email)? {
                    return Err(Error::AlreadyExists("admin"));
                }
                let mut batch = sled::Batch::default();
                batch.insert(email, admin.id.as_uuid().as_bytes());
                batch.insert(keys::admin(admin.id), encode(&admin)?);
                db.apply_batch(batch).map_err(backend)
            })
            .await
    }

    async fn get_admin(&self, id: AdminId) -> Result<Option<Admin>> {
        get(&self.db, &keys::admin(id))
    }

    async fn find_admin_by_email(&self, email: &Email) -> Result<Option<Admin>> {
        match get_uuid(&self.db, &keys::admin_email(email.as_str()))? {
            Some(id) => self.get_admin(AdminId::from_uuid(uuid_from(id))).await,
            None => Ok(None),
        }
    }

    async fn list_admins(&self) -> Result<Vec<Admin>> {
        let mut admins: Vec<Admin> = scan(&self.db, &[keys::ADMIN])?;
        admins.sort_by_key(|a| (a.created_at, a.id));
        Ok(admins)
    }

    async fn update_admin(&self, admin: &Admin) -> Result<()> {
        let admin = admin.clone();
        self.writer
            .run(move |db| {
                let old: Admin =
                    get(db, &keys::admin(admin.id))?.ok_or(Error::NotFound("admin"))?;
                let mut batch = sled::Batch::default();
                if old.email != admin.email {
                    let email = keys::admin_email(admin.email.as_str());
                    if exists(db, &email)? {
                        return Err(Error::AlreadyExists("admin email"));
                    }
                    batch.remove(keys::admin_email(old.email.as_str()));
                    batch.insert(email, admin.id.as_uuid().as_bytes());
                }
                batch.insert(keys::admin(admin.id), encode(&admin)?);
                db.apply_batch(batch).map_err(backend)
            })
            .await
    }
}

#[async_trait]
impl CustomerStore for SledStore {
    async fn create_customer(&self, customer: &Customer) -> Result<()> {
        let customer = customer.clone();
        self.writer
            .run(move |db| {
                let identifier = customer
                    .identifier
                    .as_ref()
                    .map(|i| keys::customer_identifier(i.as_str()));
                if exists(db, &keys::customer(customer.id))? {
                    return Err(Error::AlreadyExists("customer"));
                }
                let mut batch = sled::Batch::default();
                if let Some(identifier) = identifier {
                    if exists(db, &identifier)? {
                        return Err(Error::AlreadyExists("customer identifier"));
                    }
                    batch.insert(identifier, customer.id.as_uuid().as_bytes());
                }
                batch.insert(keys::customer(customer.id), encode(&customer)?);
                db.apply_batch(batch).map_err(backend)
            })
            .await
    }

    async fn get_customer(&self, id: CustomerId) -> Result<Option<Customer>> {
        get(&self.db, &keys::customer(id))
    }

    async fn find_customer_by_identifier(
        &self,
        identifier: &VisitorIdentifier,
    ) -> Result<Option<Customer>> {
        match get_uuid(&self.db, &keys::customer_identifier(identifier.as_str()))? {
            Some(id) => {
                self.get_customer(CustomerId::from_uuid(uuid_from(id)))
                    .await
            }
            None => Ok(None),
        }
    }
}

#[async_trait]
impl SessionStore for SledStore {
    async fn create_session(&self, session: &Session) -> Result<()> {
        let session = session.clone();
        self.writer
            .run(move |db| {
                let key = keys::session(&session.token_hash);
                if exists(db, &key)? {
                    return Err(Error::AlreadyExists("session"));
                }
                let mut batch = sled::Batch::default();
                if let SessionSubject::Admin(admin) = session.subject {
                    batch.insert(
                        keys::admin_session(admin, &session.token_hash),
                        sled::IVec::default(),
                    );
                }
                batch.insert(key, encode(&session)?);
                db.apply_batch(batch).map_err(backend)
            })
            .await
    }

    async fn get_session(&self, token_hash: &TokenHash) -> Result<Option<Session>> {
        get(&self.db, &keys::session(token_hash))
    }

    async fn delete_session(&self, token_hash: &TokenHash) -> Result<bool> {
        let token_hash = *token_hash;
        self.writer
            .run(move |db| {
                let Some(session) = get::<Session>(db, &keys::session(&token_hash))? else {
                    return Ok(false);
                };
                let mut batch = sled::Batch::default();
                if let SessionSubject::Admin(admin) = session.subject {
                    batch.remove(keys::admin_session(admin, &token_hash));
                }
                batch.remove(keys::session(&token_hash));
                db.apply_batch(batch).map_err(backend)?;
                Ok(true)
            })
            .await
    }

    async fn delete_admin_sessions(&self, admin: AdminId) -> Result<u64> {
        self.writer
            .run(move |db| {
                let index = scan_keys(db, &keys::admin_sessions(admin))?;
                let mut batch = sled::Batch::default();
                for key in &index {
                    let hash: [u8; 32] = key[key.len() - 32..]
                        .try_into()
                        .map_err(|_| Error::NotSupported("malformed session index"))?;
                    batch.remove(keys::session(&TokenHash(hash)));
                    batch.remove(key.clone());
                }
                db.apply_batch(batch).map_err(backend)?;
                Ok(index.len() as u64)
            })
            .await
    }
}

fn uuid_from(bytes: [u8; 16]) -> chat_core::ids::Uuid {
    chat_core::ids::Uuid::from_bytes(bytes)
}
