//! Visitors, agents and bearer-token sessions.

use chrono::{Duration, Utc};

use crate::accounts::{
    Admin, AdminChanges, Customer, Permissions, Session, SessionSubject, TokenHash,
};
use crate::audit::AuditAction;
use crate::authz::{Action, Principal};
use crate::broadcast::{Revoked, Signal, Subscription, Topic};
use crate::engine::{ChatEngine, now};
use crate::error::{Error, Result};
use crate::ids::{AdminId, CustomerId};
use crate::model::Actor;
use crate::values::{DisplayName, Email, Metadata, UserAgent, VisitorIdentifier};

/// A visitor session request, after the HTTP layer checked the identity HMAC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewVisitor {
    /// The site's id for the visitor, only when its HMAC verified: an unverified identifier
    /// is never used, so nobody can claim another visitor's history.
    pub verified_identifier: Option<VisitorIdentifier>,
    /// The browser's user agent.
    pub user_agent: Option<UserAgent>,
    /// Coarse location.
    pub location_data: Metadata,
}

/// A new agent account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAdmin {
    /// Login email.
    pub email: Email,
    /// Display name.
    pub name: DisplayName,
    /// PHC-format password hash (argon2id).
    pub password_hash: String,
    /// What they may do.
    pub permissions: Permissions,
}

impl ChatEngine {
    /// Finds or creates the visitor for a widget session: a verified identifier finds the
    /// same visitor again; otherwise a new visitor is created.
    pub async fn create_visitor(&self, principal: &Principal, new: NewVisitor) -> Result<Customer> {
        self.allowed(principal, Action::CreateVisitorSession)?;
        if let Some(identifier) = &new.verified_identifier
            && let Some(known) = self.store.find_customer_by_identifier(identifier).await?
        {
            return Ok(known);
        }
        let customer = Customer {
            id: CustomerId::new(),
            verified: new.verified_identifier.is_some(),
            identifier: new.verified_identifier,
            user_agent: new.user_agent,
            location_data: Metadata::parse(new.location_data.into(), &self.config.limits)?,
            name: None,
            first_seen: now(),
            blocked_at: None,
            contact: None,
            last_seen: None,
        };
        match self.store.create_customer(&customer).await {
            // Two first visits with one identifier raced: both get the one that won.
            Err(Error::AlreadyExists(_)) if customer.identifier.is_some() => {
                let identifier = customer
                    .identifier
                    .as_ref()
                    .ok_or(Error::NotFound("customer"))?;
                self.store
                    .find_customer_by_identifier(identifier)
                    .await?
                    .ok_or(Error::NotFound("customer"))
            }
            Err(error) => Err(error),
            Ok(()) => Ok(customer),
        }
    }

    /// A visitor record: visitors see their own, agents see any.
    pub async fn get_customer(&self, principal: &Principal, id: CustomerId) -> Result<Customer> {
        let allowed = match principal {
            Principal::Visitor(me) => *me == id,
            _ => self.allowed(principal, Action::ViewVisitors).is_ok(),
        };
        if matches!(principal, Principal::Anonymous) {
            return Err(Error::Unauthenticated);
        }
        let customer = self.store.get_customer(id).await?.filter(|_| allowed);
        customer.ok_or(Error::NotFound("customer"))
    }

    /// Blocks a visitor (permission `manage_conversations`): its sessions are refused from
    /// now on with `VisitorBlocked`, so nothing it sends is stored, and its open connections
    /// close. Blocking a blocked visitor keeps the first time.
    pub async fn block_visitor(&self, principal: &Principal, id: CustomerId) -> Result<Customer> {
        self.allowed(principal, Action::BlockVisitors)?;
        let current = self
            .store
            .get_customer(id)
            .await?
            .ok_or(Error::NotFound("customer"))?;
        let customer = match current.blocked_at {
            Some(_) => current,
            None => self.store.set_customer_blocked(id, Some(now())).await?,
        };
        let sessions = Revoked::Visitor(id);
        self.publish(Topic::Sessions, Signal::Revoked { sessions })
            .await;
        Ok(customer)
    }

    /// Unblocks a visitor: its sessions work again.
    pub async fn unblock_visitor(&self, principal: &Principal, id: CustomerId) -> Result<Customer> {
        self.allowed(principal, Action::BlockVisitors)?;
        self.store.set_customer_blocked(id, None).await
    }

    /// The blocked visitors, most recently blocked first (agents).
    pub async fn blocked_visitors(&self, principal: &Principal) -> Result<Vec<Customer>> {
        self.allowed(principal, Action::ViewVisitors)?;
        self.store.blocked_customers().await
    }

    /// Creates an agent (permission `manage_admins`, or the system for the first one).
    pub async fn create_admin(&self, principal: &Principal, new: NewAdmin) -> Result<Admin> {
        self.allowed(principal, Action::ManageAdmins)?;
        let admin = Admin {
            id: AdminId::new(),
            email: new.email,
            name: new.name,
            password_hash: new.password_hash,
            permissions: new.permissions,
            created_at: now(),
            disabled: false,
            capacity: None,
            external_id: None,
            host_synced_at: None,
        };
        self.store.create_admin(&admin).await?;
        Ok(admin)
    }

    /// The calling agent's own record (`PermissionDenied` for anyone else).
    pub async fn own_admin(&self, principal: &Principal) -> Result<Admin> {
        let Principal::Admin { id, .. } = principal else {
            return Err(Error::PermissionDenied("only agents have an agent record"));
        };
        self.store
            .get_admin(*id)
            .await?
            .ok_or(Error::Unauthenticated)
    }

    /// All agents.
    pub async fn list_admins(&self, principal: &Principal) -> Result<Vec<Admin>> {
        self.allowed(principal, Action::ManageAdmins)?;
        self.store.list_admins().await
    }

    /// Changes what `changes` names of an agent, atomically, in one write (permission
    /// `manage_admins`, or the system). A new password or disabling ends the agent's
    /// sessions; changed permissions make its live connections re-decide. Agents cannot
    /// disable themselves.
    pub async fn update_admin(
        &self,
        principal: &Principal,
        id: AdminId,
        changes: AdminChanges,
    ) -> Result<Admin> {
        self.allowed(principal, Action::ManageAdmins)?;
        if changes.disabled == Some(true)
            && matches!(principal, Principal::Admin { id: me, .. } if *me == id)
        {
            return Err(Error::PermissionDenied("agents cannot disable themselves"));
        }
        if let Some(capacity) = changes.capacity {
            crate::assignment::check_capacity(capacity)?;
        }
        let admin = self.store.update_admin(id, &changes).await?;
        // A host's answer older than the one the agent follows was not applied (the store
        // decided it): nothing to announce or record.
        if changes.is_stale_for(&admin) {
            return Ok(admin);
        }
        if changes.ends_sessions() {
            self.end_admin_sessions(id).await?;
        } else if changes.permissions.is_some() {
            let signal = Signal::AccessChanged { admin_id: id };
            self.publish(Topic::Sessions, signal).await;
        }
        // Recorded once the change took effect everywhere: a failed record never leaves
        // an agent with access it lost.
        let by = principal.actor().unwrap_or(Actor::System);
        if let Some(permissions) = changes.permissions {
            let action = AuditAction::PermissionsChanged {
                admin: id,
                permissions,
            };
            self.record(by, action).await?;
        }
        if changes.disabled == Some(true) {
            self.record(by, AuditAction::AdminDisabled { admin: id })
                .await?;
        }
        Ok(admin)
    }

    /// Changes an agent's permissions ([`update_admin`](Self::update_admin)).
    pub async fn set_admin_permissions(
        &self,
        principal: &Principal,
        id: AdminId,
        permissions: Permissions,
    ) -> Result<Admin> {
        let changes = AdminChanges {
            permissions: Some(permissions),
            ..AdminChanges::default()
        };
        self.update_admin(principal, id, changes).await
    }

    /// Replaces an agent's password hash and ends their sessions
    /// ([`update_admin`](Self::update_admin)).
    pub async fn set_admin_password(
        &self,
        principal: &Principal,
        id: AdminId,
        password_hash: String,
    ) -> Result<Admin> {
        let changes = AdminChanges {
            password_hash: Some(password_hash),
            ..AdminChanges::default()
        };
        self.update_admin(principal, id, changes).await
    }

    /// Disables (or re-enables) an agent ([`update_admin`](Self::update_admin)).
    pub async fn set_admin_disabled(
        &self,
        principal: &Principal,
        id: AdminId,
        disabled: bool,
    ) -> Result<Admin> {
        let changes = AdminChanges {
            disabled: Some(disabled),
            ..AdminChanges::default()
        };
        self.update_admin(principal, id, changes).await
    }

    /// The agent with this email, disabled or not (permission `manage_admins`, or the
    /// system: the server's admin commands).
    pub async fn find_admin(&self, principal: &Principal, email: &Email) -> Result<Option<Admin>> {
        self.allowed(principal, Action::ManageAdmins)?;
        self.store.find_admin_by_email(email).await
    }

    /// The agent with this email, for the login check (which the HTTP layer does with the
    /// password hash). Disabled agents are not found.
    pub async fn find_admin_for_login(&self, email: &Email) -> Result<Option<Admin>> {
        Ok(self
            .store
            .find_admin_by_email(email)
            .await?
            .filter(|admin| !admin.disabled))
    }

    /// Stores a session for a token whose hash the caller computed.
    pub async fn open_session(
        &self,
        subject: SessionSubject,
        token_hash: TokenHash,
        ttl: Duration,
    ) -> Result<Session> {
        self.open_session_until(subject, token_hash, now() + ttl)
            .await
    }

    /// Stores a session, for a token whose hash the caller computed, that ends at
    /// `expires_at`.
    pub async fn open_session_until(
        &self,
        subject: SessionSubject,
        token_hash: TokenHash,
        expires_at: chrono::DateTime<Utc>,
    ) -> Result<Session> {
        let session = Session {
            token_hash,
            subject,
            created_at: now(),
            expires_at,
        };
        self.store.create_session(&session).await?;
        if let SessionSubject::Admin(admin) = subject {
            self.record(Actor::Admin(admin), AuditAction::SignedIn)
                .await?;
        }
        Ok(session)
    }

    /// The principal behind a token hash. Unknown, expired and revoked tokens, and tokens
    /// of disabled agents, are `Unauthenticated`; tokens of blocked visitors are
    /// `VisitorBlocked`.
    pub async fn authenticate(&self, token_hash: &TokenHash) -> Result<Principal> {
        let session = self
            .store
            .get_session(token_hash)
            .await?
            .ok_or(Error::Unauthenticated)?;
        if session.expires_at <= Utc::now() {
            self.store.delete_session(token_hash).await?;
            return Err(Error::Unauthenticated);
        }
        match session.subject {
            SessionSubject::Visitor(id) => match self.store.get_customer(id).await? {
                Some(customer) if customer.blocked_at.is_some() => Err(Error::VisitorBlocked),
                Some(_) => Ok(Principal::Visitor(id)),
                None => Err(Error::Unauthenticated),
            },
            SessionSubject::Admin(id) => match self.store.get_admin(id).await? {
                Some(admin) if !admin.disabled => Ok(Principal::Admin {
                    id,
                    permissions: admin.permissions,
                }),
                _ => Err(Error::Unauthenticated),
            },
        }
    }

    /// When the session of a token hash expires (`Unauthenticated` if there is none), so
    /// live connections can end with it.
    pub async fn session_expires_at(
        &self,
        token_hash: &TokenHash,
    ) -> Result<chrono::DateTime<Utc>> {
        let session = self
            .store
            .get_session(token_hash)
            .await?
            .ok_or(Error::Unauthenticated)?;
        Ok(session.expires_at)
    }

    /// Ends a session (logout) and tells live connections using it. Returns whether it
    /// existed.
    pub async fn revoke_session(&self, token_hash: &TokenHash) -> Result<bool> {
        let existed = self.store.delete_session(token_hash).await?;
        let sessions = Revoked::Token(*token_hash);
        self.publish(Topic::Sessions, Signal::Revoked { sessions })
            .await;
        Ok(existed)
    }

    /// Ended sessions and changed permissions, for live connections that must close or
    /// re-decide with them.
    pub async fn subscribe_revocations(&self) -> Result<Subscription> {
        self.broadcaster.subscribe(Topic::Sessions).await
    }

    /// Deletes an agent's sessions and tells live connections using them.
    async fn end_admin_sessions(&self, id: AdminId) -> Result<()> {
        self.store.delete_admin_sessions(id).await?;
        self.publish(
            Topic::Sessions,
            Signal::Revoked {
                sessions: Revoked::Admin(id),
            },
        )
        .await;
        Ok(())
    }
}
