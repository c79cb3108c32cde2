//! The offline-email state of `PostgresStore`: the pass's cursor (a one-row table) and one
//! notice per conversation. Queueing and settling lock the rows they change and run
//! chat-core's steps on them (`EmailNotice::queue`, `settle`); claiming is one conditional
//! update. Notices go with their conversation (`ON DELETE CASCADE`).

use async_trait::async_trait;
use chat_core::Result;
use chat_core::email::{EmailNotice, QueuedReply, Settlement};
use chat_core::ids::{ConversationId, FeedPosition};
use chat_core::store::EmailStore;
use chrono::{DateTime, Utc};
use sqlx::types::Uuid;
use sqlx::{Postgres, Transaction};

use crate::error::map;
use crate::rows::{db_count, db_seq, seq};
use crate::store::PostgresStore;

const NOTICE_COLUMNS: &str = "conversation_id, seq, due_at, emailed_at, attempts";

#[derive(sqlx::FromRow)]
struct NoticeRow {
    conversation_id: Uuid,
    seq: i64,
    due_at: Option<DateTime<Utc>>,
    emailed_at: Option<DateTime<Utc>>,
    attempts: i32,
}

impl From<NoticeRow> for EmailNotice {
    fn from(row: NoticeRow) -> Self {
        EmailNotice {
            conversation: row.conversation_id.into(),
            seq: seq(row.seq),
            due_at: row.due_at,
            emailed_at: row.emailed_at,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
        }
    }
}

#[async_trait]
impl EmailStore for PostgresStore {
    async fn email_cursor(&self) -> Result<Option<FeedPosition>> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT position FROM email_cursor")
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        Ok(row.map(|(position,)| FeedPosition(u64::try_from(position).unwrap_or(0))))
    }

    async fn queue_email_notices(
        &self,
        from: Option<FeedPosition>,
        to: FeedPosition,
        replies: &[QueuedReply],
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(map)?;
        if !move_cursor(&mut tx, from, to).await? {
            return Ok(false);
        }
        for reply in replies {
            let id = reply.conversation.as_uuid();
            // Locks the conversation's row too, so a delete cannot slip in between.
            let exists: Option<(Uuid,)> =
                sqlx::query_as("SELECT id FROM conversations WHERE id = $1 FOR KEY SHARE")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map)?;
            if exists.is_none() {
                continue;
            }
            let current = locked_notice(&mut tx, reply.conversation).await?;
            put(&mut tx, &EmailNotice::queue(current, reply)).await?;
        }
        tx.commit().await.map_err(map)?;
        Ok(true)
    }

    async fn due_email_notices(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<EmailNotice>> {
        let query = format!(
            "SELECT {NOTICE_COLUMNS} FROM email_notices WHERE due_at IS NOT NULL AND due_at <= $1 \
             ORDER BY due_at, conversation_id LIMIT $2"
        );
        let rows: Vec<NoticeRow> = sqlx::query_as(sqlx::AssertSqlSafe(query))
            .bind(now)
            .bind(db_count(limit as u64))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        Ok(rows.into_iter().map(EmailNotice::from).collect())
    }

    async fn claim_email_notice(&self, notice: &EmailNotice, until: DateTime<Utc>) -> Result<bool> {
        let claimed = sqlx::query(
            "UPDATE email_notices SET due_at = $4 \
             WHERE conversation_id = $1 AND seq = $2 AND due_at IS NOT DISTINCT FROM $3",
        )
        .bind(notice.conversation.as_uuid())
        .bind(db_seq(notice.seq))
        .bind(notice.due_at)
        .bind(until)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(claimed.rows_affected() == 1)
    }

    async fn settle_email_notice(
        &self,
        conversation: ConversationId,
        settlement: &Settlement,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(map)?;
        if let Some(mut notice) = locked_notice(&mut tx, conversation).await? {
            notice.settle(settlement);
            put(&mut tx, &notice).await?;
        }
        tx.commit().await.map_err(map)
    }
}

/// Moves the cursor from `from` to `to` if it is still at `from`.
async fn move_cursor(
    tx: &mut Transaction<'_, Postgres>,
    from: Option<FeedPosition>,
    to: FeedPosition,
) -> Result<bool> {
    let to = db_count(to.get());
    let moved = match from {
        // Two first passes: the primary key lets one insert win.
        None => {
            sqlx::query("INSERT INTO email_cursor (position) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(to)
                .execute(&mut **tx)
                .await
        }
        Some(from) => {
            sqlx::query("UPDATE email_cursor SET position = $2 WHERE position = $1")
                .bind(db_count(from.get()))
                .bind(to)
                .execute(&mut **tx)
                .await
        }
    };
    Ok(moved.map_err(map)?.rows_affected() == 1)
}

async fn locked_notice(
    tx: &mut Transaction<'_, Postgres>,
    conversation: ConversationId,
) -> Result<Option<EmailNotice>> {
    let query =
        format!("SELECT {NOTICE_COLUMNS} FROM email_notices WHERE conversation_id = $1 FOR UPDATE");
    let row: Option<NoticeRow> = sqlx::query_as(sqlx::AssertSqlSafe(query))
        .bind(conversation.as_uuid())
        .fetch_optional(&mut **tx)
        .await
        .map_err(map)?;
    Ok(row.map(EmailNotice::from))
}

async fn put(tx: &mut Transaction<'_, Postgres>, notice: &EmailNotice) -> Result<()> {
    sqlx::query(
        "INSERT INTO email_notices (conversation_id, seq, due_at, emailed_at, attempts) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conversation_id) DO UPDATE SET \
         seq = $2, due_at = $3, emailed_at = $4, attempts = $5",
    )
    .bind(notice.conversation.as_uuid())
    .bind(db_seq(notice.seq))
    .bind(notice.due_at)
    .bind(notice.emailed_at)
    .bind(i32::try_from(notice.attempts).unwrap_or(i32::MAX))
    .execute(&mut **tx)
    .await
    .map_err(map)?;
    Ok(())
}
