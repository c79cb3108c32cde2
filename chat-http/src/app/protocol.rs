//! The real-time wire contract shared by Socket.IO and the plain WebSocket: client event
//! payloads, server events and how log events become them.

use chat_core::event::{Event, EventKind};
use chat_core::feed::FeedItem;
use chat_core::ids::ConversationId;
use chat_core::model::{Actor, UserRef};
use chat_core::status::ConversationStatus;
use serde_json::{Value, json};

use chat_wire::realtime::{ConversationUpdated, MessageChanged, MessageNew, RatingChange};

use crate::dto::{EventDto, MessageDto};

pub use chat_wire::realtime::{Join, Leave, Read, SendMessage as Send, Typing};

/// An event for a client: its name and JSON object payload.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEvent {
    /// `message:new`, `message:updated`, `message:deleted`, `conversation:updated`,
    /// `typing`, `read`, `presence` or `inbox`.
    pub name: &'static str,
    /// The payload (a JSON object).
    pub payload: Value,
    /// For `message:new`, when the message was stored (the delivery latency metric).
    pub stored_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The client event for a feed item, if the client gets one (its own typing is not echoed).
pub fn from_feed(id: ConversationId, item: FeedItem, me: Option<Actor>) -> Option<ServerEvent> {
    match item {
        FeedItem::Event(event) => Some(from_event(event)),
        FeedItem::Typing { actor, .. } if Some(actor) == me => None,
        FeedItem::Typing { actor, is_typing } => Some(ServerEvent {
            name: "typing",
            payload: json!({"conversationId": id, "senderType": actor.kind().as_str(), "isTyping": is_typing}),
            stored_at: None,
        }),
        FeedItem::Read {
            reader,
            last_read_seq,
        } => Some(ServerEvent {
            name: "read",
            payload: json!({"conversationId": id, "readerType": reader_type(reader), "lastReadSeq": last_read_seq}),
            stored_at: None,
        }),
    }
}

/// A log event as `message:new`, a change to a message as `message:updated` or
/// `message:deleted`, or as `conversation:updated` for every other kind, so that every seq
/// the client may see reaches it. `conversation:updated` says what that event
/// changed, as of its seq (`status` when it set one, `assigneeId` when it assigned), never
/// the conversation as it is when the event happens to be forwarded.
pub fn from_event(event: Event) -> ServerEvent {
    let (conversation_id, seq) = (event.conversation_id.as_uuid(), event.seq.get());
    if let EventKind::MessageUpdated { message, .. } | EventKind::MessageDeleted { message, .. } =
        &event.kind
    {
        let name = match event.kind {
            EventKind::MessageUpdated { .. } => "message:updated",
            _ => "message:deleted",
        };
        let changed = MessageChanged {
            conversation_id,
            seq,
            message: MessageDto::from(message.clone()),
            event: EventDto::from(event),
        };
        return ServerEvent {
            name,
            payload: serde_json::to_value(changed).unwrap_or(Value::Null),
            stored_at: None,
        };
    }
    if let EventKind::MessageCreated { message } = event.kind {
        let stored_at = Some(message.timestamp);
        let message = MessageNew {
            conversation_id,
            seq,
            message: MessageDto::from(message),
        };
        return ServerEvent {
            name: "message:new",
            payload: serde_json::to_value(message).unwrap_or(Value::Null),
            stored_at,
        };
    }
    let mut update = ConversationUpdated {
        conversation_id,
        seq,
        updated_at: event.timestamp,
        status: None,
        snoozed_until: None,
        assignee_id: None,
        rating: None,
        labels_added: None,
        labels_removed: None,
        event: EventDto::empty(),
    };
    match &event.kind {
        EventKind::Created { .. } => {
            update.status = Some(ConversationStatus::Waiting.as_str().into())
        }
        EventKind::StatusChanged { to, .. } => update.status = Some(to.as_str().into()),
        EventKind::Snoozed { until, .. } => {
            update.status = Some(ConversationStatus::Snoozed.as_str().into());
            update.snoozed_until = Some(*until);
        }
        EventKind::Assigned { assignee, .. } => {
            update.assignee_id = Some(assignee.map(|a| a.as_uuid()));
        }
        EventKind::Rated { score, comment, .. } => {
            update.rating = Some(RatingChange {
                rating: score.get(),
                comment: comment.clone(),
            });
        }
        EventKind::LabelsChanged { added, removed, .. } => {
            update.labels_added = Some(added.iter().map(|l| l.as_uuid()).collect());
            update.labels_removed = Some(removed.iter().map(|l| l.as_uuid()).collect());
        }
        _ => {}
    }
    update.event = EventDto::from(event);
    ServerEvent {
        name: "conversation:updated",
        payload: serde_json::to_value(update).unwrap_or(Value::Null),
        stored_at: None,
    }
}

/// `conversation:left`: the server took the connection out of a room it may no longer read.
pub fn left(id: ConversationId, reason: &str) -> ServerEvent {
    ServerEvent {
        name: "conversation:left",
        payload: json!({"conversationId": id, "reason": reason}),
        stored_at: None,
    }
}

fn reader_type(reader: UserRef) -> &'static str {
    match reader {
        UserRef::Customer(_) => "customer",
        UserRef::Admin(_) => "admin",
    }
}

#[cfg(test)]
mod tests {
    use chat_core::event::{Event, EventKind};
    use chat_core::ids::{AdminId, ConversationId, Seq};
    use chat_core::model::Actor;
    use serde_json::{Value, json};

    use super::from_event;

    fn payload(kind: EventKind) -> Value {
        let event = Event {
            conversation_id: ConversationId::new(),
            seq: Seq(4),
            timestamp: chrono::Utc::now(),
            kind,
        };
        let mut payload = from_event(event).payload;
        payload.as_object_mut().expect("an object").remove("event");
        payload
    }

    fn keys(payload: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = payload
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys
    }

    /// What clients read: a snooze without an end and an unassignment say so with `null`;
    /// other events carry no such keys.
    #[test]
    fn conversation_updated_payloads_keep_their_shape() {
        let snoozed = payload(EventKind::Snoozed {
            until: None,
            by: Actor::System,
        });
        assert_eq!(snoozed["snoozedUntil"], Value::Null);
        assert_eq!(snoozed["status"], "snoozed");
        assert_eq!(
            keys(&snoozed),
            [
                "conversationId",
                "seq",
                "snoozedUntil",
                "status",
                "updatedAt"
            ]
        );
        let unassigned = payload(EventKind::Assigned {
            assignee: None,
            by: Actor::System,
        });
        assert_eq!(
            keys(&unassigned),
            ["assigneeId", "conversationId", "seq", "updatedAt"]
        );
        assert_eq!(unassigned["assigneeId"], Value::Null);
        let admin = AdminId::new();
        let assigned = payload(EventKind::Assigned {
            assignee: Some(admin),
            by: Actor::System,
        });
        assert_eq!(assigned["assigneeId"], json!(admin));
        let closed = payload(EventKind::StatusChanged {
            from: chat_core::status::ConversationStatus::Active,
            to: chat_core::status::ConversationStatus::Closed,
            by: Actor::System,
        });
        assert_eq!(
            keys(&closed),
            ["conversationId", "seq", "status", "updatedAt"]
        );
    }
}
