//! Scenarios for conversations: listing, the status workflow, participants, attachments
//! and cascading deletes.

use std::collections::HashSet;
use std::sync::Arc;

use crate::accounts::{ConversationScope, Permissions};
use crate::authz::{Policy, Principal};
use crate::conformance::fixtures::{
    self, admin, all_events, body, conversation, engine, removal, send, upload, visitor,
};
use crate::engine::{ChatEngine, ListRequest, SendMessage};
use crate::error::{Conflict, Error};
use crate::event::EventKind;
use crate::ids::{AttachmentId, ConversationId, Seq};
use crate::model::UserRef;
use crate::status::ConversationStatus::{self, Active, Closed, Waiting};
use crate::store::DynChatStore;

/// Status filter, keyset pages in newest-activity order, total count and scopes.
pub async fn list_filter_pagination_and_total_count(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let visitors = [visitor(&engine).await, visitor(&engine).await];
    let restricted = Permissions {
        scope: ConversationScope::Assigned,
        ..Permissions::default()
    };
    let narrow = admin(&engine, "narrow", restricted).await;
    let mut created = Vec::new();
    for n in 0..30 {
        let conv = conversation(&engine, &visitors[n % 2]).await;
        if n % 3 == 0 {
            engine
                .set_status(&Principal::System, conv.id, Closed)
                .await
                .expect("close");
        }
        if n % 5 == 0 {
            let Principal::Admin { id, .. } = narrow else {
                unreachable!()
            };
            engine
                .assign(&Principal::System, conv.id, Some(id))
                .await
                .expect("assign");
        }
        created.push(conv.id);
    }
    let pages = walk(&engine, &Principal::System, None, 7).await;
    let seen: Vec<ConversationId> = pages.iter().flatten().copied().collect();
    assert_eq!(seen.len(), 30);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        30,
        "a conversation appeared twice"
    );
    let stored =
        futures_util::future::join_all(seen.iter().map(|id| store.get_conversation(*id))).await;
    let keys: Vec<_> = stored
        .into_iter()
        .map(|c| {
            let c = c.expect("get").expect("exists");
            (c.updated_at, c.id)
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] > w[1]),
        "not newest activity first"
    );

    let closed = list(&engine, &Principal::System, Some(Closed)).await;
    assert_eq!(closed.total_count, 10);
    assert!(closed.items.iter().all(|s| s.conversation.status == Closed));
    let waiting = list(&engine, &Principal::System, Some(Waiting)).await;
    assert_eq!(waiting.total_count, 20);
    assert_eq!(
        list(&engine, &Principal::System, None).await.total_count,
        30
    );
    assert_eq!(
        list(&engine, &visitors[0], None).await.total_count,
        15,
        "a visitor sees only theirs"
    );
    let assigned = list(&engine, &narrow, None).await;
    assert_eq!(
        assigned.total_count, 6,
        "a restricted agent sees only assigned conversations"
    );
    let zero = engine.list_conversations(
        &Principal::System,
        ListRequest {
            limit: Some(0),
            ..ListRequest::default()
        },
    );
    assert!(matches!(zero.await, Err(Error::InvalidInput(_))));
}

/// Paging while new conversations arrive: every earlier conversation appears exactly once.
pub async fn list_pages_are_stable_under_concurrent_inserts(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let owner = visitor(&engine).await;
    let mut original = HashSet::new();
    for _ in 0..20 {
        original.insert(conversation(&engine, &owner).await.id);
    }
    let inserter = {
        let engine = engine.clone();
        tokio::spawn(async move {
            for _ in 0..20 {
                conversation(&engine, &owner).await;
                tokio::task::yield_now().await;
            }
        })
    };
    let pages = walk(&engine, &Principal::System, None, 3).await;
    inserter.await.expect("inserter");
    let seen: Vec<ConversationId> = pages.into_iter().flatten().collect();
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        seen.len(),
        "duplicates across pages"
    );
    assert!(
        original.iter().all(|id| seen.contains(id)),
        "a conversation was skipped"
    );
    assert_eq!(
        list(&engine, &Principal::System, None).await.total_count,
        40
    );
}

/// The workflow: waiting → active → closed → reopened; every illegal step is an error.
pub async fn status_transitions_follow_the_workflow(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let visitor = visitor(&engine).await;
    let agent = admin(&engine, "flow", Permissions::default()).await;
    let conv = conversation(&engine, &visitor).await;
    assert_eq!(conv.status, Waiting);
    assert_illegal(&engine, &agent, conv.id, Waiting).await;

    send(&engine, &agent, conv.id, "hi, I'm here", None)
        .await
        .expect("reply");
    assert_eq!(
        status(&*store, conv.id).await,
        Active,
        "an agent's reply activates"
    );
    assert_illegal(&engine, &agent, conv.id, Active).await;
    assert_illegal(&engine, &agent, conv.id, Waiting).await;

    let closed = engine
        .set_status(&agent, conv.id, Closed)
        .await
        .expect("close");
    assert!(closed.status == Closed && closed.closed_at.is_some());
    assert_illegal(&engine, &agent, conv.id, Closed).await;
    let refused = send(&engine, &visitor, conv.id, "one more thing", None).await;
    assert!(
        matches!(refused, Err(Error::Conflict(Conflict::ConversationClosed))),
        "got {refused:?}"
    );
    let refused = send(&engine, &agent, conv.id, "reply on closed", None).await;
    assert!(
        matches!(refused, Err(Error::Conflict(Conflict::ConversationClosed))),
        "got {refused:?}"
    );
    let mut note = SendMessage::text(conv.id, body("wrap-up note"));
    note.private = true;
    engine
        .send_message(&agent, note)
        .await
        .expect("notes are allowed on closed conversations");

    let reopened = engine
        .set_status(&agent, conv.id, Active)
        .await
        .expect("reopen");
    assert!(reopened.status == Active && reopened.closed_at.is_none());

    let viewer = admin(
        &engine,
        "viewer",
        Permissions {
            manage_conversations: false,
            ..Permissions::default()
        },
    )
    .await;
    let denied = engine.set_status(&viewer, conv.id, Closed).await;
    assert!(
        matches!(denied, Err(Error::PermissionDenied(_))),
        "got {denied:?}"
    );

    let lenient = fixtures::engine_with(
        store.clone(),
        Policy {
            customer_may_reopen: true,
        },
    );
    lenient
        .set_status(&agent, conv.id, Closed)
        .await
        .expect("close");
    send(&lenient, &visitor, conv.id, "back again", None)
        .await
        .expect("reopen by message");
    assert_eq!(
        status(&*store, conv.id).await,
        Waiting,
        "a customer's message reopens to waiting"
    );
}

/// Participants: the customer from the start; an agent once, however often they write;
/// assignees join; leaving removes; joining twice or leaving twice is an error.
pub async fn participants_join_once(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let visitor = visitor(&engine).await;
    let agent = admin(&engine, "member", Permissions::default()).await;
    let other = admin(&engine, "assignee", Permissions::default()).await;
    let conv = conversation(&engine, &visitor).await;
    let members =
        |list: Vec<crate::model::Participant>| list.into_iter().map(|p| p.user).collect::<Vec<_>>();
    assert_eq!(
        members(store.participants(conv.id).await.expect("list")),
        vec![visitor.user().expect("user")]
    );

    send(&engine, &agent, conv.id, "one", None)
        .await
        .expect("reply");
    send(&engine, &agent, conv.id, "two", None)
        .await
        .expect("reply");
    let Principal::Admin { id: other_id, .. } = other else {
        unreachable!()
    };
    engine
        .assign(&agent, conv.id, Some(other_id))
        .await
        .expect("assign");
    let users = members(store.participants(conv.id).await.expect("list"));
    assert_eq!(
        users,
        vec![
            visitor.user().expect("u"),
            agent.user().expect("u"),
            UserRef::Admin(other_id)
        ]
    );
    let again = engine.assign(&agent, conv.id, Some(other_id)).await;
    assert!(
        matches!(again, Err(Error::Conflict(Conflict::AlreadyAssigned))),
        "got {again:?}"
    );

    engine
        .leave_conversation(&agent, conv.id)
        .await
        .expect("leave");
    assert!(
        !members(store.participants(conv.id).await.expect("list"))
            .contains(&agent.user().expect("u"))
    );
    let twice = engine.leave_conversation(&agent, conv.id).await;
    assert!(matches!(twice, Err(Error::NotFound(_))), "got {twice:?}");
    engine
        .join_conversation(&agent, conv.id)
        .await
        .expect("join");
    let twice = engine.join_conversation(&agent, conv.id).await;
    assert!(
        matches!(twice, Err(Error::AlreadyExists(_))),
        "got {twice:?}"
    );
}

/// An upload is an event; a message links it once; visitors never see staff files that are
/// not part of a public message.
pub async fn attachments_link_to_one_message(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let visitor = visitor(&engine).await;
    let stranger = fixtures::visitor(&engine).await;
    let agent = admin(&engine, "files", Permissions::default()).await;
    let conv = conversation(&engine, &visitor).await;

    let file = engine
        .add_attachment(&visitor, upload(conv.id, "receipt.pdf"))
        .await
        .expect("upload");
    let events = all_events(&*store, conv.id).await;
    assert!(
        matches!(&events.last().expect("event").kind, EventKind::AttachmentAdded { attachment } if attachment.id == file.id)
    );
    let mut with_file = SendMessage::text(conv.id, body("here is the receipt"));
    with_file.attachment_ids = vec![file.id];
    let sent = engine
        .send_message(&visitor, with_file.clone())
        .await
        .expect("send");
    assert_eq!(sent.message.attachments.len(), 1);
    assert_eq!(
        sent.message.attachments[0].message_id,
        Some(sent.message.id)
    );
    let stored = store
        .get_attachment(file.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored.message_id, Some(sent.message.id));
    let reused = engine.send_message(&visitor, with_file).await;
    assert!(
        matches!(
            reused,
            Err(Error::Conflict(Conflict::AttachmentUnavailable))
        ),
        "got {reused:?}"
    );

    let staff_file = engine
        .add_attachment(&agent, upload(conv.id, "internal.pdf"))
        .await
        .expect("upload");
    let mut note = SendMessage::text(conv.id, body("internal copy"));
    note.private = true;
    note.attachment_ids = vec![staff_file.id];
    engine.send_message(&agent, note).await.expect("note");
    let hidden = engine.get_attachment(&visitor, staff_file.id).await;
    assert!(
        matches!(hidden, Err(Error::NotFound(_))),
        "a note's file leaked: {hidden:?}"
    );
    engine
        .get_attachment(&agent, staff_file.id)
        .await
        .expect("staff sees notes' files");
    engine
        .get_attachment(&visitor, file.id)
        .await
        .expect("own file");
    let foreign = engine.get_attachment(&stranger, file.id).await;
    assert!(
        matches!(foreign, Err(Error::NotFound(_))),
        "got {foreign:?}"
    );
    let missing = engine.get_attachment(&visitor, AttachmentId::new()).await;
    assert!(
        matches!(missing, Err(Error::NotFound(_))),
        "got {missing:?}"
    );
}

/// Uploads never sent with a message are swept after a cutoff; sent ones and newer ones stay.
pub async fn unattached_uploads_are_swept(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let visitor = visitor(&engine).await;
    let conv = conversation(&engine, &visitor).await;
    let orphan = engine
        .add_attachment(&visitor, upload(conv.id, "orphan.png"))
        .await
        .expect("upload");
    let sent = engine
        .add_attachment(&visitor, upload(conv.id, "sent.png"))
        .await
        .expect("upload");
    let mut message = SendMessage::text(conv.id, body("with file"));
    message.attachment_ids = vec![sent.id];
    engine.send_message(&visitor, message).await.expect("send");

    let before_uploads = orphan.uploaded_at - chrono::Duration::seconds(1);
    assert!(
        engine
            .remove_unattached_uploads(&Principal::System, before_uploads)
            .await
            .expect("sweep")
            .is_empty()
    );
    let denied = engine
        .remove_unattached_uploads(&visitor, crate::engine::now())
        .await;
    assert!(
        matches!(denied, Err(Error::PermissionDenied(_))),
        "got {denied:?}"
    );

    let cutoff = crate::engine::now() + chrono::Duration::seconds(1);
    let removed = engine
        .remove_unattached_uploads(&Principal::System, cutoff)
        .await
        .expect("sweep");
    assert_eq!(
        removed.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![orphan.id]
    );
    assert!(
        store
            .get_attachment(orphan.id)
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        store.get_attachment(sent.id).await.expect("get").is_some(),
        "a sent file was swept"
    );
    assert!(
        !store
            .remove_unlinked_attachment(sent.id)
            .await
            .expect("remove"),
        "a sent file is never removed"
    );
    let mut late = SendMessage::text(conv.id, body("too late"));
    late.attachment_ids = vec![orphan.id];
    let refused = engine.send_message(&visitor, late).await;
    assert!(
        matches!(
            refused,
            Err(Error::Conflict(Conflict::AttachmentUnavailable))
        ),
        "got {refused:?}"
    );
}

/// Deleting a conversation removes its log, messages, participants, attachments and read
/// cursors, and nothing of any other conversation.
pub async fn delete_cascades_to_everything(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let visitor = visitor(&engine).await;
    let doomed = conversation(&engine, &visitor).await;
    let kept = conversation(&engine, &visitor).await;
    for conv in [doomed.id, kept.id] {
        let file = engine
            .add_attachment(&visitor, upload(conv, "a.png"))
            .await
            .expect("upload");
        let mut message = SendMessage::text(conv, body("with file"));
        message.attachment_ids = vec![file.id];
        engine.send_message(&visitor, message).await.expect("send");
        engine
            .mark_read(&visitor, conv, Seq(2))
            .await
            .expect("read");
    }
    let doomed_file = store
        .messages_before(doomed.id, None, 10, crate::event::Audience::Staff)
        .await
        .expect("history")[0]
        .attachments[0]
        .id;
    let kept_before = all_events(&*store, kept.id).await;

    engine
        .delete_conversation(&Principal::System, doomed.id)
        .await
        .expect("delete");
    assert!(
        store
            .get_conversation(doomed.id)
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        store
            .get_attachment(doomed_file)
            .await
            .expect("get")
            .is_none()
    );
    let reader = visitor.user().expect("user");
    assert!(matches!(
        store.events_since(doomed.id, Seq::ZERO, 10).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        store.participants(doomed.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        store.read_cursor(doomed.id, reader).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        store.delete_conversation(&removal(doomed.id)).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(
        store.erased_files(100).await.expect("erased files"),
        vec![doomed_file],
        "the deleted conversation's file waits for its bytes to go; the kept one's does not"
    );
    store.forget_erased_file(doomed_file).await.expect("forget");
    assert!(
        store
            .erased_files(100)
            .await
            .expect("erased files")
            .is_empty()
    );

    assert_eq!(all_events(&*store, kept.id).await, kept_before);
    assert_eq!(
        store.read_cursor(kept.id, reader).await.expect("cursor"),
        Seq(2)
    );
    let visitor_list = engine
        .list_conversations(&visitor, ListRequest::default())
        .await
        .expect("list");
    assert_eq!(visitor_list.total_count, 1);
}

async fn status(store: &DynChatStore, id: ConversationId) -> ConversationStatus {
    store
        .get_conversation(id)
        .await
        .expect("get")
        .expect("exists")
        .status
}

async fn assert_illegal(
    engine: &ChatEngine,
    principal: &Principal,
    id: ConversationId,
    to: ConversationStatus,
) {
    let result = engine.set_status(principal, id, to).await;
    assert!(
        matches!(
            result,
            Err(Error::Conflict(Conflict::IllegalTransition { .. }))
        ),
        "{to}: {result:?}"
    );
}

async fn list(
    engine: &ChatEngine,
    principal: &Principal,
    status: Option<ConversationStatus>,
) -> crate::store::ConversationPage {
    let request = ListRequest {
        status,
        limit: Some(100),
        ..ListRequest::default()
    };
    engine
        .list_conversations(principal, request)
        .await
        .expect("list")
}

/// Every page of the list, following the keyset cursor.
async fn walk(
    engine: &ChatEngine,
    principal: &Principal,
    status: Option<ConversationStatus>,
    limit: usize,
) -> Vec<Vec<ConversationId>> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let request = ListRequest {
            status,
            label: None,
            after,
            limit: Some(limit),
        };
        let page = engine
            .list_conversations(principal, request)
            .await
            .expect("page");
        pages.push(page.items.iter().map(|s| s.conversation.id).collect());
        match page.next {
            Some(next) => after = Some(next),
            None => return pages,
        }
    }
}
