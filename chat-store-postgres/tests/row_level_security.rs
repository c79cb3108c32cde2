//! The request role sees only what its principal may read, whatever query it runs.

mod common;

use chat_core::Principal;
use chat_core::accounts::{ConversationScope, Permissions};
use chat_core::conformance::fixtures::{admin, body, chatting, engine, send};
use chat_core::engine::SendMessage;
use chat_store_postgres::PostgresStore;
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Postgres};

/// Counts rows of `table` as the request role acting for `principal`.
async fn visible(connection: &mut PoolConnection<Postgres>, principal: &str, table: &str) -> i64 {
    sqlx::query("SELECT set_config('chat.principal', $1, false)")
        .bind(principal)
        .execute(&mut **connection)
        .await
        .expect("set");
    sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&mut **connection)
        .await
        .expect("count")
}

async fn the_request_role_cannot_read_another_visitors_conversation() {
    let store = common::fresh_store()
        .await
        .expect("testkit found PostgreSQL");
    let store = std::sync::Arc::new(store);
    let engine = engine(store.clone());
    let (ann, ann_conversation) = chatting(&engine, 2).await;
    let (bob, _) = chatting(&engine, 3).await;
    let agent = admin(&engine, "rls", Permissions::default()).await;
    let mut note = SendMessage::text(ann_conversation.id, body("private: refund approved"));
    note.private = true;
    engine.send_message(&agent, note).await.expect("note");
    send(&engine, &agent, ann_conversation.id, "public reply", None)
        .await
        .expect("reply");
    let narrow = admin(
        &engine,
        "narrow-rls",
        Permissions {
            scope: ConversationScope::Assigned,
            ..Permissions::default()
        },
    )
    .await;

    let mut connection = store.pool().acquire().await.expect("connection");
    sqlx::query("SET ROLE chat_request")
        .execute(&mut *connection)
        .await
        .expect("set role");
    let id = |principal: &Principal| match principal {
        Principal::Visitor(id) => format!("visitor:{id}"),
        Principal::Admin { id, .. } => format!("admin:{id}"),
        _ => String::new(),
    };
    assert_eq!(
        visible(&mut connection, &id(&ann), "conversations").await,
        1
    );
    assert_eq!(
        visible(&mut connection, &id(&bob), "conversations").await,
        1
    );
    assert_eq!(
        visible(&mut connection, &id(&ann), "messages").await,
        3,
        "Ann's two messages and the public reply, not the note"
    );
    assert_eq!(
        visible(&mut connection, &id(&bob), "messages").await,
        3,
        "only Bob's own"
    );
    let ann_events = visible(&mut connection, &id(&ann), "events").await;
    let all_ann_events =
        i64::try_from(store_last_seq(&store, ann_conversation.id).await).expect("seq");
    assert_eq!(
        ann_events,
        all_ann_events - 1,
        "exactly the private note is hidden"
    );
    assert_eq!(
        visible(&mut connection, &id(&agent), "conversations").await,
        2,
        "agents see everything"
    );
    assert_eq!(
        visible(&mut connection, &id(&agent), "messages").await,
        7,
        "including notes"
    );
    assert_eq!(
        visible(&mut connection, &id(&narrow), "conversations").await,
        0,
        "restricted agents see only assigned ones"
    );
    assert_eq!(
        visible(&mut connection, "", "conversations").await,
        0,
        "no principal, nothing"
    );
    assert_eq!(
        visible(&mut connection, "visitor:not-a-uuid-at-all", "participants").await,
        0
    );
    let write = sqlx::query("DELETE FROM conversations")
        .execute(&mut *connection)
        .await;
    assert!(write.is_err(), "the request role may not write");
    let admins = sqlx::query("SELECT password_hash FROM admins")
        .execute(&mut *connection)
        .await;
    assert!(
        admins.is_err(),
        "the request role may not read password hashes"
    );
}

async fn store_last_seq(store: &PostgresStore, id: chat_core::ids::ConversationId) -> u64 {
    chat_core::store::ConversationStore::get_conversation(store, id)
        .await
        .expect("get")
        .expect("exists")
        .last_seq
        .get()
}

/// The request role follows the workflow rules too: a visitor never reads label changes,
/// and a blocked visitor reads nothing.
async fn the_request_role_hides_label_changes_from_visitors_and_everything_from_blocked_ones() {
    let store = common::fresh_store()
        .await
        .expect("testkit found PostgreSQL");
    let store = std::sync::Arc::new(store);
    let engine = engine(store.clone());
    let (ann, conversation) = chatting(&engine, 1).await;
    let agent = admin(&engine, "labels-rls", Permissions::default()).await;
    engine
        .create_label(
            &agent,
            chat_core::values::LabelTitle::parse("vip").expect("title"),
            None,
        )
        .await
        .expect("label");
    engine
        .set_conversation_labels(&agent, conversation.id, &["vip".into()])
        .await
        .expect("labels");
    let Principal::Visitor(ann_id) = ann else {
        unreachable!()
    };
    let all_events = i64::try_from(store_last_seq(&store, conversation.id).await).expect("seq");

    let mut connection = store.pool().acquire().await.expect("connection");
    sqlx::query("SET ROLE chat_request")
        .execute(&mut *connection)
        .await
        .expect("set role");
    let visitor = format!("visitor:{ann_id}");
    assert_eq!(
        visible(&mut connection, &visitor, "events").await,
        all_events - 1,
        "exactly the label change is hidden"
    );
    let Principal::Admin { id: agent_id, .. } = agent else {
        unreachable!()
    };
    assert_eq!(
        visible(&mut connection, &format!("admin:{agent_id}"), "events").await,
        all_events
    );
    sqlx::query("RESET ROLE")
        .execute(&mut *connection)
        .await
        .expect("reset role");
    engine.block_visitor(&agent, ann_id).await.expect("block");
    sqlx::query("SET ROLE chat_request")
        .execute(&mut *connection)
        .await
        .expect("set role");
    for table in ["conversations", "events", "messages"] {
        assert_eq!(
            visible(&mut connection, &visitor, table).await,
            0,
            "a blocked visitor reads no {table}"
        );
    }
}

fn main() {
    testkit::Suite::new()
        .add(
            "the_request_role_cannot_read_another_visitors_conversation",
            &[testkit::Needs::Postgres],
            |_| the_request_role_cannot_read_another_visitors_conversation(),
        )
        .add(
            "the_request_role_hides_label_changes_from_visitors_and_everything_from_blocked_ones",
            &[testkit::Needs::Postgres],
            |_| {
                the_request_role_hides_label_changes_from_visitors_and_everything_from_blocked_ones(
                )
            },
        )
        .run();
}
