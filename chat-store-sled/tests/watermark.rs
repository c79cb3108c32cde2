//! The write watermark (the newest durable write group, recorded beside the store so a log
//! that silently lost acknowledged writes is refused at open) keeps up with acknowledged
//! writes even when no later write comes.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chat_core::conformance::fixtures::{conversation, engine, send, visitor};
use chat_store_sled::SledStore;

fn recorded(dir: &Path) -> Option<u64> {
    std::fs::read_to_string(dir.join("WATERMARK"))
        .ok()
        .and_then(|text| text.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watermark_covers_the_last_write_within_two_seconds_without_another_write() {
    let dir = tempfile::Builder::new()
        .prefix("watermark-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let store = Arc::new(SledStore::open(dir.path()).expect("open"));
    let engine = engine(store.clone());
    let visitor = visitor(&engine).await;
    let conv = conversation(&engine, &visitor).await;
    send(&engine, &visitor, conv.id, "one", None)
        .await
        .expect("send");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let first = recorded(dir.path()).expect("the watermark is recorded while the store is idle");

    send(&engine, &visitor, conv.id, "two", None)
        .await
        .expect("send");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let second = recorded(dir.path()).expect("recorded");
    assert!(
        second > first,
        "the watermark did not follow the last write: {first} then {second}"
    );
}
