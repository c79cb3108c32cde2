//! Micro-benches of the hot paths every message crosses: the authorization decision, event
//! encoding for the wire, an append on `MemoryStore` through the engine, and in-process
//! fan-out of one signal to 1, 100 and 1,000 subscribers.
//!
//! Run with: `cargo bench -p benches --bench hot_paths`

use std::hint::black_box;
use std::sync::Arc;

use chat_core::accounts::Permissions;
use chat_core::authz::{Action, ConversationFacts, Policy, Principal, authorize};
use chat_core::broadcast::{Broadcaster, Signal, Topic};
use chat_core::conformance::fixtures::{chatting, engine, send};
use chat_core::ids::{AdminId, CustomerId, Seq};
use chat_core::model::Actor;
use chat_core::status::ConversationStatus;
use chat_core::{LocalBroadcaster, MemoryStore};
use chat_http::dto::EventDto;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt;

fn authorization(c: &mut Criterion) {
    let customer = CustomerId::new();
    let facts = ConversationFacts {
        customer_id: customer,
        assignee: None,
        status: ConversationStatus::Active,
    };
    let policy = Policy::default();
    let visitor = Principal::Visitor(customer);
    let agent = Principal::Admin {
        id: AdminId::new(),
        permissions: Permissions::OWNER,
    };
    c.bench_function("authorize/visitor_sends", |b| {
        b.iter(|| {
            authorize(
                black_box(&visitor),
                Action::SendMessage,
                Some(black_box(&facts)),
                &policy,
            )
        })
    });
    c.bench_function("authorize/agent_reads", |b| {
        b.iter(|| {
            authorize(
                black_box(&agent),
                Action::ReadConversation,
                Some(black_box(&facts)),
                &policy,
            )
        })
    });
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn encoding(c: &mut Criterion) {
    let runtime = runtime();
    let event = runtime.block_on(async {
        let engine = engine(Arc::new(MemoryStore::new()));
        let (visitor, conversation) = chatting(&engine, 0).await;
        send(&engine, &visitor, conversation.id, &"x".repeat(150), None)
            .await
            .expect("send");
        let events = engine
            .events_since(&visitor, conversation.id, Seq(2), None)
            .await
            .expect("events");
        events.events[0].clone()
    });
    c.bench_function("encode/message_event_to_json", |b| {
        b.iter(|| serde_json::to_vec(&EventDto::from(black_box(event.clone()))).expect("encode"))
    });
}

fn append(c: &mut Criterion) {
    let runtime = runtime();
    let engine = engine(Arc::new(MemoryStore::new()));
    let (visitor, conversation) = runtime.block_on(chatting(&engine, 0));
    let body = "x".repeat(150);
    c.bench_function("memory_store/send_message", |b| {
        b.to_async(&runtime).iter(|| async {
            send(&engine, &visitor, conversation.id, &body, None)
                .await
                .expect("send")
        })
    });
}

fn fan_out(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("fan_out");
    for subscribers in [1usize, 100, 1000] {
        let broadcaster = LocalBroadcaster::new();
        let topic = Topic::Conversation(chat_core::ids::ConversationId::new());
        let mut subscriptions = runtime.block_on(async {
            let mut all = Vec::new();
            for _ in 0..subscribers {
                all.push(broadcaster.subscribe(topic).await.expect("subscribe"));
            }
            all
        });
        let signal = Signal::Typing {
            conversation_id: match topic {
                Topic::Conversation(id) => id,
                _ => unreachable!("a conversation topic"),
            },
            actor: Actor::Customer(CustomerId::new()),
            is_typing: true,
        };
        group.throughput(Throughput::Elements(subscribers as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(subscribers),
            &subscribers,
            |b, _| {
                b.iter(|| {
                    runtime.block_on(async {
                        broadcaster
                            .publish(topic, signal.clone())
                            .await
                            .expect("publish");
                        for subscription in &mut subscriptions {
                            black_box(subscription.next().await);
                        }
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, authorization, encoding, append, fan_out);
criterion_main!(benches);
