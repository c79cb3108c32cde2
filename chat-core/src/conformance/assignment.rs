//! Scenarios for auto-assignment: the least-loaded online agent under its capacity gets
//! each waiting conversation, exactly once however many passes race, the longest-waiting
//! first, and waiting ones go out when capacity frees.

use std::sync::Arc;

use crate::accounts::{AdminChanges, Permissions};
use crate::authz::Principal;
use crate::conformance::fixtures::{admin, all_events, conversation, engine, visitor};
use crate::engine::ChatEngine;
use crate::event::EventKind;
use crate::ids::{AdminId, ConversationId};
use crate::model::Actor;
use crate::status::ConversationStatus::Closed;
use crate::store::DynChatStore;

async fn agent(engine: &ChatEngine, tag: &str, capacity: Option<u32>) -> AdminId {
    let Principal::Admin { id, .. } = admin(engine, tag, Permissions::default()).await else {
        unreachable!()
    };
    let changes = AdminChanges {
        capacity: Some(capacity),
        ..AdminChanges::default()
    };
    engine
        .update_admin(&Principal::System, id, changes)
        .await
        .expect("capacity");
    id
}

/// How many `assigned` events the conversation's log holds, and its assignee.
async fn assignments(store: &DynChatStore, id: ConversationId) -> (usize, Option<AdminId>) {
    let events = all_events(store, id).await;
    let count = events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Assigned {
                    by: Actor::System,
                    ..
                }
            )
        })
        .count();
    let row = store.get_conversation(id).await.expect("get").expect("row");
    (count, row.assignee)
}

/// Capacity, load, turns, exactly-once under racing passes, waiting and freed capacity.
pub async fn auto_assignment_gives_each_waiting_conversation_to_one_free_agent(
    store: Arc<DynChatStore>,
) {
    let engine = engine(store.clone());
    let a = agent(&engine, "a", None).await;
    let b = agent(&engine, "b", Some(1)).await;
    let offline = agent(&engine, "offline", None).await;
    let guest = visitor(&engine).await;
    let mut open = Vec::new();
    for _ in 0..6 {
        open.push(conversation(&engine, &guest).await.id);
    }
    let snoozed = conversation(&engine, &guest).await.id;
    engine
        .snooze(&Principal::System, snoozed, None)
        .await
        .expect("snooze");
    let closed = conversation(&engine, &guest).await.id;
    engine
        .set_status(&Principal::System, closed, Closed)
        .await
        .expect("close");

    let online = [a, b];
    let (first, second) = tokio::join!(
        engine.auto_assign(&online, None),
        engine.auto_assign(&online, None)
    );
    let assigned = first.expect("pass").assigned + second.expect("pass").assigned;
    assert_eq!(assigned, open.len(), "every open conversation, once");
    let mut held = std::collections::HashMap::new();
    for id in &open {
        let (count, assignee) = assignments(store.as_ref(), *id).await;
        assert_eq!(count, 1, "exactly one assignment");
        *held.entry(assignee.expect("assigned")).or_insert(0) += 1;
    }
    assert_eq!(held.get(&b), Some(&1), "b's capacity is 1");
    assert_eq!(held.get(&a), Some(&5));
    assert!(!held.contains_key(&offline), "offline agents get nothing");
    for id in [snoozed, closed] {
        assert_eq!(
            assignments(store.as_ref(), id).await,
            (0, None),
            "only open ones"
        );
    }
    assert_eq!(
        engine
            .auto_assign(&online, None)
            .await
            .expect("pass")
            .assigned,
        0
    );

    // Nobody free: conversations wait; freed capacity takes the longest-waiting first.
    let only_b = [b];
    let older = conversation(&engine, &guest).await.id;
    let newer = conversation(&engine, &guest).await.id;
    assert_eq!(
        engine
            .auto_assign(&only_b, None)
            .await
            .expect("pass")
            .assigned,
        0
    );
    let mine = {
        let mut found = None;
        for id in &open {
            if assignments(store.as_ref(), *id).await.1 == Some(b) {
                found = Some(*id);
            }
        }
        found.expect("b holds one")
    };
    engine
        .set_status(&Principal::System, mine, Closed)
        .await
        .expect("close frees capacity");
    let pass = engine.auto_assign(&only_b, None).await.expect("pass");
    assert_eq!((pass.assigned, pass.last), (1, Some(b)));
    assert_eq!(assignments(store.as_ref(), older).await, (1, Some(b)));
    assert_eq!(
        assignments(store.as_ref(), newer).await,
        (0, None),
        "it waits"
    );

    // A snoozed conversation still counts: it comes back to its agent.
    engine
        .snooze(&Principal::System, older, None)
        .await
        .expect("snooze");
    assert_eq!(
        engine
            .auto_assign(&only_b, None)
            .await
            .expect("pass")
            .assigned,
        0
    );
    assert_eq!(
        assignments(store.as_ref(), newer).await,
        (0, None),
        "b is still full"
    );
}
