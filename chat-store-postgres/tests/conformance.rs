//! `PostgresStore` runs the shared conformance suite, each scenario in its own database.

mod common;

use std::sync::Arc;

use chat_core::DynChatStore;

async fn fresh_store() -> Option<Arc<DynChatStore>> {
    let store = common::fresh_store().await?;
    Some(Arc::new(store))
}

fn main() {
    testkit::Suite::new()
        .each(
            &[testkit::Needs::Postgres],
            chat_core::conformance_scenarios!(fresh_store),
        )
        .run();
}
