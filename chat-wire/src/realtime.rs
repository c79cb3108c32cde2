//! The real-time contract shared by Socket.IO and the plain WebSocket: what a client sends
//! (`conversation:join`, `message:send`, …), what a join answers, and the log events the
//! server pushes (`message:new`, `conversation:updated`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::messages::{EventDto, MessageDto};

/// `conversation:join`: enter a conversation's room, getting what came after `since`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Join {
    /// The conversation.
    pub conversation_id: String,
    /// The last seq the client has (default 0: everything).
    pub since: Option<u64>,
}

/// A join's ack: up to a page of what the client missed; the rest follows as live events.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinAck {
    /// The seq the room's live events continue from.
    pub last_seq: u64,
    /// The events after `since`, in order.
    #[serde(default)]
    pub events: Vec<EventDto>,
    /// Whether more follow as live events before the room is current.
    #[serde(default)]
    pub has_more: bool,
}

/// `conversation:leave`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Leave {
    /// The conversation.
    pub conversation_id: String,
}

/// `message:send` (answered like `POST /api/messages/send`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    /// The conversation.
    pub conversation_id: String,
    /// The text.
    pub message: String,
    /// Makes retries idempotent: a retry with the same id stores nothing new.
    pub client_message_id: Option<String>,
    /// Files uploaded earlier.
    pub attachment_ids: Option<Vec<String>>,
    /// A private note (agents only).
    pub private: Option<bool>,
}

/// `read`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Read {
    /// The conversation.
    pub conversation_id: String,
    /// Everything up to this seq is read.
    pub seq: u64,
}

/// `typing`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Typing {
    /// The conversation.
    pub conversation_id: String,
    /// Started or stopped.
    pub is_typing: bool,
}

/// `message:new`: a message event of a joined conversation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageNew {
    /// The conversation.
    pub conversation_id: Uuid,
    /// The event's seq.
    pub seq: u64,
    /// The message.
    pub message: MessageDto,
}

impl MessageNew {
    /// The log event this announces, as the events route shows it.
    pub fn into_event(self) -> EventDto {
        EventDto {
            conversation_id: self.conversation_id,
            seq: self.seq,
            timestamp: self.message.timestamp,
            kind: "message".into(),
            actor_type: Some(self.message.sender_type.clone()),
            actor_id: self.message.sender_id.clone(),
            message: Some(self.message),
            ..EventDto::empty()
        }
    }
}

/// `message:updated` or `message:deleted`: a message of a joined conversation changed (its
/// sender edited it; it was deleted or redacted). The message is as it is now.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageChanged {
    /// The conversation.
    pub conversation_id: Uuid,
    /// The seq of this change in the log (not the message's own).
    pub seq: u64,
    /// The message as it is now.
    pub message: MessageDto,
    /// The log event, as the events route shows it.
    pub event: EventDto,
}

/// `conversation:updated`: any other log event of a joined conversation, with what it
/// changed as of its seq.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationUpdated {
    /// The conversation.
    pub conversation_id: Uuid,
    /// The event's seq.
    pub seq: u64,
    /// The event's time.
    pub updated_at: DateTime<Utc>,
    /// The status it set, if it set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// For a snooze: when it wakes (`Some(None)`: when the visitor writes, sent as `null`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::fields::present"
    )]
    pub snoozed_until: Option<Option<DateTime<Utc>>>,
    /// For an assignment: the new assignee (`Some(None)`: unassigned, sent as `null`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::fields::present"
    )]
    pub assignee_id: Option<Option<Uuid>>,
    /// For a rating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<RatingChange>,
    /// For a label change: the labels put on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels_added: Option<Vec<Uuid>>,
    /// For a label change: the labels taken off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels_removed: Option<Vec<Uuid>>,
    /// The event itself.
    pub event: EventDto,
}

/// A rating as `conversation:updated` carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RatingChange {
    /// 1 to 5.
    pub rating: u8,
    /// The visitor's words.
    pub comment: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(seq: u64) -> serde_json::Value {
        json!({"conversationId": Uuid::nil(), "seq": seq, "timestamp": "2026-01-01T00:00:00Z", "type": "assigned"})
    }

    #[test]
    fn an_unassignment_is_null_and_reads_back_as_such() {
        let unassigned = json!({"conversationId": Uuid::nil(), "seq": 2,
            "updatedAt": "2026-01-01T00:00:00Z", "assigneeId": null, "event": event(2)});
        let decoded: ConversationUpdated = serde_json::from_value(unassigned.clone()).unwrap();
        assert_eq!(decoded.assignee_id, Some(None));
        assert_eq!(serde_json::to_value(&decoded).unwrap(), unassigned);
        let other = json!({"conversationId": Uuid::nil(), "seq": 3,
            "updatedAt": "2026-01-01T00:00:00Z", "status": "closed", "event": event(3)});
        let decoded: ConversationUpdated = serde_json::from_value(other.clone()).unwrap();
        assert_eq!(decoded.assignee_id, None);
        assert_eq!(serde_json::to_value(&decoded).unwrap(), other);
    }
}
