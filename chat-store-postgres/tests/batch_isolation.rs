//! One append's bad data fails that append alone: a group-commit batch that PostgreSQL
//! refuses is written again one append at a time, so the sends that shared the batch with a
//! poisoned append (here a content type with a NUL character, which `text` refuses) are
//! stored and acknowledged.

mod common;

use std::sync::Arc;

use chat_core::conformance::fixtures::{chatting, engine, send};
use chat_core::ids::AttachmentId;
use chat_core::log::{AppendRequest, Command};
use chat_core::model::{Actor, Attachment, FileType};
use chat_core::store::DynChatStore;
use chat_core::values::FileName;

async fn a_poisoned_append_fails_alone_and_its_batch_neighbours_are_stored() {
    let store = common::fresh_store()
        .await
        .expect("testkit found PostgreSQL");
    let store: Arc<DynChatStore> = Arc::new(store);
    let engine = engine(store.clone());
    let (visitor, conversation) = chatting(&engine, 0).await;
    for round in 0..10 {
        let poisoned = AppendRequest {
            conversation_id: conversation.id,
            command: Command::AddAttachment {
                attachment: Attachment {
                    id: AttachmentId::new(),
                    conversation_id: conversation.id,
                    message_id: None,
                    uploader: Actor::System,
                    file_type: FileType::Document,
                    content_type: "text/plain\0".into(),
                    file_size: 1,
                    file_name: FileName::parse("poison.txt").expect("name"),
                    private: false,
                    uploaded_at: chat_core::engine::now(),
                },
            },
            at: chat_core::engine::now(),
        };
        let poison = {
            let store = store.clone();
            tokio::spawn(async move { store.append(&poisoned).await })
        };
        let sends: Vec<_> = (0..50)
            .map(|n| {
                let (engine, visitor) = (engine.clone(), visitor);
                tokio::spawn(async move {
                    send(
                        &engine,
                        &visitor,
                        conversation.id,
                        &format!("{round}/{n}"),
                        None,
                    )
                    .await
                })
            })
            .collect();
        for sent in sends {
            let sent = sent.await.expect("task");
            assert!(
                sent.is_ok(),
                "a send failed with its poisoned neighbour: {sent:?}"
            );
        }
        assert!(poison.await.expect("task").is_err(), "the NUL was stored");
    }
}

fn main() {
    testkit::Suite::new()
        .add(
            "a_poisoned_append_fails_alone_and_its_batch_neighbours_are_stored",
            &[testkit::Needs::Postgres],
            |_| a_poisoned_append_fails_alone_and_its_batch_neighbours_are_stored(),
        )
        .run();
}
