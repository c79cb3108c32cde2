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
use chat_core::conformance::broadcast::{Cluster, Cut};
use chat_core::conformance::fixtures::{chatting, send};
use chat_core::feed::FeedItem;
use chat_core::{ChatEngine, DynChatStore, EngineConfig, MemoryStore};
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
async fn bodies_until(feed: &mut chat_core::feed::ConversationFeed, last: u64) -> Vec<String> {
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

async fn an_event_too_large_for_a_message_is_read_back_by_seq() {
    let server = NatsServer::with_max_payload(4096).expect("testkit found nats-server");
    let nodes = nodes(&server, 2).await;
    let (writer, reader) = (&nodes[0].0, &nodes[1].0);
    let (visitor, conversation) = chatting(writer, 0).await;
    let mut feed = reader
        .subscribe(&visitor, conversation.id, conversation.last_seq)
        .await
        .expect("subscribe");
    feed.catch_up(usize::MAX).await.expect("catch up");
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
    let (visitor, conversation) = chatting(writer, 0).await;
    let mut feed = reader
        .subscribe(&visitor, conversation.id, conversation.last_seq)
        .await
        .expect("subscribe");
    feed.catch_up(usize::MAX).await.expect("catch up");
    server.stop();
    let mut last = conversation.last_seq;
    let during = async {
        for n in 0..5 {
            last = send(
                writer,
                &visitor,
                conversation.id,
                &format!("down {n}"),
                None,
            )
            .await
            .expect("a send is stored while NATS is down")
            .message
            .seq;
        }
    };
    tokio::time::timeout(HANG_GUARD, during)
        .await
        .expect("sends hung while NATS was down");
    server.run();
    let bodies = bodies_until(&mut feed, last.get()).await;
    assert_eq!(
        bodies,
        (0..5).map(|n| format!("down {n}")).collect::<Vec<_>>()
    );
}

async fn a_node_whose_link_was_cut_has_the_others_resync_what_it_sent_meanwhile() {
    let server = NatsServer::start().expect("testkit found nats-server");
    let port: u16 = server
        .url()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let proxy = Proxy::start(([127, 0, 0, 1], port).into()).await;
    // The writer reaches NATS through the proxy; the reader directly, and keeps its link.
    let urls = [format!("nats://{}", proxy.address), server.url()];
    let nodes = nodes_at(&urls).await;
    let (writer, reader) = (&nodes[0].0, &nodes[1].0);
    let (visitor, conversation) = chatting(writer, 0).await;
    let mut feed = reader
        .subscribe(&visitor, conversation.id, conversation.last_seq)
        .await
        .expect("subscribe");
    feed.catch_up(usize::MAX).await.expect("catch up");
    proxy.cut();
    let mut last = conversation.last_seq;
    for n in 0..5 {
        last = send(writer, &visitor, conversation.id, &format!("cut {n}"), None)
            .await
            .expect("a send is stored while the link is cut")
            .message
            .seq;
    }
    proxy.restore();
    // Nothing else happens in the conversation: only the writer's resync brings these.
    let bodies = bodies_until(&mut feed, last.get()).await;
    assert_eq!(
        bodies,
        (0..5).map(|n| format!("cut {n}")).collect::<Vec<_>>()
    );
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
