//! The account-side traits: attachments, agents, visitors and sessions.

use async_trait::async_trait;
use chat_core::accounts::{Admin, AdminChanges, Customer, Session, SessionSubject, TokenHash};
use chat_core::audit::AuditEntry;
use chat_core::email::{EmailContact, UnsubscribeToken};
use chat_core::error::Conflict;
use chat_core::ids::{AdminId, AttachmentId, CustomerId};
use chat_core::model::Attachment;
use chat_core::store::{AdminStore, AttachmentStore, CustomerStore, SessionStore};
use chat_core::values::{DisplayName, Email, ExternalId, VisitorIdentifier};
use chat_core::{Error, Result};
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::types::{Json, Uuid};

use crate::error::map;
use crate::rows::{ATTACHMENT_COLUMNS, AdminRow, AttachmentRow, CustomerRow, SessionRow};
use crate::store::PostgresStore;

const ADMIN_COLUMNS: &str = "id, email, password_hash, name, permissions, created_at, disabled, capacity, external_id, \
     host_synced_at";
const CUSTOMER_COLUMNS: &str = "id, identifier, verified, user_agent, location_data, first_seen, blocked_at, email, \
     email_token, email_unsubscribed, last_seen, name";
const SESSION_COLUMNS: &str = "token_hash, subject_type, subject_id, created_at, expires_at";

#[async_trait]
impl AttachmentStore for PostgresStore {
    async fn get_attachment(&self, id: AttachmentId) -> Result<Option<Attachment>> {
        let query = format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = $1");
        let row: Option<AttachmentRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(Attachment::try_from).transpose()
    }

    async fn unlinked_attachments(
        &self,
        uploaded_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Attachment>> {
        let query = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE message_id IS NULL AND uploaded_at < $1 LIMIT $2"
        );
        let rows: Vec<AttachmentRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(uploaded_before)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        rows.into_iter().map(Attachment::try_from).collect()
    }

    async fn remove_unlinked_attachment(&self, id: AttachmentId) -> Result<bool> {
        // Lock the conversation first, as sends do, so a concurrent send either links the
        // file before this sees it or finds it gone.
        let mut tx = self.pool.begin().await.map_err(map)?;
        let conversation: Option<Uuid> =
            sqlx::query_scalar("SELECT conversation_id FROM attachments WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map)?;
        let Some(conversation) = conversation else {
            return Ok(false);
        };
        sqlx::query("SELECT id FROM conversations WHERE id = $1 FOR UPDATE")
            .bind(conversation)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        let deleted = sqlx::query("DELETE FROM attachments WHERE id = $1 AND message_id IS NULL")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn erased_files(&self, limit: usize) -> Result<Vec<AttachmentId>> {
        let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM erased_files LIMIT $1")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        Ok(ids.into_iter().map(AttachmentId::from_uuid).collect())
    }

    async fn forget_erased_file(&self, id: AttachmentId) -> Result<()> {
        sqlx::query("DELETE FROM erased_files WHERE id = $1")
            .bind(id.as_uuid())
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(())
    }
}

#[async_trait]
impl AdminStore for PostgresStore {
    async fn create_admin(&self, admin: &Admin) -> Result<()> {
        sqlx::query(
            "INSERT INTO admins (id, email, password_hash, name, permissions, created_at, disabled, capacity, \
             external_id, host_synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(admin.id.as_uuid())
        .bind(admin.email.as_str())
        .bind(&admin.password_hash)
        .bind(admin.name.as_str())
        .bind(Json(admin.permissions))
        .bind(admin.created_at)
        .bind(admin.disabled)
        .bind(admin.capacity.map(db_capacity))
        .bind(admin.external_id.as_ref().map(ExternalId::as_str))
        .bind(admin.host_synced_at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn get_admin(&self, id: AdminId) -> Result<Option<Admin>> {
        let query = format!("SELECT {ADMIN_COLUMNS} FROM admins WHERE id = $1");
        let row: Option<AdminRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(Admin::try_from).transpose()
    }

    async fn find_admin_by_email(&self, email: &Email) -> Result<Option<Admin>> {
        let query = format!("SELECT {ADMIN_COLUMNS} FROM admins WHERE email = $1");
        let row: Option<AdminRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(email.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(Admin::try_from).transpose()
    }

    async fn find_admin_by_external_id(&self, external_id: &ExternalId) -> Result<Option<Admin>> {
        let query = format!("SELECT {ADMIN_COLUMNS} FROM admins WHERE external_id = $1");
        let row: Option<AdminRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(external_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(Admin::try_from).transpose()
    }

    async fn list_admins(&self) -> Result<Vec<Admin>> {
        let query = format!("SELECT {ADMIN_COLUMNS} FROM admins ORDER BY created_at, id");
        let rows: Vec<AdminRow> = sqlx::query_as(AssertSqlSafe(query))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        rows.into_iter().map(Admin::try_from).collect()
    }

    async fn update_admin(&self, id: AdminId, changes: &AdminChanges) -> Result<Admin> {
        // One statement: each column keeps its value unless the change names it.
        let query = format!(
            "UPDATE admins SET email = COALESCE($2, email), name = COALESCE($3, name), \
             password_hash = COALESCE($4, password_hash), permissions = COALESCE($5, permissions), \
             disabled = COALESCE($6, disabled), capacity = CASE WHEN $7 THEN $8 ELSE capacity END, \
             host_synced_at = COALESCE($9, host_synced_at) \
             WHERE id = $1 AND ($9 IS NULL OR host_synced_at IS NULL OR host_synced_at <= $9) \
             RETURNING {ADMIN_COLUMNS}"
        );
        let row: Option<AdminRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(id.as_uuid())
            .bind(changes.email.as_ref().map(Email::as_str))
            .bind(changes.name.as_ref().map(|name| name.as_str()))
            .bind(changes.password_hash.as_deref())
            .bind(changes.permissions.map(Json))
            .bind(changes.disabled)
            .bind(changes.capacity.is_some())
            .bind(changes.capacity.flatten().map(db_capacity))
            .bind(changes.host_synced_at)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        match row {
            Some(row) => Admin::try_from(row),
            // Missing, or the changes are stale for it: as stored.
            None => self.get_admin(id).await?.ok_or(Error::NotFound("admin")),
        }
    }
}

#[async_trait]
impl CustomerStore for PostgresStore {
    async fn create_customer(&self, customer: &Customer) -> Result<()> {
        sqlx::query(
            "INSERT INTO customers (id, identifier, verified, user_agent, location_data, first_seen, \
             name) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(customer.id.as_uuid())
        .bind(customer.identifier.as_ref().map(|i| i.as_str()))
        .bind(customer.verified)
        .bind(customer.user_agent.as_ref().map(|u| u.as_str()))
        .bind(Json(serde_json::Value::from(customer.location_data.clone())))
        .bind(customer.first_seen)
        .bind(customer.name.as_ref().map(DisplayName::as_str))
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn get_customer(&self, id: CustomerId) -> Result<Option<Customer>> {
        let query = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1");
        let row: Option<CustomerRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(Customer::try_from).transpose()
    }

    async fn find_customer_by_identifier(
        &self,
        identifier: &VisitorIdentifier,
    ) -> Result<Option<Customer>> {
        let query = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE identifier = $1");
        let row: Option<CustomerRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(identifier.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(Customer::try_from).transpose()
    }

    async fn set_customer_blocked(
        &self,
        id: CustomerId,
        blocked_at: Option<DateTime<Utc>>,
    ) -> Result<Customer> {
        let query = format!(
            "UPDATE customers SET blocked_at = $2 WHERE id = $1 RETURNING {CUSTOMER_COLUMNS}"
        );
        let row: Option<CustomerRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(id.as_uuid())
            .bind(blocked_at)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        Customer::try_from(row.ok_or(Error::NotFound("customer"))?)
    }

    async fn set_customer_contact(
        &self,
        id: CustomerId,
        contact: Option<&EmailContact>,
    ) -> Result<Customer> {
        let query = format!(
            "UPDATE customers SET email = $2, email_token = $3, email_unsubscribed = $4 \
             WHERE id = $1 RETURNING {CUSTOMER_COLUMNS}"
        );
        let row: Option<CustomerRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(id.as_uuid())
            .bind(contact.map(|c| c.email.as_str()))
            .bind(contact.map(|c| c.token.as_str()))
            .bind(contact.is_some_and(|c| c.unsubscribed))
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        Customer::try_from(row.ok_or(Error::NotFound("customer"))?)
    }

    async fn set_customer_name(
        &self,
        id: CustomerId,
        name: Option<&DisplayName>,
    ) -> Result<Customer> {
        let query =
            format!("UPDATE customers SET name = $2 WHERE id = $1 RETURNING {CUSTOMER_COLUMNS}");
        let row: Option<CustomerRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(id.as_uuid())
            .bind(name.map(DisplayName::as_str))
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        Customer::try_from(row.ok_or(Error::NotFound("customer"))?)
    }

    async fn unsubscribe_customer(&self, id: CustomerId, token: &UnsubscribeToken) -> Result<bool> {
        // The token is compared in Rust, in constant time, under the row's lock.
        let mut tx = self.pool.begin().await.map_err(map)?;
        let stored: Option<(Option<String>,)> =
            sqlx::query_as("SELECT email_token FROM customers WHERE id = $1 FOR UPDATE")
                .bind(id.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map)?;
        let Some((Some(stored),)) = stored else {
            return Ok(false);
        };
        if !UnsubscribeToken::from_link(&stored).matches(token) {
            return Ok(false);
        }
        sqlx::query("UPDATE customers SET email_unsubscribed = TRUE WHERE id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(true)
    }

    async fn mark_customer_seen(&self, id: CustomerId, at: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE customers SET last_seen = $2 WHERE id = $1 \
             AND (last_seen IS NULL OR last_seen < $2)",
        )
        .bind(id.as_uuid())
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn customers_by_email(&self, email: &Email) -> Result<Vec<Customer>> {
        let query = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE email = $1 ORDER BY first_seen, id"
        );
        let rows: Vec<CustomerRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(email.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        rows.into_iter().map(Customer::try_from).collect()
    }

    async fn blocked_customers(&self) -> Result<Vec<Customer>> {
        let query = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE blocked_at IS NOT NULL \
             ORDER BY blocked_at DESC, id DESC"
        );
        let rows: Vec<CustomerRow> = sqlx::query_as(AssertSqlSafe(query))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        rows.into_iter().map(Customer::try_from).collect()
    }

    async fn delete_customer(&self, id: CustomerId, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(map)?;
        // The conversations' foreign key refuses this while one refers to the visitor,
        // including one whose insert commits while this waits for its lock. The visitor
        // goes first: a session being created holds it key-share-locked, so the sessions
        // deleted after include that one.
        let deleted = sqlx::query("DELETE FROM customers WHERE id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(|error| match map(error) {
                Error::NotFound(_) => Conflict::VisitorHasConversations.into(),
                other => other,
            })?;
        if deleted.rows_affected() == 0 {
            return Err(Error::NotFound("customer"));
        }
        sqlx::query("DELETE FROM sessions WHERE subject_type = 'visitor' AND subject_id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        crate::revise::insert(&mut *tx, audit).await.map_err(map)?;
        tx.commit().await.map_err(map)
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn create_session(&self, session: &Session) -> Result<()> {
        let (kind, id) = match session.subject {
            SessionSubject::Admin(id) => ("admin", id.as_uuid()),
            SessionSubject::Visitor(id) => ("visitor", id.as_uuid()),
        };
        // A visitor's session needs its visitor, key-share-locked until the insert commits:
        // `delete_customer` deletes the visitor first and its sessions after, so none
        // outlives it.
        let inserted = sqlx::query(
            "INSERT INTO sessions (token_hash, subject_type, subject_id, created_at, expires_at) \
             SELECT $1, $2, $3, $4, $5 WHERE $2 = 'admin' \
             OR EXISTS (SELECT 1 FROM customers WHERE id = $3 FOR KEY SHARE)",
        )
        .bind(session.token_hash.0.as_slice())
        .bind(kind)
        .bind(id)
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        if inserted.rows_affected() == 0 {
            return Err(Error::NotFound("customer"));
        }
        Ok(())
    }

    async fn get_session(&self, token_hash: &TokenHash) -> Result<Option<Session>> {
        let query = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1");
        let row: Option<SessionRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(token_hash.0.as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(Session::try_from).transpose()
    }

    async fn delete_session(&self, token_hash: &TokenHash) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash.0.as_slice())
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn delete_admin_sessions(&self, admin: AdminId) -> Result<u64> {
        let deleted =
            sqlx::query("DELETE FROM sessions WHERE subject_type = 'admin' AND subject_id = $1")
                .bind(admin.as_uuid())
                .execute(&self.pool)
                .await
                .map_err(map)?;
        Ok(deleted.rows_affected())
    }
}

/// A capacity as the column holds it (capacities past `i32::MAX` mean "no practical limit").
fn db_capacity(capacity: u32) -> i32 {
    i32::try_from(capacity).unwrap_or(i32::MAX)
}
