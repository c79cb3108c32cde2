//! What travels over PostgreSQL's NOTIFY (one channel, payloads far below its 8000-byte
//! limit): new events are announced by conversation and seq range, and read back by the
//! receiving nodes; ephemeral signals (typing, read, presence, inbox, revocations) travel
//! whole.

use std::collections::BTreeMap;

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
    /// Events `from..=to` of a conversation were committed.
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

/// Announces `events` inside the transaction that writes them: PostgreSQL delivers the
/// notifications at commit, and never if the transaction rolls back.
pub async fn events(tx: &mut Transaction<'_, Postgres>, events: &[&Event]) -> sqlx::Result<()> {
    let mut ranges: BTreeMap<ConversationId, (Seq, Seq)> = BTreeMap::new();
    for event in events {
        let range = ranges
            .entry(event.conversation_id)
            .or_insert((event.seq, event.seq));
        range.0 = range.0.min(event.seq);
        range.1 = range.1.max(event.seq);
    }
    let payloads: Vec<String> = ranges
        .into_iter()
        .map(|(conversation_id, (from, to))| Notice::Events {
            conversation_id,
            from,
            to,
        })
        .filter_map(|notice| serde_json::to_string(&notice).ok())
        .collect();
    sqlx::query("SELECT pg_notify($1, payload) FROM UNNEST($2::text[]) AS payload")
        .bind(CHANNEL)
        .bind(&payloads)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
