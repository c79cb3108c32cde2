//! The broadcaster conformance suite on `PgBroadcaster`: two nodes, each with its own
//! `PostgresStore` and `PgBroadcaster` on one fresh database; the link between them is cut
//! by terminating every LISTEN connection, as a database restart would.

mod common;

use std::sync::Arc;

use chat_core::broadcast::DynBroadcaster;
use chat_core::conformance::broadcast::{Cluster, Cut};
use chat_core::{ChatEngine, EngineConfig};
use chat_store_postgres::{PgBroadcaster, PoolConfig, PostgresStore};

async fn cluster(nodes: usize) -> Option<Cluster> {
    let options = common::fresh_database().await?;
    let mut engines = Vec::new();
    let mut broadcasters = Vec::new();
    for _ in 0..nodes {
        let store = PostgresStore::connect_with(options.clone(), PoolConfig::default())
            .await
            .expect("store");
        let broadcaster: Arc<DynBroadcaster> = Arc::new(
            PgBroadcaster::start(store.pool().clone())
                .await
                .expect("broadcaster"),
        );
        engines.push(ChatEngine::new(
            Arc::new(store),
            broadcaster.clone(),
            EngineConfig::default(),
        ));
        broadcasters.push(broadcaster);
    }
    let admin = common::pool(options).await;
    let cut: Cut = Box::new(move || {
        let admin = admin.clone();
        Box::pin(async move {
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' \
                 AND datname = current_database() AND pid <> pg_backend_pid()",
            )
            .execute(&admin)
            .await
            .expect("terminate listeners");
        })
    });
    Some(Cluster {
        nodes: engines,
        broadcasters,
        cut: Some(cut),
    })
}

fn main() {
    testkit::Suite::new()
        .each(
            &[testkit::Needs::Postgres],
            chat_core::broadcaster_conformance_scenarios!(cluster),
        )
        .run();
}
