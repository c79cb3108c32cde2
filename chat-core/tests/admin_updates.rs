//! Agent updates through the engine change only what they name: racing a disable, a new
//! password and new permissions never loses one of them (each used to read the whole row,
//! change one field and write the whole row back).

use std::sync::Arc;

use chat_core::accounts::{ConversationScope, Permissions};
use chat_core::conformance::fixtures::{admin, engine};
use chat_core::store::AdminStore;
use chat_core::{MemoryStore, Principal};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_updates_of_different_fields_all_stick() {
    let store = Arc::new(MemoryStore::new());
    let engine = engine(store.clone());
    let agent = admin(&engine, "raced", Permissions::default()).await;
    let Principal::Admin { id, .. } = agent else {
        unreachable!()
    };
    let narrow = Permissions {
        scope: ConversationScope::Assigned,
        ..Permissions::default()
    };
    for round in 0..300 {
        let on = round % 2 == 0;
        let permissions = if on { narrow } else { Permissions::default() };
        let (a, b, c) = (engine.clone(), engine.clone(), engine.clone());
        let disable =
            tokio::spawn(async move { a.set_admin_disabled(&Principal::System, id, on).await });
        let narrow = tokio::spawn(async move {
            b.set_admin_permissions(&Principal::System, id, permissions)
                .await
        });
        let password = tokio::spawn(async move {
            c.set_admin_password(&Principal::System, id, format!("hash-{round}"))
                .await
        });
        for update in [disable, narrow, password] {
            update.await.expect("task").expect("update");
        }
        let stored = store.get_admin(id).await.expect("get").expect("exists");
        assert_eq!(
            (stored.disabled, stored.permissions, stored.password_hash),
            (on, permissions, format!("hash-{round}")),
            "round {round}: a racing update was lost"
        );
    }
}
