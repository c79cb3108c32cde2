//! What travels over NATS: one subject per topic, and a payload that is the signal whole
//! or, for an event larger than the server takes in one message, the event's place in its
//! conversation's log, read back from the store by the receiving node.

use chat_core::broadcast::{Signal, Topic};
use chat_core::ids::{ConversationId, Seq};
use serde::{Deserialize, Serialize};

/// The first token of every subject.
pub const PREFIX: &str = "chat";

/// One message's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum Payload {
    /// A signal, whole.
    Signal {
        /// The signal.
        signal: Box<Signal>,
    },
    /// An event too large to travel: read it back by seq.
    #[serde(rename_all = "camelCase")]
    EventAt {
        /// Its conversation.
        conversation_id: ConversationId,
        /// Its seq.
        seq: Seq,
    },
}

/// The subject of `topic`: one per conversation, one for the inbox, presence, and sessions
/// (revocations and permission changes).
pub fn subject(topic: Topic) -> String {
    match topic {
        Topic::Conversation(id) => format!("{PREFIX}.conversation.{id}"),
        Topic::Inbox => format!("{PREFIX}.inbox"),
        Topic::Presence => format!("{PREFIX}.presence"),
        Topic::Sessions => format!("{PREFIX}.sessions"),
    }
}

/// `signal` as a payload of at most `limit` bytes: whole, or, for a larger event, by seq.
/// `None` for a signal that cannot travel (larger than `limit` and not an event).
pub fn encode(signal: &Signal, limit: usize) -> Option<Vec<u8>> {
    let whole = serde_json::to_vec(&Payload::Signal {
        signal: Box::new(signal.clone()),
    })
    .ok()?;
    if whole.len() <= limit {
        return Some(whole);
    }
    let Signal::Event { event } = signal else {
        return None;
    };
    serde_json::to_vec(&Payload::EventAt {
        conversation_id: event.conversation_id,
        seq: event.seq,
    })
    .ok()
}

/// The payload of a received message.
pub fn decode(bytes: &[u8]) -> serde_json::Result<Payload> {
    serde_json::from_slice(bytes)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chat_core::MemoryStore;
    use chat_core::conformance::fixtures::{chatting, engine, send};

    use super::*;

    #[tokio::test]
    async fn small_signals_travel_whole_and_large_events_by_seq() {
        let engine = engine(Arc::new(MemoryStore::new()));
        let (visitor, conversation) = chatting(&engine, 0).await;
        let sent = send(&engine, &visitor, conversation.id, &"x".repeat(3000), None)
            .await
            .expect("send");
        let events = engine
            .events_since(
                &visitor,
                conversation.id,
                Seq(sent.message.seq.get() - 1),
                None,
            )
            .await
            .expect("events")
            .events;
        let signal = Signal::Event {
            event: events[0].clone(),
        };

        let whole = encode(&signal, 64 * 1024).expect("fits");
        assert_eq!(
            decode(&whole).expect("decode"),
            Payload::Signal {
                signal: Box::new(signal.clone())
            }
        );
        let by_seq = encode(&signal, 1024).expect("by seq");
        assert!(by_seq.len() <= 1024);
        assert_eq!(
            decode(&by_seq).expect("decode"),
            Payload::EventAt {
                conversation_id: conversation.id,
                seq: sent.message.seq
            }
        );
        assert_eq!(encode(&Signal::Resync, 4), None, "nothing fits in 4 bytes");
    }

    #[test]
    fn each_topic_has_its_own_subject() {
        let id = ConversationId::new();
        assert_eq!(
            subject(Topic::Conversation(id)),
            format!("chat.conversation.{id}")
        );
        assert_eq!(subject(Topic::Inbox), "chat.inbox");
        assert_eq!(subject(Topic::Presence), "chat.presence");
        assert_eq!(subject(Topic::Sessions), "chat.sessions");
    }
}
