//! Durable `send_message` per second on `PostgresStore` from 1, 8 and 64 concurrent senders
//! (each to its own conversation), beside a plain loop with the same concurrency where every
//! message is one INSERT in its own commit, on the same server in the same run.
//!
//! Needs `DATABASE_URL` (a scratch database is created and dropped).
//! Run with: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p benches --bench pg_appends`

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_core::authz::Principal;
use chat_core::conformance::fixtures::{chatting, engine, send};
use chat_core::ids::ConversationId;
use chat_store_postgres::{PoolConfig, PostgresStore};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

/// Messages each sender sends per timed round.
const PER_SENDER: usize = 16;

fn bench(c: &mut Criterion) {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("SKIPPED pg_appends: DATABASE_URL is not set");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let options = runtime.block_on(scratch_database(&url));
    let config = PoolConfig {
        max_connections: 20,
        ..PoolConfig::default()
    };
    let store = Arc::new(
        runtime
            .block_on(PostgresStore::connect_with(options.clone(), config))
            .expect("store"),
    );
    let plain = runtime
        .block_on(
            PgPoolOptions::new()
                .max_connections(64)
                .connect_with(options.clone()),
        )
        .expect("pool");
    runtime
        .block_on(
            sqlx::query(
                "CREATE TABLE plain (id BIGSERIAL PRIMARY KEY, conversation_id UUID, body TEXT)",
            )
            .execute(&plain),
        )
        .expect("table");
    let engine = engine(store);

    let mut group = c.benchmark_group("pg_durable_sends");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(2));
    for senders in [1, 8, 64] {
        group.throughput(Throughput::Elements((senders * PER_SENDER) as u64));
        group.bench_with_input(
            BenchmarkId::new("plain_insert_per_commit", senders),
            &senders,
            |b, &senders| {
                b.to_async(&runtime)
                    .iter_custom(|iters| plain_rounds(plain.clone(), senders, iters));
            },
        );
        group.bench_with_input(
            BenchmarkId::new("engine", senders),
            &senders,
            |b, &senders| {
                let pairs = runtime.block_on(setup(&engine, senders));
                b.to_async(&runtime)
                    .iter_custom(|iters| engine_rounds(engine.clone(), pairs.clone(), iters));
            },
        );
    }
    group.finish();
    runtime.block_on(plain.close());
}

async fn setup(engine: &chat_core::ChatEngine, senders: usize) -> Vec<(Principal, ConversationId)> {
    let mut pairs = Vec::new();
    for _ in 0..senders {
        let (visitor, conversation) = chatting(engine, 0).await;
        pairs.push((visitor, conversation.id));
    }
    pairs
}

async fn engine_rounds(
    engine: chat_core::ChatEngine,
    pairs: Vec<(Principal, ConversationId)>,
    iters: u64,
) -> Duration {
    let body = "x".repeat(150);
    let started = Instant::now();
    for _ in 0..iters {
        let tasks: Vec<_> = pairs
            .iter()
            .map(|&(visitor, conversation)| {
                let (engine, body) = (engine.clone(), body.clone());
                tokio::spawn(async move {
                    for _ in 0..PER_SENDER {
                        send(&engine, &visitor, conversation, &body, None)
                            .await
                            .expect("send");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("sender");
        }
    }
    started.elapsed()
}

async fn plain_rounds(pool: PgPool, senders: usize, iters: u64) -> Duration {
    let body = "x".repeat(150);
    let started = Instant::now();
    for _ in 0..iters {
        let tasks: Vec<_> = (0..senders)
            .map(|_| {
                let (pool, body) = (pool.clone(), body.clone());
                let conversation = ConversationId::new().as_uuid();
                tokio::spawn(async move {
                    for _ in 0..PER_SENDER {
                        sqlx::query("INSERT INTO plain (conversation_id, body) VALUES ($1, $2)")
                            .bind(conversation)
                            .bind(&body)
                            .execute(&pool)
                            .await
                            .expect("insert");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("sender");
        }
    }
    started.elapsed()
}

/// A new database for this run (an older one of the same name is dropped first).
async fn scratch_database(url: &str) -> PgConnectOptions {
    let server = PgConnectOptions::from_str(url).expect("DATABASE_URL");
    let mut admin = PgConnection::connect_with(&server).await.expect("connect");
    let name = "chat_bench_pg_appends";
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("drop");
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create");
    server.database(name)
}

criterion_group!(benches, bench);
criterion_main!(benches);
