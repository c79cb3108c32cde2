//! What a commit changes besides its own rows, on PostgreSQL: a revised message (its row,
//! with its search words, and every copy of it in the log's events) and audit entries
//! (a redaction erasing what earlier ones keep of the message), in the batch's
//! transaction; and the audit log's reads.

use async_trait::async_trait;
use chat_core::Result;
use chat_core::audit::AuditEntry;
use chat_core::ids::AuditId;
use chat_core::log::{AppendRequest, Commit};
use chat_core::model::Message;
use chat_core::store::AuditStore;
use sqlx::types::{Json, Uuid};
use sqlx::{Postgres, Transaction};

use crate::error::map;
use crate::rows;
use crate::store::PostgresStore;

/// The messages the batch's edits and deletes name, as they are now.
pub(crate) async fn load_targets(
    tx: &mut Transaction<'_, Postgres>,
    requests: &[&AppendRequest],
) -> sqlx::Result<Vec<Message>> {
    let (conversations, seqs): (Vec<Uuid>, Vec<i64>) = requests
        .iter()
        .filter_map(|r| Some((r.conversation_id.as_uuid(), rows::db_seq(r.target_seq()?))))
        .unzip();
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let kinds: Vec<(Json<chat_core::event::EventKind>,)> = sqlx::query_as(
        "SELECT e.kind FROM events e JOIN UNNEST($1::uuid[], $2::bigint[]) AS t(c, s) \
         ON e.conversation_id = t.c AND e.seq = t.s",
    )
    .bind(&conversations)
    .bind(&seqs)
    .fetch_all(&mut **tx)
    .await?;
    Ok(kinds
        .into_iter()
        .filter_map(|(kind,)| match kind.0 {
            chat_core::event::EventKind::MessageCreated { message } => Some(message),
            _ => None,
        })
        .collect())
}

/// Writes the revisions, audit entries and erased files of the batch's commits, in order.
pub(crate) async fn persist(
    tx: &mut Transaction<'_, Postgres>,
    commits: &[Commit],
) -> sqlx::Result<()> {
    for commit in commits {
        if let Some(revised) = &commit.revised {
            revise(tx, revised).await?;
        }
        if let Some(redacted) = commit.redacted {
            sqlx::query(
                "UPDATE audit_log SET entry = jsonb_set(entry, '{action,original}', 'null', false) \
                 WHERE message_id = $1",
            )
            .bind(redacted.as_uuid())
            .execute(&mut **tx)
            .await?;
        }
        for entry in &commit.audit {
            insert(&mut **tx, entry).await?;
        }
        if !commit.erased_files.is_empty() {
            let files: Vec<_> = commit.erased_files.iter().map(|f| f.as_uuid()).collect();
            sqlx::query(
                "INSERT INTO erased_files (id) SELECT * FROM UNNEST($1::uuid[]) ON CONFLICT DO NOTHING",
            )
            .bind(files)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Stores `revised` in its row (with its words) and in place of every copy of it in the
/// conversation's events from its seq on.
async fn revise(tx: &mut Transaction<'_, Postgres>, revised: &Message) -> sqlx::Result<()> {
    let words = chat_core::search::words(revised.body.as_str()).join(" ");
    sqlx::query(
        "UPDATE messages SET content = $2, words = array_to_tsvector(string_to_array($3, ' ')) \
         WHERE id = $1",
    )
    .bind(revised.id.as_uuid())
    .bind(revised.body.as_str())
    .bind(words)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE events SET kind = jsonb_set(kind, '{message}', $4) \
         WHERE conversation_id = $1 AND seq >= $2 AND kind ? 'message' \
         AND kind->'message'->>'id' = $3",
    )
    .bind(revised.conversation_id.as_uuid())
    .bind(rows::db_seq(revised.seq))
    .bind(revised.id.as_uuid().to_string())
    .bind(Json(revised))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Appends one audit entry.
pub(crate) async fn insert<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    entry: &AuditEntry,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO audit_log (id, at, entry, message_id) VALUES ($1, $2, $3, $4)")
        .bind(entry.id.as_uuid())
        .bind(entry.at)
        .bind(Json(entry))
        .bind(entry.action.about_message().map(|m| m.as_uuid()))
        .execute(executor)
        .await?;
    Ok(())
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn record_audit(&self, entry: &AuditEntry) -> Result<()> {
        insert(&self.pool, entry).await.map_err(map)
    }

    async fn audit_log(&self, before: Option<AuditId>, limit: usize) -> Result<Vec<AuditEntry>> {
        let entries: Vec<(Json<AuditEntry>,)> = sqlx::query_as(
            "SELECT entry FROM audit_log WHERE ($1::uuid IS NULL OR id < $1) \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(before.map(|id| id.as_uuid()))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        Ok(entries.into_iter().map(|(entry,)| entry.0).collect())
    }
}
