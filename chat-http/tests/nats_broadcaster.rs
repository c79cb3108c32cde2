//! `NatsBroadcaster` against a real `nats-server` process of the test's own: the
//! broadcaster conformance suite (two nodes over one store, each with its own NATS
//! connection; the link is cut by restarting the server), then what is particular to NATS:
//! an event too large for a message travels by seq, publishes during an outage reach the
//! other node once the server is back, and a node whose own link was cut tells the other
//! nodes' subscribers to resync what it published meanwhile.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chat_core::broadcast::DynBroadcaster;
use chat_core::conformance::broadcast::{Cluster, Cut, watched};
use chat_core::conformance::fixtures::send;
use chat_core::feed::{ConversationFeed, FeedItem};
use chat_core::model::Conversation;
use chat_core::{ChatEngine, DynChatStore, EngineConfig, MemoryStore, Principal};
use chat_http::NatsBroadcaster;
use common::nats_server::NatsServer;
use common::tcp_proxy::Proxy;

/// Not a performance bound: turns a hang into a failure.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// `nodes` engines over one store, each with its own connection to `server`.
async fn nodes(server: &NatsServer, nodes: usize) -> Vec<(ChatEngine, Arc<DynBroadcaster>)> {
    let urls = vec![server.url(); nodes];
    nodes_at(&urls).await
}

/// An engine per URL over one store, each connected to NATS at its URL.
async fn nodes_at(urls: &[String]) -> Vec<(ChatEngine, Arc<DynBroadcaster>)> {
    let store: Arc<DynChatStore> = Arc::new(MemoryStore::new());
    let mut built = Vec::new();
    for url in urls {
        let broadcaster: Arc<DynBroadcaster> = Arc::new(
            NatsBroadcaster::connect(url, store.clone())
                .await
                .expect("connect to NATS"),
        );
        let engine = ChatEngine::new(store.clone(), broadcaster.clone(), EngineConfig::default());
        built.push((engine, broadcaster));
    }
    built
}

async fn cluster(count: usize) -> Option<Cluster> {
    let server = Arc::new(NatsServer::start()?);
    let (engines, broadcasters) = nodes(&server, count).await.into_iter().unzip();
    let cut: Cut = Box::new(move || {
        let server = server.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || server.restart())
                .await
                .expect("restart nats-server");
        })
    });
    Some(Cluster {
        nodes: engines,
        broadcasters,
        cut: Some(cut),
    })
}

/// Reads `feed` until seq `last`; returns the message bodies seen.
async fn bodies_until(feed: &mut ConversationFeed, last: u64) -> Vec<String> {
    let mut bodies = Vec::new();
    let collect = async {
        while feed.cursor().get() < last {
            if let Some(Ok(FeedItem::Event(event))) = feed.next().await
                && let chat_core::event::EventKind::MessageCreated { message } = &event.kind
            {
                bodies.push(message.body.to_string());
            }
        }
    };
    tokio::time::timeout(HANG_GUARD, collect)
        .await
        .expect("the other node did not receive every event");
    bodies
}

/// Sends `{label} 0` … `{label} 4` through `writer`, each stored (within the hang guard);
/// the texts and the last seq.
async fn send_five(
    writer: &ChatEngine,
    visitor: &Principal,
    conversation: &Conversation,
    label: &str,
) -> (Vec<String>, u64) {
    let texts: Vec<String> = (0..5).map(|n| format!("{label} {n}")).collect();
    let mut last = conversation.last_seq;
    let sends = async {
        for text in &texts {
            last = send(writer, visitor, conversation.id, text, None)
                .await
                .expect("a send is stored whatever NATS does")
                .message
                .seq;
        }
    };
    tokio::time::timeout(HANG_GUARD, sends)
        .await
        .expect("sends hung on NATS");
    (texts, last.get())
}

async fn an_event_too_large_for_a_message_is_read_back_by_seq() {
    let server = NatsServer::with_max_payload(4096).expect("testkit found nats-server");
    let nodes = nodes(&server, 2).await;
    let (writer, reader) = (&nodes[0].0, &nodes[1].0);
    let (visitor, conversation, mut feed) = watched(writer, reader).await;
    let large = "large-".repeat(1000);
    // The last event of the conversation: no later one would let the feed notice a gap.
    let seq = send(writer, &visitor, conversation.id, &large, None)
        .await
        .expect("send")
        .message
        .seq;
    assert_eq!(bodies_until(&mut feed, seq.get()).await, vec![large]);
}

async fn what_is_sent_while_the_server_is_down_arrives_after_it_is_back() {
    let server = NatsServer::start().expect("testkit found nats-server");
    let nodes = nodes(&server, 2).await;
    let (writer, reader) = (&nodes[0].0, &nodes[1].0);
    let (visitor, conversation, mut feed) = watched(writer, reader).await;
    server.stop();
    let (texts, last) = send_five(writer, &visitor, &conversation, "down").await;
    server.run();
    assert_eq!(bodies_until(&mut feed, last).await, texts);
}

async fn a_node_whose_link_was_cut_has_the_others_resync_what_it_sent_meanwhile() {
    let server = NatsServer::start().expect("testkit found nats-server");
    let proxy = Proxy::start(server.address()).await;
    // The writer reaches NATS through the proxy; the reader directly, and keeps its link.
    let urls = [format!("nats://{}", proxy.address), server.url()];
    let nodes = nodes_at(&urls).await;
    let (writer, reader) = (&nodes[0].0, &nodes[1].0);
    let (visitor, conversation, mut feed) = watched(writer, reader).await;
    proxy.cut();
    let (texts, last) = send_five(writer, &visitor, &conversation, "cut").await;
    proxy.restore();
    // Nothing else happens in the conversation: only the writer's resync brings these.
    assert_eq!(bodies_until(&mut feed, last).await, texts);
}

fn main() {
    testkit::Suite::new()
        .each(
            &[testkit::Needs::NatsServer],
            chat_core::broadcaster_conformance_scenarios!(cluster),
        )
        .add(
            "an_event_too_large_for_a_message_is_read_back_by_seq",
            &[testkit::Needs::NatsServer],
            |_| an_event_too_large_for_a_message_is_read_back_by_seq(),
        )
        .add(
            "what_is_sent_while_the_server_is_down_arrives_after_it_is_back",
            &[testkit::Needs::NatsServer],
            |_| what_is_sent_while_the_server_is_down_arrives_after_it_is_back(),
        )
        .add(
            "a_node_whose_link_was_cut_has_the_others_resync_what_it_sent_meanwhile",
            &[testkit::Needs::NatsServer],
            |_| a_node_whose_link_was_cut_has_the_others_resync_what_it_sent_meanwhile(),
        )
        .run();
}
