//! Every hot query can be served by an index: with sequential scans disabled, the plans of
//! history, events-since, unread counts, idempotency lookups, the inbox list, search,
//! visitors by address, retention and a visitor's conversations contain no
//! sequential scan. (On tiny test tables the planner would pick one anyway, so this checks
//! that an index exists for each, not what a large table would choose.)

mod common;

use chat_core::conformance::fixtures::{chatting, engine};
use sqlx::Row;

const QUERIES: [(&str, &str); 12] = [
    (
        "history",
        "SELECT e.kind FROM messages m JOIN events e ON e.conversation_id = m.conversation_id AND e.seq = m.seq \
        WHERE m.conversation_id = $1 AND m.seq < 1000 ORDER BY m.seq DESC LIMIT 50",
    ),
    (
        "events since",
        "SELECT kind FROM events WHERE conversation_id = $1 AND seq > 3 ORDER BY seq LIMIT 100",
    ),
    (
        "unread",
        "SELECT count(*) FROM messages m WHERE m.conversation_id = $1 AND m.seq > 2 AND m.sender_type = 'customer'",
    ),
    (
        "idempotency",
        "SELECT id FROM messages WHERE conversation_id = $1 AND sender_type = 'customer' \
        AND sender_id = '00000000-0000-0000-0000-000000000000' AND client_message_id = 'x'",
    ),
    (
        "inbox list",
        "SELECT id FROM conversations c WHERE $1::uuid IS NOT NULL ORDER BY c.updated_at DESC, c.id DESC LIMIT 20",
    ),
    (
        "participants",
        "SELECT id FROM participants WHERE conversation_id = $1",
    ),
    (
        "change feed",
        "SELECT kind FROM events WHERE $1::uuid IS NOT NULL AND position > 2 ORDER BY position LIMIT 100",
    ),
    (
        "search",
        "SELECT m.id FROM messages m WHERE $1::uuid IS NOT NULL AND m.words @@ '''refund'' & ''order'''::tsquery \
        ORDER BY m.timestamp DESC, m.id DESC LIMIT 21",
    ),
    (
        "visitors by address",
        "SELECT id FROM customers WHERE $1::uuid IS NOT NULL AND email = 'jane@example.com'",
    ),
    (
        "retention",
        "SELECT id FROM conversations WHERE $1::uuid IS NOT NULL AND status = 'closed' \
        AND closed_at < now() ORDER BY closed_at, id LIMIT 100",
    ),
    (
        "a visitor's conversations (its erasure's foreign-key check)",
        "SELECT id FROM conversations WHERE customer_id = $1",
    ),
    (
        "webhook deliveries",
        "SELECT id FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT 50",
    ),
];

/// The writer's batch idempotency lookup keeps probing the unique index as the table grows
/// from empty. A prepared statement's generic plan is made once, while the table is young,
/// and is only replanned when the table is analyzed, which autovacuum does a minute or more
/// later: the earlier `IN (SELECT * FROM UNNEST(..))` form was planned as a sequential scan
/// of the then-empty messages and kept reading every message for each batch (seen with
/// `pg_stat_statements` in `benches/run.sh`: 67% of the database's statement time).
async fn the_batch_idempotency_lookup_never_scans_the_messages() {
    let store = common::fresh_store()
        .await
        .expect("testkit found PostgreSQL");
    let store = std::sync::Arc::new(store);
    let (_, conversation) = chatting(&engine(store.clone()), 1).await;
    let mut connection = store.pool().acquire().await.expect("connection");
    // EXPLAIN and EXECUTE take no bind parameters here: the ids are UUIDs, safe to inline.
    let (id, customer) = (
        conversation.id.as_uuid(),
        conversation.customer_id.as_uuid(),
    );
    let execute = format!(
        "EXECUTE lookup(ARRAY['{id}']::uuid[], ARRAY['customer'], ARRAY['{customer}']::uuid[], ARRAY['c1'])"
    );
    let prepare = format!(
        "SET plan_cache_mode = force_generic_plan; \
         PREPARE lookup(uuid[], text[], uuid[], text[]) AS {}; {execute}",
        chat_store_postgres::IDEMPOTENCY_LOOKUP
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(prepare))
        .execute(&mut *connection)
        .await
        .expect("prepare and plan while the table is young");
    // Then the table grows: a few thousand messages (and their events), not yet analyzed.
    sqlx::query(
        "WITH n AS (SELECT g FROM generate_series(1000, 4999) g), \
         e AS (INSERT INTO events (conversation_id, seq, timestamp, kind, position) \
             SELECT $1, g, now(), '{}'::jsonb, 1000000 + g FROM n) \
         INSERT INTO messages (id, conversation_id, seq, sender_id, sender_type, content, client_message_id) \
         SELECT gen_random_uuid(), $1, g, $2, 'customer', 'x', 'c' || g FROM n",
    )
    .bind(id)
    .bind(customer)
    .execute(&mut *connection)
    .await
    .expect("grow");
    let plan: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {execute}")))
        .fetch_all(&mut *connection)
        .await
        .expect("explain")
        .into_iter()
        .map(|row| row.get::<String, _>(0))
        .collect();
    assert!(
        !plan
            .iter()
            .any(|line| line.contains("Seq Scan on messages")),
        "the lookup scans the messages:\n{}",
        plan.join("\n")
    );
}

async fn hot_queries_have_indexes() {
    let store = common::fresh_store()
        .await
        .expect("testkit found PostgreSQL");
    let store = std::sync::Arc::new(store);
    let (_, conversation) = chatting(&engine(store.clone()), 5).await;
    let mut connection = store.pool().acquire().await.expect("connection");
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *connection)
        .await
        .expect("set");
    for (name, query) in QUERIES {
        let plan: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {query}")))
            .bind(conversation.id.as_uuid())
            .fetch_all(&mut *connection)
            .await
            .expect("explain")
            .into_iter()
            .map(|row| row.get::<String, _>(0))
            .collect();
        assert!(
            !plan.iter().any(|line| line.contains("Seq Scan")),
            "{name} needs a sequential scan:\n{}",
            plan.join("\n")
        );
    }
}

fn main() {
    testkit::Suite::new()
        .add(
            "the_batch_idempotency_lookup_never_scans_the_messages",
            &[testkit::Needs::Postgres],
            |_| the_batch_idempotency_lookup_never_scans_the_messages(),
        )
        .add(
            "hot_queries_have_indexes",
            &[testkit::Needs::Postgres],
            |_| hot_queries_have_indexes(),
        )
        .run();
}
