//! Planning changes to a message already in the log: its sender edits it or deletes it
//! within a window, an agent with the permission deletes or redacts any. The message is
//! revised in place (its `MessageCreated` event too) and the change is an event of its
//! own; the text it had goes to the audit trail, except that a redaction erases it there
//! as well.

use chrono::Duration;

use crate::audit::AuditAction;
use crate::error::{Conflict, Error, Result};
use crate::event::EventKind;
use crate::ids::MessageId;
use crate::log::{Builder, LogState};
use crate::model::{Actor, Message};
use crate::values::MessageBody;

/// A delete, as [`plan_delete`] takes it.
pub(super) struct Deletion {
    pub id: MessageId,
    pub by: Actor,
    pub any_time: bool,
    pub window: Duration,
    pub redaction: Option<String>,
}

/// The message the command names, as it is now.
fn target(state: &LogState, id: MessageId) -> Result<Message> {
    state
        .target
        .clone()
        .filter(|message| message.id == id)
        .ok_or(Error::NotFound("message"))
}

/// Refuses a change by someone other than the sender, or after the window.
fn sender_in_window(
    builder: &Builder,
    message: &Message,
    by: Actor,
    window: Duration,
) -> Result<()> {
    if message.sender != by {
        return Err(Error::PermissionDenied(
            "only its sender may change a message",
        ));
    }
    if builder.at - message.timestamp > window {
        return Err(Conflict::EditWindowPassed {
            minutes: window.num_minutes(),
        }
        .into());
    }
    Ok(())
}

pub(super) fn plan_edit(
    builder: &mut Builder,
    state: &LogState,
    id: MessageId,
    body: &MessageBody,
    by: Actor,
    window: Duration,
) -> Result<()> {
    let mut message = target(state, id)?;
    if message.is_deleted() {
        return Err(Conflict::MessageDeleted.into());
    }
    sender_in_window(builder, &message, by, window)?;
    let original = std::mem::replace(&mut message.body, body.clone());
    message.edited_at = Some(builder.at);
    builder.push(EventKind::MessageUpdated {
        message: message.clone(),
        by,
    });
    builder.audit(
        by,
        AuditAction::MessageEdited {
            conversation: message.conversation_id,
            message: id,
            original: Some(original.into()),
        },
    );
    builder.commit.revised = Some(message);
    Ok(())
}

pub(super) fn plan_delete(
    builder: &mut Builder,
    state: &LogState,
    deletion: Deletion,
) -> Result<()> {
    let Deletion {
        id,
        by,
        any_time,
        window,
        redaction,
    } = deletion;
    let mut message = target(state, id)?;
    let already = message.is_deleted();
    if already && redaction.is_none() {
        return Err(Conflict::MessageDeleted.into());
    }
    if !any_time {
        sender_in_window(builder, &message, by, window)?;
    }
    let original = std::mem::replace(&mut message.body, MessageBody::erased());
    builder.commit.erased_files = message.attachments.drain(..).map(|a| a.id).collect();
    message.deleted_at = message.deleted_at.or(Some(builder.at));
    builder.push(EventKind::MessageDeleted {
        message: message.clone(),
        by,
        redaction: redaction.clone(),
    });
    let conversation = message.conversation_id;
    match redaction {
        Some(reason) => {
            builder.audit(
                by,
                AuditAction::MessageRedacted {
                    conversation,
                    message: id,
                    reason,
                },
            );
            builder.commit.redacted = Some(id);
        }
        None => builder.audit(
            by,
            AuditAction::MessageDeleted {
                conversation,
                message: id,
                original: (!already).then(|| original.into()),
            },
        ),
    }
    builder.commit.revised = Some(message);
    Ok(())
}
