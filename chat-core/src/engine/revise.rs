//! Changing messages after they were sent: the sender edits or deletes its own within the
//! edit window, an agent with `delete_messages` deletes or redacts any; and the audit log,
//! for agents with `view_audit`.

use crate::audit::{self, AuditAction, AuditEntry};
use crate::authz::{Action, Principal};
use crate::engine::{ChatEngine, audience, now, page_limit};
use crate::error::{Error, InvalidInput, Result};
use crate::event::Audience;
use crate::ids::{AuditId, MessageId};
use crate::log::Command;
use crate::model::{Actor, Message};
use crate::values::MessageBody;

/// Default page size of the audit log.
pub const AUDIT_DEFAULT: usize = 50;

/// Longest redaction reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

impl ChatEngine {
    /// The sender changes its message's text, within the edit window. The message is
    /// changed in place (history and search show the new text; `edited_at` is set), a
    /// `messageUpdated` event tells the room, and the old text goes to the audit log.
    pub async fn edit_message(
        &self,
        principal: &Principal,
        id: MessageId,
        body: MessageBody,
    ) -> Result<Message> {
        let message = self.readable_message(principal, id).await?;
        self.authorized(principal, Action::ChangeOwnMessage, message.conversation_id)
            .await?;
        let command = Command::EditMessage {
            seq: message.seq,
            id,
            body,
            by: actor(principal)?,
            window: self.config.edit_window,
        };
        self.revise(message, command).await
    }

    /// Deletes a message: its sender within the edit window, or an agent with
    /// `delete_messages` at any time. Its text is gone from history and search (the
    /// message stays, with `deleted_at`), its files are no longer served, a
    /// `messageDeleted` event tells the room, and the text goes to the audit log.
    pub async fn delete_message(&self, principal: &Principal, id: MessageId) -> Result<Message> {
        let message = self.readable_message(principal, id).await?;
        let any_time = self
            .authorized(principal, Action::DeleteAnyMessage, message.conversation_id)
            .await
            .is_ok();
        if !any_time {
            self.authorized(principal, Action::ChangeOwnMessage, message.conversation_id)
                .await?;
        }
        let command = Command::DeleteMessage {
            seq: message.seq,
            id,
            by: actor(principal)?,
            any_time,
            window: self.config.edit_window,
            redaction: None,
        };
        self.revise(message, command).await
    }

    /// Redacts a message (an agent with `delete_messages`): deletes it and erases its text
    /// from the audit log too, keeping who redacted it, when and why.
    pub async fn redact_message(
        &self,
        principal: &Principal,
        id: MessageId,
        reason: &str,
    ) -> Result<Message> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(InvalidInput::new(
                "reason",
                format!("must be 1 to {MAX_REASON_CHARS} characters"),
            )
            .into());
        }
        let message = self.readable_message(principal, id).await?;
        self.authorized(principal, Action::DeleteAnyMessage, message.conversation_id)
            .await?;
        let command = Command::DeleteMessage {
            seq: message.seq,
            id,
            by: actor(principal)?,
            any_time: true,
            window: self.config.edit_window,
            redaction: Some(reason.to_owned()),
        };
        self.revise(message, command).await
    }

    /// The audit log, newest first (agents with `view_audit`).
    pub async fn audit_log(
        &self,
        principal: &Principal,
        before: Option<AuditId>,
        limit: Option<usize>,
    ) -> Result<Vec<AuditEntry>> {
        self.allowed(principal, Action::ViewAudit)?;
        let limit = page_limit(limit, AUDIT_DEFAULT, audit::MAX_PAGE)?;
        self.store.audit_log(before, limit).await
    }

    /// Records an action that is not a conversation write (those are audited with it).
    pub(crate) async fn record(&self, actor: Actor, action: AuditAction) -> Result<()> {
        self.store
            .record_audit(&AuditEntry::new(now(), actor, action))
            .await
    }

    /// The message, if `principal` may read it (a visitor never reaches a private note):
    /// "not yours" and "does not exist" are the same `NotFound`.
    async fn readable_message(&self, principal: &Principal, id: MessageId) -> Result<Message> {
        let missing = || Error::NotFound("message");
        let message = self.store.find_message(id).await?.ok_or_else(missing)?;
        match self
            .authorized(principal, Action::ReadConversation, message.conversation_id)
            .await
        {
            Err(Error::NotFound(_)) => return Err(missing()),
            other => other?,
        };
        if message.private && audience(principal) == Audience::Customer {
            return Err(missing());
        }
        Ok(message)
    }

    /// Appends a change to `message` and returns it as it is after.
    async fn revise(&self, message: Message, command: Command) -> Result<Message> {
        let commit = self.commit(message.conversation_id, command).await?;
        commit.revised.ok_or(Error::NotFound("message"))
    }
}

fn actor(principal: &Principal) -> Result<Actor> {
    principal.actor().ok_or(Error::Unauthenticated)
}
