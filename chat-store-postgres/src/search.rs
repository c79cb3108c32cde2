//! Message search on PostgreSQL: each message's words in a `tsvector` column with a GIN
//! index (written with the message), matched by a `tsquery` of verbatim lexemes, filtered
//! like the conversation list and paged by (timestamp, id).

use async_trait::async_trait;
use chat_core::Result;
use chat_core::event::Event;
use chat_core::model::Conversation;
use chat_core::search::{self, MessageHit, MessageSearch};
use chat_core::store::{ListScope, SearchStore};
use sqlx::types::Uuid;
use sqlx::{PgPool, QueryBuilder};

use crate::conversations::push_filter;
use crate::error::map;
use crate::rows::{CONVERSATION_COLUMNS, ConversationRow, EventRow};
use crate::store::PostgresStore;

/// `words` as a tsquery that holds them all, each a quoted lexeme taken verbatim (no
/// dictionary, no parsing of what is inside the quotes).
fn tsquery(words: &[String]) -> String {
    words
        .iter()
        .map(|word| format!("'{}'", word.replace('\\', "\\\\").replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(" & ")
}

#[async_trait]
impl SearchStore for PostgresStore {
    async fn search_messages(&self, query: &MessageSearch) -> Result<Vec<MessageHit>> {
        if query.words.is_empty() {
            return Ok(Vec::new());
        }
        let mut builder = QueryBuilder::new(format!(
            "SELECT e.conversation_id, e.seq, e.timestamp, e.kind, {CONVERSATION_COLUMNS} \
             FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             JOIN events e ON e.conversation_id = m.conversation_id AND e.seq = m.seq \
             WHERE m.words @@ "
        ));
        builder.push_bind(tsquery(&query.words)).push("::tsquery");
        push_filter(&mut builder, query.scope, query.status, query.label);
        if let Some(since) = query.since {
            builder.push(" AND m.timestamp >= ").push_bind(since);
        }
        if let Some(until) = query.until {
            builder.push(" AND m.timestamp < ").push_bind(until);
        }
        if let Some(before) = query.before {
            builder
                .push(" AND (m.timestamp, m.id) < (")
                .push_bind(before.timestamp)
                .push(", ")
                .push_bind(before.id.as_uuid())
                .push(")");
        }
        // A word most messages hold is found by walking messages newest first (the
        // (timestamp, id) index) and stopping at a page; any other by the GIN index, then
        // sorting its few matches. The planner, given a LIMIT, would walk for rare words too
        // and read the whole table when none matches, so the order says which: sorting by
        // an expression rules the walk out.
        let walk = query.scope == ListScope::All && is_common(&self.pool, &query.words).await?;
        let order = if walk {
            " ORDER BY m.timestamp DESC, m.id DESC LIMIT "
        } else {
            " ORDER BY m.timestamp + interval '0 seconds' DESC, m.id DESC LIMIT "
        };
        builder
            .push(order)
            .push_bind(i64::try_from(query.limit).unwrap_or(i64::MAX));
        let rows: Vec<HitRow> = builder
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let mut hits = Vec::with_capacity(rows.len());
        for row in rows {
            let event = Event::from(row.event);
            let conversation = Conversation::try_from(row.conversation)?;
            if let Some(message) = event.message() {
                hits.push(MessageHit {
                    message: message.clone(),
                    conversation,
                });
            }
        }
        Ok(hits)
    }
}

/// Share of the messages from which a word counts as common (a page of results is then
/// found within a few hundred messages of the newest).
const COMMON: f32 = 0.05;

/// Whether every word of a search is common, by the planner's statistics of the words
/// column (its most common elements and their frequencies, kept by ANALYZE); a word not
/// among them is rarer than all of them.
async fn is_common(pool: &PgPool, words: &[String]) -> Result<bool> {
    let stats: Option<WordStats> = sqlx::query_as(
        "SELECT most_common_elems::text::text[] AS elements, most_common_elem_freqs AS frequencies \
         FROM pg_stats \
         WHERE schemaname = current_schema() AND tablename = 'messages' AND attname = 'words'",
    )
    .fetch_optional(pool)
    .await
    .map_err(map)?;
    let Some(WordStats {
        elements: Some(elements),
        frequencies: Some(frequencies),
    }) = stats
    else {
        return Ok(false);
    };
    let frequency = |word: &String| {
        elements
            .iter()
            .position(|element| element == word)
            .and_then(|at| frequencies.get(at).copied())
            .unwrap_or(0.0)
    };
    Ok(words.iter().all(|word| frequency(word) >= COMMON))
}

/// The words column's most common words and their frequencies (absent before ANALYZE).
#[derive(sqlx::FromRow)]
struct WordStats {
    elements: Option<Vec<String>>,
    frequencies: Option<Vec<f32>>,
}

/// A found message's event and its conversation, read in one statement.
#[derive(sqlx::FromRow)]
struct HitRow {
    #[sqlx(flatten)]
    event: EventRow,
    #[sqlx(flatten)]
    conversation: ConversationRow,
}

impl PostgresStore {
    /// Recomputes every message's search words with the server's rule, a thousand
    /// messages per transaction, and returns how many it rewrote (`chat-server reindex`:
    /// repairs words changed by hand or by a bug; never needed in normal operation).
    pub async fn rebuild_search_index(&self) -> Result<u64> {
        let mut after = Uuid::nil();
        let mut count = 0;
        loop {
            let rows: Vec<(Uuid, String)> = sqlx::query_as(
                "SELECT id, content FROM messages WHERE id > $1 ORDER BY id LIMIT 1000",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
            let Some((last, _)) = rows.last() else {
                return Ok(count);
            };
            after = *last;
            let mut tx = self.pool.begin().await.map_err(map)?;
            count += write_words(&mut tx, &rows).await?;
            tx.commit().await.map_err(map)?;
        }
    }
}

/// Gives the messages stored before search (their `words` is NULL) their words, a thousand
/// per transaction; nodes connecting at once share the work (`SKIP LOCKED`). Run on connect.
pub(crate) async fn fill_search_words(pool: &PgPool) -> Result<u64> {
    let mut count = 0;
    loop {
        let mut tx = pool.begin().await.map_err(map)?;
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT id, content FROM messages WHERE words IS NULL LIMIT 1000 FOR UPDATE SKIP LOCKED",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(map)?;
        if rows.is_empty() {
            return Ok(count);
        }
        count += write_words(&mut tx, &rows).await?;
        tx.commit().await.map_err(map)?;
    }
}

/// Sets the words of each (id, content).
async fn write_words(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    rows: &[(Uuid, String)],
) -> Result<u64> {
    let (ids, words): (Vec<Uuid>, Vec<String>) = rows
        .iter()
        .map(|(id, content)| (*id, search::words(content).join(" ")))
        .unzip();
    sqlx::query(
        "UPDATE messages m SET words = array_to_tsvector(string_to_array(u.w, ' ')) \
         FROM UNNEST($1::uuid[], $2::text[]) AS u(id, w) WHERE m.id = u.id",
    )
    .bind(&ids)
    .bind(&words)
    .execute(&mut **tx)
    .await
    .map_err(map)?;
    Ok(ids.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_a_quoted_lexeme() {
        let words = search::words("Refund ORDER café");
        assert_eq!(tsquery(&words), "'refund' & 'order' & 'café'");
        assert_eq!(tsquery(&["it's".to_owned()]), "'it''s'");
    }
}
