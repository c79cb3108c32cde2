//! Faults: the database down at start, every connection killed mid-run (as a restart
//! would), and an exhausted pool give clear errors or recover, never a panic and never a
//! lost or doubled acknowledged message.

mod common;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chat_core::conformance::fixtures::{all_events, chatting, engine, send};
use chat_core::{DynChatStore, Error};
use chat_store_postgres::{ConnectError, PoolConfig, PostgresStore};
use sqlx::postgres::PgConnectOptions;

async fn a_database_that_is_down_gives_a_clear_error() {
    let options =
        PgConnectOptions::from_str("postgres://postgres@127.0.0.1:1/none").expect("options");
    let config = PoolConfig {
        acquire_timeout: Duration::from_secs(2),
        ..PoolConfig::default()
    };
    let error = PostgresStore::connect_with(options, config)
        .await
        .expect_err("connected to nothing");
    assert!(matches!(error, ConnectError::Connect(_)), "got {error:?}");
    assert!(
        error
            .to_string()
            .starts_with("cannot connect to PostgreSQL"),
        "{error}"
    );
}

async fn killed_connections_are_replaced_and_retries_store_once() {
    let options = common::fresh_database()
        .await
        .expect("testkit found PostgreSQL");
    let database = options.get_database().expect("database").to_owned();
    let store = Arc::new(
        PostgresStore::connect_with(options.clone(), PoolConfig::default())
            .await
            .expect("store"),
    );
    let engine = engine(store.clone());
    let (visitor, conversation) = chatting(&engine, 3).await;

    let admin = common::pool(options.clone().database("postgres")).await;
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
        .bind(&database)
        .execute(&admin)
        .await
        .expect("terminate");
    // The first send may hit a dead connection: it is then not acknowledged, and the client
    // retries with the same client id until it is.
    let mut acknowledged = None;
    for _ in 0..20 {
        match send(
            &engine,
            &visitor,
            conversation.id,
            "after the restart",
            Some("retry-1"),
        )
        .await
        {
            Ok(sent) => {
                acknowledged = Some(sent);
                break;
            }
            Err(Error::Unavailable { .. }) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    let sent = acknowledged.expect("the store never recovered");
    let events = all_events(&*(store.clone() as Arc<DynChatStore>), conversation.id).await;
    let copies = events
        .iter()
        .filter(|e| {
            e.message()
                .is_some_and(|m| m.body.as_str() == "after the restart")
        })
        .count();
    assert_eq!(copies, 1, "retries must store the message exactly once");
    assert_eq!(events.last().map(|e| e.seq), Some(sent.message.seq));
}

async fn an_exhausted_pool_is_an_error_not_a_hang_or_a_panic() {
    let options = common::fresh_database()
        .await
        .expect("testkit found PostgreSQL");
    let config = PoolConfig {
        max_connections: 1,
        acquire_timeout: Duration::from_millis(300),
        ..PoolConfig::default()
    };
    let store = PostgresStore::connect_with(options, config)
        .await
        .expect("store");
    let held = store.pool().acquire().await.expect("the only connection");
    let result =
        chat_core::store::ConversationStore::get_conversation(&store, Default::default()).await;
    assert!(
        matches!(result, Err(Error::Unavailable { .. })),
        "an exhausted pool means the store is out of reach for now: {result:?}"
    );
    drop(held);
    let result =
        chat_core::store::ConversationStore::get_conversation(&store, Default::default()).await;
    assert!(
        matches!(result, Ok(None)),
        "the pool recovers once a connection is free: {result:?}"
    );
}

fn main() {
    testkit::Suite::new()
        .test(
            "a_database_that_is_down_gives_a_clear_error",
            a_database_that_is_down_gives_a_clear_error,
        )
        .add(
            "killed_connections_are_replaced_and_retries_store_once",
            &[testkit::Needs::Postgres],
            |_| killed_connections_are_replaced_and_retries_store_once(),
        )
        .add(
            "an_exhausted_pool_is_an_error_not_a_hang_or_a_panic",
            &[testkit::Needs::Postgres],
            |_| an_exhausted_pool_is_an_error_not_a_hang_or_a_panic(),
        )
        .run();
}
