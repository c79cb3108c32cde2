//! An agent bot on `chat-client` that reads the store-wide change feed: every visitor
//! message after its cursor gets one answer. The answer's client id is derived from the
//! visitor's message id, so reading a message again (a restart from an older cursor, a
//! retried page) stores no second answer; the feed misses nothing across either side's
//! crashes, and the client retries sends while the server is away.

use std::time::Duration;

use chat_client::chat_wire::ChangeDto;
use chat_client::{Error, RestClient};

/// What the bot says.
pub const ANSWER: &str = "Thanks for writing! An agent will be with you shortly.";

/// Changes read per request.
const PAGE: usize = 100;

/// How long to wait when the feed has nothing new.
const IDLE: Duration = Duration::from_millis(300);

/// Answers visitor messages committed after feed position `after`, for ever; `saved` is
/// called with each position the bot is done with (keep it to resume there). `agent` must
/// be an owner's session (the change feed needs `manageAdmins` over every conversation).
pub async fn run(
    agent: &RestClient,
    mut after: u64,
    mut saved: impl FnMut(u64),
) -> Result<(), Error> {
    loop {
        let page = match agent.changes(after, PAGE).await {
            Ok(page) => page,
            Err(error) if error.is_retryable() => {
                tokio::time::sleep(IDLE).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        for change in &page.changes {
            answer(agent, change).await?;
        }
        if page.last_position != after {
            after = page.last_position;
            saved(after);
        }
        if !page.has_more {
            tokio::time::sleep(IDLE).await;
        }
    }
}

/// Answers a visitor's message, once. A conversation that refuses the answer (closed,
/// deleted since) is skipped; the server being away is retried by the client.
async fn answer(agent: &RestClient, change: &ChangeDto) -> Result<(), Error> {
    let Some(message) = &change.event.message else {
        return Ok(());
    };
    if message.sender_type != "customer" {
        return Ok(());
    }
    let client_id = format!("bot-reply-{}", message.id);
    match agent
        .send_with_id(message.conversation_id, ANSWER, &client_id)
        .await
    {
        Ok(_) => println!("answered in {}", message.conversation_id),
        Err(Error::Api { code, .. }) => {
            println!("not answering in {}: {code}", message.conversation_id);
        }
        Err(error) => return Err(error),
    }
    Ok(())
}
