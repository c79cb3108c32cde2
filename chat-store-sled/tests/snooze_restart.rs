//! A snoozed conversation whose wake time passed while the store was closed wakes at the
//! next start: the wake time is in the conversation's row, not in a timer.

use std::sync::Arc;
use std::time::Duration;

use chat_core::accounts::Permissions;
use chat_core::conformance::fixtures::{admin, conversation, engine, visitor};
use chat_core::status::ConversationStatus;
use chat_store_sled::SledStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wake_time_that_passed_while_closed_fires_at_the_next_start() {
    let dir = tempfile::Builder::new()
        .prefix("snooze-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let id = {
        let store = Arc::new(SledStore::open(dir.path()).expect("open"));
        let engine = engine(store.clone());
        let agent = admin(&engine, "snoozer", Permissions::default()).await;
        let guest = visitor(&engine).await;
        let conv = conversation(&engine, &guest).await;
        let until = chat_core::engine::now() + chrono::Duration::milliseconds(200);
        engine
            .snooze(&agent, conv.id, Some(until))
            .await
            .expect("snooze");
        conv.id
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let store = Arc::new(SledStore::open(dir.path()).expect("reopen"));
    let engine = engine(store.clone());
    assert_eq!(engine.wake_due_snoozes().await.expect("wake"), 1);
    let row = store_conversation(&store, id).await;
    assert_eq!(row.status, ConversationStatus::Active);
}

async fn store_conversation(
    store: &SledStore,
    id: chat_core::ids::ConversationId,
) -> chat_core::model::Conversation {
    use chat_core::store::ConversationStore;
    store.get_conversation(id).await.expect("get").expect("row")
}
