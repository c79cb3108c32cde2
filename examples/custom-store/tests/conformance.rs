//! `CountingStore` passes the shared conformance suite.

use std::sync::Arc;

use chat_core::{DynChatStore, MemoryStore};
use custom_store::CountingStore;

async fn fresh_store() -> Option<Arc<DynChatStore>> {
    Some(Arc::new(CountingStore::new(MemoryStore::new())))
}

chat_core::conformance_tests!(fresh_store);
