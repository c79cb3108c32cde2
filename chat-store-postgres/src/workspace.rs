//! The workspace catalogs: labels and canned replies. Names are unique ignoring case
//! through a `UNIQUE` lower-cased key column (computed by chat-core); every update is one
//! statement, so concurrent changes never undo each other. And the reports, counted by the
//! database over the rated conversation rows; and what auto-assignment reads, with its
//! lease as an advisory lock.

use async_trait::async_trait;
use chat_core::canned::{CannedReply, CannedReplyChanges};
use chat_core::ids::{AdminId, CannedReplyId, LabelId};
use chat_core::labels::{Label, LabelChanges};
use chat_core::model::Conversation;
use chat_core::ratings::{RatingCount, RatingQuery, Score};
use chat_core::store::{AssignmentStore, CannedReplyStore, LabelStore, Lease, ReportStore};
use chat_core::values::{LabelColor, LabelTitle, MessageBody, ShortCode};
use chat_core::{Error, Result};
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::types::Uuid;

use crate::error::map;
use crate::rows::{CONVERSATION_COLUMNS, ConversationRow};
use crate::store::PostgresStore;

#[derive(sqlx::FromRow)]
struct LabelRow {
    id: Uuid,
    title: String,
    color: Option<String>,
    created_at: DateTime<Utc>,
}

impl TryFrom<LabelRow> for Label {
    type Error = Error;

    fn try_from(row: LabelRow) -> Result<Self> {
        Ok(Label {
            id: LabelId::from_uuid(row.id),
            title: LabelTitle::parse(&row.title)?,
            color: row.color.as_deref().map(LabelColor::parse).transpose()?,
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CannedReplyRow {
    id: Uuid,
    short_code: String,
    content: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<CannedReplyRow> for CannedReply {
    type Error = Error;

    fn try_from(row: CannedReplyRow) -> Result<Self> {
        Ok(CannedReply {
            id: CannedReplyId::from_uuid(row.id),
            short_code: ShortCode::parse(&row.short_code)?,
            content: MessageBody::try_from(row.content)?,
            created_at: row.created_at,
        })
    }
}

/// `NotFound(what)` unless a statement touched a row.
fn touched(rows: u64, what: &'static str) -> Result<()> {
    if rows == 0 {
        return Err(Error::NotFound(what));
    }
    Ok(())
}

#[async_trait]
impl LabelStore for PostgresStore {
    async fn create_label(&self, label: &Label) -> Result<()> {
        sqlx::query(
            "INSERT INTO labels (id, title, title_key, color, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(label.id.as_uuid())
        .bind(label.title.as_str())
        .bind(label.title.key())
        .bind(label.color.as_ref().map(LabelColor::as_str))
        .bind(label.created_at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn list_labels(&self) -> Result<Vec<Label>> {
        let rows: Vec<LabelRow> =
            sqlx::query_as("SELECT id, title, color, created_at FROM labels ORDER BY title_key")
                .fetch_all(&self.pool)
                .await
                .map_err(map)?;
        rows.into_iter().map(Label::try_from).collect()
    }

    async fn update_label(&self, id: LabelId, changes: &LabelChanges) -> Result<Label> {
        let color = changes.color.as_ref();
        let row: Option<LabelRow> = sqlx::query_as(
            "UPDATE labels SET title = COALESCE($2, title), title_key = COALESCE($3, title_key), \
             color = CASE WHEN $4 THEN $5 ELSE color END WHERE id = $1 \
             RETURNING id, title, color, created_at",
        )
        .bind(id.as_uuid())
        .bind(changes.title.as_ref().map(LabelTitle::as_str))
        .bind(changes.title.as_ref().map(LabelTitle::key))
        .bind(color.is_some())
        .bind(color.and_then(|c| c.as_ref().map(LabelColor::as_str)))
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        Label::try_from(row.ok_or(Error::NotFound("label"))?)
    }

    async fn delete_label(&self, id: LabelId) -> Result<()> {
        let done = sqlx::query("DELETE FROM labels WHERE id = $1")
            .bind(id.as_uuid())
            .execute(&self.pool)
            .await
            .map_err(map)?;
        touched(done.rows_affected(), "label")
    }
}

#[async_trait]
impl CannedReplyStore for PostgresStore {
    async fn create_canned_reply(&self, reply: &CannedReply) -> Result<()> {
        sqlx::query(
            "INSERT INTO canned_replies (id, short_code, short_code_key, content, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(reply.id.as_uuid())
        .bind(reply.short_code.as_str())
        .bind(reply.short_code.key())
        .bind(reply.content.as_str())
        .bind(reply.created_at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn list_canned_replies(&self) -> Result<Vec<CannedReply>> {
        let rows: Vec<CannedReplyRow> = sqlx::query_as(
            "SELECT id, short_code, content, created_at FROM canned_replies ORDER BY short_code_key",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        rows.into_iter().map(CannedReply::try_from).collect()
    }

    async fn update_canned_reply(
        &self,
        id: CannedReplyId,
        changes: &CannedReplyChanges,
    ) -> Result<CannedReply> {
        let row: Option<CannedReplyRow> = sqlx::query_as(
            "UPDATE canned_replies SET short_code = COALESCE($2, short_code), \
             short_code_key = COALESCE($3, short_code_key), content = COALESCE($4, content) \
             WHERE id = $1 RETURNING id, short_code, content, created_at",
        )
        .bind(id.as_uuid())
        .bind(changes.short_code.as_ref().map(ShortCode::as_str))
        .bind(changes.short_code.as_ref().map(ShortCode::key))
        .bind(changes.content.as_ref().map(MessageBody::as_str))
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        CannedReply::try_from(row.ok_or(Error::NotFound("canned reply"))?)
    }

    async fn delete_canned_reply(&self, id: CannedReplyId) -> Result<()> {
        let done = sqlx::query("DELETE FROM canned_replies WHERE id = $1")
            .bind(id.as_uuid())
            .execute(&self.pool)
            .await
            .map_err(map)?;
        touched(done.rows_affected(), "canned reply")
    }
}

#[async_trait]
impl ReportStore for PostgresStore {
    async fn rating_counts(&self, query: &RatingQuery) -> Result<Vec<RatingCount>> {
        let rows: Vec<(Option<Uuid>, i16, i64)> = sqlx::query_as(
            "SELECT (rating->>'agent')::uuid, (rating->>'score')::smallint, count(*) \
             FROM conversations WHERE rating IS NOT NULL \
             AND ($1::bigint IS NULL OR (rating->>'rated_at')::bigint >= $1) \
             AND ($2::bigint IS NULL OR (rating->>'rated_at')::bigint < $2) \
             AND ($3::uuid IS NULL OR (rating->>'agent')::uuid = $3) \
             GROUP BY 1, 2",
        )
        .bind(query.since.map(|t| t.timestamp_micros()))
        .bind(query.until.map(|t| t.timestamp_micros()))
        .bind(query.agent.map(|a| a.as_uuid()))
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        rows.into_iter()
            .map(|(agent, score, count)| {
                let score = u8::try_from(score).unwrap_or(0);
                Ok(RatingCount {
                    agent: agent.map(AdminId::from_uuid),
                    score: Score::new(score)?,
                    count: u64::try_from(count).unwrap_or(0),
                })
            })
            .collect()
    }
}

/// The advisory lock key of the assignment lease ("chat-asg" in ASCII).
const ASSIGNMENT_LOCK: i64 = 0x6368_6174_2d61_7367;

#[async_trait]
impl AssignmentStore for PostgresStore {
    async fn unassigned_conversations(&self, limit: usize) -> Result<Vec<Conversation>> {
        let query = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.assignee_id IS NULL \
             AND c.status IN ('waiting', 'active') ORDER BY c.created_at, c.id LIMIT $1"
        );
        let rows: Vec<ConversationRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        rows.into_iter().map(Conversation::try_from).collect()
    }

    async fn open_conversation_counts(&self) -> Result<Vec<(AdminId, u64)>> {
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(
            "SELECT assignee_id, count(*) FROM conversations WHERE assignee_id IS NOT NULL \
             AND status <> 'closed' GROUP BY assignee_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        Ok(rows
            .into_iter()
            .map(|(id, n)| (AdminId::from_uuid(id), u64::try_from(n).unwrap_or(0)))
            .collect())
    }

    async fn try_assignment_lease(&self) -> Result<Option<Lease>> {
        // A transaction-level advisory lock: held while the lease (the open transaction)
        // lives, released when it is dropped (rolled back) or its connection dies.
        let mut tx = self.pool.begin().await.map_err(map)?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(ASSIGNMENT_LOCK)
            .fetch_one(&mut *tx)
            .await
            .map_err(map)?;
        Ok(locked.then(|| Box::new(tx) as Lease))
    }
}
