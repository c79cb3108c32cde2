//! Search latency on sled and (with `DATABASE_URL`) PostgreSQL at corpus sizes from
//! `SEARCH_BENCH_SIZES` (default `100000`; the READMEs report `100000,1000000`): p50 and
//! p99 of the engine's `search` for a rare word, a common word, two words together, a common
//! word in closed conversations only, and a word nothing holds; and the index's size.
//!
//! The corpus: conversations of 50 visitor messages each, 8 to 15 words per message drawn
//! from 20,000 words with a Zipf-like (1/rank) frequency, a tenth of the conversations closed.
//! Loaded through the engine with relaxed durability (sled flushes every second, PostgreSQL
//! commits asynchronously): loading speed is not what is measured.
//!
//! Run with: `SEARCH_BENCH_SIZES=100000,1000000 cargo bench -p benches --bench search`

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_core::accounts::Permissions;
use chat_core::conformance::fixtures::{admin, conversation, engine, send, visitor};
use chat_core::engine::SearchRequest;
use chat_core::status::ConversationStatus;
use chat_core::{ChatEngine, Principal};
use chat_store_postgres::{PoolConfig, PostgresStore};
use chat_store_sled::{Durability, SledConfig, SledStore};
use futures_util::StreamExt;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const VOCABULARY: f64 = 20_000.0;
const PER_CONVERSATION: usize = 50;
const RUNS: usize = 200;

/// A word of the given frequency rank (1 is the most common).
fn word(rank: u64) -> String {
    format!("w{rank}")
}

/// A rank drawn with probability about proportional to 1 / rank.
fn zipf(rng: &mut StdRng) -> u64 {
    let u: f64 = rng.random_range(0.0..1.0);
    (u * VOCABULARY.ln()).exp().floor() as u64
}

fn text(rng: &mut StdRng) -> String {
    let length = rng.random_range(8..=15);
    (0..length)
        .map(|_| word(zipf(rng)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Loads `messages` messages into the store behind `engine`; returns the owner.
async fn load(engine: Arc<ChatEngine>, messages: usize) -> Principal {
    let owner = admin(&engine, "bench-owner", Permissions::default()).await;
    let conversations = messages.div_ceil(PER_CONVERSATION);
    let started = Instant::now();
    futures_util::stream::iter(0..conversations)
        .map(|n| {
            let engine = engine.clone();
            async move {
                let mut rng = StdRng::seed_from_u64(n as u64);
                let visitor = visitor(&engine).await;
                let chat = conversation(&engine, &visitor).await;
                for _ in 0..PER_CONVERSATION {
                    send(&engine, &visitor, chat.id, &text(&mut rng), None)
                        .await
                        .expect("send");
                }
                if n % 10 == 0 {
                    engine
                        .set_status(&Principal::System, chat.id, ConversationStatus::Closed)
                        .await
                        .expect("close");
                }
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
    eprintln!(
        "loaded {messages} messages in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    owner
}

/// The p50 and p99 of `RUNS` searches, in milliseconds, and how many results the last had.
async fn measure(
    engine: &ChatEngine,
    owner: &Principal,
    request: &SearchRequest,
) -> (f64, f64, usize) {
    let mut times = Vec::with_capacity(RUNS);
    let mut found = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let results = engine.search(owner, request.clone()).await.expect("search");
        times.push(started.elapsed());
        found = results.messages.len();
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    (at(0.5), at(0.99), found)
}

fn queries() -> Vec<(&'static str, SearchRequest)> {
    let q = |text: String| SearchRequest {
        q: text,
        ..SearchRequest::default()
    };
    vec![
        ("rare word", q(word(15_000))),
        ("common word", q(word(1))),
        ("two words", q(format!("{} {}", word(10), word(50)))),
        (
            "common word, closed only",
            SearchRequest {
                status: Some(ConversationStatus::Closed),
                ..q(word(1))
            },
        ),
        ("no match", q("absent".to_owned())),
    ]
}

/// Measures every query on a loaded store.
async fn report(name: &str, engine: &ChatEngine, owner: &Principal, messages: usize) {
    for (query, request) in queries() {
        let (p50, p99, found) = measure(engine, owner, &request).await;
        println!("| {name} | {messages} | {query} | {p50:.2} ms | {p99:.2} ms | {found} |");
    }
}

/// Bytes of the sled search index (keys and values under `x`) in the closed store at `dir`.
fn sled_index_bytes(dir: &std::path::Path) -> usize {
    let db = sled::open(dir).expect("raw open");
    db.scan_prefix(b"x")
        .map(|entry| entry.map(|(k, v)| k.len() + v.len()).expect("entry"))
        .sum()
}

async fn sled_size(messages: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let mut config = SledConfig::new(dir.path());
        config.durability = Durability::Periodic(Duration::from_secs(1));
        let engine = Arc::new(engine(Arc::new(
            SledStore::open_with(config).expect("open"),
        )));
        let owner = load(engine.clone(), messages).await;
        report("sled", &engine, &owner, messages).await;
    }
    let bytes = sled_index_bytes(dir.path());
    println!(
        "sled {messages}: index entries {:.0} MB (keys and values)",
        bytes as f64 / 1e6
    );
}

async fn postgres_size(url: &str, messages: usize) {
    let admin_options = sqlx::postgres::PgConnectOptions::from_str(url).expect("url");
    let database = format!("search_bench_{}_{messages}", std::process::id());
    let server = sqlx::PgPool::connect_with(admin_options.clone())
        .await
        .expect("connect");
    let create = format!("CREATE DATABASE {database}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(create))
        .execute(&server)
        .await
        .expect("create database");
    let config = PoolConfig {
        asynchronous_commit: true,
        ..PoolConfig::default()
    };
    let store = PostgresStore::connect_with(admin_options.database(&database), config)
        .await
        .expect("store");
    let engine = Arc::new(engine(Arc::new(store.clone())));
    let owner = load(engine.clone(), messages).await;
    // What autovacuum does after a bulk load: the planner's statistics of the new rows.
    sqlx::query("ANALYZE")
        .execute(store.pool())
        .await
        .expect("analyze");
    report("postgres", &engine, &owner, messages).await;
    let (index, table): (i64, i64) = sqlx::query_as(
        "SELECT pg_relation_size('idx_messages_words'), pg_total_relation_size('messages')",
    )
    .fetch_one(store.pool())
    .await
    .expect("sizes");
    println!(
        "postgres {messages}: GIN index {:.0} MB, messages with indexes {:.0} MB",
        index as f64 / 1e6,
        table as f64 / 1e6
    );
    store.pool().close().await;
    let drop = format!("DROP DATABASE {database}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
        .execute(&server)
        .await
        .expect("drop database");
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("SEARCH_BENCH_SIZES")
        .unwrap_or_else(|_| "100000".to_owned())
        .split(',')
        .map(|n| n.trim().parse().expect("SEARCH_BENCH_SIZES: numbers"))
        .collect();
    println!("| store | messages | query | p50 | p99 | results |");
    println!("|---|---|---|---|---|---|");
    for &messages in &sizes {
        sled_size(messages).await;
    }
    match std::env::var("DATABASE_URL") {
        Ok(url) => {
            for &messages in &sizes {
                postgres_size(&url, messages).await;
            }
        }
        Err(_) => println!("search_postgres: SKIPPED (DATABASE_URL is not set)"),
    }
}
