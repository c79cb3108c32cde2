//! Workspace labels and the labels on a conversation.

use crate::authz::{Action, Principal};
use crate::engine::{ChatEngine, now};
use crate::error::{Conflict, Error, Result};
use crate::ids::{ConversationId, LabelId};
use crate::labels::{self, Label, LabelChanges};
use crate::log::Command;
use crate::model::Conversation;
use crate::values::{LabelColor, LabelTitle};

impl ChatEngine {
    /// Every label of the workspace, in title order (agents only).
    pub async fn list_labels(&self, principal: &Principal) -> Result<Vec<Label>> {
        self.allowed(principal, Action::ListLabels)?;
        self.store.list_labels().await
    }

    /// Creates a label; `AlreadyExists` if its title is taken (ignoring case).
    pub async fn create_label(
        &self,
        principal: &Principal,
        title: LabelTitle,
        color: Option<LabelColor>,
    ) -> Result<Label> {
        self.allowed(principal, Action::ManageLabels)?;
        let label = Label {
            id: LabelId::new(),
            title,
            color,
            created_at: now(),
        };
        self.store.create_label(&label).await?;
        Ok(label)
    }

    /// Renames or recolours a label.
    pub async fn update_label(
        &self,
        principal: &Principal,
        id: LabelId,
        changes: LabelChanges,
    ) -> Result<Label> {
        self.allowed(principal, Action::ManageLabels)?;
        self.store.update_label(id, &changes).await
    }

    /// Deletes a label: it shows on no conversation any more.
    pub async fn delete_label(&self, principal: &Principal, id: LabelId) -> Result<()> {
        self.allowed(principal, Action::ManageLabels)?;
        self.store.delete_label(id).await
    }

    /// The labels on a conversation, in title order.
    pub async fn conversation_labels(
        &self,
        principal: &Principal,
        id: ConversationId,
    ) -> Result<Vec<Label>> {
        self.allowed(principal, Action::ListLabels)?;
        let conversation = self
            .authorized(principal, Action::ReadConversation, id)
            .await?;
        self.labels_on(&conversation).await
    }

    /// Replaces a conversation's labels with the labels titled `titles` (ignoring case).
    /// An unknown title is `InvalidInput`, and nothing changes. The change is an event in
    /// the conversation's log; the same set again changes nothing and appends nothing.
    pub async fn set_conversation_labels(
        &self,
        principal: &Principal,
        id: ConversationId,
        titles: &[String],
    ) -> Result<(Conversation, Vec<Label>)> {
        self.authorized(principal, Action::LabelConversation, id)
            .await?;
        let all = self.store.list_labels().await?;
        let wanted = labels::resolve_titles(&all, titles)?;
        let by = principal.actor().ok_or(Error::Unauthenticated)?;
        let command = Command::SetLabels { labels: wanted, by };
        self.relabel(id, &all, command).await
    }

    /// Puts the labels titled `add` on a conversation and takes those titled `remove` off
    /// (ignoring case), against its labels as they are when written, so concurrent changes
    /// to different labels all stick. An unknown title is `InvalidInput`, and nothing
    /// changes; a label in both lists is taken off.
    pub async fn change_conversation_labels(
        &self,
        principal: &Principal,
        id: ConversationId,
        add: &[String],
        remove: &[String],
    ) -> Result<(Conversation, Vec<Label>)> {
        self.authorized(principal, Action::LabelConversation, id)
            .await?;
        let all = self.store.list_labels().await?;
        let add = labels::resolve_titles(&all, add)?;
        let remove = labels::resolve_titles(&all, remove)?;
        let by = principal.actor().ok_or(Error::Unauthenticated)?;
        let command = Command::ChangeLabels { add, remove, by };
        self.relabel(id, &all, command).await
    }

    /// Appends a label command; returns the conversation (as stored now, when the command
    /// changed nothing) and its labels among `all`.
    async fn relabel(
        &self,
        id: ConversationId,
        all: &[Label],
        command: Command,
    ) -> Result<(Conversation, Vec<Label>)> {
        let conversation = match self.commit(id, command).await {
            Ok(commit) => commit.conversation,
            Err(Error::Conflict(Conflict::LabelsUnchanged)) => self
                .store
                .get_conversation(id)
                .await?
                .ok_or(Error::NotFound("conversation"))?,
            Err(error) => return Err(error),
        };
        let shown = labels::labels_of(all, &conversation.labels);
        Ok((conversation, shown))
    }

    /// The labels that `conversation` carries and that still exist, in title order.
    async fn labels_on(&self, conversation: &Conversation) -> Result<Vec<Label>> {
        let all = self.store.list_labels().await?;
        Ok(labels::labels_of(&all, &conversation.labels))
    }

    /// The id of the label titled `title` (ignoring case); `InvalidInput` if none is.
    pub(crate) async fn label_id(&self, title: &str) -> Result<LabelId> {
        let all = self.store.list_labels().await?;
        let ids = labels::resolve_titles(&all, &[title.to_owned()])?;
        ids.first().copied().ok_or(Error::NotFound("label"))
    }
}
