//! Scenarios for snoozing: who may snooze what, the visitor's message and the wake time
//! each wake the conversation with an event in its log, and only due ones wake.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;

use crate::accounts::Permissions;
use crate::authz::Principal;
use crate::conformance::fixtures::{admin, all_events, conversation, engine, send, visitor};
use crate::engine::now;
use crate::error::{Conflict, Error};
use crate::event::EventKind;
use crate::model::Actor;
use crate::status::ConversationStatus::{Active, Closed, Snoozed, Waiting};
use crate::store::DynChatStore;

/// Snoozing is an event; the visitor's next message wakes to `waiting` and the wake time to
/// `active` (by the system), each as a `statusChanged` from `snoozed`; only due
/// conversations wake, once, whoever runs the waker.
pub async fn snoozed_conversations_wake_on_a_message_or_at_their_time(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let agent = admin(&engine, "snoozer", Permissions::default()).await;
    let viewer = admin(
        &engine,
        "viewer",
        Permissions {
            manage_conversations: false,
            ..Permissions::default()
        },
    )
    .await;
    let guest = visitor(&engine).await;
    let by_message = conversation(&engine, &guest).await;
    let by_time = conversation(&engine, &guest).await;
    let later = conversation(&engine, &guest).await;

    let refused = engine.snooze(&viewer, by_message.id, None).await;
    assert!(
        matches!(refused, Err(Error::PermissionDenied(_))),
        "{refused:?}"
    );
    let past = engine
        .snooze(&agent, by_message.id, Some(now() - Duration::minutes(1)))
        .await;
    assert!(matches!(past, Err(Error::InvalidInput(_))), "{past:?}");

    let snoozed = engine
        .snooze(&agent, by_message.id, None)
        .await
        .expect("snooze");
    assert_eq!((snoozed.status, snoozed.snoozed_until), (Snoozed, None));
    let last = all_events(store.as_ref(), by_message.id)
        .await
        .pop()
        .expect("event");
    assert!(matches!(last.kind, EventKind::Snoozed { until: None, .. }));
    send(&engine, &guest, by_message.id, "any news?", None)
        .await
        .expect("a visitor writes to a snoozed conversation");
    let events = all_events(store.as_ref(), by_message.id).await;
    let woke = &events[events.len() - 2];
    assert!(
        matches!(
            woke.kind,
            EventKind::StatusChanged {
                from: Snoozed,
                to: Waiting,
                by: Actor::Customer(_)
            }
        ),
        "{woke:?}"
    );
    let row = store
        .get_conversation(by_message.id)
        .await
        .expect("get")
        .expect("row");
    assert_eq!(row.status, Waiting);

    let soon = now() + Duration::milliseconds(300);
    engine
        .snooze(&agent, by_time.id, Some(soon))
        .await
        .expect("snooze");
    engine
        .snooze(&agent, later.id, Some(now() + Duration::hours(1)))
        .await
        .expect("snooze");
    assert_eq!(
        engine.wake_due_snoozes().await.expect("wake"),
        0,
        "nothing is due yet"
    );
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    let due = store.due_snoozes(now(), 10).await.expect("due");
    assert_eq!(due, [by_time.id]);
    let (first, second) = tokio::join!(engine.wake_due_snoozes(), engine.wake_due_snoozes());
    assert_eq!(
        first.expect("wake") + second.expect("wake"),
        1,
        "woken once"
    );
    let row = store
        .get_conversation(by_time.id)
        .await
        .expect("get")
        .expect("row");
    assert_eq!((row.status, row.snoozed_until), (Active, None));
    let last = all_events(store.as_ref(), by_time.id)
        .await
        .pop()
        .expect("event");
    assert!(
        matches!(
            last.kind,
            EventKind::StatusChanged {
                from: Snoozed,
                to: Active,
                by: Actor::System
            }
        ),
        "{last:?}"
    );
    let still = store
        .get_conversation(later.id)
        .await
        .expect("get")
        .expect("row");
    assert_eq!(still.status, Snoozed);
    assert!(still.snoozed_until.is_some());

    engine
        .set_status(&Principal::System, later.id, Closed)
        .await
        .expect("a snoozed conversation may be closed");
    let closed = engine.snooze(&agent, later.id, None).await;
    assert!(
        matches!(
            closed,
            Err(Error::Conflict(Conflict::IllegalTransition { .. }))
        ),
        "{closed:?}"
    );
    assert!(
        store
            .due_snoozes(now() + Duration::hours(2), 10)
            .await
            .expect("due")
            .is_empty()
    );
}
