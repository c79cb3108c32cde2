//! `MemoryStore` runs the shared conformance suite.

use std::sync::Arc;

use chat_core::{DynChatStore, MemoryStore};

async fn fresh_store() -> Option<Arc<DynChatStore>> {
    Some(Arc::new(MemoryStore::new()))
}

chat_core::conformance_tests!(fresh_store);
