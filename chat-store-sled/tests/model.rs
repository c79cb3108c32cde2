//! The chat-core model test over `SledStore`, with the store closed and reopened at random
//! points: after every step its state must equal the `MemoryStore` oracle's.

use std::sync::Arc;

use async_trait::async_trait;
use chat_core::DynChatStore;
use chat_core::conformance::model::{ModelBackend, check_ops, ops};
use chat_store_sled::SledStore;
use proptest::prelude::*;
use tempfile::TempDir;

struct SledBackend {
    dir: TempDir,
    store: Option<Arc<SledStore>>,
}

impl SledBackend {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("model-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("temp dir");
        let store = Arc::new(SledStore::open(dir.path()).expect("open"));
        Self {
            dir,
            store: Some(store),
        }
    }
}

#[async_trait]
impl ModelBackend for SledBackend {
    fn store(&self) -> Arc<DynChatStore> {
        self.store.clone().expect("open")
    }

    async fn restart(&mut self) {
        let store = self.store.take().expect("open");
        let store = Arc::into_inner(store).expect("the model released every other handle");
        drop(store);
        self.store = Some(Arc::new(SledStore::open(self.dir.path()).expect("reopen")));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn sled_matches_the_oracle_across_restarts(ops in ops(30)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        runtime.block_on(check_ops(&mut SledBackend::new(), &ops));
    }
}
