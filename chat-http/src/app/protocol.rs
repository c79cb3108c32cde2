//! The real-time wire contract shared by Socket.IO and the plain WebSocket: client event
//! payloads, server events and how log events become them.

use chat_core::event::{Event, EventKind};
use chat_core::feed::FeedItem;
use chat_core::ids::ConversationId;
use chat_core::model::{Actor, UserRef};
use chat_core::status::ConversationStatus;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::dto::{EventDto, MessageDto};

/// `conversation:join`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Join {
    /// The conversation.
    pub conversation_id: String,
    /// The last seq the client has (default 0: everything).
    pub since: Option<u64>,
}

/// `conversation:leave`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Leave {
    /// The conversation.
    pub conversation_id: String,
}

/// `message:send`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Send {
    /// The conversation.
    pub conversation_id: String,
    /// The text.
    pub message: String,
    /// Makes retries idempotent.
    pub client_message_id: Option<String>,
    /// Files uploaded earlier.
    pub attachment_ids: Option<Vec<String>>,
    /// A private note (agents only).
    pub private: Option<bool>,
}

/// `read`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Read {
    /// The conversation.
    pub conversation_id: String,
    /// Everything up to this seq is read.
    pub seq: u64,
}

/// `typing`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Typing {
    /// The conversation.
    pub conversation_id: String,
    /// Started or stopped.
    pub is_typing: bool,
}

/// An event for a client: its name and JSON object payload.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEvent {
    /// `message:new`, `conversation:updated`, `typing`, `read`, `presence` or `inbox`.
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

/// A log event as `message:new`, or as `conversation:updated` for every other kind, so that
/// every seq the client may see reaches it. `conversation:updated` says what that event
/// changed, as of its seq (`status` when it set one, `assigneeId` when it assigned), never
/// the conversation as it is when the event happens to be forwarded.
pub fn from_event(event: Event) -> ServerEvent {
    let (id, seq) = (event.conversation_id, event.seq);
    if let EventKind::MessageCreated { message } = event.kind {
        let stored_at = Some(message.timestamp);
        let payload =
            json!({"conversationId": id, "seq": seq, "message": MessageDto::from(message)});
        return ServerEvent {
            name: "message:new",
            payload,
            stored_at,
        };
    }
    let mut payload = json!({"conversationId": id, "seq": seq, "updatedAt": event.timestamp});
    match &event.kind {
        EventKind::Created { .. } => {
            payload["status"] = json!(ConversationStatus::Waiting.as_str())
        }
        EventKind::StatusChanged { to, .. } => payload["status"] = json!(to.as_str()),
        EventKind::Snoozed { until, .. } => {
            payload["status"] = json!(ConversationStatus::Snoozed.as_str());
            payload["snoozedUntil"] = json!(until);
        }
        EventKind::Assigned { assignee, .. } => payload["assigneeId"] = json!(assignee),
        EventKind::Rated { score, comment, .. } => {
            payload["rating"] = json!({"rating": score.get(), "comment": comment});
        }
        EventKind::LabelsChanged { added, removed, .. } => {
            payload["labelsAdded"] = json!(added);
            payload["labelsRemoved"] = json!(removed);
        }
        _ => {}
    }
    payload["event"] = serde_json::to_value(EventDto::from(event)).unwrap_or(Value::Null);
    ServerEvent {
        name: "conversation:updated",
        payload,
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
