//! The offline-email state of `PostgresStore`: the pass's cursor (a one-row table) and one
//! notice per conversation. Queueing and settling lock the rows they change and run
//! chat-core's steps on them (`EmailNotice::queue`, `claim`, `settle`). Notices go with their conversation (`ON DELETE CASCADE`).

use std::collections::BTreeMap;

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

const NOTICE_COLUMNS: &str = "conversation_id, seq, due_at, emailed_at, attempts, claimed_until";

#[derive(sqlx::FromRow)]
struct NoticeRow {
    conversation_id: Uuid,
    seq: i64,
    due_at: Option<DateTime<Utc>>,
    emailed_at: Option<DateTime<Utc>>,
    attempts: i32,
    claimed_until: Option<DateTime<Utc>>,
}

impl From<NoticeRow> for EmailNotice {
    fn from(row: NoticeRow) -> Self {
        EmailNotice {
            conversation: row.conversation_id.into(),
            seq: seq(row.seq),
            due_at: row.due_at,
            emailed_at: row.emailed_at,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            claimed_until: row.claimed_until,
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
        // One step per conversation, taken in id order like appends take theirs, so the
        // two never wait on each other in a cycle.
        let mut folded: BTreeMap<ConversationId, Vec<&QueuedReply>> = BTreeMap::new();
        for reply in replies {
            folded.entry(reply.conversation).or_default().push(reply);
        }
        let ids: Vec<Uuid> = folded.keys().map(|id| id.as_uuid()).collect();
        // Locks the conversations' rows too, so a delete cannot slip in between.
        let existing: Vec<(Uuid,)> = sqlx::query_as(
            "SELECT id FROM conversations WHERE id = ANY($1) ORDER BY id FOR KEY SHARE",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(map)?;
        for (id,) in existing {
            let conversation = ConversationId::from_uuid(id);
            let mut notice = locked_notice(&mut tx, conversation).await?;
            for reply in folded.get(&conversation).into_iter().flatten() {
                notice = Some(EmailNotice::queue(notice, reply));
            }
            if let Some(notice) = notice {
                put(&mut tx, &notice).await?;
            }
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
             AND (claimed_until IS NULL OR claimed_until <= $1) \
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

    async fn claim_email_notice(
        &self,
        notice: &EmailNotice,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        self.change(notice.conversation, |stored| {
            stored.claim(notice, now, until)
        })
        .await
    }

    async fn settle_email_notice(
        &self,
        conversation: ConversationId,
        claim: DateTime<Utc>,
        settlement: &Settlement,
    ) -> Result<bool> {
        self.change(conversation, |stored| stored.settle(claim, settlement))
            .await
    }
}

impl PostgresStore {
    /// Runs `step` on a notice under its row lock, saving it when `step` says it changed
    /// it; `false` when there is no notice or nothing changed.
    async fn change(
        &self,
        conversation: ConversationId,
        step: impl FnOnce(&mut EmailNotice) -> bool,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(map)?;
        let Some(mut notice) = locked_notice(&mut tx, conversation).await? else {
            return Ok(false);
        };
        if !step(&mut notice) {
            return Ok(false);
        }
        put(&mut tx, &notice).await?;
        tx.commit().await.map_err(map)?;
        Ok(true)
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
        "INSERT INTO email_notices (conversation_id, seq, due_at, emailed_at, attempts, \
         claimed_until) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (conversation_id) DO UPDATE \
         SET seq = $2, due_at = $3, emailed_at = $4, attempts = $5, claimed_until = $6",
    )
    .bind(notice.conversation.as_uuid())
    .bind(db_seq(notice.seq))
    .bind(notice.due_at)
    .bind(notice.emailed_at)
    .bind(i32::try_from(notice.attempts).unwrap_or(i32::MAX))
    .bind(notice.claimed_until)
    .execute(&mut **tx)
    .await
    .map_err(map)?;
    Ok(())
}
