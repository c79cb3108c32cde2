//! Two server nodes on one database, each with its own `PostgresStore` and `PgBroadcaster`,
//! for what is particular to LISTEN/NOTIFY (the shared broadcaster scenarios are in
//! `broadcaster.rs`): the resync after a dropped LISTEN connection comes only once
//! notifications flow again; events and revocations reach the publishing node's
//! subscribers at once and the other nodes' once the database takes the NOTIFY;
//! auto-assignment across nodes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chat_core::broadcast::{Broadcaster, Delivery, Revoked, Signal, Topic};
use chat_core::conformance::fixtures::{chatting, send};
use chat_core::ids::AdminId;
use chat_core::{ChatEngine, EngineConfig};
use chat_store_postgres::{PgBroadcaster, PoolConfig, PostgresStore};
use futures_util::StreamExt;

/// Not a performance bound: turns a hang into a failure.
const HANG_GUARD: Duration = Duration::from_secs(60);

async fn node(options: &sqlx::postgres::PgConnectOptions) -> ChatEngine {
    let store = PostgresStore::connect_with(options.clone(), PoolConfig::default())
        .await
        .expect("store");
    let broadcaster = PgBroadcaster::start(store.pool().clone())
        .await
        .expect("broadcaster");
    ChatEngine::new(
        Arc::new(store),
        Arc::new(broadcaster),
        EngineConfig::default(),
    )
}

async fn events_committed_right_after_a_resync_arrive_live() {
    let options = common::fresh_database()
        .await
        .expect("testkit found PostgreSQL");
    let a = node(&options).await;
    let store = PostgresStore::connect_with(options.clone(), PoolConfig::default())
        .await
        .expect("store");
    let b = PgBroadcaster::start(store.pool().clone())
        .await
        .expect("broadcaster");
    let (visitor, conversation) = chatting(&a, 0).await;
    let mut live = b
        .subscribe(Topic::Conversation(conversation.id))
        .await
        .expect("subscribe");
    // Run from the server's default database: a database cannot refuse connections to itself.
    let url = testkit::postgres().expect("found, or the test was ignored");
    let server = common::pool(url.parse().expect("a postgres:// URL")).await;
    let name = options.get_database().expect("a database name").to_owned();
    let (counting, counted) = (server.clone(), name.clone());
    // The listener cannot come back for a second: a resync announced before it is back
    // would promise notifications that are not flowing.
    let allow = move |allowed: bool| {
        let sql = format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allowed}");
        let server = server.clone();
        async move {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&server)
                .await
                .expect("alter database");
        }
    };
    let admin = common::pool(options.clone()).await;
    allow(false).await;
    let terminated: Vec<i32> = sqlx::query_scalar(
        "WITH listeners AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%' \
         AND datname = current_database() AND pid <> pg_backend_pid()) \
         SELECT pid FROM listeners WHERE pg_terminate_backend(pid)",
    )
        .fetch_all(&admin)
        .await
        .expect("terminate listeners");
    assert!(!terminated.is_empty(), "no listener to terminate");
    let listening = {
        let (server, name) = (counting, counted);
        move || {
            let (server, name, terminated) = (server.clone(), name.clone(), terminated.clone());
            async move {
                let sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%' AND pid <> ALL($2)";
                let count: i64 = sqlx::query_scalar(sql)
                    .bind(name)
                    .bind(terminated)
                    .fetch_one(&server)
                    .await
                    .expect("count listeners");
                count
            }
        }
    };
    let reopen = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        allow(true).await;
    });
    let resync = async {
        while let Some(delivery) = live.next().await {
            if delivery == Delivery::Signal(Arc::new(Signal::Resync)) {
                return;
            }
        }
    };
    tokio::time::timeout(HANG_GUARD, resync)
        .await
        .expect("no resync after the lost listener");
    assert!(
        listening().await > 0,
        "a resync was announced before LISTEN was back"
    );
    // The resync promised that notifications flow again: these must arrive live.
    for n in 0..5 {
        send(&a, &visitor, conversation.id, &format!("after {n}"), None)
            .await
            .expect("send");
    }
    let mut seqs = Vec::new();
    let collect = async {
        while seqs.len() < 5 {
            if let Some(Delivery::Signal(signal)) = live.next().await
                && let Signal::Event { event } = &*signal
            {
                seqs.push(event.seq.get());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), collect)
        .await
        .expect("events committed after the resync were not notified");
    reopen.await.expect("reopen");
    let first = conversation.last_seq.get() + 1;
    assert_eq!(seqs, (first..first + 5).collect::<Vec<_>>());
}

async fn a_revocation_reaches_this_node_at_once_and_the_others_once_notify_gets_through() {
    let options = common::fresh_database()
        .await
        .expect("testkit found PostgreSQL");
    let config = PoolConfig {
        max_connections: 2,
        acquire_timeout: Duration::from_millis(500),
        ..PoolConfig::default()
    };
    let a = PostgresStore::connect_with(options.clone(), config)
        .await
        .expect("store");
    let on_a = PgBroadcaster::start(a.pool().clone())
        .await
        .expect("broadcaster");
    let on_b = node_broadcaster(&options).await;
    let mut here = on_a.subscribe(Topic::Sessions).await.expect("subscribe");
    let mut there = on_b.subscribe(Topic::Sessions).await.expect("subscribe");
    // Node A's pool is exhausted: its NOTIFYs fail until the connections come back.
    let mut held = Vec::new();
    while let Ok(connection) = a.pool().acquire().await {
        held.push(connection);
    }
    let revoked = Signal::Revoked {
        sessions: Revoked::Admin(AdminId::new()),
    };
    on_a.publish(Topic::Sessions, revoked.clone())
        .await
        .expect("publish");
    let expected = Some(Delivery::Signal(Arc::new(revoked)));
    let local = tokio::time::timeout(Duration::from_secs(5), here.next()).await;
    assert_eq!(local.expect("not delivered on this node"), expected);
    // Long enough for at least one NOTIFY attempt to fail.
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(held);
    let remote = tokio::time::timeout(HANG_GUARD, there.next()).await;
    assert_eq!(remote.expect("never reached the other node"), expected);
}

/// The node that committed an event hands it to its own subscribers at once, without the
/// NOTIFY round trip (here there is none: the event is published without being written).
async fn an_event_reaches_its_own_nodes_subscribers_without_a_notify() {
    let options = common::fresh_database()
        .await
        .expect("testkit found PostgreSQL");
    let broadcaster = node_broadcaster(&options).await;
    let conversation = chat_core::ids::ConversationId::new();
    let topic = Topic::Conversation(conversation);
    let mut here = broadcaster.subscribe(topic).await.expect("subscribe");
    let event = chat_core::event::Event {
        conversation_id: conversation,
        seq: chat_core::ids::Seq(1),
        timestamp: chrono::Utc::now(),
        kind: chat_core::event::EventKind::ParticipantLeft {
            user: chat_core::model::UserRef::Admin(chat_core::ids::AdminId::new()),
        },
    };
    broadcaster
        .publish(
            topic,
            Signal::Event {
                event: event.clone(),
            },
        )
        .await
        .expect("publish");
    let delivered = tokio::time::timeout(Duration::from_secs(1), here.next())
        .await
        .expect("not delivered locally at once");
    assert_eq!(
        delivered,
        Some(Delivery::Signal(Arc::new(Signal::Event { event })))
    );
}

/// A broadcaster of a node of its own on the database.
async fn node_broadcaster(options: &sqlx::postgres::PgConnectOptions) -> PgBroadcaster {
    let store = PostgresStore::connect_with(options.clone(), PoolConfig::default())
        .await
        .expect("store");
    PgBroadcaster::start(store.pool().clone())
        .await
        .expect("broadcaster")
}

/// Two nodes run auto-assignment passes at the same time, again and again, while
/// conversations arrive: each conversation is assigned exactly once and no agent ever holds
/// more than its capacity.
async fn two_node_auto_assignment_assigns_each_conversation_once_within_capacity() {
    use chat_core::Principal;
    use chat_core::accounts::{AdminChanges, Permissions};
    use chat_core::conformance::fixtures::{admin, conversation, visitor};
    use chat_core::event::EventKind;

    let options = common::fresh_database()
        .await
        .expect("testkit found PostgreSQL");
    let (a, b) = (node(&options).await, node(&options).await);
    let mut agents = Vec::new();
    for (tag, capacity) in [("one", Some(4)), ("two", Some(4)), ("three", None)] {
        let Principal::Admin { id, .. } = admin(&a, tag, Permissions::default()).await else {
            unreachable!()
        };
        let changes = AdminChanges {
            capacity: Some(capacity),
            ..AdminChanges::default()
        };
        a.update_admin(&Principal::System, id, changes)
            .await
            .expect("capacity");
        agents.push(id);
    }
    let guest = visitor(&a).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        for _ in 0..5 {
            ids.push(conversation(&a, &guest).await.id);
        }
        let (on_a, on_b) = tokio::join!(a.auto_assign(&agents, None), b.auto_assign(&agents, None));
        on_a.expect("pass on A");
        on_b.expect("pass on B");
    }
    // A last pass picks up anything a pass skipped because the other held the lease.
    a.auto_assign(&agents, None).await.expect("final pass");
    let mut held = std::collections::HashMap::new();
    for id in &ids {
        let page = a
            .events_since(
                &Principal::System,
                *id,
                chat_core::ids::Seq::ZERO,
                Some(100),
            )
            .await
            .expect("events");
        let assigned = page
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Assigned { .. }))
            .count();
        assert_eq!(
            assigned, 1,
            "conversation {id} was assigned {assigned} times"
        );
        let row = a
            .get_conversation(&Principal::System, *id)
            .await
            .expect("row");
        *held.entry(row.assignee.expect("assigned")).or_insert(0) += 1;
    }
    assert_eq!(held.get(&agents[0]), Some(&4), "capacity 4");
    assert_eq!(held.get(&agents[1]), Some(&4), "capacity 4");
    assert_eq!(held.get(&agents[2]), Some(&22));
}

fn main() {
    testkit::Suite::new()
        .add(
            "events_committed_right_after_a_resync_arrive_live",
            &[testkit::Needs::Postgres],
            |_| events_committed_right_after_a_resync_arrive_live(),
        )
        .add(
            "a_revocation_reaches_this_node_at_once_and_the_others_once_notify_gets_through",
            &[testkit::Needs::Postgres],
            |_| a_revocation_reaches_this_node_at_once_and_the_others_once_notify_gets_through(),
        )
        .add(
            "an_event_reaches_its_own_nodes_subscribers_without_a_notify",
            &[testkit::Needs::Postgres],
            |_| an_event_reaches_its_own_nodes_subscribers_without_a_notify(),
        )
        .add(
            "two_node_auto_assignment_assigns_each_conversation_once_within_capacity",
            &[testkit::Needs::Postgres],
            |_| two_node_auto_assignment_assigns_each_conversation_once_within_capacity(),
        )
        .run();
}
