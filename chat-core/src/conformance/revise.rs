//! Changing messages after they were sent, and the audit log: senders edit and delete
//! within the window, agents with the permission delete and redact any; the message is
//! changed everywhere (history, the log, search), the room is told by an event, the audit
//! log keeps the original text (a redaction erases it there too); visitors never see
//! changes to private notes.

use std::sync::Arc;

use crate::LocalBroadcaster;
use crate::accounts::Permissions;
use crate::audit::{AuditAction, AuditEntry};
use crate::authz::Principal;
use crate::conformance::fixtures::{admin, all_events, body, conversation, engine, send, visitor};
use crate::engine::{ChatEngine, EngineConfig, SearchRequest, SendMessage};
use crate::error::{Conflict, Error};
use crate::event::{Event, EventKind};
use crate::ids::{MessageId, Seq};
use crate::model::Message;
use crate::store::DynChatStore;

/// An engine whose senders may change their messages for `window`.
fn engine_with_window(store: Arc<DynChatStore>, window: chrono::Duration) -> ChatEngine {
    let config = EngineConfig {
        edit_window: window,
        ..EngineConfig::default()
    };
    ChatEngine::new(store, Arc::new(LocalBroadcaster::new()), config)
}

fn auditor() -> Permissions {
    Permissions {
        view_audit: true,
        ..Permissions::default()
    }
}

fn moderator() -> Permissions {
    Permissions {
        delete_messages: true,
        ..Permissions::default()
    }
}

async fn audit(engine: &ChatEngine, who: &Principal) -> Vec<AuditEntry> {
    engine.audit_log(who, None, Some(200)).await.expect("audit")
}

/// The audit entries about `message`.
async fn audited(engine: &ChatEngine, who: &Principal, message: MessageId) -> Vec<AuditAction> {
    audit(engine, who)
        .await
        .into_iter()
        .map(|entry| entry.action)
        .filter(|action| match action {
            AuditAction::MessageEdited { message: m, .. }
            | AuditAction::MessageDeleted { message: m, .. }
            | AuditAction::MessageRedacted { message: m, .. } => *m == message,
            _ => false,
        })
        .collect()
}

/// The event at `seq`.
fn at(log: &[Event], seq: Seq) -> &Event {
    log.iter()
        .find(|event| event.seq == seq)
        .expect("in the log")
}

/// How many messages `q` finds.
async fn found(engine: &ChatEngine, who: &Principal, q: &str) -> usize {
    let request = SearchRequest {
        q: q.to_owned(),
        ..SearchRequest::default()
    };
    engine
        .search(who, request)
        .await
        .expect("search")
        .messages
        .len()
}

/// The message in history.
async fn in_history(engine: &ChatEngine, who: &Principal, message: &Message) -> Message {
    let page = engine
        .history(who, message.conversation_id, None, Some(100))
        .await
        .expect("history");
    page.messages
        .into_iter()
        .find(|m| m.id == message.id)
        .expect("in history")
}

/// The sender edits within the window: history, the log's own copy and search show the new
/// text, an event tells the room, the audit keeps the old text; nobody else may edit.
pub async fn senders_edit_their_messages_within_the_window(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let owner = admin(&engine, "editor-owner", Permissions::OWNER).await;
    let agent = admin(&engine, "editor-agent", Permissions::default()).await;
    let alice = visitor(&engine).await;
    let mallory = visitor(&engine).await;
    let chat = conversation(&engine, &alice).await;
    let sent = send(&engine, &alice, chat.id, "helo wrold", None)
        .await
        .unwrap()
        .message;

    let edited = engine
        .edit_message(&alice, sent.id, body("hello world"))
        .await
        .expect("edit");
    assert_eq!(edited.body.as_str(), "hello world");
    assert!(edited.edited_at.is_some());
    assert_eq!((edited.seq, edited.timestamp), (sent.seq, sent.timestamp));
    assert_eq!(in_history(&engine, &agent, &sent).await, edited);
    let log = all_events(&*store, chat.id).await;
    assert_eq!(
        at(&log, sent.seq).message(),
        Some(&edited),
        "the log's copy"
    );
    assert!(matches!(
        &log.last().unwrap().kind,
        EventKind::MessageUpdated { message, .. } if *message == edited
    ));
    assert_eq!(found(&engine, &agent, "wrold").await, 0);
    assert_eq!(found(&engine, &agent, "hello world").await, 1);
    assert_eq!(
        audited(&engine, &owner, sent.id).await,
        [AuditAction::MessageEdited {
            conversation: chat.id,
            message: sent.id,
            original: Some("helo wrold".to_owned()),
        }]
    );

    assert!(matches!(
        engine.edit_message(&agent, sent.id, body("x")).await,
        Err(Error::PermissionDenied(_))
    ));
    assert!(matches!(
        engine.edit_message(&mallory, sent.id, body("x")).await,
        Err(Error::NotFound("message"))
    ));
    assert!(matches!(
        engine
            .edit_message(&alice, MessageId::new(), body("x"))
            .await,
        Err(Error::NotFound("message"))
    ));
    assert!(matches!(
        engine.audit_log(&agent, None, None).await,
        Err(Error::PermissionDenied(_))
    ));
    let closed = engine_with_window(store, chrono::Duration::zero());
    assert!(matches!(
        closed.edit_message(&alice, sent.id, body("late")).await,
        Err(Error::Conflict(Conflict::EditWindowPassed { .. }))
    ));
}

/// A delete erases the text from history, the log and search and keeps it in the audit;
/// after the window only an agent with `delete_messages` may delete; a deleted message is
/// not edited or deleted again, and its files are no longer served.
pub async fn deletes_erase_the_text_and_keep_it_for_the_audit(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let owner = admin(&engine, "deleter-owner", Permissions::OWNER).await;
    let moderator = admin(&engine, "deleter-mod", moderator()).await;
    let agent = admin(&engine, "deleter-agent", Permissions::default()).await;
    let alice = visitor(&engine).await;
    let chat = conversation(&engine, &alice).await;
    let mine = send(&engine, &alice, chat.id, "oops wrong chat", None)
        .await
        .unwrap()
        .message;
    let deleted = engine
        .delete_message(&alice, mine.id)
        .await
        .expect("delete");
    assert!(deleted.is_deleted());
    assert_eq!(deleted.body.as_str(), "");
    assert_eq!(in_history(&engine, &alice, &mine).await, deleted);
    let log = all_events(&*store, chat.id).await;
    assert_eq!(at(&log, mine.seq).message(), Some(&deleted));
    assert!(
        !format!("{log:?}").contains("oops"),
        "no copy left in the log"
    );
    assert_eq!(found(&engine, &agent, "oops").await, 0);
    assert_eq!(
        audited(&engine, &owner, mine.id).await,
        [AuditAction::MessageDeleted {
            conversation: chat.id,
            message: mine.id,
            original: Some("oops wrong chat".to_owned()),
        }]
    );
    assert!(matches!(
        engine.delete_message(&alice, mine.id).await,
        Err(Error::Conflict(Conflict::MessageDeleted))
    ));
    assert!(matches!(
        engine.edit_message(&alice, mine.id, body("x")).await,
        Err(Error::Conflict(Conflict::MessageDeleted))
    ));

    let old = send(&engine, &alice, chat.id, "rude words", None)
        .await
        .unwrap()
        .message;
    let later = engine_with_window(store, chrono::Duration::zero());
    assert!(matches!(
        later.delete_message(&alice, old.id).await,
        Err(Error::Conflict(Conflict::EditWindowPassed { .. }))
    ));
    assert!(matches!(
        later.delete_message(&agent, old.id).await,
        Err(Error::PermissionDenied(_))
    ));
    let removed = later
        .delete_message(&moderator, old.id)
        .await
        .expect("moderate");
    assert!(removed.is_deleted());
}

/// A redaction erases the text from the audit too (every edit's original), keeping who,
/// when and why; it needs `delete_messages`, and a reason.
pub async fn redaction_erases_the_text_from_the_audit_too(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let owner = admin(&engine, "redactor-owner", Permissions::OWNER).await;
    let agent = admin(&engine, "redactor-agent", Permissions::default()).await;
    let alice = visitor(&engine).await;
    let chat = conversation(&engine, &alice).await;
    // The secret is a word no id or timestamp can hold: a debug dump of the log or audit
    // is full of hex ids and digits, where "4111" turns up by chance.
    let card = send(&engine, &alice, chat.id, "my card is zorglub 4111", None)
        .await
        .unwrap()
        .message;
    engine
        .edit_message(&alice, card.id, body("my card is zorglub 4111 2222"))
        .await
        .unwrap();
    assert!(matches!(
        engine.redact_message(&agent, card.id, "card number").await,
        Err(Error::PermissionDenied(_))
    ));
    assert!(matches!(
        engine.redact_message(&owner, card.id, "  ").await,
        Err(Error::InvalidInput(_))
    ));
    let redacted = engine
        .redact_message(&owner, card.id, "card number")
        .await
        .expect("redact");
    assert!(redacted.is_deleted());
    let entries = audit(&engine, &owner).await;
    assert!(!format!("{entries:?}").contains("zorglub"), "{entries:?}");
    assert_eq!(
        audited(&engine, &owner, card.id).await,
        [
            AuditAction::MessageRedacted {
                conversation: chat.id,
                message: card.id,
                reason: "card number".to_owned(),
            },
            AuditAction::MessageEdited {
                conversation: chat.id,
                message: card.id,
                original: None,
            },
        ],
        "newest first; who and when stay"
    );
    let log = all_events(&*store, chat.id).await;
    assert!(!format!("{log:?}").contains("zorglub"), "{log:?}");
    assert_eq!(found(&engine, &owner, "zorglub").await, 0);
}

/// Edits and deletes of private notes never reach the visitor, who cannot touch them.
pub async fn visitors_never_see_changes_to_private_notes(store: Arc<DynChatStore>) {
    let engine = engine(store);
    let agent = admin(&engine, "noter", moderator()).await;
    let alice = visitor(&engine).await;
    let chat = conversation(&engine, &alice).await;
    let mut request = SendMessage::text(chat.id, body("VIP customer"));
    request.private = true;
    let note = engine.send_message(&agent, request).await.unwrap().message;
    let seen_before = engine
        .events_since(&alice, chat.id, Seq::ZERO, None)
        .await
        .unwrap()
        .events
        .len();
    engine
        .edit_message(&agent, note.id, body("VIP customer, be nice"))
        .await
        .unwrap();
    engine.delete_message(&agent, note.id).await.unwrap();
    let page = engine
        .events_since(&alice, chat.id, Seq::ZERO, None)
        .await
        .unwrap();
    assert_eq!(page.events.len(), seen_before, "{:?}", page.events);
    assert!(matches!(
        engine.delete_message(&alice, note.id).await,
        Err(Error::NotFound("message"))
    ));
}

/// Agents' actions are in the audit log, newest first, in pages.
pub async fn the_audit_log_records_agent_actions_in_pages(store: Arc<DynChatStore>) {
    let engine = engine(store);
    let owner = admin(&engine, "audit-owner", Permissions::OWNER).await;
    let auditor_principal = admin(&engine, "audit-reader", auditor()).await;
    let agent = admin(&engine, "audit-agent", Permissions::default()).await;
    let Principal::Admin { id: agent_id, .. } = agent else {
        unreachable!()
    };
    let alice = visitor(&engine).await;
    let chat = conversation(&engine, &alice).await;
    engine
        .assign(&owner, chat.id, Some(agent_id))
        .await
        .unwrap();
    engine
        .set_status(&agent, chat.id, crate::status::ConversationStatus::Closed)
        .await
        .unwrap();
    engine
        .set_admin_permissions(&owner, agent_id, moderator())
        .await
        .unwrap();
    let all = audit(&engine, &auditor_principal).await;
    let actions: Vec<&AuditAction> = all.iter().map(|entry| &entry.action).collect();
    assert!(
        matches!(
            actions[..],
            [
                AuditAction::PermissionsChanged { .. },
                AuditAction::StatusChanged { .. },
                AuditAction::Assigned { .. },
            ]
        ),
        "{actions:?}"
    );
    assert_eq!(all[1].actor, agent.actor().unwrap());
    let first = engine
        .audit_log(&auditor_principal, None, Some(2))
        .await
        .unwrap();
    let rest = engine
        .audit_log(&auditor_principal, Some(first[1].id), Some(2))
        .await
        .unwrap();
    assert_eq!([first, rest].concat(), all);
}

/// A deleted message's files wait for their bytes to go, in the delete's own step, once;
/// an edit queues nothing.
pub async fn a_deleted_messages_files_are_queued_for_removal(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let alice = visitor(&engine).await;
    let chat = conversation(&engine, &alice).await;
    let file = engine
        .add_attachment(
            &alice,
            crate::conformance::fixtures::upload(chat.id, "card.png"),
        )
        .await
        .expect("upload");
    let mut with_file = SendMessage::text(chat.id, body("my card"));
    with_file.attachment_ids = vec![file.id];
    let sent = engine.send_message(&alice, with_file).await.expect("send");
    engine
        .edit_message(&alice, sent.message.id, body("my card, front"))
        .await
        .expect("edit");
    assert!(store.erased_files(10).await.expect("erased").is_empty());
    engine
        .delete_message(&alice, sent.message.id)
        .await
        .expect("delete");
    assert_eq!(store.erased_files(10).await.expect("erased"), vec![file.id]);
    let owner = admin(&engine, "redactor", Permissions::OWNER).await;
    engine
        .redact_message(&owner, sent.message.id, "card number")
        .await
        .expect("redact");
    assert_eq!(
        store.erased_files(10).await.expect("erased"),
        vec![file.id],
        "listed once"
    );
}
