//! The chat-core model test over `PostgresStore`, with "restarts" (the store and its pool
//! dropped and reconnected) at random points: after every step the outcomes must equal the
//! `MemoryStore` oracle's.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use chat_core::DynChatStore;
use chat_core::conformance::model::{ModelBackend, check_ops, ops};
use chat_store_postgres::{PoolConfig, PostgresStore};
use proptest::prelude::*;
use sqlx::postgres::PgConnectOptions;

struct PostgresBackend {
    options: PgConnectOptions,
    store: Arc<PostgresStore>,
}

#[async_trait]
impl ModelBackend for PostgresBackend {
    fn store(&self) -> Arc<DynChatStore> {
        self.store.clone()
    }

    async fn restart(&mut self) {
        self.store.pool().close().await;
        let store = PostgresStore::connect_with(self.options.clone(), PoolConfig::default())
            .await
            .expect("reconnect");
        self.store = Arc::new(store);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    fn postgres_matches_the_oracle_across_restarts(ops in ops(25)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        runtime.block_on(async {
            let options = common::fresh_database().await.expect("testkit found PostgreSQL");
            let store = PostgresStore::connect_with(options.clone(), PoolConfig::default()).await.expect("connect");
            let mut backend = PostgresBackend { options, store: Arc::new(store) };
            check_ops(&mut backend, &ops).await;
            backend.store.pool().close().await;
        });
    }
}

fn main() {
    testkit::Suite::new()
        .blocking(
            "postgres_matches_the_oracle_across_restarts",
            &[testkit::Needs::Postgres],
            postgres_matches_the_oracle_across_restarts,
        )
        .run();
}
