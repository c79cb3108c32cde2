//! Sign-in by the host application: someone the host vouches for becomes an agent or a
//! visitor, provisioned on first sight, keyed by the host's id, and kept to the host's
//! answer (name, email, permissions) on every sign-in, the latest issued winning.

use chrono::{DateTime, SubsecRound, Utc};

use crate::accounts::{Admin, AdminChanges, Customer, Permissions, SessionSubject, TokenHash};
use crate::authz::Principal;
use crate::email::EmailContact;
use crate::engine::{ChatEngine, NewVisitor, now};
use crate::error::{Error, Result};
use crate::ids::AdminId;
use crate::values::{DisplayName, Email, ExternalId, VisitorIdentifier};

/// Who the host application says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalIdentity {
    /// One of the host's staff.
    Agent(ExternalAgent),
    /// One of the host's signed-in users, as a visitor.
    Visitor(ExternalVisitor),
}

/// An agent as the host knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalAgent {
    /// The host's id for it.
    pub id: ExternalId,
    /// Its name.
    pub name: DisplayName,
    /// Its email (unique among agents).
    pub email: Email,
    /// What it may do; `None` keeps what it has (a new agent gets the defaults), so its
    /// permissions can then be managed in the chat.
    pub permissions: Option<Permissions>,
    /// When the host issued this answer (a JWT's `iat`): an answer issued before the one
    /// the agent follows changes nothing, so an older token never undoes a demotion.
    pub issued_at: DateTime<Utc>,
}

/// A visitor as the host knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalVisitor {
    /// The host's id for it: the same visitor as one the widget identified with this
    /// `identifier` and its HMAC.
    pub id: VisitorIdentifier,
    /// Its name, if the host gives one.
    pub name: Option<DisplayName>,
    /// Where offline replies go, if the host gives an address.
    pub email: Option<Email>,
}

impl ChatEngine {
    /// Signs in someone the host application vouches for: provisions or updates the agent
    /// or visitor, then opens a session under `token_hash` (the host's credential, hashed
    /// by the caller) until `expires_at`, so every later request and live connection with
    /// that credential is decided like a built-in session's. A disabled agent is
    /// `Unauthenticated` and a blocked visitor `VisitorBlocked`, with no session opened.
    pub async fn sign_in_external(
        &self,
        identity: &ExternalIdentity,
        token_hash: TokenHash,
        expires_at: DateTime<Utc>,
    ) -> Result<Principal> {
        if expires_at <= now() {
            return Err(Error::Unauthenticated);
        }
        let subject = match identity {
            ExternalIdentity::Agent(agent) => {
                // Never later than now (a fast host clock must not freeze the agent), and
                // to the microsecond, as every store keeps it.
                let issued_at = agent.issued_at.min(now()).trunc_subsecs(6);
                let agent = ExternalAgent {
                    issued_at,
                    ..agent.clone()
                };
                SessionSubject::Admin(self.provision_agent(&agent).await?)
            }
            ExternalIdentity::Visitor(visitor) => {
                SessionSubject::Visitor(self.provision_visitor(visitor).await?.id)
            }
        };
        match self
            .open_session_until(subject, token_hash, expires_at)
            .await
        {
            // The same credential signed in twice at once: one session serves both.
            Ok(_) | Err(Error::AlreadyExists(_)) => {}
            Err(error) => return Err(error),
        }
        // Decided like any session: an agent disabled (or a visitor blocked) since the
        // checks above is refused here, and its session goes, so re-enabling it later
        // does not revive this credential.
        let decided = self.authenticate(&token_hash).await;
        if let Err(Error::Unauthenticated | Error::VisitorBlocked) = decided {
            self.store.delete_session(&token_hash).await?;
        }
        decided
    }

    /// The agent for `agent`, created on first sight, with its name, email and permissions
    /// following the host's. An email held by another agent (one with a password, or
    /// another host id's) is `AlreadyExists`: the host never takes over an account.
    async fn provision_agent(&self, agent: &ExternalAgent) -> Result<AdminId> {
        let admin = match self.find_external_agent(agent).await? {
            Some(admin) => admin,
            None => match self.create_external_agent(agent).await {
                // Two first sign-ins raced: the other one created it.
                Err(Error::AlreadyExists(_)) => self
                    .find_external_agent(agent)
                    .await?
                    .ok_or(Error::AlreadyExists("admin email"))?,
                created => created?,
            },
        };
        if admin.disabled {
            return Err(Error::Unauthenticated);
        }
        let changes = agent.changes_for(&admin);
        if changes.is_empty() || changes.is_stale_for(&admin) || agent.widens_as_old(&admin) {
            return Ok(admin.id);
        }
        let updated = self
            .update_admin(&Principal::System, admin.id, changes.clone())
            .await;
        match updated {
            // The host moved the agent to an email another agent holds: everything else
            // follows, the email stays.
            Err(Error::AlreadyExists(_)) if changes.email.is_some() => {
                tracing::warn!(admin = %admin.id, "an agent's new email from the host is taken; kept the old one");
                let changes = AdminChanges {
                    email: None,
                    ..changes
                };
                self.update_admin(&Principal::System, admin.id, changes)
                    .await?;
            }
            updated => {
                updated?;
            }
        }
        Ok(admin.id)
    }

    /// The agent the host's id names (also when it was created for it since a lookup
    /// missed it); any other agent with its email is `AlreadyExists`.
    async fn find_external_agent(&self, agent: &ExternalAgent) -> Result<Option<Admin>> {
        if let Some(admin) = self.store.find_admin_by_external_id(&agent.id).await? {
            return Ok(Some(admin));
        }
        match self.store.find_admin_by_email(&agent.email).await? {
            Some(admin) if admin.external_id.as_ref() == Some(&agent.id) => Ok(Some(admin)),
            Some(_) => Err(Error::AlreadyExists("admin email")),
            None => Ok(None),
        }
    }

    async fn create_external_agent(&self, agent: &ExternalAgent) -> Result<Admin> {
        let admin = Admin {
            id: AdminId::new(),
            email: agent.email.clone(),
            name: agent.name.clone(),
            // No password: the host signs it in.
            password_hash: String::new(),
            permissions: agent.permissions.unwrap_or_default(),
            created_at: now(),
            disabled: false,
            capacity: None,
            external_id: Some(agent.id.clone()),
            host_synced_at: Some(agent.issued_at),
        };
        self.store.create_admin(&admin).await?;
        Ok(admin)
    }

    /// The visitor for `visitor` (the one with its identifier, or a new one), with its
    /// name and address following the host's.
    async fn provision_visitor(&self, visitor: &ExternalVisitor) -> Result<Customer> {
        let new = NewVisitor {
            verified_identifier: Some(visitor.id.clone()),
            ..NewVisitor::default()
        };
        let mut customer = self.create_visitor(&Principal::Anonymous, new).await?;
        if customer.blocked_at.is_some() {
            return Err(Error::VisitorBlocked);
        }
        if visitor.name.is_some() && customer.name != visitor.name {
            let name = visitor.name.as_ref();
            customer = self.store.set_customer_name(customer.id, name).await?;
        }
        let address = customer.contact.as_ref().map(|contact| &contact.email);
        if let Some(email) = &visitor.email
            && address != Some(email)
        {
            let contact = EmailContact::new(email.clone());
            customer = self
                .store
                .set_customer_contact(customer.id, Some(&contact))
                .await?;
        }
        Ok(customer)
    }
}

impl ExternalAgent {
    /// What differs between the host's answer and the stored agent.
    fn changes_for(&self, admin: &Admin) -> AdminChanges {
        let changes = AdminChanges {
            email: Some(self.email.clone()).filter(|email| *email != admin.email),
            name: Some(self.name.clone()).filter(|name| *name != admin.name),
            permissions: self.permissions.filter(|p| *p != admin.permissions),
            ..AdminChanges::default()
        };
        // Changes carry when their answer was issued, so the store can refuse an older
        // one; a newer answer is recorded even when nothing else differs, so that an older
        // one (a wide token minted before a demotion that changed nothing here) stays older.
        let newer = admin.host_synced_at < Some(self.issued_at);
        AdminChanges {
            host_synced_at: Some(self.issued_at).filter(|_| newer || !changes.is_empty()),
            ..changes
        }
    }

    /// Whether this answer was issued in the same instant as the one the agent follows
    /// (JWTs count in seconds) and would widen its permissions: which of the two came
    /// last is unknown, so the narrower stands.
    fn widens_as_old(&self, admin: &Admin) -> bool {
        admin.host_synced_at == Some(self.issued_at)
            && self
                .permissions
                .is_some_and(|permissions| !admin.permissions.includes(&permissions))
    }
}
