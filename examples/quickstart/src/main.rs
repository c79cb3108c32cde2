//! The engine in-process over `MemoryStore`: a visitor starts a conversation, an agent
//! replies, and the visitor's live feed receives the reply.
//!
//! Run with: `cargo run -p quickstart`

use std::sync::Arc;

use chat_core::accounts::Permissions;
use chat_core::engine::{NewAdmin, NewVisitor, SendMessage, StartConversation};
use chat_core::feed::FeedItem;
use chat_core::ids::Seq;
use chat_core::values::{DisplayName, Email, Limits, MessageBody};
use chat_core::{ChatEngine, EngineConfig, LocalBroadcaster, MemoryStore, Principal};

#[tokio::main]
async fn main() -> chat_core::Result<()> {
    let engine = ChatEngine::new(
        Arc::new(MemoryStore::new()),
        Arc::new(LocalBroadcaster::new()),
        EngineConfig::default(),
    );
    let limits = Limits::default();

    let customer = engine
        .create_visitor(&Principal::Anonymous, NewVisitor::default())
        .await?;
    let visitor = Principal::Visitor(customer.id);
    let conversation = engine
        .start_conversation(&visitor, StartConversation::default())
        .await?;
    let mut feed = engine
        .subscribe(&visitor, conversation.id, Seq::ZERO)
        .await?;

    let question = MessageBody::parse("Where is my order?", &limits)?;
    engine
        .send_message(&visitor, SendMessage::text(conversation.id, question))
        .await?;

    let new_admin = NewAdmin {
        email: Email::parse("agent@example.com")?,
        name: DisplayName::parse("Agent")?,
        password_hash: "hashed-by-chat-http".into(),
        permissions: Permissions::default(),
    };
    let admin = engine.create_admin(&Principal::System, new_admin).await?;
    let agent = Principal::Admin {
        id: admin.id,
        permissions: admin.permissions,
    };
    let answer = MessageBody::parse("It ships today.", &limits)?;
    engine
        .send_message(&agent, SendMessage::text(conversation.id, answer))
        .await?;

    // The visitor's feed replays everything in seq order, then goes live.
    let mut replies = 0;
    while replies < 2 {
        let Some(item) = feed.next().await else { break };
        if let FeedItem::Event(event) = item? {
            println!("seq {:>2}: {:?}", event.seq, event.kind);
            replies += usize::from(event.message().is_some());
        }
    }
    let unread = engine.unread_count(&visitor, conversation.id).await?;
    println!("visitor has {unread} unread message(s)");
    Ok(())
}
