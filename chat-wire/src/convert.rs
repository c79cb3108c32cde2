//! Conversions from chat-core's domain types (the `core` feature, for the server).

use chat_core::accounts::{Admin, ConversationScope, Permissions};
use chat_core::changes::Change;
use chat_core::event::{Event, EventKind};
use chat_core::model::{Actor, Attachment, FileType, Message};

use crate::changes::ChangeDto;
use crate::messages::{AttachmentDto, EventDto, MessageDto, file_url};
use crate::rest::{AdminDto, PermissionsDto, ScopeDto};

impl From<Change> for ChangeDto {
    fn from(change: Change) -> Self {
        Self {
            position: change.position.get(),
            event: change.event.into(),
        }
    }
}

impl From<Message> for MessageDto {
    fn from(message: Message) -> Self {
        let (sender_type, sender_id) = actor_parts(message.sender);
        Self {
            id: message.id.as_uuid(),
            conversation_id: message.conversation_id.as_uuid(),
            seq: message.seq.get(),
            sender_type,
            sender_id,
            content: message.body.into(),
            timestamp: message.timestamp,
            client_timestamp: message.client_timestamp,
            client_message_id: message.client_message_id.map(Into::into),
            private: message.private,
            attachments: message
                .attachments
                .into_iter()
                .map(AttachmentDto::from)
                .collect(),
            edited_at: message.edited_at,
            deleted_at: message.deleted_at,
        }
    }
}

impl From<Attachment> for AttachmentDto {
    fn from(attachment: Attachment) -> Self {
        Self {
            file_url: file_url(attachment.id.as_uuid()),
            id: attachment.id.as_uuid(),
            file_name: attachment.file_name.into(),
            file_type: file_type_name(attachment.file_type).into(),
            content_type: attachment.content_type,
            file_size: attachment.file_size,
            message_id: attachment.message_id.map(|id| id.as_uuid()),
        }
    }
}

impl From<Event> for EventDto {
    fn from(event: Event) -> Self {
        let mut dto = Self {
            conversation_id: event.conversation_id.as_uuid(),
            seq: event.seq.get(),
            timestamp: event.timestamp,
            kind: event.kind.type_name().to_owned(),
            message: None,
            status: None,
            previous_status: None,
            assignee_id: None,
            actor_type: None,
            actor_id: None,
            attachment: None,
            labels_added: None,
            labels_removed: None,
            rating: None,
            comment: None,
            snoozed_until: None,
            redaction: None,
        };
        let actor = match event.kind {
            EventKind::Created { customer_id } => Some(Actor::Customer(customer_id)),
            EventKind::MessageCreated { message } => {
                let sender = message.sender;
                dto.message = Some(message.into());
                Some(sender)
            }
            EventKind::StatusChanged { from, to, by } => {
                (dto.previous_status, dto.status) = (Some(from.to_string()), Some(to.to_string()));
                Some(by)
            }
            EventKind::Assigned { assignee, by } => {
                dto.assignee_id = assignee.map(|a| a.to_string());
                Some(by)
            }
            EventKind::LabelsChanged { added, removed, by } => {
                (dto.labels_added, dto.labels_removed) =
                    (Some(uuids(&added)), Some(uuids(&removed)));
                Some(by)
            }
            EventKind::Snoozed { until, by } => {
                (dto.status, dto.snoozed_until) = (Some("snoozed".into()), until);
                Some(by)
            }
            EventKind::Rated { score, comment, by } => {
                (dto.rating, dto.comment) = (Some(score.get()), comment);
                Some(by)
            }
            EventKind::ParticipantJoined { user } => Some(user.into()),
            EventKind::ParticipantLeft { user } => Some(user.into()),
            EventKind::AttachmentAdded { attachment } => {
                let uploader = attachment.uploader;
                dto.attachment = Some(attachment.into());
                Some(uploader)
            }
            EventKind::MessageUpdated { message, by } => {
                dto.message = Some(message.into());
                Some(by)
            }
            EventKind::MessageDeleted {
                message,
                by,
                redaction,
            } => {
                (dto.message, dto.redaction) = (Some(message.into()), redaction);
                Some(by)
            }
        };
        if let Some(actor) = actor {
            let (kind, id) = actor_parts(actor);
            (dto.actor_type, dto.actor_id) = (Some(kind), id);
        }
        dto
    }
}

impl From<Admin> for AdminDto {
    fn from(admin: Admin) -> Self {
        Self {
            id: admin.id.as_uuid(),
            email: admin.email.into(),
            name: admin.name.into(),
            permissions: admin.permissions.into(),
            disabled: admin.disabled,
            capacity: admin.capacity,
            created_at: admin.created_at,
        }
    }
}

impl From<Permissions> for PermissionsDto {
    fn from(permissions: Permissions) -> Self {
        Self {
            scope: match permissions.scope {
                ConversationScope::All => ScopeDto::All,
                ConversationScope::Assigned => ScopeDto::Assigned,
            },
            manage_conversations: permissions.manage_conversations,
            manage_admins: permissions.manage_admins,
            delete_messages: permissions.delete_messages,
            view_audit: permissions.view_audit,
            manage_visitor_data: permissions.manage_visitor_data,
        }
    }
}

impl From<PermissionsDto> for Permissions {
    fn from(dto: PermissionsDto) -> Self {
        Self {
            scope: match dto.scope {
                ScopeDto::All => ConversationScope::All,
                ScopeDto::Assigned => ConversationScope::Assigned,
            },
            manage_conversations: dto.manage_conversations,
            manage_admins: dto.manage_admins,
            delete_messages: dto.delete_messages,
            view_audit: dto.view_audit,
            manage_visitor_data: dto.manage_visitor_data,
        }
    }
}

/// The wire name of a file type.
pub fn file_type_name(file_type: FileType) -> &'static str {
    match file_type {
        FileType::Image => "image",
        FileType::Document => "document",
    }
}

/// An actor as the wire shows it: its kind (`customer`, `admin`, `system`) and its id.
pub fn actor_parts(actor: Actor) -> (String, Option<String>) {
    let id = match actor {
        Actor::Customer(id) => Some(id.to_string()),
        Actor::Admin(id) => Some(id.to_string()),
        Actor::System => None,
    };
    (actor.kind().as_str().to_owned(), id)
}

fn uuids(ids: &[chat_core::ids::LabelId]) -> Vec<uuid::Uuid> {
    ids.iter().map(|id| id.as_uuid()).collect()
}
