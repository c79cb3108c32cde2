//! The sled search index holds exactly what the stored messages call for: nothing is left
//! of a deleted conversation (the conformance scenario cannot tell, since a search skips
//! entries of conversations that are gone).

use std::sync::Arc;

use chat_core::accounts::Permissions;
use chat_core::conformance::fixtures::{admin, conversation, engine, send, visitor};
use chat_store_sled::SledStore;

fn index_keys(path: &std::path::Path) -> usize {
    let db = sled::open(path).expect("raw open");
    db.scan_prefix(b"x").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_conversation_leaves_no_index_entry() {
    let dir = tempfile::Builder::new()
        .prefix("search-index-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    {
        let engine = engine(Arc::new(SledStore::open(dir.path()).expect("open")));
        let agent = admin(&engine, "deleter", Permissions::default()).await;
        let alice = visitor(&engine).await;
        let kept = conversation(&engine, &alice).await;
        let gone = conversation(&engine, &alice).await;
        send(&engine, &alice, kept.id, "kept words", None)
            .await
            .expect("send");
        for text in ["gone words", "more gone text"] {
            send(&engine, &alice, gone.id, text, None)
                .await
                .expect("send");
        }
        engine
            .delete_conversation(&agent, gone.id)
            .await
            .expect("delete");
    }
    assert_eq!(
        index_keys(dir.path()),
        2,
        "kept, words: the kept message's only"
    );
}
