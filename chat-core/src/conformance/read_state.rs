//! Scenarios for read state: monotonic cursors and unread counts.

use std::sync::Arc;

use crate::accounts::{ConversationScope, Permissions};
use crate::conformance::fixtures::{admin, body, chatting, conversation, engine, send, visitor};
use crate::engine::{ListRequest, SendMessage};
use crate::ids::{ConversationId, Seq};
use crate::model::UserRef;
use crate::store::DynChatStore;

/// The cursor only moves forward, is clamped to the log's end, and the store itself keeps
/// the maximum.
pub async fn read_cursor_never_moves_back(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let (visitor, conv) = chatting(&engine, 6).await;
    assert_eq!(
        engine
            .mark_read(&visitor, conv.id, Seq(5))
            .await
            .expect("read"),
        Seq(5)
    );
    assert_eq!(
        engine
            .mark_read(&visitor, conv.id, Seq(3))
            .await
            .expect("read"),
        Seq(5),
        "moved back"
    );
    let last = store
        .get_conversation(conv.id)
        .await
        .expect("get")
        .expect("exists")
        .last_seq;
    assert_eq!(
        engine
            .mark_read(&visitor, conv.id, Seq(10_000))
            .await
            .expect("read"),
        last,
        "not clamped"
    );

    let reader = visitor.user().expect("a person");
    assert_eq!(
        store
            .advance_read_cursor(conv.id, reader, Seq(1))
            .await
            .expect("advance"),
        last
    );
    assert_eq!(
        store.read_cursor(conv.id, reader).await.expect("cursor"),
        last
    );
    let stranger = UserRef::Admin(crate::ids::AdminId::new());
    assert_eq!(
        store.read_cursor(conv.id, stranger).await.expect("cursor"),
        Seq::ZERO
    );
    let now = store
        .get_conversation(conv.id)
        .await
        .expect("get")
        .expect("exists");
    let at_the_end = crate::read::ReadCursor {
        seq: last,
        counted: crate::read::counted(reader, &now),
    };
    assert_eq!(
        store.read_cursors(conv.id).await.expect("cursors"),
        vec![(reader, at_the_end)],
        "every reader's cursor, with what counted up to it, and only readers"
    );
    assert_eq!(
        store
            .conversation_with_cursors(conv.id)
            .await
            .expect("read together"),
        Some((now, vec![(reader, at_the_end)])),
        "the row and its cursors, read together"
    );
    assert_eq!(
        store
            .conversation_with_cursors(ConversationId::new())
            .await
            .expect("read together"),
        None
    );
}

/// Unread counts are per reader, count the other side's messages past the cursor (never
/// private notes for the visitor), and the list's `unread_count` counts conversations.
pub async fn unread_counts_follow_the_cursor(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let visitor = visitor(&engine).await;
    let agent = admin(&engine, "unread", Permissions::default()).await;
    let conv = conversation(&engine, &visitor).await;
    let quiet = conversation(&engine, &visitor).await;
    for n in 0..3 {
        send(&engine, &visitor, conv.id, &format!("q{n}"), None)
            .await
            .expect("send");
    }
    assert_eq!(
        engine.unread_count(&agent, conv.id).await.expect("unread"),
        3
    );
    assert_eq!(
        engine
            .unread_count(&visitor, conv.id)
            .await
            .expect("unread"),
        0,
        "own messages are read"
    );

    let list = engine
        .list_conversations(&agent, ListRequest::default())
        .await
        .expect("list");
    assert_eq!((list.total_count, list.unread_count), (2, 1));
    let summary = list
        .items
        .iter()
        .find(|s| s.conversation.id == conv.id)
        .expect("listed");
    assert_eq!(summary.unread, 3);

    let last = store
        .get_conversation(conv.id)
        .await
        .expect("get")
        .expect("exists")
        .last_seq;
    engine.mark_read(&agent, conv.id, last).await.expect("read");
    assert_eq!(
        engine.unread_count(&agent, conv.id).await.expect("unread"),
        0
    );
    let list = engine
        .list_conversations(&agent, ListRequest::default())
        .await
        .expect("list");
    assert_eq!(list.unread_count, 0);

    send(&engine, &agent, conv.id, "a1", None)
        .await
        .expect("reply");
    send(&engine, &agent, conv.id, "a2", None)
        .await
        .expect("reply");
    let mut note = SendMessage::text(conv.id, body("note"));
    note.private = true;
    engine.send_message(&agent, note).await.expect("note");
    assert_eq!(
        engine
            .unread_count(&visitor, conv.id)
            .await
            .expect("unread"),
        2,
        "notes are not unread"
    );
    assert_eq!(
        engine.unread_count(&agent, conv.id).await.expect("unread"),
        0,
        "agents' own side"
    );
    let mine = engine
        .list_conversations(&visitor, ListRequest::default())
        .await
        .expect("list");
    assert_eq!((mine.total_count, mine.unread_count), (2, 1));
    assert_eq!(
        engine
            .unread_count(&visitor, quiet.id)
            .await
            .expect("unread"),
        0
    );
}

/// A cursor set part-way through the log (a read that raced newer messages) counts exactly
/// what comes after it, for both sides, private notes and system messages included, and
/// keeps counting as the log grows.
pub async fn unread_counts_after_a_read_part_way(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let visitor = visitor(&engine).await;
    let agent = admin(&engine, "partway", Permissions::default()).await;
    let conv = conversation(&engine, &visitor).await;
    let mut seqs = Vec::new();
    for n in 0..5 {
        let sent = send(&engine, &visitor, conv.id, &format!("v{n}"), None)
            .await
            .expect("send");
        seqs.push(sent.message.seq);
        let reply = send(&engine, &agent, conv.id, &format!("a{n}"), None)
            .await
            .expect("reply");
        seqs.push(reply.message.seq);
        let mut note = SendMessage::text(conv.id, body("note"));
        note.private = true;
        engine.send_message(&agent, note).await.expect("note");
    }
    // Read up to the third visitor message (index 4: v0 a0 v1 a1 v2).
    engine
        .mark_read(&agent, conv.id, seqs[4])
        .await
        .expect("read");
    engine
        .mark_read(&visitor, conv.id, seqs[1])
        .await
        .expect("read");
    let unread = |who| {
        let engine = &engine;
        async move { engine.unread_count(who, conv.id).await.expect("unread") }
    };
    assert_eq!(unread(&agent).await, 2, "v3, v4 after the agent's cursor");
    assert_eq!(
        unread(&visitor).await,
        4,
        "a1..a4 after the visitor's, notes never"
    );

    send(&engine, &visitor, conv.id, "v5", None)
        .await
        .expect("send");
    send(&engine, &agent, conv.id, "a5", None)
        .await
        .expect("reply");
    assert_eq!(unread(&agent).await, 3);
    assert_eq!(unread(&visitor).await, 5);
    let list = engine
        .list_conversations(&agent, ListRequest::default())
        .await
        .expect("list");
    assert_eq!(list.items[0].unread, 3, "the list agrees");

    // The inbox counts every receiving agent from one snapshot, by the same rules.
    let snapshot = engine
        .inbox_snapshot(&agent, conv.id)
        .await
        .expect("snapshot");
    assert!(
        engine.inbox_snapshot(&visitor, conv.id).await.is_err(),
        "only agents have an inbox"
    );
    let inbox = |who| engine.inbox_unread(who, snapshot.as_ref());
    assert_eq!(inbox(&agent), Some(3), "the inbox agrees");
    assert_eq!(inbox(&visitor), Some(5));
    let colleague = admin(&engine, "colleague", Permissions::default()).await;
    assert_eq!(
        inbox(&colleague),
        Some(6),
        "never read: every visitor message"
    );
    let restricted = Permissions {
        scope: ConversationScope::Assigned,
        ..Permissions::default()
    };
    let outsider = admin(&engine, "outsider", restricted).await;
    assert_eq!(
        inbox(&outsider),
        None,
        "not assigned to them: nothing to count"
    );
    let gone = engine
        .inbox_snapshot(&agent, ConversationId::new())
        .await
        .expect("snapshot");
    assert_eq!(gone, None);
    assert_eq!(engine.inbox_unread(&agent, gone.as_ref()), None);

    // Moving back changes nothing; moving to the end reads everything.
    engine
        .mark_read(&agent, conv.id, seqs[0])
        .await
        .expect("read");
    assert_eq!(unread(&agent).await, 3);
    engine
        .mark_read(&agent, conv.id, Seq(u64::MAX))
        .await
        .expect("read");
    assert_eq!(unread(&agent).await, 0);
}
