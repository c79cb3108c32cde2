//! Starting, listing, reading, assigning, closing and deleting conversations.

use std::net::IpAddr;

use crate::accounts::ConversationScope;
use crate::authz::{Action, Principal};
use crate::engine::{ChatEngine, now, page_limit, redact_for};
use crate::error::{Error, Result};
use crate::ids::{AdminId, ConversationId, CustomerId, LabelId};
use crate::log::{self, Command, NewConversation};
use crate::model::{Actor, Conversation, Participant, UserRef};
use crate::status::ConversationStatus;
use crate::store::{ConversationPage, ConversationQuery, ListCursor, ListScope};
use crate::values::Metadata;

/// Default and largest list page.
const LIST_DEFAULT: usize = 20;
const LIST_MAX: usize = 100;

/// A visitor starts a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartConversation {
    /// Embedder data (validated against the metadata cap).
    pub metadata: Metadata,
    /// The visitor's address as the HTTP layer saw it.
    pub customer_ip: Option<IpAddr>,
}

/// A list request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRequest {
    /// Only this status.
    pub status: Option<ConversationStatus>,
    /// Only conversations with the label of this title (ignoring case); agents only.
    pub label: Option<String>,
    /// Continue after this cursor.
    pub after: Option<ListCursor>,
    /// Page size (default 20, at most 100).
    pub limit: Option<usize>,
}

impl ChatEngine {
    /// A visitor starts a conversation (status `waiting`, seq 1 = `Created`).
    pub async fn start_conversation(
        &self,
        principal: &Principal,
        request: StartConversation,
    ) -> Result<Conversation> {
        self.allowed(principal, Action::CreateConversation)?;
        self.in_good_standing(principal, Action::CreateConversation)
            .await?;
        let Principal::Visitor(customer_id) = *principal else {
            return Err(Error::PermissionDenied("only visitors start conversations"));
        };
        let metadata = Metadata::parse(request.metadata.into(), &self.config.limits)?;
        let new = NewConversation {
            id: ConversationId::new(),
            customer_id,
            customer_ip: request.customer_ip,
            metadata,
        };
        let commit = log::plan_create(new, now());
        self.store.create_conversation(&commit).await?;
        self.announce(&commit).await;
        Ok(commit.conversation)
    }

    /// One conversation, if the principal may read it (else `NotFound`, whichever the reason).
    pub async fn get_conversation(
        &self,
        principal: &Principal,
        id: ConversationId,
    ) -> Result<Conversation> {
        let mut conversation = self
            .authorized(principal, Action::ReadConversation, id)
            .await?;
        redact_for(principal, &mut conversation);
        Ok(conversation)
    }

    /// Its participants.
    pub async fn participants(
        &self,
        principal: &Principal,
        id: ConversationId,
    ) -> Result<Vec<Participant>> {
        self.authorized(principal, Action::ReadConversation, id)
            .await?;
        self.store.participants(id).await
    }

    /// The conversations the principal may read, newest activity first, with the principal's
    /// unread figures.
    pub async fn list_conversations(
        &self,
        principal: &Principal,
        request: ListRequest,
    ) -> Result<ConversationPage> {
        self.allowed(principal, Action::ListConversations)?;
        let scope = self.list_scope(principal)?;
        let label = match &request.label {
            Some(title) => {
                self.allowed(principal, Action::ListLabels)?;
                Some(self.label_id(title).await?)
            }
            None => None,
        };
        let query = ConversationQuery {
            scope,
            status: request.status,
            label,
            reader: principal.user(),
            after: request.after,
            limit: page_limit(request.limit, LIST_DEFAULT, LIST_MAX)?,
        };
        let mut page = self.store.list_conversations(&query).await?;
        for item in &mut page.items {
            redact_for(principal, &mut item.conversation);
        }
        Ok(page)
    }

    /// The conversations `principal` may read, as a list scope: a visitor's own, a
    /// restricted agent's assigned ones, or all.
    pub(crate) fn list_scope(&self, principal: &Principal) -> Result<ListScope> {
        Ok(match *principal {
            Principal::Visitor(customer) => ListScope::Customer(customer),
            Principal::Admin { id, permissions }
                if permissions.scope == ConversationScope::Assigned =>
            {
                ListScope::AssignedTo(id)
            }
            Principal::Admin { .. } | Principal::System => ListScope::All,
            Principal::Anonymous => return Err(Error::Unauthenticated),
        })
    }

    /// An agent joins (takes part in) a conversation; a waiting one becomes active.
    pub async fn join_conversation(
        &self,
        principal: &Principal,
        id: ConversationId,
    ) -> Result<Conversation> {
        self.membership(principal, id, |user| Command::Join { user })
            .await
    }

    /// An agent stops taking part in a conversation.
    pub async fn leave_conversation(
        &self,
        principal: &Principal,
        id: ConversationId,
    ) -> Result<Conversation> {
        self.membership(principal, id, |user| Command::Leave { user })
            .await
    }

    /// An agent closes or reopens a conversation.
    pub async fn set_status(
        &self,
        principal: &Principal,
        id: ConversationId,
        to: ConversationStatus,
    ) -> Result<Conversation> {
        self.authorized(principal, Action::ChangeStatus, id).await?;
        let by = principal.actor().ok_or(Error::Unauthenticated)?;
        Ok(self
            .commit(id, Command::SetStatus { to, by })
            .await?
            .conversation)
    }

    /// An agent assigns the conversation to an enabled agent, or unassigns it.
    pub async fn assign(
        &self,
        principal: &Principal,
        id: ConversationId,
        assignee: Option<AdminId>,
    ) -> Result<Conversation> {
        self.authorized(principal, Action::Assign, id).await?;
        if let Some(admin) = assignee {
            let target = self.store.get_admin(admin).await?;
            if target.is_none_or(|a| a.disabled) {
                return Err(Error::NotFound("admin"));
            }
        }
        let by = principal.actor().ok_or(Error::Unauthenticated)?;
        Ok(self
            .commit(id, Command::Assign { assignee, by })
            .await?
            .conversation)
    }

    /// Deletes a conversation and everything in it.
    pub async fn delete_conversation(
        &self,
        principal: &Principal,
        id: ConversationId,
    ) -> Result<()> {
        self.authorized(principal, Action::DeleteConversation, id)
            .await?;
        let by = principal.actor().unwrap_or(Actor::System);
        self.remove_conversation(id, None, by).await?;
        Ok(())
    }
}

impl ChatEngine {
    /// An agent joins or leaves: `command` is built for the agent behind the principal.
    async fn membership(
        &self,
        principal: &Principal,
        id: ConversationId,
        command: impl FnOnce(UserRef) -> Command,
    ) -> Result<Conversation> {
        self.authorized(principal, Action::JoinRoom, id).await?;
        let Principal::Admin { id: admin, .. } = *principal else {
            return Err(Error::PermissionDenied("only agents join conversations"));
        };
        let commit = self.commit(id, command(UserRef::Admin(admin))).await?;
        Ok(commit.conversation)
    }
}

impl ChatEngine {
    /// The visitor's conversations with `status` and `label` that `admits` keeps, newest
    /// activity first, read page by page until at least `limit` are found.
    pub(crate) async fn visitor_conversations(
        &self,
        visitor: CustomerId,
        status: Option<ConversationStatus>,
        label: Option<LabelId>,
        limit: usize,
        admits: impl Fn(&Conversation) -> bool,
    ) -> Result<Vec<Conversation>> {
        let mut found = Vec::new();
        let mut query = ConversationQuery {
            scope: ListScope::Customer(visitor),
            status,
            label,
            reader: None,
            after: None,
            limit: LIST_MAX,
        };
        loop {
            let page = self.store.list_conversations(&query).await?;
            let items = page.items.into_iter().map(|item| item.conversation);
            found.extend(items.filter(|conversation| admits(conversation)));
            match page.next {
                Some(next) if found.len() < limit => query.after = Some(next),
                _ => return Ok(found),
            }
        }
    }
}
