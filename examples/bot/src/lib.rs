//! An agent bot on `chat-client`: it watches the inbox, joins every conversation that gets
//! a visitor message and answers each visitor message once. Its reply's client id is
//! derived from the visitor's message id, so seeing a message again (a reconnect, a rejoin)
//! stores no second answer; the client itself resumes every room after a lost connection.

use std::collections::HashSet;

use chat_client::chat_wire::EventDto;
use chat_client::{Error, Incoming, Realtime};

/// What the bot says.
pub const ANSWER: &str = "Thanks for writing! An agent will be with you shortly.";

/// Answers visitor messages until the client gives up (the session ended, or the server
/// stayed away through every reconnect attempt).
pub async fn run(mut socket: Realtime) -> Result<(), Error> {
    let mut joined = HashSet::new();
    while let Some(incoming) = socket.next().await? {
        match incoming {
            Incoming::Event { name, payload } if name == "inbox" => {
                let news = payload["kind"] == "message" || payload["kind"] == "created";
                let conversation = payload["conversationId"]
                    .as_str()
                    .and_then(|id| id.parse().ok());
                if let (true, Some(conversation)) = (news, conversation)
                    && joined.insert(conversation)
                {
                    // From just before the news, so the message that caused it is answered.
                    let since = payload["seq"].as_u64().unwrap_or(1).saturating_sub(1);
                    socket.join(conversation, since).await?;
                }
            }
            Incoming::Log(event) => answer(&mut socket, &event).await?,
            _ => {}
        }
    }
    Ok(())
}

/// Answers a visitor's message, once.
async fn answer(socket: &mut Realtime, event: &EventDto) -> Result<(), Error> {
    let Some(message) = &event.message else {
        return Ok(());
    };
    if message.sender_type != "customer" {
        return Ok(());
    }
    let client_id = format!("bot-reply-{}", message.id);
    socket
        .send_with_id(event.conversation_id, ANSWER, &client_id)
        .await?;
    println!("answered in {}", event.conversation_id);
    Ok(())
}
