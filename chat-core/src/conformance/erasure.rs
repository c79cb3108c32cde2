//! A visitor's data on request, and retention: an erasure leaves nothing of the visitor
//! that any read returns (record, identifier, address, conversations, search, change feed,
//! audit text, files), keeps only that it happened, and cannot interleave with a
//! conversation the visitor starts meanwhile; an export holds everything; retention erases
//! each conversation closed long enough, once, on any number of engines.

use std::sync::Arc;

use crate::accounts::{Permissions, TokenHash};
use crate::audit::AuditAction;
use crate::authz::Principal;
use crate::conformance::fixtures::{admin, body, conversation, engine, send, upload};
use crate::engine::{ChatEngine, NewVisitor, SearchRequest, SendMessage, StartConversation};
use crate::error::{Conflict, Error};
use crate::ids::{ConversationId, CustomerId, FeedPosition};
use crate::model::Actor;
use crate::status::ConversationStatus;
use crate::store::{ConversationRemoval, DynChatStore};
use crate::values::{Email, VisitorIdentifier};

fn steward() -> Permissions {
    Permissions {
        manage_visitor_data: true,
        view_audit: true,
        ..Permissions::default()
    }
}

/// A visitor the site knows as `identifier`, with an address left for offline replies.
async fn known_visitor(engine: &ChatEngine, identifier: &str, email: &str) -> CustomerId {
    let new = NewVisitor {
        verified_identifier: Some(VisitorIdentifier::parse(identifier).expect("identifier")),
        ..NewVisitor::default()
    };
    let customer = engine
        .create_visitor(&Principal::Anonymous, new)
        .await
        .expect("visitor");
    let me = Principal::Visitor(customer.id);
    let email = Email::parse(email).expect("email");
    engine
        .leave_email(&me, customer.id, Some(email))
        .await
        .expect("leave email");
    customer.id
}

/// How many messages hold every word of `q`, as an agent with every permission finds them.
async fn found(engine: &ChatEngine, agent: &Principal, q: &str) -> usize {
    let request = SearchRequest {
        q: q.to_owned(),
        ..SearchRequest::default()
    };
    let results = engine.search(agent, request).await.expect("search");
    results.messages.len() + results.conversations.len()
}

/// Everything any read returns of the visitor is gone; the other visitor keeps all; the
/// audit keeps that the erasure happened and not what was erased.
pub async fn erasure_leaves_nothing_of_the_visitor(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let owner = admin(&engine, "owner", Permissions::OWNER).await;
    let doomed = known_visitor(&engine, "crm-doomed", "doomed@example.com").await;
    let kept = known_visitor(&engine, "crm-kept", "kept@example.com").await;
    let (me, other) = (Principal::Visitor(doomed), Principal::Visitor(kept));

    let first = conversation(&engine, &me).await;
    let second = conversation(&engine, &me).await;
    let file = engine
        .add_attachment(&me, upload(first.id, "passport.png"))
        .await
        .expect("upload");
    let mut with_file = SendMessage::text(first.id, body("zebrafish passport scan"));
    with_file.attachment_ids = vec![file.id];
    engine.send_message(&me, with_file).await.expect("send");
    let edited = send(&engine, &me, first.id, "narwhal typo", None)
        .await
        .expect("send")
        .message;
    engine
        .edit_message(&me, edited.id, body("fixed"))
        .await
        .expect("edit");
    send(&engine, &owner, first.id, "quagga reply", None)
        .await
        .expect("send");
    let mut note = SendMessage::text(second.id, body("okapi note"));
    note.private = true;
    engine.send_message(&owner, note).await.expect("note");
    engine
        .set_status(&owner, second.id, ConversationStatus::Closed)
        .await
        .expect("close");
    let card = send(&engine, &me, first.id, "card 4111", None)
        .await
        .expect("send")
        .message;
    engine
        .redact_message(&owner, card.id, "walrus card number")
        .await
        .expect("redact");
    let survivor = conversation(&engine, &other).await;
    send(&engine, &other, survivor.id, "zebrafish too", None)
        .await
        .expect("send");
    let session = TokenHash([7; 32]);
    engine
        .open_session(
            crate::accounts::SessionSubject::Visitor(doomed),
            session,
            chrono::Duration::hours(1),
        )
        .await
        .expect("session");

    let plain = admin(&engine, "plain", Permissions::default()).await;
    assert!(matches!(
        engine.erase_visitor(&plain, doomed).await,
        Err(Error::PermissionDenied(_))
    ));
    assert!(matches!(
        engine.erase_visitor(&me, doomed).await,
        Err(Error::PermissionDenied(_))
    ));
    let steward = admin(&engine, "steward", steward()).await;
    assert_eq!(
        engine.erase_visitor(&steward, doomed).await.expect("erase"),
        2
    );

    // The record, and every way to reach it.
    assert!(store.get_customer(doomed).await.expect("get").is_none());
    let identifier = VisitorIdentifier::parse("crm-doomed").expect("identifier");
    assert!(
        store
            .find_customer_by_identifier(&identifier)
            .await
            .expect("by identifier")
            .is_none()
    );
    let address = Email::parse("doomed@example.com").expect("email");
    assert!(
        store
            .customers_by_email(&address)
            .await
            .expect("by email")
            .is_empty()
    );
    assert!(matches!(
        engine.authenticate(&session).await,
        Err(Error::Unauthenticated)
    ));
    let late = engine
        .open_session(
            crate::accounts::SessionSubject::Visitor(doomed),
            TokenHash([8; 32]),
            chrono::Duration::hours(1),
        )
        .await;
    assert!(
        matches!(late, Err(Error::NotFound("customer"))),
        "a session outlived its visitor: {late:?}"
    );
    assert!(
        store
            .get_session(&TokenHash([8; 32]))
            .await
            .expect("get")
            .is_none()
    );
    // The conversations, in every read.
    for id in [first.id, second.id] {
        assert!(store.get_conversation(id).await.expect("get").is_none());
    }
    assert!(store.get_attachment(file.id).await.expect("file").is_none());
    assert_eq!(
        store.erased_files(100).await.expect("erased"),
        vec![file.id]
    );
    for word in [
        "passport",
        "narwhal",
        "fixed",
        "quagga",
        "okapi",
        "doomed",
        "crm-doomed",
    ] {
        assert_eq!(
            found(&engine, &owner, word).await,
            0,
            "search still finds {word:?}"
        );
    }
    let feed = engine
        .changes_after(&owner, FeedPosition::default(), Some(1000))
        .await
        .expect("feed");
    assert!(
        feed.iter().all(|c| c.event.conversation_id == survivor.id),
        "the change feed still returns the erased conversations' events"
    );
    // The audit: that it happened, by whom, never the text.
    let audit = engine
        .audit_log(&owner, None, Some(200))
        .await
        .expect("audit");
    let text = serde_json::to_string(&audit).expect("json");
    for word in [
        "narwhal",
        "passport",
        "quagga",
        "okapi",
        "doomed@example.com",
        "walrus",
    ] {
        assert!(!text.contains(word), "the audit keeps {word:?}");
    }
    let redaction = AuditAction::MessageRedacted {
        conversation: first.id,
        message: card.id,
        reason: crate::audit::ERASED_REASON.to_owned(),
    };
    assert!(
        audit.iter().any(|e| e.action == redaction),
        "the redaction itself stays"
    );
    let erasures: Vec<_> = audit
        .iter()
        .filter(|e| matches!(e.action, AuditAction::VisitorErased { .. }))
        .collect();
    assert_eq!(erasures.len(), 1);
    assert_eq!(erasures[0].actor, steward.actor().expect("actor"));
    assert_eq!(
        erasures[0].action,
        AuditAction::VisitorErased {
            customer: doomed,
            conversations: 2
        }
    );
    // The other visitor keeps everything.
    assert_eq!(found(&engine, &owner, "zebrafish").await, 1);
    assert!(store.get_customer(kept).await.expect("get").is_some());
    // Erasing again finds nothing; the site's identifier now starts a new, empty visitor.
    assert!(matches!(
        engine.erase_visitor(&steward, doomed).await,
        Err(Error::NotFound(_))
    ));
    let again = engine
        .create_visitor(
            &Principal::Anonymous,
            NewVisitor {
                verified_identifier: Some(identifier),
                ..NewVisitor::default()
            },
        )
        .await
        .expect("visitor");
    assert_ne!(again.id, doomed);
    assert!(again.contact.is_none());
}

/// A visitor's record goes only while it has no conversation, and no conversation starts
/// once it is gone, however the two race.
pub async fn erasure_and_a_new_conversation_cannot_interleave(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let steward = admin(&engine, "steward", steward()).await;
    let visitor = known_visitor(&engine, "crm-racer", "racer@example.com").await;
    let me = Principal::Visitor(visitor);
    let chat = conversation(&engine, &me).await;
    let audit = crate::audit::AuditEntry::new(
        crate::engine::now(),
        Actor::System,
        AuditAction::VisitorErased {
            customer: visitor,
            conversations: 0,
        },
    );
    assert!(matches!(
        store.delete_customer(visitor, &audit).await,
        Err(Error::Conflict(Conflict::VisitorHasConversations))
    ));
    assert!(store.get_customer(visitor).await.expect("get").is_some());
    assert!(
        store
            .get_conversation(chat.id)
            .await
            .expect("get")
            .is_some()
    );
    let entries = engine
        .audit_log(&steward, None, Some(200))
        .await
        .expect("audit");
    assert!(
        entries.iter().all(|e| e.id != audit.id),
        "a refused delete wrote its entry"
    );

    for round in 0..20 {
        let visitor = engine
            .create_visitor(&Principal::Anonymous, NewVisitor::default())
            .await
            .expect("visitor")
            .id;
        let me = Principal::Visitor(visitor);
        // Each on its own task, so the two run at the same time on the test's threads.
        let starter = engine.clone();
        let start = tokio::spawn(async move {
            starter
                .start_conversation(&me, StartConversation::default())
                .await
        });
        let eraser = engine.clone();
        let erase = tokio::spawn(async move { eraser.erase_visitor(&steward, visitor).await });
        let (started, erased) = (start.await.expect("task"), erase.await.expect("task"));
        let leftover = store
            .list_conversations(&crate::store::ConversationQuery {
                scope: crate::store::ListScope::Customer(visitor),
                status: None,
                label: None,
                reader: None,
                after: None,
                limit: 10,
            })
            .await
            .expect("list")
            .items;
        match erased {
            Ok(_) => assert!(
                leftover.is_empty(),
                "round {round}: a conversation outlived its erased visitor"
            ),
            Err(error) => panic!("round {round}: erasure failed: {error}"),
        }
        if let Err(error) = started {
            assert!(
                matches!(
                    error,
                    Error::NotFound(_) | Error::Unauthenticated | Error::VisitorBlocked
                ),
                "round {round}: {error}"
            );
        }
    }
}

/// In the store, a visitor's deletion and a conversation or session started for it at the
/// same time exclude each other: either the deletion is refused and the conversation
/// stands, or nothing of the visitor is left.
pub async fn a_visitors_deletion_excludes_new_conversations_and_sessions(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    for round in 0..20u8 {
        let visitor = engine
            .create_visitor(&Principal::Anonymous, NewVisitor::default())
            .await
            .expect("visitor")
            .id;
        let at = crate::engine::now();
        let new = crate::log::NewConversation {
            id: ConversationId::new(),
            customer_id: visitor,
            customer_ip: None,
            metadata: crate::values::Metadata::default(),
        };
        let commit = crate::log::plan_create(new, at);
        let token = TokenHash([round; 32]);
        let session = crate::accounts::Session {
            token_hash: token,
            subject: crate::accounts::SessionSubject::Visitor(visitor),
            created_at: at,
            expires_at: at + chrono::Duration::hours(1),
        };
        let action = AuditAction::VisitorErased {
            customer: visitor,
            conversations: 0,
        };
        let audit = crate::audit::AuditEntry::new(at, Actor::System, action);
        let (one, two, three) = (store.clone(), store.clone(), store.clone());
        let chat = commit.conversation.id;
        let create = tokio::spawn(async move { one.create_conversation(&commit).await });
        let open = tokio::spawn(async move { two.create_session(&session).await });
        let delete = tokio::spawn(async move { three.delete_customer(visitor, &audit).await });
        let created = create.await.expect("task");
        let opened = open.await.expect("task");
        let deleted = delete.await.expect("task");
        let exists = store.get_conversation(chat).await.expect("get").is_some();
        let session_kept = store.get_session(&token).await.expect("get").is_some();
        match deleted {
            Ok(()) => {
                assert!(
                    created.is_err() && !exists,
                    "round {round}: a conversation outlived its visitor"
                );
                assert!(
                    !session_kept,
                    "round {round}: a session outlived its visitor ({opened:?})"
                );
            }
            Err(Error::Conflict(Conflict::VisitorHasConversations)) => {
                assert!(
                    created.is_ok() && exists,
                    "round {round}: refused for nothing"
                );
                assert!(opened.is_ok() && session_kept, "round {round}: {opened:?}");
            }
            Err(error) => panic!("round {round}: {error}"),
        }
    }
}

/// An export holds the visitor's record and every message of its conversations (private
/// notes marked, edits as they are, deletions without their text) with their files.
pub async fn export_holds_everything_of_the_visitor(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let owner = admin(&engine, "owner", Permissions::OWNER).await;
    let visitor = known_visitor(&engine, "crm-export", "export@example.com").await;
    let me = Principal::Visitor(visitor);
    let chat = conversation(&engine, &me).await;
    let file = engine
        .add_attachment(&me, upload(chat.id, "invoice.pdf"))
        .await
        .expect("upload");
    let mut with_file = SendMessage::text(chat.id, body("my invoice"));
    with_file.attachment_ids = vec![file.id];
    engine.send_message(&me, with_file).await.expect("send");
    let gone = send(&engine, &me, chat.id, "sent by mistake", None)
        .await
        .expect("send")
        .message;
    engine.delete_message(&me, gone.id).await.expect("delete");
    send(&engine, &owner, chat.id, "thanks", None)
        .await
        .expect("send");
    let mut note = SendMessage::text(chat.id, body("vip customer"));
    note.private = true;
    engine.send_message(&owner, note).await.expect("note");
    let later = conversation(&engine, &me).await;

    let plain = admin(&engine, "plain", Permissions::default()).await;
    assert!(matches!(
        engine.export_visitor(&plain, visitor).await,
        Err(Error::PermissionDenied(_))
    ));
    assert!(matches!(
        engine.export_visitor(&me, visitor).await,
        Err(Error::PermissionDenied(_))
    ));
    let export = engine
        .export_visitor(&owner, visitor)
        .await
        .expect("export");
    assert_eq!(export.customer.id, visitor);
    assert_eq!(
        export.customer.contact.map(|c| c.email.to_string()),
        Some("export@example.com".into())
    );
    assert_eq!(export.conversations, vec![later.id, chat.id]);
    let exported = engine
        .export_conversation(&owner, chat.id)
        .await
        .expect("conversation");
    let texts: Vec<(String, bool, bool)> = exported
        .messages
        .iter()
        .map(|m| (m.body.to_string(), m.private, m.deleted_at.is_some()))
        .collect();
    assert_eq!(
        texts,
        vec![
            ("my invoice".into(), false, false),
            (String::new(), false, true),
            ("thanks".into(), false, false),
            ("vip customer".into(), true, false),
        ]
    );
    assert_eq!(
        exported
            .attachments
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        vec![file.id]
    );
    let audit = engine
        .audit_log(&owner, None, Some(200))
        .await
        .expect("audit");
    assert!(audit.iter().any(|e| {
        e.action == AuditAction::VisitorExported { customer: visitor }
            && e.actor == owner.actor().expect("actor")
    }));
    assert!(matches!(
        engine.export_visitor(&owner, CustomerId::new()).await,
        Err(Error::NotFound(_))
    ));
}

/// Retention erases exactly the conversations closed (and still closed) since before the
/// cutoff; two engines passing at once erase each once, with one audit entry.
pub async fn retention_erases_each_closed_conversation_once(store: Arc<DynChatStore>) {
    let one = engine(store.clone());
    let two = engine(store.clone());
    let owner = admin(&one, "owner", Permissions::OWNER).await;
    let visitor = Principal::Visitor(known_visitor(&one, "crm-ret", "ret@example.com").await);
    let close = |id: ConversationId| {
        let (one, owner) = (&one, &owner);
        async move {
            one.set_status(owner, id, ConversationStatus::Closed)
                .await
                .expect("close");
        }
    };
    let old = conversation(&one, &visitor).await;
    let reopened = conversation(&one, &visitor).await;
    let open = conversation(&one, &visitor).await;
    let recent = conversation(&one, &visitor).await;
    send(&one, &visitor, old.id, "old and closed", None)
        .await
        .expect("send");
    close(old.id).await;
    close(reopened.id).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let cutoff = crate::engine::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    close(recent.id).await;
    one.set_status(&owner, reopened.id, ConversationStatus::Active)
        .await
        .expect("reopen");

    assert!(matches!(
        one.erase_closed_before(&owner, cutoff).await,
        Err(Error::PermissionDenied(_))
    ));
    assert_eq!(
        store
            .closed_before(cutoff, 10)
            .await
            .expect("closed before"),
        vec![old.id]
    );
    // The store's own condition: a conversation reopened since it was listed stays.
    let stale = ConversationRemoval {
        closed_before: Some(cutoff),
        ..super::fixtures::removal(reopened.id)
    };
    assert!(!store.delete_conversation(&stale).await.expect("delete"));
    assert!(
        store
            .get_conversation(reopened.id)
            .await
            .expect("get")
            .is_some()
    );

    let (a, b) = tokio::join!(
        one.erase_closed_before(&Principal::System, cutoff),
        two.erase_closed_before(&Principal::System, cutoff)
    );
    let mut erased = a.expect("pass");
    erased.extend(b.expect("pass"));
    assert_eq!(erased, vec![old.id], "each conversation is erased once");
    for (id, exists) in [
        (old.id, false),
        (reopened.id, true),
        (open.id, true),
        (recent.id, true),
    ] {
        assert_eq!(
            store.get_conversation(id).await.expect("get").is_some(),
            exists
        );
    }
    let audit = one.audit_log(&owner, None, Some(200)).await.expect("audit");
    let deletions: Vec<_> = audit
        .iter()
        .filter(|e| {
            e.action
                == AuditAction::ConversationDeleted {
                    conversation: old.id,
                }
        })
        .collect();
    assert_eq!(deletions.len(), 1);
    assert_eq!(deletions[0].actor, Actor::System);
    assert!(
        one.erase_closed_before(&Principal::System, cutoff)
            .await
            .expect("pass")
            .is_empty()
    );
}
