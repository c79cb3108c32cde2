//! A chat exchange over `CountingStore<MemoryStore>`, printing how many writes reached the
//! store.
//!
//! Run with: `cargo run -p custom-store`

use std::sync::Arc;

use chat_core::engine::{NewVisitor, SendMessage, StartConversation};
use chat_core::values::{Limits, MessageBody};
use chat_core::{ChatEngine, EngineConfig, LocalBroadcaster, MemoryStore, Principal};
use custom_store::CountingStore;

#[tokio::main]
async fn main() -> chat_core::Result<()> {
    let store = Arc::new(CountingStore::new(MemoryStore::new()));
    let engine = ChatEngine::new(
        store.clone(),
        Arc::new(LocalBroadcaster::new()),
        EngineConfig::default(),
    );
    let customer = engine
        .create_visitor(&Principal::Anonymous, NewVisitor::default())
        .await?;
    let visitor = Principal::Visitor(customer.id);
    let conversation = engine
        .start_conversation(&visitor, StartConversation::default())
        .await?;
    for text in ["Hello", "Is anyone there?", "Thanks!"] {
        let body = MessageBody::parse(text, &Limits::default())?;
        engine
            .send_message(&visitor, SendMessage::text(conversation.id, body))
            .await?;
    }
    println!("{} writes reached the store", store.writes());
    Ok(())
}
