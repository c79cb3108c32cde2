//! The broadcaster contract as shared scenarios, run against every [`Broadcaster`] the way
//! the store suite runs against every store: a [`Cluster`] of nodes (an engine each, with
//! its own broadcaster of the kind under test, over one shared store) is checked for
//! delivery of events to every node in seq order exactly once (through
//! [`ConversationFeed`]), ephemeral signals reaching their topic and no other, revocations
//! reaching every node, a slow subscriber lagging without blocking anyone, and a lost link
//! turning into a resync that loses nothing.
//!
//! A backend stamps one test per scenario with
//! [`broadcaster_conformance_tests!`](crate::broadcaster_conformance_tests).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use crate::authz::Principal;
use crate::broadcast::{Delivery, DynBroadcaster, Revoked, Signal, Subscription, Topic};
use crate::conformance::fixtures::{chatting, send};
use crate::engine::ChatEngine;
use crate::feed::{ConversationFeed, FeedItem};
use crate::ids::{AdminId, ConversationId, Seq};
use crate::model::Conversation;

/// Not a performance bound: turns a hang into a failure.
const HANG_GUARD: Duration = Duration::from_secs(60);
/// How long "nothing arrives" is watched for.
const QUIET: Duration = Duration::from_millis(500);

/// A way to cut every node's link to the others, as a broker or database restart would.
pub type Cut = Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Nodes sharing one store, each with its own broadcaster of the kind under test.
pub struct Cluster {
    /// One engine per node.
    pub nodes: Vec<ChatEngine>,
    /// Each node's broadcaster (the one its engine publishes to).
    pub broadcasters: Vec<Arc<DynBroadcaster>>,
    /// Cuts every link between nodes; `None` for a broadcaster with no link to lose (one
    /// process).
    pub cut: Option<Cut>,
}

impl Cluster {
    fn first(&self) -> &ChatEngine {
        &self.nodes[0]
    }

    fn last(&self) -> &ChatEngine {
        &self.nodes[self.nodes.len() - 1]
    }
}

/// Stamps one `#[tokio::test]` per broadcaster scenario, in a module named
/// `broadcaster_conformance`. `$setup` names an `async fn(usize) -> Option<Cluster>` in
/// the calling module that returns that many nodes, or `None` (SKIPPED) when the backend
/// is not reachable here.
#[macro_export]
macro_rules! broadcaster_conformance_tests {
    ($setup:ident) => {
        $crate::__broadcaster_scenarios!(broadcaster_conformance_tests, @stamp $setup);
    };
    (@stamp $setup:ident; $($name:ident),* $(,)?) => {
        mod broadcaster_conformance {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match super::$setup(2).await {
                        Some(cluster) => $crate::conformance::broadcast::$name(cluster).await,
                        None => eprintln!("SKIPPED broadcaster_conformance::{}: the backend is not reachable here", stringify!($name)),
                    }
                }
            )*
        }
    };
}

/// The broadcaster scenarios as `(name, body)` pairs for a harness that lists its tests
/// at run time (see [`conformance_scenarios!`](crate::conformance_scenarios)); a body
/// whose setup returns `None` panics.
#[macro_export]
macro_rules! broadcaster_conformance_scenarios {
    ($setup:path) => {
        $crate::__broadcaster_scenarios!(broadcaster_conformance_scenarios, @list $setup)
    };
    (@list $setup:path; $($name:ident),* $(,)?) => {
        vec![$(
            (
                format!("broadcaster_conformance::{}", stringify!($name)),
                Box::new(|| -> $crate::conformance::ScenarioBody {
                    Box::pin(async {
                        let cluster = $setup(2).await.expect("the backend is reachable");
                        $crate::conformance::broadcast::$name(cluster).await
                    })
                }) as $crate::conformance::Scenario,
            )
        ),*]
    };
}

/// Every broadcaster scenario, handed to `$callback` after `$prefix`.
#[doc(hidden)]
#[macro_export]
macro_rules! __broadcaster_scenarios {
    ($callback:ident, $($prefix:tt)*) => {
        $crate::$callback! { $($prefix)*;
            events_reach_every_node_in_order_exactly_once,
            ephemeral_signals_reach_their_topic_on_every_node_and_no_other,
            revocations_reach_every_node,
            a_subscriber_that_falls_behind_lags_and_blocks_nobody,
            a_lost_link_turns_into_a_resync_that_loses_nothing,
        }
    };
}

/// Events written through one node reach a feed on another in seq order, once each, while
/// four writers send at once.
pub async fn events_reach_every_node_in_order_exactly_once(cluster: Cluster) {
    let (visitor, conversation, mut feed) = watched(cluster.first(), cluster.last()).await;
    let writers: Vec<_> = (0..4)
        .map(|task| {
            let engine = cluster.first().clone();
            tokio::spawn(async move {
                for n in 0..25 {
                    send(
                        &engine,
                        &visitor,
                        conversation.id,
                        &format!("{task}/{n}"),
                        None,
                    )
                    .await
                    .expect("send");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let after = conversation.last_seq.get();
    assert_receives_exactly(&mut feed, after, after + 100).await;
}

/// A typing signal published on one node reaches that conversation's subscribers on every
/// node, and nobody subscribed to another conversation.
pub async fn ephemeral_signals_reach_their_topic_on_every_node_and_no_other(cluster: Cluster) {
    let (visitor, conversation) = chatting(cluster.first(), 0).await;
    let other = ConversationId::new();
    let mut listeners = Vec::new();
    for broadcaster in &cluster.broadcasters {
        let here = subscribe(broadcaster, Topic::Conversation(conversation.id)).await;
        let elsewhere = subscribe(broadcaster, Topic::Conversation(other)).await;
        listeners.push((here, elsewhere));
    }
    cluster
        .first()
        .typing(&visitor, conversation.id, true)
        .await
        .expect("typing");
    for (node, (here, elsewhere)) in listeners.iter_mut().enumerate() {
        let typing = next_signal(here, |s| matches!(s, Signal::Typing { .. })).await;
        let Some(Signal::Typing {
            conversation_id,
            actor,
            is_typing,
        }) = typing
        else {
            panic!("node {node}: no typing signal");
        };
        assert_eq!(
            (conversation_id, actor, is_typing),
            (conversation.id, visitor.actor().expect("actor"), true)
        );
        assert_quiet(elsewhere, node).await;
    }
}

/// A revocation published on one node reaches the session subscribers of every node.
pub async fn revocations_reach_every_node(cluster: Cluster) {
    let mut listeners = Vec::new();
    for broadcaster in &cluster.broadcasters {
        listeners.push(subscribe(broadcaster, Topic::Sessions).await);
    }
    let admin = AdminId::new();
    let sessions = Revoked::Admin(admin);
    cluster.broadcasters[0]
        .publish(Topic::Sessions, Signal::Revoked { sessions })
        .await
        .expect("publish");
    for (node, listener) in listeners.iter_mut().enumerate() {
        let revoked = next_signal(listener, |s| matches!(s, Signal::Revoked { .. })).await;
        assert_eq!(
            revoked,
            Some(Signal::Revoked { sessions }),
            "node {node} did not hear the revocation"
        );
    }
}

/// A subscriber that never reads is told it lagged once it reads again, while the
/// publisher never waits and a subscriber that reads hears the last signal (or is told it
/// lagged, and resyncs).
pub async fn a_subscriber_that_falls_behind_lags_and_blocks_nobody(cluster: Cluster) {
    let (visitor, conversation) = chatting(cluster.first(), 0).await;
    let topic = Topic::Conversation(conversation.id);
    let last = cluster.broadcasters.len() - 1;
    let mut stalled = subscribe(&cluster.broadcasters[last], topic).await;
    let mut reader = subscribe(&cluster.broadcasters[last], topic).await;
    // Distinct signals (a transport may fold identical ones, as NOTIFY does within a
    // statement), the last one told apart by its seq.
    let reader_id = visitor.user().expect("user");
    let read = |n: u64| Signal::Read {
        conversation_id: conversation.id,
        reader: reader_id,
        last_read_seq: Seq(n),
    };
    const LAST: u64 = 5_000;
    let publish = async {
        for n in 0..=LAST {
            cluster.broadcasters[0]
                .publish(topic, read(n))
                .await
                .expect("publish");
        }
    };
    tokio::time::timeout(HANG_GUARD, publish)
        .await
        .expect("a subscriber that never reads blocked the publisher");
    let heard = async {
        while let Some(delivery) = reader.next().await {
            match delivery {
                Delivery::Lagged => return,
                Delivery::Signal(signal) if *signal == read(LAST) => return,
                Delivery::Signal(_) => {}
            }
        }
        panic!("the reading subscriber's stream ended");
    };
    tokio::time::timeout(HANG_GUARD, heard)
        .await
        .expect("the reading subscriber stopped receiving");
    let lagged = async {
        while let Some(delivery) = stalled.next().await {
            if delivery == Delivery::Lagged {
                return true;
            }
        }
        false
    };
    assert!(
        tokio::time::timeout(HANG_GUARD, lagged)
            .await
            .expect("the stalled subscriber was never told it lagged"),
        "the stalled subscriber's stream ended instead"
    );
}

/// After the links between nodes are cut, events written meanwhile still reach the other
/// node's feed, in order and once each (the subscribers were told to resync).
pub async fn a_lost_link_turns_into_a_resync_that_loses_nothing(cluster: Cluster) {
    let Some(cut) = &cluster.cut else {
        // One process: no link to lose.
        return;
    };
    let (visitor, conversation, mut feed) = watched(cluster.first(), cluster.last()).await;
    cut().await;
    for n in 0..10 {
        send(
            cluster.first(),
            &visitor,
            conversation.id,
            &format!("during the cut {n}"),
            None,
        )
        .await
        .expect("send");
    }
    let after = conversation.last_seq.get();
    assert_receives_exactly(&mut feed, after, after + 10).await;
}

/// A conversation started through `writer`, and a feed of it on `reader` that has read its
/// backlog: from here on, only the broadcaster (or a resync it asks for) brings it
/// anything.
pub async fn watched(
    writer: &ChatEngine,
    reader: &ChatEngine,
) -> (Principal, Conversation, ConversationFeed) {
    let (visitor, conversation) = chatting(writer, 0).await;
    let mut feed = reader
        .subscribe(&visitor, conversation.id, conversation.last_seq)
        .await
        .expect("subscribe");
    let backlog = feed.catch_up(usize::MAX).await.expect("catch up");
    assert!(backlog.is_empty(), "nothing was sent yet: {backlog:?}");
    (visitor, conversation, feed)
}

async fn subscribe(broadcaster: &Arc<DynBroadcaster>, topic: Topic) -> Subscription {
    broadcaster.subscribe(topic).await.expect("subscribe")
}

/// The next signal `wanted` accepts (others skipped); `None` if none came in time.
async fn next_signal(
    subscription: &mut Subscription,
    wanted: impl Fn(&Signal) -> bool,
) -> Option<Signal> {
    let find = async {
        while let Some(delivery) = subscription.next().await {
            if let Delivery::Signal(signal) = delivery
                && wanted(&signal)
            {
                return Some((*signal).clone());
            }
        }
        None
    };
    tokio::time::timeout(HANG_GUARD, find).await.ok().flatten()
}

/// Asserts nothing but resyncs arrives for a while.
async fn assert_quiet(subscription: &mut Subscription, node: usize) {
    let unexpected = async {
        while let Some(delivery) = subscription.next().await {
            if let Delivery::Signal(signal) = &delivery
                && !matches!(**signal, Signal::Resync)
            {
                return Some(delivery);
            }
        }
        None
    };
    if let Ok(Some(delivery)) = tokio::time::timeout(QUIET, unexpected).await {
        panic!("node {node}: a subscriber of another topic got {delivery:?}");
    }
}

/// Reads `feed` until seq `last` and checks it yielded `after + 1 ..= last`, once each, in
/// order.
async fn assert_receives_exactly(feed: &mut ConversationFeed, after: u64, last: u64) {
    let mut seqs = Vec::new();
    let collect = async {
        while seqs.last().copied().unwrap_or(after) < last {
            if let Some(Ok(FeedItem::Event(event))) = feed.next().await {
                seqs.push(event.seq.get());
            }
        }
    };
    tokio::time::timeout(HANG_GUARD, collect)
        .await
        .expect("the other node did not receive every event");
    assert_eq!(seqs, (after + 1..=last).collect::<Vec<_>>());
}
