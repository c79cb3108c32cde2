//! The conversation-side traits: conversations, the event log and read state.

use async_trait::async_trait;
use chat_core::event::{Audience, Event};
use chat_core::ids::{ConversationId, LabelId, MessageId, Seq};
use chat_core::log::{AppendOutcome, AppendRequest, Commit, IdempotencyKey};
use chat_core::model::{Conversation, Message, Participant, UserRef};
use chat_core::read::{self, NewestCounted, ReadCursor};
use chat_core::status::ConversationStatus;
use chat_core::store::{
    ConversationPage, ConversationQuery, ConversationRemoval, ConversationStore,
    ConversationSummary, EventStore, ListCursor, ListScope, ReadStateStore,
};
use chat_core::{Error, Result};
use sqlx::AssertSqlSafe;
use sqlx::types::Uuid;
use sqlx::{PgPool, Postgres, QueryBuilder};

use crate::batch;
use crate::error::map;
use crate::notify;
use crate::rows::{self, CONVERSATION_COLUMNS, ConversationRow, EventRow, ParticipantRow};
use crate::store::PostgresStore;

fn missing() -> Error {
    Error::NotFound("conversation")
}

#[async_trait]
impl ConversationStore for PostgresStore {
    async fn create_conversation(&self, commit: &Commit) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(map)?;
        let c = &commit.conversation;
        sqlx::query(
            "INSERT INTO conversations (id, status, created_at, updated_at, closed_at, customer_ip, metadata, \
             customer_id, assignee_id, last_seq, last_customer_message_seq, last_reply_seq, \
             customer_messages, replies, labels, rating, snoozed_until) \
             VALUES ($1, $2, $3, $4, $5, $6::inet, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(c.id.as_uuid())
        .bind(c.status.as_str())
        .bind(c.created_at)
        .bind(c.updated_at)
        .bind(c.closed_at)
        .bind(c.customer_ip.map(|ip| ip.to_string()))
        .bind(sqlx::types::Json(serde_json::Value::from(c.metadata.clone())))
        .bind(c.customer_id.as_uuid())
        .bind(c.assignee.map(|a| a.as_uuid()))
        .bind(rows::db_seq(c.last_seq))
        .bind(rows::db_seq(c.last_customer_message_seq))
        .bind(rows::db_seq(c.last_reply_seq))
        .bind(rows::db_count(c.customer_messages))
        .bind(rows::db_count(c.replies))
        .bind(c.labels.iter().map(|l| l.as_uuid()).collect::<Vec<_>>())
        .bind(c.rating.as_ref().map(sqlx::types::Json))
        .bind(c.snoozed_until)
        .execute(&mut *tx)
        .await
        .map_err(|error| match map(error) {
            // The only foreign key of the row: its visitor is gone.
            chat_core::Error::NotFound(_) => chat_core::Error::NotFound("customer"),
            other => other,
        })?;
        batch::write_participants(&mut tx, commit)
            .await
            .map_err(map)?;
        let events: Vec<&Event> = commit.events.iter().collect();
        if self.announce {
            notify::events(&mut tx, &events).await.map_err(map)?;
        }
        batch::insert_events(&mut tx, &events).await.map_err(map)?;
        tx.commit().await.map_err(map)
    }

    async fn get_conversation(&self, id: ConversationId) -> Result<Option<Conversation>> {
        let query = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = $1");
        let row: Option<ConversationRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(Conversation::try_from).transpose()
    }

    async fn participants(&self, id: ConversationId) -> Result<Vec<Participant>> {
        require(&self.pool, id).await?;
        let rows: Vec<ParticipantRow> = sqlx::query_as(
            "SELECT id, conversation_id, user_id, user_type, joined_at FROM participants \
             WHERE conversation_id = $1 ORDER BY joined_at, id",
        )
        .bind(id.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        rows.into_iter().map(Participant::try_from).collect()
    }

    async fn list_conversations(&self, query: &ConversationQuery) -> Result<ConversationPage> {
        let total: i64 = filtered(query, "SELECT count(*) FROM conversations c")
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(map)?;
        let unread_total: i64 = match query.reader {
            None => 0,
            Some(reader) => {
                let mut count = filtered(
                    query,
                    &format!(
                        "SELECT count(*) FROM conversations c {}",
                        cursor_join(reader)
                    ),
                );
                count.push(format!(" AND {}", has_unread(reader)));
                count
                    .build_query_scalar()
                    .fetch_one(&self.pool)
                    .await
                    .map_err(map)?
            }
        };
        let mut page_query = filtered(
            query,
            &format!(
                "SELECT {CONVERSATION_COLUMNS}, {} FROM conversations c {}",
                read_state(query.reader),
                query.reader.map(cursor_join).unwrap_or_default()
            ),
        );
        if let Some(after) = &query.after {
            page_query
                .push(" AND (c.updated_at, c.id) < (")
                .push_bind(after.updated_at)
                .push(", ")
                .push_bind(after.id.as_uuid())
                .push(")");
        }
        page_query
            .push(" ORDER BY c.updated_at DESC, c.id DESC LIMIT ")
            .push_bind(i64::try_from(query.limit + 1).unwrap_or(i64::MAX));
        let rows: Vec<PageRow> = page_query
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let mut items = rows
            .into_iter()
            .map(PageRow::into_summary)
            .collect::<Result<Vec<_>>>()?;
        let next = (items.len() > query.limit).then(|| {
            items.truncate(query.limit);
            items.last().map(|s| ListCursor::after(&s.conversation))
        });
        Ok(ConversationPage {
            items,
            total_count: u64::try_from(total).unwrap_or_default(),
            unread_count: u64::try_from(unread_total).unwrap_or_default(),
            next: next.flatten(),
        })
    }

    async fn due_snoozes(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<Vec<ConversationId>> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM conversations WHERE status = 'snoozed' AND snoozed_until IS NOT NULL \
             AND snoozed_until <= $1 ORDER BY snoozed_until, id LIMIT $2",
        )
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        Ok(ids.into_iter().map(ConversationId::from_uuid).collect())
    }

    async fn delete_conversation(&self, removal: &ConversationRemoval) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(map)?;
        let id = removal.id.as_uuid();
        let query = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = $1 FOR UPDATE"
        );
        let row: Option<ConversationRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map)?;
        let conversation: Conversation = row.ok_or_else(missing)?.try_into()?;
        if !removal.applies_to(&conversation) {
            return Ok(false);
        }
        // The audit keeps who changed what, never the content of a conversation that is
        // gone: kept texts and redaction reasons go (`AuditAction::erase_content`).
        sqlx::query(
            "UPDATE audit_log SET entry = CASE entry->'action'->>'type' \
               WHEN 'messageRedacted' THEN jsonb_set(entry, '{action,reason}', to_jsonb($2::text)) \
               ELSE jsonb_set(entry, '{action,original}', 'null', false) END \
             WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = $1)",
        )
        .bind(id)
        .bind(chat_core::audit::ERASED_REASON)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        sqlx::query(
            "INSERT INTO erased_files (id) SELECT id FROM attachments WHERE conversation_id = $1 \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        sqlx::query("DELETE FROM conversations WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        crate::revise::insert(&mut *tx, &removal.audit)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(true)
    }

    async fn closed_before(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<Vec<ConversationId>> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM conversations WHERE status = 'closed' AND closed_at < $1 \
             ORDER BY closed_at, id LIMIT $2",
        )
        .bind(cutoff)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        Ok(ids.into_iter().map(ConversationId::from_uuid).collect())
    }
}

/// A conversation row joined with one of its read cursors, if it has any.
#[derive(sqlx::FromRow)]
struct CursorRow {
    #[sqlx(flatten)]
    conversation: ConversationRow,
    reader_type: Option<String>,
    reader_id: Option<Uuid>,
    last_read_seq: Option<i64>,
    counted: Option<i64>,
}

impl CursorRow {
    fn cursor(&self) -> Result<Option<(UserRef, ReadCursor)>> {
        let (Some(kind), Some(user), Some(seq), Some(counted)) = (
            &self.reader_type,
            self.reader_id,
            self.last_read_seq,
            self.counted,
        ) else {
            return Ok(None);
        };
        let cursor = ReadCursor {
            seq: rows::seq(seq),
            counted: u64::try_from(counted).unwrap_or_default(),
        };
        Ok(Some((rows::user(kind, user)?, cursor)))
    }
}

/// A list row: the conversation plus the reader's cursor and unread count.
#[derive(sqlx::FromRow)]
struct PageRow {
    #[sqlx(flatten)]
    conversation: ConversationRow,
    last_read_seq: i64,
    unread: i64,
}

impl PageRow {
    fn into_summary(self) -> Result<ConversationSummary> {
        Ok(ConversationSummary {
            conversation: self.conversation.try_into()?,
            last_read_seq: rows::seq(self.last_read_seq),
            unread: u64::try_from(self.unread).unwrap_or_default(),
        })
    }
}

/// `select` followed by the scope, status and label filters.
fn filtered(query: &ConversationQuery, select: &str) -> QueryBuilder<Postgres> {
    let mut builder = QueryBuilder::new(select);
    builder.push(" WHERE true");
    push_filter(&mut builder, query.scope, query.status, query.label);
    builder
}

/// Appends `AND` clauses keeping the conversations `c` in `scope` with `status` and
/// `label` (each when set): the filter of the list and of search.
pub(crate) fn push_filter(
    builder: &mut QueryBuilder<Postgres>,
    scope: ListScope,
    status: Option<ConversationStatus>,
    label: Option<LabelId>,
) {
    match scope {
        ListScope::All => {}
        ListScope::AssignedTo(admin) => {
            builder
                .push(" AND c.assignee_id = ")
                .push_bind(admin.as_uuid());
        }
        ListScope::Customer(customer) => {
            builder
                .push(" AND c.customer_id = ")
                .push_bind(customer.as_uuid());
        }
    }
    if let Some(status) = status {
        builder.push(" AND c.status = ").push_bind(status.as_str());
    }
    if let Some(label) = label {
        builder
            .push(" AND c.labels @> ARRAY[")
            .push_bind(label.as_uuid())
            .push("]");
    }
}

/// Joins the reader's cursor as `r` (user ids are UUIDs, so they are inlined safely).
fn cursor_join(reader: UserRef) -> String {
    let (kind, id) = rows::user_columns(reader);
    format!(
        "LEFT JOIN read_cursors r ON r.conversation_id = c.id AND r.user_type = '{kind}' AND r.user_id = '{id}'"
    )
}

/// `chat_core::read::has_unread` in SQL, from the core's rule.
fn has_unread(reader: UserRef) -> &'static str {
    match read::unread_rule(reader).newest {
        NewestCounted::Reply => "c.last_reply_seq > coalesce(r.last_read_seq, 0)",
        NewestCounted::CustomerMessage => {
            "c.last_customer_message_seq > coalesce(r.last_read_seq, 0)"
        }
    }
}

/// The conversation column counting what `reader` counts (`chat_core::read::counted`).
fn counted(reader: UserRef) -> &'static str {
    match read::unread_rule(reader).newest {
        NewestCounted::Reply => "c.replies",
        NewestCounted::CustomerMessage => "c.customer_messages",
    }
}

/// `chat_core::read::counts_as_unread` in SQL over `messages m`, from the core's rule.
fn counts_as_unread(reader: UserRef) -> String {
    let rule = read::unread_rule(reader);
    let senders: Vec<String> = rule
        .senders
        .iter()
        .map(|kind| format!("'{}'", kind.as_str()))
        .collect();
    let private = if rule.private_notes {
        ""
    } else {
        " AND NOT m.private"
    };
    format!("m.sender_type IN ({}){private}", senders.join(", "))
}

/// The `last_read_seq` and `unread` columns of a list row.
fn read_state(reader: Option<UserRef>) -> String {
    match reader {
        None => "0::bigint AS last_read_seq, 0::bigint AS unread".into(),
        Some(reader) => format!(
            "coalesce(r.last_read_seq, 0) AS last_read_seq, \
             greatest({} - coalesce(r.counted, 0), 0) AS unread",
            counted(reader)
        ),
    }
}

#[async_trait]
impl EventStore for PostgresStore {
    async fn append(&self, request: &AppendRequest) -> Result<AppendOutcome> {
        self.queue_append(request.clone()).await
    }

    async fn sent_message(&self, key: &IdempotencyKey) -> Result<Option<Message>> {
        let (sender_type, sender_id) = rows::actor_columns(key.sender);
        let found: Option<(sqlx::types::Json<chat_core::event::EventKind>,)> = sqlx::query_as(
            "SELECT e.kind FROM messages m \
             JOIN events e ON e.conversation_id = m.conversation_id AND e.seq = m.seq \
             WHERE m.conversation_id = $1 AND m.sender_type = $2 AND m.sender_id = $3 \
             AND m.client_message_id = $4",
        )
        .bind(key.conversation_id.as_uuid())
        .bind(sender_type)
        .bind(sender_id)
        .bind(key.client_message_id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        Ok(found.and_then(|(kind,)| match kind.0 {
            chat_core::event::EventKind::MessageCreated { message } => Some(message),
            _ => None,
        }))
    }

    async fn events_since(
        &self,
        id: ConversationId,
        since: Seq,
        limit: usize,
    ) -> Result<Vec<Event>> {
        let events = load_events(&self.pool, id, since, limit).await?;
        if events.is_empty() {
            require(&self.pool, id).await?;
        }
        Ok(events)
    }

    async fn find_message(&self, id: MessageId) -> Result<Option<Message>> {
        let row: Option<EventRow> = sqlx::query_as(
            "SELECT e.conversation_id, e.seq, e.timestamp, e.kind FROM messages m \
             JOIN events e ON e.conversation_id = m.conversation_id AND e.seq = m.seq \
             WHERE m.id = $1",
        )
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        Ok(row.and_then(|row| Event::from(row).message().cloned()))
    }

    async fn messages_before(
        &self,
        id: ConversationId,
        before: Option<Seq>,
        limit: usize,
        audience: Audience,
    ) -> Result<Vec<Message>> {
        require(&self.pool, id).await?;
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT e.conversation_id, e.seq, e.timestamp, e.kind FROM messages m \
             JOIN events e ON e.conversation_id = m.conversation_id AND e.seq = m.seq \
             WHERE m.conversation_id = $1 AND m.seq < $2 AND ($3 OR NOT m.private) \
             ORDER BY m.seq DESC LIMIT $4",
        )
        .bind(id.as_uuid())
        .bind(before.map_or(i64::MAX, rows::db_seq))
        .bind(audience == Audience::Staff)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        Ok(rows
            .into_iter()
            .filter_map(|row| Event::from(row).message().cloned())
            .collect())
    }
}

/// Events with `seq > since`, ascending, at most `limit` (shared with the broadcaster).
pub(crate) async fn load_events(
    pool: &PgPool,
    id: ConversationId,
    since: Seq,
    limit: usize,
) -> Result<Vec<Event>> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT conversation_id, seq, timestamp, kind FROM events WHERE conversation_id = $1 AND seq > $2 \
         ORDER BY seq LIMIT $3",
    )
    .bind(id.as_uuid())
    .bind(rows::db_seq(since))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await
    .map_err(map)?;
    Ok(rows.into_iter().map(Event::from).collect())
}

#[async_trait]
impl ReadStateStore for PostgresStore {
    async fn advance_read_cursor(
        &self,
        id: ConversationId,
        reader: UserRef,
        seq: Seq,
    ) -> Result<Seq> {
        let (kind, user) = rows::user_columns(reader);
        // The cursor and, as of it, how many messages counted for the reader: the row's
        // count minus the counted messages after it (usually none), in one snapshot.
        let query = format!(
            "INSERT INTO read_cursors (conversation_id, user_type, user_id, last_read_seq, counted) \
             SELECT c.id, $2, $3, $4, {} - (SELECT count(*) FROM messages m \
                 WHERE m.conversation_id = c.id AND m.seq > $4 AND {}) \
             FROM conversations c WHERE c.id = $1 \
             ON CONFLICT (conversation_id, user_type, user_id) DO UPDATE SET \
             counted = CASE WHEN EXCLUDED.last_read_seq > read_cursors.last_read_seq \
                 THEN EXCLUDED.counted ELSE read_cursors.counted END, \
             last_read_seq = GREATEST(read_cursors.last_read_seq, EXCLUDED.last_read_seq) \
             RETURNING last_read_seq",
            counted(reader),
            counts_as_unread(reader)
        );
        let stored: Option<i64> = sqlx::query_scalar(AssertSqlSafe(query))
            .bind(id.as_uuid())
            .bind(kind)
            .bind(user)
            .bind(rows::db_seq(seq))
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        stored.map(rows::seq).ok_or_else(missing)
    }

    async fn read_cursor(&self, id: ConversationId, reader: UserRef) -> Result<Seq> {
        require(&self.pool, id).await?;
        cursor(&self.pool, id, reader).await
    }

    async fn read_cursors(&self, id: ConversationId) -> Result<Vec<(UserRef, ReadCursor)>> {
        // One statement: the conversation's row (a missing one is `NotFound`) with its
        // cursors, if any.
        let stored: Vec<(Option<String>, Option<Uuid>, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT r.user_type, r.user_id, r.last_read_seq, r.counted FROM conversations c \
                 LEFT JOIN read_cursors r ON r.conversation_id = c.id WHERE c.id = $1",
        )
        .bind(id.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        if stored.is_empty() {
            return Err(missing());
        }
        stored
            .into_iter()
            .filter_map(|row| match row {
                (Some(kind), Some(user), Some(seq), Some(counted)) => {
                    Some((kind, user, seq, counted))
                }
                _ => None,
            })
            .map(|(kind, user, seq, counted)| {
                let cursor = ReadCursor {
                    seq: rows::seq(seq),
                    counted: u64::try_from(counted).unwrap_or_default(),
                };
                Ok((rows::user(&kind, user)?, cursor))
            })
            .collect()
    }

    async fn conversation_with_cursors(
        &self,
        id: ConversationId,
    ) -> Result<Option<(Conversation, Vec<(UserRef, ReadCursor)>)>> {
        // One statement, so one snapshot: the row and its cursors (NULLs when none).
        let query = format!(
            "SELECT {CONVERSATION_COLUMNS}, r.user_type AS reader_type, r.user_id AS reader_id, \
             r.last_read_seq, r.counted FROM conversations c \
             LEFT JOIN read_cursors r ON r.conversation_id = c.id WHERE c.id = $1"
        );
        let rows: Vec<CursorRow> = sqlx::query_as(AssertSqlSafe(query))
            .bind(id.as_uuid())
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let mut cursors = Vec::with_capacity(rows.len());
        let mut conversation = None;
        for row in rows {
            if let Some(cursor) = row.cursor()? {
                cursors.push(cursor);
            }
            conversation.get_or_insert(row.conversation);
        }
        conversation
            .map(|row| Ok((Conversation::try_from(row)?, cursors)))
            .transpose()
    }

    async fn unread_count(&self, id: ConversationId, reader: UserRef) -> Result<u64> {
        let (kind, user) = rows::user_columns(reader);
        let query = format!(
            "SELECT greatest({} - coalesce(r.counted, 0), 0) FROM conversations c \
             LEFT JOIN read_cursors r ON r.conversation_id = c.id AND r.user_type = $2 AND r.user_id = $3 \
             WHERE c.id = $1",
            counted(reader)
        );
        let count: Option<i64> = sqlx::query_scalar(AssertSqlSafe(query))
            .bind(id.as_uuid())
            .bind(kind)
            .bind(user)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        count.map(rows::count).ok_or_else(missing)
    }
}

async fn cursor(pool: &PgPool, id: ConversationId, reader: UserRef) -> Result<Seq> {
    let (kind, user) = rows::user_columns(reader);
    let stored: Option<i64> = sqlx::query_scalar(
        "SELECT last_read_seq FROM read_cursors WHERE conversation_id = $1 AND user_type = $2 AND user_id = $3",
    )
    .bind(id.as_uuid())
    .bind(kind)
    .bind(user)
    .fetch_optional(pool)
    .await
    .map_err(map)?;
    Ok(stored.map_or(Seq::ZERO, rows::seq))
}

/// `NotFound` unless the conversation exists.
async fn require(pool: &PgPool, id: ConversationId) -> Result<()> {
    let found: Option<Uuid> = sqlx::query_scalar("SELECT id FROM conversations WHERE id = $1")
        .bind(id.as_uuid())
        .fetch_optional(pool)
        .await
        .map_err(map)?;
    found.map(drop).ok_or_else(missing)
}
