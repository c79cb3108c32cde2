//! Durable appends per second on `SledStore` from 1, 8 and 64 concurrent writers, against
//! raw sled loops with the same durability measured in the same run:
//!
//! - `raw_flush_each`: insert one 1 KiB value, flush, repeat (what a naive durable store
//!   does);
//! - `raw_batched/W`: insert W sequential-key 1 KiB values, flush once, repeat;
//! - `raw_same_records/W`: insert, W per flush, exactly the records the engine writes for a
//!   message (log keys of W conversations, values the size of an encoded event), so the
//!   ratio to `engine/W` is the engine's own overhead.
//!
//! Run with: `cargo bench -p benches --bench sled_appends`

use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_core::ChatEngine;
use chat_core::authz::Principal;
use chat_core::conformance::fixtures::{chatting, engine, send};
use chat_core::ids::ConversationId;
use chat_store_sled::SledStore;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tempfile::TempDir;

/// Messages each writer sends per timed round.
const PER_WRITER: usize = 16;
/// Size of a raw value: about what the engine writes for one message.
const RAW_VALUE: usize = 1024;

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("sled_durable_appends");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(2));

    group.throughput(Throughput::Elements(PER_WRITER as u64));
    group.bench_function("raw_flush_each", |b| {
        let (_dir, db) = raw_db();
        b.iter_custom(|iters| raw_rounds(&db, iters, PER_WRITER, 1));
    });

    for writers in [1, 8, 64] {
        let total = writers * PER_WRITER;
        group.throughput(Throughput::Elements(total as u64));
        group.bench_with_input(
            BenchmarkId::new("raw_batched", writers),
            &writers,
            |b, &writers| {
                let (_dir, db) = raw_db();
                b.iter_custom(|iters| raw_rounds(&db, iters, total, writers));
            },
        );
        group.bench_with_input(
            BenchmarkId::new("raw_same_records", writers),
            &writers,
            |b, &writers| {
                let (_dir, db) = raw_db();
                let record = runtime.block_on(engine_record());
                b.iter_custom(|iters| raw_records(&db, iters, &record, writers));
            },
        );
        group.bench_with_input(
            BenchmarkId::new("engine", writers),
            &writers,
            |b, &writers| {
                let dir = temp_dir();
                let store = Arc::new(SledStore::open(dir.path()).expect("open"));
                let engine = engine(store);
                let senders = runtime.block_on(setup_senders(&engine, writers));
                b.to_async(&runtime)
                    .iter_custom(|iters| engine_rounds(engine.clone(), senders.clone(), iters));
            },
        );
    }
    group.finish();
}

/// `iters` rounds of `count` inserts, flushing after every `per_flush`.
fn raw_rounds(db: &sled::Db, iters: u64, count: usize, per_flush: usize) -> Duration {
    let value = vec![b'x'; RAW_VALUE];
    let started = Instant::now();
    let mut key = 0u64;
    for _ in 0..iters {
        for n in 0..count {
            key += 1;
            db.insert(key.to_be_bytes(), value.as_slice())
                .expect("insert");
            if (n + 1) % per_flush == 0 {
                db.flush().expect("flush");
            }
        }
    }
    started.elapsed()
}

/// `iters` rounds in which each of `writers` conversations gets `PER_WRITER` log records,
/// one record per conversation per flush.
fn raw_records(db: &sled::Db, iters: u64, record: &[u8], writers: usize) -> Duration {
    let conversations: Vec<[u8; 16]> = (0..writers)
        .map(|_| *ConversationId::new().as_uuid().as_bytes())
        .collect();
    let started = Instant::now();
    for round in 0..iters * PER_WRITER as u64 {
        for conversation in &conversations {
            let key = [&b"e"[..], conversation, &(round + 1).to_be_bytes()].concat();
            db.insert(key, record).expect("insert");
        }
        db.flush().expect("flush");
    }
    started.elapsed()
}

/// The bytes the engine stores for one message: its event, encoded as the sled store does.
async fn engine_record() -> Vec<u8> {
    let engine = engine(Arc::new(chat_core::MemoryStore::new()));
    let (visitor, conversation) = chatting(&engine, 0).await;
    send(&engine, &visitor, conversation.id, &"x".repeat(150), None)
        .await
        .expect("send");
    let events = engine
        .events_since(&visitor, conversation.id, chat_core::ids::Seq(2), None)
        .await
        .expect("events");
    serde_json::to_vec(&(&events.events[0], None::<()>)).expect("encode")
}

/// One visitor and one conversation per writer.
async fn setup_senders(engine: &ChatEngine, writers: usize) -> Vec<(Principal, ConversationId)> {
    let mut senders = Vec::new();
    for _ in 0..writers {
        let (visitor, conversation) = chatting(engine, 0).await;
        senders.push((visitor, conversation.id));
    }
    senders
}

/// `iters` rounds in which every writer sends `PER_WRITER` messages concurrently.
async fn engine_rounds(
    engine: ChatEngine,
    senders: Vec<(Principal, ConversationId)>,
    iters: u64,
) -> Duration {
    let body = "x".repeat(150);
    let started = Instant::now();
    for _ in 0..iters {
        let tasks: Vec<_> = senders
            .iter()
            .map(|&(visitor, conversation)| {
                let (engine, body) = (engine.clone(), body.clone());
                tokio::spawn(async move {
                    for _ in 0..PER_WRITER {
                        send(&engine, &visitor, conversation, &body, None)
                            .await
                            .expect("send");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("writer");
        }
    }
    started.elapsed()
}

fn temp_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("bench-")
        .tempdir()
        .expect("temp dir")
}

fn raw_db() -> (TempDir, sled::Db) {
    let dir = temp_dir();
    let db = sled::Config::new()
        .path(dir.path())
        .flush_every_ms(None)
        .open()
        .expect("open raw sled");
    (dir, db)
}

criterion_group!(benches, bench);
criterion_main!(benches);
