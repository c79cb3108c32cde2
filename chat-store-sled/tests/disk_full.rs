//! Disk full: on a small tmpfs, writes start failing with a clear error (never a panic,
//! never an acknowledgement of something not stored): storage full when nothing of the write
//! was stored, "stopped, may or may not have been stored" when a flush failed. Every later
//! write is refused until the store is reopened. After space is freed the store reopens
//! with every acknowledged message and a gap-free log, and a retry of the failed send (same
//! client id) leaves it stored exactly once.
//!
//! Needs root to mount a tmpfs; elsewhere cargo's summary shows it ignored, with the
//! reason (`testkit`).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use chat_core::conformance::fixtures::{assert_gap_free, conversation, engine, send, visitor};
use chat_core::ids::{ConversationId, Seq};
use chat_core::store::EventStore;
use chat_core::{Error, Principal};
use chat_store_sled::SledStore;

const NAME: &str = "disk_full_gives_clear_errors_and_the_store_reopens";

fn main() {
    testkit::Suite::new()
        .blocking(NAME, &[testkit::Needs::Root], disk_full)
        .run();
}

fn disk_full() {
    let dir = tempfile::Builder::new()
        .prefix("disk-full-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    assert!(
        mount(dir.path(), "mount", "size=4m"),
        "mount a small tmpfs (testkit found this allowed)"
    );
    let outcome = std::panic::catch_unwind(|| check(dir.path()));
    mount(dir.path(), "umount", "");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn check(mount_point: &Path) {
    let path = mount_point.join("store");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (visitor, conv, acked, failed) = runtime.block_on(async {
        let store = Arc::new(SledStore::open(&path).expect("open on the small disk"));
        let engine = engine(store.clone());
        let visitor = visitor(&engine).await;
        let conv = conversation(&engine, &visitor).await;
        let filler = "x".repeat(8 * 1024);
        let mut acked = Vec::new();
        let (error, failed) = loop {
            let id = format!("fill-{}", acked.len());
            match send(&engine, &visitor, conv.id, &filler, Some(&id)).await {
                Ok(sent) => acked.push(sent.message.seq),
                Err(error) => break (error, id),
            }
            assert!(acked.len() < 100_000, "the disk never filled");
        };
        assert!(
            matches!(&error, Error::StorageFull { .. })
                || matches!(&error, Error::Stopped(why) if why.contains("may or may not")),
            "expected storage full or an uncertain outcome, got {error:?}"
        );
        let after = send(&engine, &visitor, conv.id, "short", Some("after")).await;
        assert!(
            matches!(after, Err(Error::Stopped(_))),
            "a write after the failure must be refused until reopened: {after:?}"
        );
        println!(
            "{NAME}: {} messages acknowledged, then: {error} ({:?})",
            acked.len(),
            std::error::Error::source(&error).map(ToString::to_string)
        );
        (visitor, conv.id, acked, failed)
    });
    drop(runtime);
    assert!(
        mount(mount_point, "mount", "remount,size=64m"),
        "grow the tmpfs"
    );
    verify(&path, &visitor, conv, &acked, &failed);
}

fn verify(path: &Path, visitor: &Principal, conv: ConversationId, acked: &[Seq], failed: &str) {
    let store = Arc::new(SledStore::open(path).expect("the store reopens after the disk was full"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let events = runtime.block_on(async {
        let engine = engine(store.clone());
        send(&engine, visitor, conv, "x", Some(failed))
            .await
            .expect("the failed send, retried with its client id");
        store.events_since(conv, Seq::ZERO, usize::MAX).await
    });
    let events = events.expect("events");
    let retried = events
        .iter()
        .filter_map(|e| e.message())
        .filter(|m| {
            m.client_message_id
                .as_ref()
                .is_some_and(|id| id.as_str() == failed)
        })
        .count();
    assert_eq!(retried, 1, "the retried send is stored exactly once");
    assert_gap_free(&events);
    let stored: Vec<Seq> = events
        .iter()
        .filter(|e| e.message().is_some())
        .map(|e| e.seq)
        .collect();
    for seq in acked {
        assert!(
            stored.contains(seq),
            "acknowledged message at seq {seq} was lost"
        );
    }
}

fn mount(point: &Path, command: &str, options: &str) -> bool {
    let mut cmd = Command::new(command);
    if command == "mount" {
        cmd.args(["-t", "tmpfs", "-o", options, "tmpfs"]);
    }
    cmd.arg(point).status().is_ok_and(|status| status.success())
}
