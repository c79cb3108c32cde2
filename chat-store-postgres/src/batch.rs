//! Group commit: concurrent appends are planned and written in one transaction, with one
//! multi-row statement per table (UNNEST arrays) and one commit (one fsync with
//! `synchronous_commit = on`). Each caller gets its own result: a request that fails to plan
//! (closed conversation, missing attachment, …) fails alone and writes nothing.
//!
//! The transaction locks every conversation of the batch (`FOR UPDATE`, in id order, so
//! two nodes never deadlock) before reading anything, which keeps seqs gap-free across
//! nodes. The NOTIFY that announces the new events is sent inside the same transaction, so
//! nothing is announced that was not committed.

use std::collections::HashMap;

use chat_core::event::Event;
use chat_core::ids::{AttachmentId, ConversationId, Seq};
use chat_core::log::{
    self, AppendOutcome, AppendRequest, Commit, ConversationState, IdempotencyKey, LogSource,
};
use chat_core::model::{Attachment, Conversation, Message, Participant};
use chat_core::{Error, Result};
use sqlx::AssertSqlSafe;
use sqlx::types::{Json, Uuid};
use sqlx::{PgPool, Postgres, Transaction};
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use crate::error::{is_transient, is_unreachable};
use crate::notify;
use crate::rows::{
    self, ATTACHMENT_COLUMNS, AttachmentRow, CONVERSATION_COLUMNS, ConversationRow, ParticipantRow,
};

/// Most appends in one transaction.
const MAX_BATCH: usize = 256;
/// Attempts for a batch that hit a serialization failure or deadlock.
const ATTEMPTS: usize = 3;

/// One queued append and where its answer goes.
pub struct Job {
    pub request: AppendRequest,
    pub reply: oneshot::Sender<Result<AppendOutcome>>,
}

/// What a writer writes with.
#[derive(Debug, Clone)]
pub struct Writer {
    /// The database.
    pub pool: PgPool,
    /// Whether committed events are announced by NOTIFY (for `PgBroadcaster`).
    pub announce: bool,
}

/// Runs batches until every sender is gone. Several writers share the queue, so one
/// batch's round trips overlap another's commit; each takes whatever queued meanwhile.
pub async fn run(writer: Writer, queue: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let jobs = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            jobs
        };
        let requests: Vec<&AppendRequest> = jobs.iter().map(|job| &job.request).collect();
        let started = std::time::Instant::now();
        let outcomes = write_with_retries(&writer, &requests).await;
        metrics::histogram!("chat_store_batch_size", "store" => "postgres")
            .record(requests.len() as f64);
        metrics::histogram!("chat_store_commit_seconds", "store" => "postgres")
            .record(started.elapsed());
        for (job, outcome) in jobs.into_iter().zip(outcomes) {
            // The caller may have gone away; its write stands.
            let _ = job.reply.send(outcome);
        }
    }
}

/// Writes a batch. If it fails for a reason that is not the database being out of reach,
/// the batch was rolled back whole and its appends are written again one by one, so one
/// append's bad data fails that append alone, never its neighbours.
async fn write_with_retries(
    writer: &Writer,
    requests: &[&AppendRequest],
) -> Vec<Result<AppendOutcome>> {
    match write_retrying(writer, requests).await {
        Ok(outcomes) => outcomes,
        Err(error) if requests.len() > 1 && !is_unreachable(&error) => {
            tracing::warn!(%error, appends = requests.len(), "a write batch failed; writing its appends one by one");
            let mut outcomes = Vec::with_capacity(requests.len());
            for request in requests {
                let outcome = match write_retrying(writer, &[request]).await {
                    Ok(mut one) => one.remove(0),
                    Err(error) => {
                        tracing::warn!(%error, "an append failed");
                        shared_failure(&std::sync::Arc::new(error))
                    }
                };
                outcomes.push(outcome);
            }
            outcomes
        }
        Err(error) => {
            tracing::warn!(%error, appends = requests.len(), "a write batch failed; none of it is acknowledged");
            let shared = std::sync::Arc::new(error);
            (0..requests.len())
                .map(|_| shared_failure(&shared))
                .collect()
        }
    }
}

/// One write of the batch, retried while it fails transiently (serialization, deadlock).
async fn write_retrying(
    writer: &Writer,
    requests: &[&AppendRequest],
) -> sqlx::Result<Vec<Result<AppendOutcome>>> {
    let mut attempt = 1;
    loop {
        match write(writer, requests).await {
            Err(error) if attempt < ATTEMPTS && is_transient(&error) => attempt += 1,
            result => return result,
        }
    }
}

/// A failed write's error, for one of its appends.
fn shared_failure(shared: &std::sync::Arc<sqlx::Error>) -> Result<AppendOutcome> {
    let error = SharedError(shared.clone());
    Err(if is_unreachable(shared) {
        Error::unavailable(error)
    } else {
        Error::backend(error)
    })
}

/// One batch failure reported to every caller in the batch.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct SharedError(std::sync::Arc<sqlx::Error>);

/// What the batch read, updated as each request is planned so the next sees it.
struct Loaded {
    states: HashMap<ConversationId, ConversationState>,
    sent: HashMap<IdempotencyKey, Message>,
    attachments: HashMap<AttachmentId, Attachment>,
    /// The messages the batch's edits and deletes name, by conversation and seq.
    targets: HashMap<(ConversationId, Seq), Message>,
}

impl Loaded {
    /// Makes `commit` visible to the requests planned after it.
    fn record(&mut self, commit: &Commit) {
        if let Some(state) = self.states.get_mut(&commit.conversation.id) {
            state.apply(commit);
        }
        for attachment in &commit.attachments {
            self.attachments.insert(attachment.id, attachment.clone());
        }
        if let Some(message) = &commit.message
            && let Some(key) = IdempotencyKey::of(message)
        {
            self.sent.insert(key, message.clone());
        }
        if let Some(revised) = &commit.revised {
            self.targets
                .insert((revised.conversation_id, revised.seq), revised.clone());
        }
    }
}

impl LogSource for Loaded {
    fn current(&mut self, id: ConversationId) -> Result<Option<ConversationState>> {
        Ok(self.states.get(&id).cloned())
    }

    fn sent(&mut self, key: &IdempotencyKey) -> Result<Option<Message>> {
        Ok(self.sent.get(key).cloned())
    }

    fn attachment(&mut self, id: AttachmentId) -> Result<Option<Attachment>> {
        Ok(self.attachments.get(&id).cloned())
    }

    fn message(&mut self, id: ConversationId, seq: Seq) -> Result<Option<Message>> {
        Ok(self.targets.get(&(id, seq)).cloned())
    }
}

async fn write(
    writer: &Writer,
    requests: &[&AppendRequest],
) -> sqlx::Result<Vec<Result<AppendOutcome>>> {
    let mut tx = writer.pool.begin().await?;
    let mut loaded = Loaded {
        states: lock_conversations(&mut tx, requests).await?,
        sent: load_duplicates(&mut tx, requests).await?,
        attachments: load_attachments(&mut tx, requests).await?,
        targets: crate::revise::load_targets(&mut tx, requests)
            .await?
            .into_iter()
            .map(|message| ((message.conversation_id, message.seq), message))
            .collect(),
    };
    let mut commits = Vec::new();
    let outcomes: Vec<Result<AppendOutcome>> = requests
        .iter()
        .map(|request| {
            let outcome = log::append(&mut loaded, request)?;
            if let AppendOutcome::Committed(commit) = &outcome {
                loaded.record(commit);
                // Events of this batch are inserted below, after the revisions of stored
                // ones: a message revised again in the same batch is revised in them here.
                if let Some(revised) = &commit.revised {
                    for earlier in &mut commits {
                        let earlier: &mut Commit = earlier;
                        for event in &mut earlier.events {
                            event.revise(revised);
                        }
                    }
                }
                commits.push((**commit).clone());
            }
            Ok(outcome)
        })
        .collect();
    if !commits.is_empty() {
        persist(&mut tx, &commits, writer.announce).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// Locks the batch's conversations in id order and reads them with their participants.
async fn lock_conversations(
    tx: &mut Transaction<'_, Postgres>,
    requests: &[&AppendRequest],
) -> sqlx::Result<HashMap<ConversationId, ConversationState>> {
    let mut ids: Vec<Uuid> = requests
        .iter()
        .map(|r| r.conversation_id.as_uuid())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let query = format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = ANY($1) ORDER BY c.id FOR UPDATE"
    );
    let rows: Vec<ConversationRow> = sqlx::query_as(AssertSqlSafe(query))
        .bind(&ids)
        .fetch_all(&mut **tx)
        .await?;
    let participants: Vec<ParticipantRow> = sqlx::query_as(
        "SELECT id, conversation_id, user_id, user_type, joined_at FROM participants \
         WHERE conversation_id = ANY($1) ORDER BY joined_at, id",
    )
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    let mut states = HashMap::new();
    for row in rows {
        let conversation = Conversation::try_from(row).map_err(decode_error)?;
        states.insert(
            conversation.id,
            ConversationState {
                conversation,
                participants: Vec::new(),
            },
        );
    }
    for row in participants {
        let participant = Participant::try_from(row).map_err(decode_error)?;
        if let Some(state) = states.get_mut(&participant.conversation_id) {
            state.participants.push(participant);
        }
    }
    Ok(states)
}

/// The batch's idempotency lookup: one probe of the unique index per key. A LATERAL
/// subquery with LIMIT is not flattened into a join, so no plan can turn it into a scan
/// of `messages`. The `IN (SELECT * FROM UNNEST(..))` form could: its generic plan, made
/// while the table was young and kept until autovacuum analyzed it, hash-joined a
/// sequential scan, and every batch read every message (`tests/indexes.rs`).
pub const IDEMPOTENCY_LOOKUP: &str = "SELECT e.kind \
    FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::text[]) AS k(c, t, s, id) \
    CROSS JOIN LATERAL (SELECT m.seq FROM messages m WHERE m.conversation_id = k.c \
        AND m.sender_type = k.t AND m.sender_id = k.s AND m.client_message_id = k.id LIMIT 1) m \
    JOIN events e ON e.conversation_id = k.c AND e.seq = m.seq";

/// The stored messages that the batch's idempotency keys name.
async fn load_duplicates(
    tx: &mut Transaction<'_, Postgres>,
    requests: &[&AppendRequest],
) -> sqlx::Result<HashMap<IdempotencyKey, Message>> {
    let keys: Vec<IdempotencyKey> = requests
        .iter()
        .filter_map(|r| r.idempotency_key())
        .collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let (mut conversations, mut types, mut senders, mut client_ids) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for key in &keys {
        let (kind, id) = rows::actor_columns(key.sender);
        conversations.push(key.conversation_id.as_uuid());
        types.push(kind);
        senders.push(id);
        client_ids.push(key.client_message_id.as_str().to_owned());
    }
    let found: Vec<(Json<chat_core::event::EventKind>,)> = sqlx::query_as(IDEMPOTENCY_LOOKUP)
        .bind(&conversations)
        .bind(&types)
        .bind(&senders)
        .bind(&client_ids)
        .fetch_all(&mut **tx)
        .await?;
    let mut duplicates = HashMap::new();
    for (kind,) in found {
        if let chat_core::event::EventKind::MessageCreated { message } = kind.0
            && let Some(key) = IdempotencyKey::of(&message)
        {
            duplicates.insert(key, message);
        }
    }
    Ok(duplicates)
}

/// The existing attachments that the batch's messages name.
async fn load_attachments(
    tx: &mut Transaction<'_, Postgres>,
    requests: &[&AppendRequest],
) -> sqlx::Result<HashMap<AttachmentId, Attachment>> {
    let ids: Vec<Uuid> = requests
        .iter()
        .flat_map(|r| r.attachment_ids())
        .map(|id| id.as_uuid())
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let query = format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = ANY($1)");
    let rows: Vec<AttachmentRow> = sqlx::query_as(AssertSqlSafe(query))
        .bind(&ids)
        .fetch_all(&mut **tx)
        .await?;
    rows.into_iter()
        .map(|row| {
            Attachment::try_from(row)
                .map(|a| (a.id, a))
                .map_err(decode_error)
        })
        .collect()
}

/// Writes every commit of the batch: one statement per table.
async fn persist(
    tx: &mut Transaction<'_, Postgres>,
    commits: &[Commit],
    announce: bool,
) -> sqlx::Result<()> {
    let events: Vec<&Event> = commits.iter().flat_map(|c| &c.events).collect();
    let messages: Vec<&Message> = commits.iter().filter_map(|c| c.message.as_ref()).collect();
    insert_messages(tx, &messages).await?;
    for commit in commits {
        write_participants(tx, commit).await?;
    }
    let attachments: Vec<&Attachment> = commits.iter().flat_map(|c| &c.attachments).collect();
    write_attachments(tx, &attachments).await?;
    let mut latest: HashMap<ConversationId, &Conversation> = HashMap::new();
    for commit in commits {
        latest.insert(commit.conversation.id, &commit.conversation);
    }
    update_conversations(tx, latest.values().copied()).await?;
    crate::revise::persist(tx, commits).await?;
    // The events go last: taking their feed positions holds the feed's lock until the
    // commit (see `insert_events`).
    if announce {
        notify::events(tx, &events).await?;
    }
    insert_events(tx, &events).await
}

/// Inserts the events with the change feed's next positions. Taking the positions locks the
/// feed's counter row until the transaction ends, so callers run it as their last write:
/// transactions take positions one after another, in commit order.
pub(crate) async fn insert_events(
    tx: &mut Transaction<'_, Postgres>,
    events: &[&Event],
) -> sqlx::Result<()> {
    let conversations: Vec<Uuid> = events.iter().map(|e| e.conversation_id.as_uuid()).collect();
    let seqs: Vec<i64> = events.iter().map(|e| rows::db_seq(e.seq)).collect();
    let times: Vec<chrono::DateTime<chrono::Utc>> = events.iter().map(|e| e.timestamp).collect();
    let kinds: Vec<Json<&chat_core::event::EventKind>> =
        events.iter().map(|e| Json(&e.kind)).collect();
    sqlx::query(
        "WITH head AS (UPDATE change_feed_head SET position = position + $5 \
                       RETURNING position - $5 AS base) \
         INSERT INTO events (conversation_id, seq, timestamp, kind, position) \
         SELECT e.c, e.s, e.t, e.k, head.base + e.n \
         FROM head, UNNEST($1::uuid[], $2::bigint[], $3::timestamptz[], $4::jsonb[]) \
              WITH ORDINALITY AS e(c, s, t, k, n)",
    )
    .bind(&conversations)
    .bind(&seqs)
    .bind(&times)
    .bind(&kinds)
    .bind(events.len() as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_messages(
    tx: &mut Transaction<'_, Postgres>,
    messages: &[&Message],
) -> sqlx::Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut columns = MessageColumns::default();
    for message in messages {
        columns.push(message);
    }
    sqlx::query(
        "INSERT INTO messages (id, conversation_id, seq, sender_id, sender_type, content, timestamp, metadata, \
         client_message_id, client_timestamp, private, words) \
         SELECT i, c, s, se, st, co, t, me, ci, ct, p, array_to_tsvector(string_to_array(w, ' ')) \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], \
         $7::timestamptz[], $8::jsonb[], $9::text[], $10::timestamptz[], $11::bool[], $12::text[]) \
         AS m(i, c, s, se, st, co, t, me, ci, ct, p, w)",
    )
    .bind(&columns.ids)
    .bind(&columns.conversations)
    .bind(&columns.seqs)
    .bind(&columns.senders)
    .bind(&columns.sender_types)
    .bind(&columns.contents)
    .bind(&columns.timestamps)
    .bind(&columns.metadata)
    .bind(&columns.client_ids)
    .bind(&columns.client_timestamps)
    .bind(&columns.private)
    .bind(&columns.words)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Default)]
struct MessageColumns {
    ids: Vec<Uuid>,
    conversations: Vec<Uuid>,
    seqs: Vec<i64>,
    senders: Vec<Uuid>,
    sender_types: Vec<&'static str>,
    contents: Vec<String>,
    timestamps: Vec<chrono::DateTime<chrono::Utc>>,
    metadata: Vec<Json<serde_json::Value>>,
    client_ids: Vec<Option<String>>,
    client_timestamps: Vec<Option<chrono::DateTime<chrono::Utc>>>,
    private: Vec<bool>,
    /// The message's search words, space-separated (a word holds no space).
    words: Vec<String>,
}

impl MessageColumns {
    fn push(&mut self, message: &Message) {
        let (kind, sender) = rows::actor_columns(message.sender);
        self.ids.push(message.id.as_uuid());
        self.conversations.push(message.conversation_id.as_uuid());
        self.seqs.push(rows::db_seq(message.seq));
        self.senders.push(sender);
        self.sender_types.push(kind);
        self.contents.push(message.body.as_str().to_owned());
        self.timestamps.push(message.timestamp);
        self.metadata.push(Json(message.metadata.clone().into()));
        self.client_ids.push(
            message
                .client_message_id
                .as_ref()
                .map(|id| id.as_str().to_owned()),
        );
        self.client_timestamps.push(message.client_timestamp);
        self.private.push(message.private);
        self.words
            .push(chat_core::search::words(message.body.as_str()).join(" "));
    }
}

pub(crate) async fn write_participants(
    tx: &mut Transaction<'_, Postgres>,
    commit: &Commit,
) -> sqlx::Result<()> {
    for participant in &commit.joined {
        let (kind, id) = rows::user_columns(participant.user);
        sqlx::query("INSERT INTO participants (id, conversation_id, user_id, user_type, joined_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(participant.id.as_uuid())
            .bind(participant.conversation_id.as_uuid())
            .bind(id)
            .bind(kind)
            .bind(participant.joined_at)
            .execute(&mut **tx)
            .await?;
    }
    for user in &commit.left {
        let (kind, id) = rows::user_columns(*user);
        sqlx::query("DELETE FROM participants WHERE conversation_id = $1 AND user_type = $2 AND user_id = $3")
            .bind(commit.conversation.id.as_uuid())
            .bind(kind)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// New uploads are inserted; files sent with a message are linked.
async fn write_attachments(
    tx: &mut Transaction<'_, Postgres>,
    attachments: &[&Attachment],
) -> sqlx::Result<()> {
    for attachment in attachments {
        match attachment.message_id {
            Some(message) => {
                sqlx::query("UPDATE attachments SET message_id = $2, private = $3 WHERE id = $1")
                    .bind(attachment.id.as_uuid())
                    .bind(message.as_uuid())
                    .bind(attachment.private)
                    .execute(&mut **tx)
                    .await?;
            }
            None => {
                let (kind, uploader) = rows::actor_columns(attachment.uploader);
                sqlx::query(
                    "INSERT INTO attachments (id, conversation_id, message_id, file_url, file_type, content_type, \
                     file_size, file_name, uploader_type, uploader_id, private, uploaded_at) \
                     VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(attachment.id.as_uuid())
                .bind(attachment.conversation_id.as_uuid())
                .bind(format!("/api/files/{}", attachment.id))
                .bind(match attachment.file_type {
                    chat_core::model::FileType::Image => "image",
                    chat_core::model::FileType::Document => "document",
                })
                .bind(&attachment.content_type)
                .bind(i64::try_from(attachment.file_size).unwrap_or(i64::MAX))
                .bind(attachment.file_name.as_str())
                .bind(kind)
                .bind(uploader)
                .bind(attachment.private)
                .bind(attachment.uploaded_at)
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    Ok(())
}

async fn update_conversations<'a>(
    tx: &mut Transaction<'_, Postgres>,
    conversations: impl Iterator<Item = &'a Conversation>,
) -> sqlx::Result<()> {
    let conversations: Vec<&Conversation> = conversations.collect();
    let ids: Vec<Uuid> = conversations.iter().map(|c| c.id.as_uuid()).collect();
    let statuses: Vec<&str> = conversations.iter().map(|c| c.status.as_str()).collect();
    let updated: Vec<chrono::DateTime<chrono::Utc>> =
        conversations.iter().map(|c| c.updated_at).collect();
    let closed: Vec<Option<chrono::DateTime<chrono::Utc>>> =
        conversations.iter().map(|c| c.closed_at).collect();
    let assignees: Vec<Option<Uuid>> = conversations
        .iter()
        .map(|c| c.assignee.map(|a| a.as_uuid()))
        .collect();
    let last: Vec<i64> = conversations
        .iter()
        .map(|c| rows::db_seq(c.last_seq))
        .collect();
    let customer: Vec<i64> = conversations
        .iter()
        .map(|c| rows::db_seq(c.last_customer_message_seq))
        .collect();
    let reply: Vec<i64> = conversations
        .iter()
        .map(|c| rows::db_seq(c.last_reply_seq))
        .collect();
    let customer_messages: Vec<i64> = conversations
        .iter()
        .map(|c| rows::db_count(c.customer_messages))
        .collect();
    let replies: Vec<i64> = conversations
        .iter()
        .map(|c| rows::db_count(c.replies))
        .collect();
    // UNNEST cannot take an array of arrays: each row's labels travel as one array literal.
    let labels: Vec<String> = conversations
        .iter()
        .map(|c| label_array(&c.labels))
        .collect();
    let snoozed: Vec<Option<chrono::DateTime<chrono::Utc>>> =
        conversations.iter().map(|c| c.snoozed_until).collect();
    let ratings: Vec<Option<sqlx::types::Json<&chat_core::ratings::Rating>>> = conversations
        .iter()
        .map(|c| c.rating.as_ref().map(sqlx::types::Json))
        .collect();
    sqlx::query(
        "UPDATE conversations c SET status = u.status, updated_at = u.updated_at, closed_at = u.closed_at, \
         assignee_id = u.assignee_id, last_seq = u.last_seq, last_customer_message_seq = u.lcms, \
         last_reply_seq = u.lrs, customer_messages = u.cm, replies = u.r, labels = u.labels::uuid[], \
         rating = u.rating, snoozed_until = u.snoozed_until \
         FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::uuid[], $6::bigint[], \
         $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::jsonb[], $13::timestamptz[]) \
         AS u(id, status, updated_at, closed_at, assignee_id, last_seq, lcms, lrs, cm, r, labels, rating, snoozed_until) \
         WHERE c.id = u.id",
    )
    .bind(&ids)
    .bind(&statuses)
    .bind(&updated)
    .bind(&closed)
    .bind(&assignees)
    .bind(&last)
    .bind(&customer)
    .bind(&reply)
    .bind(&customer_messages)
    .bind(&replies)
    .bind(&labels)
    .bind(&ratings)
    .bind(&snoozed)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A PostgreSQL array literal of label ids: `{id,id}`.
fn label_array(labels: &[chat_core::ids::LabelId]) -> String {
    let ids: Vec<String> = labels.iter().map(ToString::to_string).collect();
    format!("{{{}}}", ids.join(","))
}

/// A row this build cannot read, surfaced as a database error so the batch fails whole.
fn decode_error(error: Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(error))
}
