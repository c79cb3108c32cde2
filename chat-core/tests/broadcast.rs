//! The in-process broadcaster and the resumable feed: the broadcaster conformance suite on
//! `LocalBroadcaster` (every node of a process shares it), slow subscribers lag instead of
//! blocking anyone, and a lagged feed resyncs from the store without loss or duplicates.

use std::sync::Arc;

use chat_core::accounts::{ConversationScope, Permissions};
use chat_core::broadcast::{Broadcaster, Delivery, DynBroadcaster, Signal, Topic};
use chat_core::conformance::broadcast::Cluster;
use chat_core::conformance::fixtures::{admin, conversation, send, visitor};
use chat_core::feed::FeedItem;
use chat_core::ids::{AdminId, Seq};
use chat_core::{ChatEngine, EngineConfig, LocalBroadcaster, MemoryStore, Principal};
use futures_util::StreamExt;

/// `nodes` engines of one process: one store, one `LocalBroadcaster`.
async fn cluster(nodes: usize) -> Option<Cluster> {
    let store = Arc::new(MemoryStore::new());
    let broadcaster: Arc<DynBroadcaster> = Arc::new(LocalBroadcaster::new());
    let engine = || ChatEngine::new(store.clone(), broadcaster.clone(), EngineConfig::default());
    Some(Cluster {
        nodes: (0..nodes).map(|_| engine()).collect(),
        broadcasters: vec![broadcaster.clone(); nodes],
        cut: None,
    })
}

chat_core::broadcaster_conformance_tests!(cluster);

fn presence(n: u32) -> Signal {
    Signal::Presence {
        admin_id: AdminId::new(),
        online: n.is_multiple_of(2),
        node: uuid::Uuid::nil(),
    }
}

fn engine_with_capacity(capacity: usize) -> ChatEngine {
    let broadcaster = Arc::new(LocalBroadcaster::with_capacity(capacity));
    ChatEngine::new(
        Arc::new(MemoryStore::new()),
        broadcaster,
        EngineConfig::default(),
    )
}

#[tokio::test]
async fn a_subscriber_that_never_reads_lags_and_blocks_nobody() {
    let broadcaster = LocalBroadcaster::with_capacity(4);
    let mut stalled = broadcaster
        .subscribe(Topic::Presence)
        .await
        .expect("subscribe");
    let mut reader = broadcaster
        .subscribe(Topic::Presence)
        .await
        .expect("subscribe");
    for n in 0..100 {
        broadcaster
            .publish(Topic::Presence, presence(n))
            .await
            .expect("publish never waits");
        assert!(
            matches!(reader.next().await, Some(Delivery::Signal(_))),
            "the reader keeps up"
        );
    }
    assert_eq!(
        stalled.next().await,
        Some(Delivery::Lagged),
        "the stalled subscriber learns it lagged"
    );
    assert!(
        matches!(stalled.next().await, Some(Delivery::Signal(_))),
        "then continues with recent signals"
    );
}

#[tokio::test]
async fn topics_without_subscribers_are_dropped() {
    let broadcaster = LocalBroadcaster::new();
    let subscription = broadcaster
        .subscribe(Topic::Inbox)
        .await
        .expect("subscribe");
    assert_eq!(broadcaster.topic_count(), 1);
    drop(subscription);
    broadcaster
        .publish(Topic::Inbox, presence(0))
        .await
        .expect("publish");
    assert_eq!(broadcaster.topic_count(), 0);
    broadcaster
        .publish(Topic::Conversation(Default::default()), presence(1))
        .await
        .expect("no subscribers is fine");
    assert_eq!(broadcaster.topic_count(), 0);
}

#[tokio::test]
async fn a_lagged_feed_resyncs_from_the_store_without_loss_or_duplicates() {
    let engine = engine_with_capacity(2);
    let visitor = visitor(&engine).await;
    let conv = conversation(&engine, &visitor).await;
    let mut feed = engine
        .subscribe(&visitor, conv.id, Seq::ZERO)
        .await
        .expect("subscribe");
    for n in 0..50 {
        send(&engine, &visitor, conv.id, &format!("m{n}"), None)
            .await
            .expect("send");
    }
    let last = engine
        .get_conversation(&visitor, conv.id)
        .await
        .expect("get")
        .last_seq;
    let mut seqs = Vec::new();
    while feed.cursor() < last {
        if let Some(Ok(FeedItem::Event(event))) = feed.next().await {
            seqs.push(event.seq);
        }
    }
    assert_eq!(seqs, (1..=last.get()).map(Seq).collect::<Vec<_>>());
}

#[tokio::test]
async fn typing_and_read_pass_through_the_feed() {
    let engine = engine_with_capacity(64);
    let visitor = visitor(&engine).await;
    let agent = admin(&engine, "typist", Permissions::default()).await;
    let conv = conversation(&engine, &visitor).await;
    let mut feed = engine
        .subscribe(&visitor, conv.id, Seq::ZERO)
        .await
        .expect("subscribe");
    feed.catch_up(usize::MAX).await.expect("catch up");
    engine.typing(&agent, conv.id, true).await.expect("typing");
    let item = feed.next().await.expect("item").expect("ok");
    assert_eq!(
        item,
        FeedItem::Typing {
            actor: agent.actor().expect("actor"),
            is_typing: true
        }
    );
    engine
        .mark_read(&agent, conv.id, Seq(2))
        .await
        .expect("read");
    let item = feed.next().await.expect("item").expect("ok");
    assert_eq!(
        item,
        FeedItem::Read {
            reader: agent.user().expect("user"),
            last_read_seq: Seq(2)
        }
    );
}

#[tokio::test]
async fn restricted_agents_inbox_shows_only_their_conversations() {
    let engine = engine_with_capacity(64);
    let visitor = visitor(&engine).await;
    let restricted = Permissions {
        scope: ConversationScope::Assigned,
        ..Permissions::default()
    };
    let narrow = admin(&engine, "narrow", restricted).await;
    let Principal::Admin { id: narrow_id, .. } = narrow else {
        unreachable!()
    };
    let mut inbox = engine.subscribe_inbox(&narrow).await.expect("inbox");
    let mut full = engine
        .subscribe_inbox(&Principal::System)
        .await
        .expect("inbox");
    let hidden = conversation(&engine, &visitor).await;
    let mine = conversation(&engine, &visitor).await;
    engine
        .assign(&Principal::System, mine.id, Some(narrow_id))
        .await
        .expect("assign");
    let Some(Delivery::Signal(signal)) = inbox.next().await else {
        panic!("no inbox update")
    };
    assert!(matches!(&*signal, Signal::Inbox { update } if update.conversation_id == mine.id));
    let Some(Delivery::Signal(signal)) = full.next().await else {
        panic!("no inbox update")
    };
    assert!(matches!(&*signal, Signal::Inbox { update } if update.conversation_id == hidden.id));
    assert!(
        engine.subscribe_inbox(&visitor).await.is_err(),
        "visitors have no inbox"
    );
}

#[tokio::test]
async fn an_inbox_restricted_to_assigned_conversations_still_hears_resyncs() {
    let broadcaster = Arc::new(LocalBroadcaster::new());
    let engine = ChatEngine::new(
        Arc::new(MemoryStore::new()),
        broadcaster.clone(),
        EngineConfig::default(),
    );
    let permissions = Permissions {
        scope: ConversationScope::Assigned,
        ..Permissions::default()
    };
    let agent = admin(&engine, "narrow", permissions).await;
    let mut inbox = engine.subscribe_inbox(&agent).await.expect("inbox");
    broadcaster
        .publish(Topic::Inbox, Signal::Resync)
        .await
        .expect("publish");
    let delivered = tokio::time::timeout(std::time::Duration::from_secs(5), inbox.next()).await;
    assert_eq!(
        delivered.expect("the resync was filtered out"),
        Some(Delivery::Signal(Arc::new(Signal::Resync)))
    );
}

#[tokio::test]
async fn a_retried_send_announces_its_event_again() {
    let broadcaster = Arc::new(LocalBroadcaster::new());
    let engine = ChatEngine::new(
        Arc::new(MemoryStore::new()),
        broadcaster.clone(),
        EngineConfig::default(),
    );
    let visitor = visitor(&engine).await;
    let conv = conversation(&engine, &visitor).await;
    let mut room = broadcaster
        .subscribe(Topic::Conversation(conv.id))
        .await
        .expect("subscribe");
    let mut inbox = broadcaster.subscribe(Topic::Inbox).await.expect("inbox");
    let first = send(&engine, &visitor, conv.id, "once", Some("c-1"))
        .await
        .expect("send");
    let retried = send(&engine, &visitor, conv.id, "once", Some("c-1"))
        .await
        .expect("retry");
    assert!(first.created && !retried.created);
    let mut announced = Vec::new();
    let listen = async {
        while announced.len() < 2 {
            if let Some(Delivery::Signal(signal)) = room.next().await
                && let Signal::Event { event } = &*signal
            {
                announced.push(event.seq);
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), listen).await;
    assert_eq!(announced, vec![first.message.seq, first.message.seq]);
    let mut updates = Vec::new();
    let listen = async {
        while updates.len() < 2 {
            if let Some(Delivery::Signal(signal)) = inbox.next().await
                && let Signal::Inbox { update } = &*signal
            {
                updates.push((update.conversation_id, update.seq));
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), listen).await;
    assert_eq!(
        updates,
        vec![(conv.id, first.message.seq), (conv.id, first.message.seq)],
        "the inbox hears of the message again"
    );
}
