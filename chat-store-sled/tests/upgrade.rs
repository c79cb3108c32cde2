//! A store written by schema version 1 (no message counters in its rows, bare seqs as read
//! cursors, no change feed) opens, is upgraded in place, gives the same unread counts as
//! before, and has every stored event in its change feed; one written by version 3 (no
//! search index) finds its old messages and addresses after the upgrade, and a damaged
//! index is rebuilt; one written by version 4 (no conversations or sessions by visitor)
//! erases a visitor whole after the upgrade.

use std::path::Path;
use std::sync::Arc;

use chat_core::accounts::{Permissions, SessionSubject, TokenHash};
use chat_core::audit::{AuditAction, AuditEntry};
use chat_core::conformance::fixtures::{admin, conversation, engine, partly_read, send, visitor};
use chat_core::engine::SearchRequest;
use chat_core::error::{Conflict, Error};
use chat_core::ids::{ConversationId, FeedPosition, Seq};
use chat_core::model::Actor;
use chat_core::store::{
    ChangeFeedStore, ConversationStore, CustomerStore, EventStore, SessionStore,
};
use chat_core::values::Email;
use chat_core::{ChatEngine, Principal};
use chat_store_sled::{SCHEMA_VERSION, SledStore};

async fn unread(engine: &ChatEngine, who: &Principal, conv: ConversationId) -> u64 {
    engine.unread_count(who, conv).await.expect("unread")
}

/// Rewrites the closed store at `path` as version 1 wrote it.
fn downgrade_to_version_1(path: &Path) {
    let db = sled::open(path).expect("raw open");
    for entry in db.iter() {
        let (key, value) = entry.expect("entry");
        match key.first() {
            Some(b'e') => {
                let mut stored: serde_json::Value = serde_json::from_slice(&value).expect("event");
                if let Some(row) = stored[1].as_object_mut() {
                    row.remove("customer_messages");
                    row.remove("replies");
                }
                db.insert(key, serde_json::to_vec(&stored).expect("json"))
                    .expect("insert");
            }
            Some(b'r') => {
                db.insert(key, &value[..8]).expect("insert");
            }
            Some(b'f' | b'x' | b'E') => {
                db.remove(key).expect("remove");
            }
            _ => {}
        }
    }
    db.insert(b"vschema", &1u32.to_be_bytes()).expect("insert");
    db.flush().expect("flush");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_store_is_upgraded_and_counts_as_before() {
    let dir = tempfile::Builder::new()
        .prefix("upgrade-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let (visitor, agent, conv) = {
        let store = Arc::new(SledStore::open(dir.path()).expect("open"));
        let engine = engine(store);
        let chatted = partly_read(&engine).await;
        assert_eq!(unread(&engine, &chatted.1, chatted.2).await, 2, "v2, v3");
        assert_eq!(unread(&engine, &chatted.0, chatted.2).await, 2, "a1, a2");
        chatted
    };
    downgrade_to_version_1(dir.path());

    let store = Arc::new(SledStore::open(dir.path()).expect("a version 1 store opens"));
    let feed = store
        .changes_after(FeedPosition::ZERO, usize::MAX)
        .await
        .expect("feed");
    let logged = store
        .events_since(conv, Seq::ZERO, usize::MAX)
        .await
        .expect("events");
    assert_eq!(
        feed.into_iter().map(|c| c.event).collect::<Vec<_>>(),
        logged,
        "the upgrade gives every stored event a feed position, in order"
    );
    let engine = engine(store.clone());
    assert_eq!(unread(&engine, &agent, conv).await, 2);
    assert_eq!(unread(&engine, &visitor, conv).await, 2);
    send(&engine, &visitor, conv, "v4", None)
        .await
        .expect("send");
    assert_eq!(
        unread(&engine, &agent, conv).await,
        3,
        "the counters keep counting"
    );
    engine
        .mark_read(&agent, conv, Seq(u64::MAX))
        .await
        .expect("read");
    assert_eq!(unread(&engine, &agent, conv).await, 0);
    drop(engine);
    drop(store);
    let db = sled::open(dir.path()).expect("raw open");
    assert_eq!(
        db.get(b"vschema").expect("get").as_deref(),
        Some(&SCHEMA_VERSION.to_be_bytes()[..]),
        "the new version is recorded"
    );
}

/// Removes the search and address indexes from the closed store at `path`, and records
/// `version`.
fn strip_search_index(path: &Path, version: u32) {
    strip(path, b"xE", version);
}

/// Removes the keys under these prefixes from the closed store at `path`, and records
/// `version`.
fn strip(path: &Path, prefixes: &[u8], version: u32) {
    let db = sled::Config::new().path(path).open().expect("raw open");
    for key in db.iter().keys() {
        let key = key.expect("key");
        if key.first().is_some_and(|prefix| prefixes.contains(prefix)) {
            db.remove(key).expect("remove");
        }
    }
    db.insert(b"vschema", &version.to_be_bytes())
        .expect("insert");
    db.flush().expect("flush");
}

/// Opens the store once the raw handle of `strip_search_index` has let go of its lock
/// (sled's background threads release it a moment after the handle is dropped).
fn open_when_released(path: &Path) -> SledStore {
    for _ in 0..100 {
        match SledStore::open(path) {
            Err(chat_store_sled::OpenError::Locked { .. }) => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            opened => return opened.expect("open"),
        }
    }
    panic!("the raw handle kept the lock for 5 s");
}

/// How many messages and conversations `q` finds for `agent`.
async fn found(engine: &ChatEngine, agent: &Principal, q: &str) -> (usize, usize) {
    let request = SearchRequest {
        q: q.to_owned(),
        ..SearchRequest::default()
    };
    let results = engine.search(agent, request).await.expect("search");
    (results.messages.len(), results.conversations.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_3_store_gets_its_search_index_and_a_damaged_one_is_rebuilt() {
    let dir = tempfile::Builder::new()
        .prefix("upgrade-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let agent = {
        let engine = engine(Arc::new(SledStore::open(dir.path()).expect("open")));
        let agent = admin(&engine, "indexer", Permissions::default()).await;
        let jane = visitor(&engine).await;
        let chat = conversation(&engine, &jane).await;
        send(&engine, &jane, chat.id, "my parcel never arrived", None)
            .await
            .expect("send");
        let Principal::Visitor(id) = jane else {
            unreachable!()
        };
        let email = Email::parse("jane@example.com").expect("email");
        engine
            .leave_email(&jane, id, Some(email))
            .await
            .expect("email");
        assert_eq!(found(&engine, &agent, "parcel").await, (1, 0));
        agent
    };
    strip_search_index(dir.path(), 3);

    let store = Arc::new(SledStore::open(dir.path()).expect("a version 3 store opens"));
    let upgraded = engine(store.clone());
    assert_eq!(found(&upgraded, &agent, "PARCEL arrived").await, (1, 0));
    assert_eq!(found(&upgraded, &agent, "jane@example.com").await, (0, 1));
    drop(upgraded);
    drop(store);

    strip_search_index(dir.path(), SCHEMA_VERSION);
    let store = Arc::new(open_when_released(dir.path()));
    let damaged = engine(store.clone());
    assert_eq!(found(&damaged, &agent, "parcel").await, (0, 0), "damaged");
    let entries = store.rebuild_search_index().await.expect("rebuild");
    assert_eq!(
        entries,
        4 + 1 + 1,
        "four words, one address, one message place"
    );
    assert_eq!(found(&damaged, &agent, "parcel").await, (1, 0));
    assert_eq!(found(&damaged, &agent, "jane@example.com").await, (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_4_store_erases_a_visitor_whole_after_the_upgrade() {
    let dir = tempfile::Builder::new()
        .prefix("upgrade-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let session = TokenHash([9; 32]);
    let (steward, jane, chats) = {
        let engine = engine(Arc::new(SledStore::open(dir.path()).expect("open")));
        let steward = admin(&engine, "steward", Permissions::OWNER).await;
        let jane = visitor(&engine).await;
        let Principal::Visitor(id) = jane else {
            unreachable!()
        };
        let mut chats = Vec::new();
        for _ in 0..2 {
            let chat = conversation(&engine, &jane).await;
            let hello = send(&engine, &jane, chat.id, "hello", None)
                .await
                .expect("send");
            engine
                .redact_message(&steward, hello.message.id, "walrus reason")
                .await
                .expect("redact");
            chats.push(chat.id);
        }
        engine
            .open_session(
                SessionSubject::Visitor(id),
                session,
                chrono::Duration::hours(1),
            )
            .await
            .expect("session");
        (steward, id, chats)
    };
    // Version 4 indexed no redactions by message (`u` held only edits and deletes).
    strip(dir.path(), b"CVu", 4);

    let store = Arc::new(open_when_released(dir.path()));
    let upgraded = engine(store.clone());
    let audit = AuditEntry::new(
        chrono::Utc::now(),
        Actor::System,
        AuditAction::VisitorErased {
            customer: jane,
            conversations: 0,
        },
    );
    assert!(
        matches!(
            store.delete_customer(jane, &audit).await,
            Err(Error::Conflict(Conflict::VisitorHasConversations))
        ),
        "the upgrade indexed the visitor's conversations"
    );
    assert_eq!(
        upgraded.erase_visitor(&steward, jane).await.expect("erase"),
        2
    );
    for chat in chats {
        assert!(store.get_conversation(chat).await.expect("get").is_none());
    }
    assert!(store.get_customer(jane).await.expect("get").is_none());
    assert!(
        store.get_session(&session).await.expect("get").is_none(),
        "the visitor's session outlived it"
    );
    let audit = upgraded
        .audit_log(&steward, None, Some(200))
        .await
        .expect("audit");
    let text = format!("{audit:?}");
    assert!(
        !text.contains("walrus"),
        "a redaction reason outlived its conversation"
    );
    assert_eq!(text.matches(chat_core::audit::ERASED_REASON).count(), 2);
}
