//! A database migrated before the message counters (migration 3) is upgraded on connect:
//! the counters and each cursor's count are filled in from the stored messages, and unread
//! counts stay what they were. One migrated before search (migration 13) finds its old
//! messages once connected, and the search words are rebuilt on request.

mod common;

use chat_core::conformance::fixtures::{engine, partly_read, send};
use chat_core::ids::ConversationId;
use chat_core::{ChatEngine, Principal};
use chat_store_postgres::{PoolConfig, PostgresStore};
use std::sync::Arc;

async fn unread(engine: &ChatEngine, who: &Principal, conv: ConversationId) -> u64 {
    engine.unread_count(who, conv).await.expect("unread")
}

async fn a_database_from_before_the_counters_is_upgraded_and_counts_as_before() {
    let options = common::fresh_database()
        .await
        .expect("testkit found PostgreSQL");
    let store = PostgresStore::connect_with(options.clone(), PoolConfig::default())
        .await
        .expect("store");
    let (visitor, agent, conv) = partly_read(&engine(Arc::new(store.clone()))).await;
    // Back to the schema before migration 3, as an older build left it.
    for statement in [
        "ALTER TABLE conversations DROP COLUMN customer_messages, DROP COLUMN replies",
        "ALTER TABLE read_cursors DROP COLUMN counted",
        "DELETE FROM _sqlx_migrations WHERE version = 3",
    ] {
        sqlx::query(statement)
            .execute(store.pool())
            .await
            .expect(statement);
    }
    drop(store);

    let store = PostgresStore::connect_with(options, PoolConfig::default())
        .await
        .expect("the upgrade runs on connect");
    let engine = engine(Arc::new(store));
    assert_eq!(unread(&engine, &agent, conv).await, 2, "v2, v3");
    assert_eq!(
        unread(&engine, &visitor, conv).await,
        2,
        "a1, a2 (never the note)"
    );
    send(&engine, &visitor, conv, "v4", None)
        .await
        .expect("send");
    assert_eq!(
        unread(&engine, &agent, conv).await,
        3,
        "the counters keep counting"
    );
}

/// How many messages `q` finds for `agent`.
async fn found(engine: &ChatEngine, agent: &Principal, q: &str) -> usize {
    let request = chat_core::engine::SearchRequest {
        q: q.to_owned(),
        ..Default::default()
    };
    engine
        .search(agent, request)
        .await
        .expect("search")
        .messages
        .len()
}

/// A database from before search (migration 13) gets every stored message's words, by the
/// server's own rule, on connect; `rebuild_search_index` recomputes them all.
async fn a_database_from_before_search_finds_its_old_messages() {
    let options = common::fresh_database()
        .await
        .expect("testkit found PostgreSQL");
    let store = PostgresStore::connect_with(options.clone(), PoolConfig::default())
        .await
        .expect("store");
    let chat = engine(Arc::new(store.clone()));
    let agent = chat_core::conformance::fixtures::admin(
        &chat,
        "upgrader",
        chat_core::accounts::Permissions::default(),
    )
    .await;
    let (visitor, conversation) = chat_core::conformance::fixtures::chatting(&chat, 0).await;
    for text in ["Parcel never ARRIVED", "Crème brûlée order"] {
        send(&chat, &visitor, conversation.id, text, None)
            .await
            .expect("send");
    }
    for statement in [
        "DROP INDEX idx_messages_words",
        "DROP INDEX idx_customers_email",
        "DROP INDEX idx_messages_timestamp_id",
        "ALTER TABLE messages DROP COLUMN words",
        "DELETE FROM _sqlx_migrations WHERE version = 13",
    ] {
        sqlx::query(statement)
            .execute(store.pool())
            .await
            .expect(statement);
    }
    drop(chat);
    drop(store);

    let store = PostgresStore::connect_with(options, PoolConfig::default())
        .await
        .expect("the upgrade runs on connect");
    let chat = engine(Arc::new(store.clone()));
    assert_eq!(
        found(&chat, &agent, "parcel arrived").await,
        1,
        "ASCII is exact"
    );
    assert_eq!(found(&chat, &agent, "order").await, 1);

    sqlx::query("UPDATE messages SET words = ''")
        .execute(store.pool())
        .await
        .expect("damage");
    assert_eq!(found(&chat, &agent, "parcel").await, 0, "damaged");
    assert_eq!(store.rebuild_search_index().await.expect("rebuild"), 2);
    assert_eq!(found(&chat, &agent, "parcel").await, 1);
    assert_eq!(
        found(&chat, &agent, "CRÈME brûlée").await,
        1,
        "the server's rule"
    );
}

fn main() {
    testkit::Suite::new()
        .add(
            "a_database_from_before_the_counters_is_upgraded_and_counts_as_before",
            &[testkit::Needs::Postgres],
            |_| a_database_from_before_the_counters_is_upgraded_and_counts_as_before(),
        )
        .add(
            "a_database_from_before_search_finds_its_old_messages",
            &[testkit::Needs::Postgres],
            |_| a_database_from_before_search_finds_its_old_messages(),
        )
        .run();
}
