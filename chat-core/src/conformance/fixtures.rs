//! Helpers shared by the conformance scenarios: an engine over the store under test and
//! ready-made visitors, agents and conversations.

use std::sync::Arc;

use crate::LocalBroadcaster;
use crate::accounts::Permissions;
use crate::authz::{Policy, Principal};
use crate::engine::{
    ChatEngine, EngineConfig, NewAdmin, NewAttachment, NewVisitor, SendMessage, Sent,
    StartConversation,
};
use crate::event::Event;
use crate::ids::{AttachmentId, ConversationId, Seq};
use crate::model::{Conversation, FileType};
use crate::store::{ConversationRemoval, DynChatStore};
use crate::values::{ClientMessageId, DisplayName, Email, FileName, Limits, MessageBody};

/// An engine over `store` with an in-process broadcaster and default config.
pub fn engine(store: Arc<DynChatStore>) -> ChatEngine {
    engine_with(store, Policy::default())
}

/// An engine over `store` with the given policy.
pub fn engine_with(store: Arc<DynChatStore>, policy: Policy) -> ChatEngine {
    let config = EngineConfig {
        policy,
        ..EngineConfig::default()
    };
    ChatEngine::new(store, Arc::new(LocalBroadcaster::new()), config)
}

/// A new visitor's principal.
pub async fn visitor(engine: &ChatEngine) -> Principal {
    let customer = engine
        .create_visitor(&Principal::Anonymous, NewVisitor::default())
        .await
        .expect("create visitor");
    Principal::Visitor(customer.id)
}

/// A new agent's principal with `permissions`; `tag` makes the email unique.
pub async fn admin(engine: &ChatEngine, tag: &str, permissions: Permissions) -> Principal {
    let new = NewAdmin {
        email: Email::parse(&format!("{tag}@example.com")).expect("email"),
        name: DisplayName::parse(tag).expect("name"),
        password_hash: "$argon2id$placeholder".into(),
        permissions,
    };
    let admin = engine
        .create_admin(&Principal::System, new)
        .await
        .expect("create admin");
    Principal::Admin {
        id: admin.id,
        permissions: admin.permissions,
    }
}

/// A conversation started by `visitor`.
pub async fn conversation(engine: &ChatEngine, visitor: &Principal) -> Conversation {
    engine
        .start_conversation(visitor, StartConversation::default())
        .await
        .expect("start conversation")
}

/// A valid body.
pub fn body(text: &str) -> MessageBody {
    MessageBody::parse(text, &Limits::default()).expect("body")
}

/// Sends `text` as `principal`, optionally with a client id.
pub async fn send(
    engine: &ChatEngine,
    principal: &Principal,
    conversation: ConversationId,
    text: &str,
    client_id: Option<&str>,
) -> crate::Result<Sent> {
    let mut request = SendMessage::text(conversation, body(text));
    request.client_message_id = client_id.map(|id| ClientMessageId::parse(id).expect("client id"));
    engine.send_message(principal, request).await
}

/// The whole log as the system sees it.
pub async fn all_events(store: &DynChatStore, id: ConversationId) -> Vec<Event> {
    store
        .events_since(id, Seq::ZERO, usize::MAX)
        .await
        .expect("events")
}

/// Asserts that `events` carry seqs 1, 2, … n exactly.
pub fn assert_gap_free(events: &[Event]) {
    let seqs: Vec<u64> = events.iter().map(|e| e.seq.get()).collect();
    let expected: Vec<u64> = (1..=events.len() as u64).collect();
    assert_eq!(
        seqs, expected,
        "seqs must be 1..=n with no gap or duplicate"
    );
}

/// A visitor with a new conversation in which they already sent `messages` messages.
pub async fn chatting(engine: &ChatEngine, messages: usize) -> (Principal, Conversation) {
    let visitor = visitor(engine).await;
    let conversation = conversation(engine, &visitor).await;
    for n in 0..messages {
        send(engine, &visitor, conversation.id, &format!("m{n}"), None)
            .await
            .expect("send");
    }
    (visitor, conversation)
}

/// A conversation read part-way by both sides, for checks that unread counts survive a
/// change of storage: visitor messages v0..v3, agent replies a0..a2 and a private note
/// (v0 a0 v1 a1 v2 a2 v3 note); the agent has read up to v1 (v2, v3 unread), the visitor up
/// to a0 (a1, a2 unread). Returns (visitor, agent, conversation).
pub async fn partly_read(engine: &ChatEngine) -> (Principal, Principal, ConversationId) {
    let visitor = visitor(engine).await;
    let agent = admin(engine, "partly-read", Permissions::default()).await;
    let conv = conversation(engine, &visitor).await;
    let mut seqs = Vec::new();
    for n in 0..4 {
        let sent = send(engine, &visitor, conv.id, &format!("v{n}"), None)
            .await
            .expect("send");
        seqs.push(sent.message.seq);
        if n < 3 {
            let reply = send(engine, &agent, conv.id, &format!("a{n}"), None)
                .await
                .expect("reply");
            seqs.push(reply.message.seq);
        }
    }
    let mut note = SendMessage::text(conv.id, body("note"));
    note.private = true;
    engine.send_message(&agent, note).await.expect("note");
    engine
        .mark_read(&agent, conv.id, seqs[2])
        .await
        .expect("read");
    engine
        .mark_read(&visitor, conv.id, seqs[1])
        .await
        .expect("read");
    (visitor, agent, conv.id)
}

/// An unconditional deletion of `id` by the system, for calling a store directly.
pub fn removal(id: ConversationId) -> ConversationRemoval {
    let action = crate::audit::AuditAction::ConversationDeleted { conversation: id };
    ConversationRemoval {
        id,
        closed_before: None,
        audit: crate::audit::AuditEntry::new(
            crate::engine::now(),
            crate::model::Actor::System,
            action,
        ),
    }
}

/// A file for `conversation_id` (a `.png` is an image, anything else a PDF).
pub fn upload(conversation_id: ConversationId, name: &str) -> NewAttachment {
    NewAttachment {
        id: AttachmentId::new(),
        conversation_id,
        file_type: if name.ends_with(".png") {
            FileType::Image
        } else {
            FileType::Document
        },
        content_type: if name.ends_with(".png") {
            "image/png"
        } else {
            "application/pdf"
        }
        .into(),
        file_size: 1234,
        file_name: FileName::parse(name).expect("file name"),
    }
}
