//! What travels over PostgreSQL's NOTIFY (one channel, payloads below its 8000-byte
//! limit): new events travel whole when they fit, so receiving nodes need no query to
//! deliver them; a larger event is announced by conversation and seq and read back from
//! the table. Ephemeral signals (typing, read, presence, inbox, revocations) travel whole.

use chat_core::broadcast::{Signal, Topic};
use chat_core::event::Event;
use chat_core::ids::{ConversationId, Seq};
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, Transaction};

/// The NOTIFY channel.
pub const CHANNEL: &str = "chat_signals";

/// One notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum Notice {
    /// An event was committed; here it is.
    Event {
        /// The event.
        event: Box<Event>,
    },
    /// Events `from..=to` of a conversation were committed (too large to travel whole).
    #[serde(rename_all = "camelCase")]
    Events {
        /// The conversation.
        conversation_id: ConversationId,
        /// First new seq.
        from: Seq,
        /// Last new seq.
        to: Seq,
    },
    /// An ephemeral signal for a topic.
    Signal {
        /// Where it goes.
        topic: Topic,
        /// What it is.
        signal: Box<Signal>,
    },
}

/// Largest payload sent as a whole event; PostgreSQL refuses payloads of 8000 bytes or more.
const INLINE_LIMIT: usize = 7900;

/// Announces `events` inside the transaction that writes them: PostgreSQL delivers the
/// notifications at commit, in order, and never if the transaction rolls back.
pub async fn events(tx: &mut Transaction<'_, Postgres>, events: &[&Event]) -> sqlx::Result<()> {
    let payloads: Vec<String> = events.iter().filter_map(|event| payload(event)).collect();
    sqlx::query("SELECT pg_notify($1, payload) FROM UNNEST($2::text[]) AS payload")
        .bind(CHANNEL)
        .bind(&payloads)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The event whole if it fits, else its conversation and seq.
fn payload(event: &Event) -> Option<String> {
    let whole = serde_json::to_string(&Notice::Event {
        event: Box::new(event.clone()),
    })
    .ok()?;
    if whole.len() <= INLINE_LIMIT {
        return Some(whole);
    }
    serde_json::to_string(&Notice::Events {
        conversation_id: event.conversation_id,
        from: event.seq,
        to: event.seq,
    })
    .ok()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chat_core::MemoryStore;
    use chat_core::conformance::fixtures::{chatting, engine, send};
    use chat_core::event::EventKind;

    use super::*;

    #[tokio::test]
    async fn small_events_travel_whole_and_large_ones_by_seq() {
        let engine = engine(Arc::new(MemoryStore::new()));
        let (visitor, conversation) = chatting(&engine, 0).await;
        send(&engine, &visitor, conversation.id, "hello", None)
            .await
            .expect("send");
        send(&engine, &visitor, conversation.id, &"x".repeat(9000), None)
            .await
            .expect("send");
        let events = engine
            .events_since(&visitor, conversation.id, Seq(0), None)
            .await
            .expect("events")
            .events;
        let messages: Vec<&Event> = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::MessageCreated { .. }))
            .collect();
        let [small, large] = messages[..] else {
            panic!("two messages: {messages:?}")
        };

        let notice: Notice = serde_json::from_str(&payload(small).expect("payload")).expect("json");
        // What a receiving node gets is the event as the table holds it (microsecond times).
        let stored: Event =
            serde_json::from_str(&serde_json::to_string(small).expect("encode")).expect("decode");
        assert_eq!(
            notice,
            Notice::Event {
                event: Box::new(stored)
            }
        );

        let notice: Notice = serde_json::from_str(&payload(large).expect("payload")).expect("json");
        assert_eq!(
            notice,
            Notice::Events {
                conversation_id: large.conversation_id,
                from: large.seq,
                to: large.seq,
            }
        );
    }
}
