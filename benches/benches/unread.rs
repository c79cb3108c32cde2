//! Unread counts with N unread messages, on sled and (with `DATABASE_URL`) PostgreSQL: the
//! stores keep message counters in the row and a count with each cursor, so a count is one
//! subtraction. Measured side by side in the same run: `before/N`, what counting cost before
//! on the same data: on sled, reading and decoding every event after the cursor (as the old
//! `count_unread` did, here through `events_since`); on PostgreSQL, the old query, a
//! `count(*)` over the messages after the cursor.
//!
//! Run with: `cargo bench -p benches --bench unread`

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chat_core::accounts::Permissions;
use chat_core::conformance::fixtures::{admin, conversation, engine, send, visitor};
use chat_core::ids::{ConversationId, Seq};
use chat_core::read;
use chat_core::{ChatEngine, DynChatStore, Principal};
use chat_store_postgres::{PoolConfig, PostgresStore};
use chat_store_sled::{Durability, SledConfig, SledStore};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use futures_util::future::join_all;

const SIZES: [usize; 3] = [100, 1_000, 10_000];

/// A conversation holding `n` visitor messages the agent has not read.
struct Fixture {
    store: Arc<DynChatStore>,
    engine: ChatEngine,
    agent: Principal,
    conversation: ConversationId,
}

async fn fixture(store: Arc<DynChatStore>, n: usize) -> Fixture {
    let engine = engine(store.clone());
    let visitor = visitor(&engine).await;
    let tag = format!("unread{n}-{}", std::process::id());
    let agent = admin(&engine, &tag, Permissions::default()).await;
    let conversation = conversation(&engine, &visitor).await.id;
    let texts: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    for chunk in texts.chunks(64) {
        let sends = chunk
            .iter()
            .map(|text| send(&engine, &visitor, conversation, text, None));
        for sent in join_all(sends).await {
            sent.expect("send");
        }
    }
    Fixture {
        store,
        engine,
        agent,
        conversation,
    }
}

/// How counting worked before the counters, on one store.
type Before<'a> = &'a dyn Fn(&tokio::runtime::Runtime, &Fixture) -> usize;

fn bench_store(
    c: &mut Criterion,
    name: &str,
    open: &dyn Fn() -> Arc<DynChatStore>,
    before: Before<'_>,
) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group(format!("unread_{name}"));
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for n in SIZES {
        let f = runtime.block_on(fixture(open(), n));
        let counted = runtime
            .block_on(f.engine.unread_count(&f.agent, f.conversation))
            .expect("count");
        assert_eq!(counted, n as u64);
        group.bench_with_input(BenchmarkId::new("count", n), &n, |b, _| {
            b.iter(|| runtime.block_on(f.engine.unread_count(&f.agent, f.conversation)));
        });
        assert_eq!(before(&runtime, &f), n, "the old way counts the same");
        group.bench_with_input(BenchmarkId::new("before", n), &n, |b, _| {
            b.iter(|| before(&runtime, &f));
        });
    }
    group.finish();
}

/// The old sled count: decode every event after the cursor (zero here).
fn decode_after_cursor(runtime: &tokio::runtime::Runtime, f: &Fixture) -> usize {
    let reader = f.agent.user().expect("a person");
    let events = runtime
        .block_on(f.store.events_since(f.conversation, Seq::ZERO, usize::MAX))
        .expect("events");
    events
        .iter()
        .filter_map(|e| e.message())
        .filter(|m| read::counts_as_unread(reader, m))
        .count()
}

fn sled(c: &mut Criterion) {
    let dirs = std::sync::Mutex::new(Vec::new());
    let open = || -> Arc<DynChatStore> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = SledConfig::new(dir.path());
        // Filling the log fast; reading is what is measured.
        config.durability = Durability::Periodic(Duration::from_secs(1));
        let store = SledStore::open_with(config).expect("open");
        dirs.lock().expect("dirs").push(dir);
        Arc::new(store)
    };
    bench_store(c, "sled", &open, &decode_after_cursor);
}

fn postgres(c: &mut Criterion) {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("unread_postgres: SKIPPED (DATABASE_URL is not set)");
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let options = sqlx::postgres::PgConnectOptions::from_str(&url).expect("url");
    let store = runtime
        .block_on(PostgresStore::connect_with(options, PoolConfig::default()))
        .expect("connect");
    let pool = store.pool().clone();
    let old_query = move |runtime: &tokio::runtime::Runtime, f: &Fixture| -> usize {
        let count: i64 = runtime
            .block_on(
                sqlx::query_scalar(
                    "SELECT count(*) FROM messages m WHERE m.conversation_id = $1 \
                     AND m.seq > 0 AND m.sender_type = 'customer'",
                )
                .bind(f.conversation.as_uuid())
                .fetch_one(&pool),
            )
            .expect("count");
        usize::try_from(count).expect("count")
    };
    bench_store(c, "postgres", &|| Arc::new(store.clone()), &old_query);
}

criterion_group!(benches, sled, postgres);
criterion_main!(benches);
