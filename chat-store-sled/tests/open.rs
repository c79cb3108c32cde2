//! Opening refuses what it must not touch or cannot read, with a clear error and no panic:
//! a foreign directory, a locked one, another schema version, a damaged store.

use std::path::Path;
use std::sync::Arc;

use chat_core::Principal;
use chat_core::conformance::fixtures::{chatting, engine};
use chat_core::engine::ListRequest;

use chat_store_sled::{OpenError, SCHEMA_VERSION, SledStore};

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("open-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir")
}

#[test]
fn a_foreign_directory_is_refused_and_left_untouched() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("notes.txt"), "my files").expect("write");
    let error = SledStore::open(dir.path()).expect_err("opened a foreign directory");
    assert!(matches!(error, OpenError::Foreign { .. }), "got {error:?}");
    let entries: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
    assert_eq!(entries.len(), 1, "the directory was written into");
}

#[test]
fn a_directory_in_use_is_refused() {
    let dir = temp_dir();
    let _first = SledStore::open(dir.path()).expect("open");
    let error = SledStore::open(dir.path()).expect_err("opened twice");
    assert!(matches!(error, OpenError::Locked { .. }), "got {error:?}");
    assert!(error.to_string().contains("already opened"));
}

#[test]
fn a_store_reopens_after_close_and_a_new_directory_is_created() {
    let dir = temp_dir();
    let path = dir.path().join("nested").join("store");
    drop(SledStore::open(&path).expect("create"));
    SledStore::open(&path).expect("reopen");
}

#[test]
fn another_schema_version_is_refused() {
    let dir = temp_dir();
    drop(SledStore::open(dir.path()).expect("create"));
    set_schema(dir.path(), SCHEMA_VERSION + 1);
    let error = SledStore::open(dir.path()).expect_err("opened a newer schema");
    match error {
        OpenError::IncompatibleSchema {
            found, expected, ..
        } => {
            assert_eq!((found, expected), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("got {other:?}"),
    }
}

#[test]
fn a_store_without_its_schema_version_is_refused() {
    let dir = temp_dir();
    drop(SledStore::open(dir.path()).expect("create"));
    let db = sled::open(dir.path()).expect("raw open");
    db.remove(b"vschema").expect("remove");
    db.insert(b"x", b"data").expect("insert");
    db.flush().expect("flush");
    drop(db);
    let error = SledStore::open(dir.path()).expect_err("opened without a version");
    assert!(
        matches!(error, OpenError::Corrupted { .. }),
        "got {error:?}"
    );
}

#[test]
fn a_damaged_store_gives_an_error_not_a_panic() {
    let dir = temp_dir();
    drop(SledStore::open(dir.path()).expect("create"));
    let conf = dir.path().join("conf");
    std::fs::write(&conf, b"\xff\xfe not a sled config \x00\x01").expect("damage");
    let error = SledStore::open(dir.path()).expect_err("opened a damaged store");
    assert!(
        matches!(error, OpenError::Corrupted { .. } | OpenError::Io { .. }),
        "got {error:?}"
    );
}

/// sled drops whatever follows damage in its log as if it were a torn last write; the
/// store must turn that into an error rather than open with acknowledged data missing.
#[test]
fn a_damaged_log_is_refused_or_loses_nothing() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .build()
        .expect("runtime");
    let mut refused = 0;
    for percent in [10, 25, 50, 75, 90] {
        let dir = temp_dir();
        let expected =
            runtime.block_on(fill(Arc::new(SledStore::open(dir.path()).expect("create"))));
        let log = dir.path().join("db");
        let mut bytes = std::fs::read(&log).expect("read log");
        let at = bytes.len() * percent / 100;
        bytes[at..at + 4096].fill(0xAB);
        std::fs::write(&log, bytes).expect("damage log");
        match SledStore::open(dir.path()) {
            Err(error) => {
                assert!(
                    matches!(error, OpenError::Corrupted { .. }),
                    "{percent}%: got {error:?}"
                );
                refused += 1;
            }
            Ok(store) => {
                let found = runtime.block_on(contents(Arc::new(store)));
                assert_eq!(found, expected, "{percent}%: opened with data missing");
            }
        }
    }
    println!("damaged logs refused: {refused} of 5; the others had damage only in unused space");
}

/// Twenty conversations of a hundred messages; returns what `contents` should find.
async fn fill(store: Arc<SledStore>) -> Vec<u64> {
    let engine = engine(store.clone());
    for _ in 0..20 {
        chatting(&engine, 100).await;
    }
    drop(engine);
    contents(store).await
}

/// Every conversation's last seq, newest first.
async fn contents(store: Arc<SledStore>) -> Vec<u64> {
    let request = ListRequest {
        limit: Some(100),
        ..ListRequest::default()
    };
    let page = engine(store)
        .list_conversations(&Principal::System, request)
        .await
        .expect("list");
    page.items
        .iter()
        .map(|s| s.conversation.last_seq.get())
        .collect()
}

fn set_schema(path: &Path, version: u32) {
    let db = sled::open(path).expect("raw open");
    db.insert(b"vschema", &version.to_be_bytes())
        .expect("insert");
    db.flush().expect("flush");
}
