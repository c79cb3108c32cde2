//! `SledStore` runs the shared conformance suite, each scenario in a fresh directory.

use std::sync::Arc;

use chat_core::DynChatStore;
use chat_store_sled::SledStore;

async fn fresh_store() -> Option<Arc<DynChatStore>> {
    let dir = tempfile::Builder::new()
        .prefix("conformance-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir")
        .keep();
    Some(Arc::new(SledStore::open(dir).expect("open store")))
}

chat_core::conformance_tests!(fresh_store);
