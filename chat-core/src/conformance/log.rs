//! Scenarios for the event log: gap-free seqs, idempotent sends, events since N, the
//! resumable feed, atomic failure and private notes.

use std::collections::HashSet;
use std::sync::Arc;

use crate::accounts::Permissions;
use crate::authz::Principal;
use crate::conformance::fixtures::{
    admin, all_events, assert_gap_free, body, chatting, conversation, engine, send, visitor,
};
use crate::engine::SendMessage;
use crate::error::{Conflict, Error};
use crate::event::EventKind;
use crate::feed::FeedItem;
use crate::ids::{AttachmentId, Seq};
use crate::status::ConversationStatus;
use crate::store::DynChatStore;

/// Not a performance bound: only turns a hang (a feed waiting for an event that never
/// comes) into a failure.
const HANG_GUARD: std::time::Duration = std::time::Duration::from_secs(60);

/// 64 concurrent senders to one conversation: every seq is used once, with no gap.
pub async fn seq_is_gap_free_under_64_concurrent_senders(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let visitor = visitor(&engine).await;
    let conv = conversation(&engine, &visitor).await;
    let tasks: Vec<_> = (0..64)
        .map(|task| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for n in 0..4 {
                    let sent = send(
                        &engine,
                        &visitor,
                        conv.id,
                        &format!("task {task} message {n}"),
                        None,
                    )
                    .await;
                    seqs.push(sent.expect("send").message.seq);
                }
                seqs
            })
        })
        .collect();
    let mut message_seqs = HashSet::new();
    for task in tasks {
        for seq in task.await.expect("task") {
            assert!(message_seqs.insert(seq), "seq {seq} was handed out twice");
        }
    }
    let events = all_events(&*store, conv.id).await;
    assert_gap_free(&events);
    assert_eq!(events.iter().filter(|e| e.message().is_some()).count(), 256);
    let stored = store
        .get_conversation(conv.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored.last_seq, events.last().expect("events").seq);
}

/// A retry with the same (conversation, sender, client id) returns the original message,
/// also when the retries race; another sender or conversation gets its own message.
pub async fn idempotent_retry_returns_the_original(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let visitor = visitor(&engine).await;
    let conv = conversation(&engine, &visitor).await;
    let first = send(&engine, &visitor, conv.id, "hello", Some("c-1"))
        .await
        .expect("send");
    assert!(first.created);
    let retry = send(&engine, &visitor, conv.id, "hello", Some("c-1"))
        .await
        .expect("retry");
    assert!(!retry.created, "a retry must not create a second message");
    assert_eq!(retry.message, first.message);

    let racing: Vec<_> = (0..16)
        .map(|_| {
            let engine = engine.clone();
            tokio::spawn(async move { send(&engine, &visitor, conv.id, "race", Some("c-2")).await })
        })
        .collect();
    let mut created = 0;
    let mut ids = HashSet::new();
    for task in racing {
        let sent = task.await.expect("task").expect("send");
        created += usize::from(sent.created);
        ids.insert(sent.message.id);
    }
    assert_eq!(
        (created, ids.len()),
        (1, 1),
        "16 racing retries must store exactly one message"
    );

    let agent = admin(&engine, "idem", Permissions::default()).await;
    let other_sender = send(&engine, &agent, conv.id, "hello", Some("c-1"))
        .await
        .expect("send");
    assert!(other_sender.created && other_sender.message.id != first.message.id);
    let other_conv = conversation(&engine, &visitor).await;
    let elsewhere = send(&engine, &visitor, other_conv.id, "hello", Some("c-1"))
        .await
        .expect("send");
    assert!(elsewhere.created && elsewhere.message.id != first.message.id);
    let messages = all_events(&*store, conv.id)
        .await
        .into_iter()
        .filter(|e| e.message().is_some());
    assert_eq!(messages.count(), 3, "hello, race, agent's hello");
}

/// `events_since(n)` returns exactly the events after n, in order; paging by `last_seq`
/// walks the whole log once; a `since` past the end is refused.
pub async fn events_since_returns_exactly_the_missing_events(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let (visitor, conv) = chatting(&engine, 10).await;
    let last = store
        .get_conversation(conv.id)
        .await
        .expect("get")
        .expect("exists")
        .last_seq;
    for since in 0..=last.get() {
        let page = engine
            .events_since(&visitor, conv.id, Seq(since), Some(500))
            .await
            .expect("events");
        let seqs: Vec<u64> = page.events.iter().map(|e| e.seq.get()).collect();
        assert_eq!(seqs, (since + 1..=last.get()).collect::<Vec<_>>());
        assert_eq!((page.last_seq, page.has_more), (last, false));
    }
    let (mut since, mut walked) = (Seq::ZERO, Vec::new());
    loop {
        let page = engine
            .events_since(&visitor, conv.id, since, Some(3))
            .await
            .expect("page");
        walked.extend(page.events.iter().map(|e| e.seq));
        since = page.last_seq;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(walked, (1..=last.get()).map(Seq).collect::<Vec<_>>());
    let past_end = engine
        .events_since(&visitor, conv.id, last.next(), None)
        .await;
    assert!(
        matches!(past_end, Err(Error::InvalidInput(_))),
        "got {past_end:?}"
    );
}

/// A feed joined at `since` while others send yields every later event once, in order.
pub async fn feed_resumes_without_gap_or_duplicate(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let (visitor, conv) = chatting(&engine, 5).await;
    let since = Seq(4);
    let mut feed = engine
        .subscribe(&visitor, conv.id, since)
        .await
        .expect("subscribe");
    let senders: Vec<_> = (0..8)
        .map(|task| {
            let engine = engine.clone();
            tokio::spawn(async move {
                for n in 0..10 {
                    send(
                        &engine,
                        &visitor,
                        conv.id,
                        &format!("live {task}/{n}"),
                        None,
                    )
                    .await
                    .expect("send");
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.expect("sender");
    }
    let last = store
        .get_conversation(conv.id)
        .await
        .expect("get")
        .expect("exists")
        .last_seq;
    let mut seen = Vec::new();
    let drain = async {
        while feed.cursor() < last {
            match feed.next().await.expect("feed ended early") {
                Ok(FeedItem::Event(event)) => seen.push(event.seq),
                Ok(_) => {}
                Err(error) => panic!("feed failed: {error}"),
            }
        }
    };
    tokio::time::timeout(HANG_GUARD, drain)
        .await
        .expect("feed stalled before reaching the last seq");
    assert_eq!(
        seen,
        (since.get() + 1..=last.get()).map(Seq).collect::<Vec<_>>()
    );
}

/// A refused write changes nothing: not the log, not the conversation row.
pub async fn failed_writes_leave_nothing_behind(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let visitor = visitor(&engine).await;
    let conv = conversation(&engine, &visitor).await;
    send(&engine, &visitor, conv.id, "first", None)
        .await
        .expect("send");
    let before = store
        .get_conversation(conv.id)
        .await
        .expect("get")
        .expect("exists");

    let mut with_missing_file = SendMessage::text(conv.id, body("see file"));
    with_missing_file.attachment_ids = vec![AttachmentId::new()];
    let refused = engine.send_message(&visitor, with_missing_file).await;
    assert!(
        matches!(
            refused,
            Err(Error::Conflict(Conflict::AttachmentUnavailable))
        ),
        "got {refused:?}"
    );

    let stranger = crate::conformance::fixtures::visitor(&engine).await;
    let foreign = send(&engine, &stranger, conv.id, "not mine", None).await;
    assert!(
        matches!(foreign, Err(Error::NotFound(_))),
        "got {foreign:?}"
    );

    let illegal = engine
        .set_status(&Principal::System, conv.id, ConversationStatus::Waiting)
        .await;
    assert!(
        matches!(
            illegal,
            Err(Error::Conflict(Conflict::IllegalTransition { .. }))
        ),
        "got {illegal:?}"
    );

    let after = store
        .get_conversation(conv.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        after, before,
        "a refused write must not touch the conversation"
    );
    assert_eq!(
        all_events(&*store, conv.id).await.len() as u64,
        before.last_seq.get()
    );
}

/// Private notes take a seq but never reach the visitor: not in history, events or feed.
pub async fn private_notes_are_hidden_from_the_visitor(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let visitor = visitor(&engine).await;
    let agent = admin(&engine, "notes", Permissions::default()).await;
    let conv = conversation(&engine, &visitor).await;
    send(&engine, &visitor, conv.id, "question", None)
        .await
        .expect("send");
    let mut note = SendMessage::text(conv.id, body("internal: VIP customer"));
    note.private = true;
    let note = engine
        .send_message(&agent, note)
        .await
        .expect("note")
        .message;
    send(&engine, &agent, conv.id, "answer", None)
        .await
        .expect("reply");

    let history = engine
        .history(&visitor, conv.id, None, None)
        .await
        .expect("history");
    assert!(
        history.messages.iter().all(|m| !m.private),
        "visitor history shows a note"
    );
    assert_eq!(history.messages.len(), 2);
    let staff = engine
        .history(&agent, conv.id, None, None)
        .await
        .expect("history");
    assert!(
        staff.messages.iter().any(|m| m.id == note.id),
        "staff history must show notes"
    );

    let events = engine
        .events_since(&visitor, conv.id, Seq::ZERO, None)
        .await
        .expect("events");
    let hidden =
        |kind: &EventKind| matches!(kind, EventKind::MessageCreated { message } if message.private);
    assert!(!events.events.iter().any(|e| hidden(&e.kind)));
    assert_eq!(
        events.events.len() as u64,
        events.last_seq.get() - 1,
        "exactly one seq is skipped"
    );

    let mut feed = engine
        .subscribe(&visitor, conv.id, Seq::ZERO)
        .await
        .expect("feed");
    let replayed = feed.catch_up(usize::MAX).await.expect("catch up");
    assert!(replayed.iter().all(|e| !hidden(&e.kind)));
    assert!(
        replayed.iter().any(|e| e.seq > note.seq),
        "events after the note still arrive"
    );
}
