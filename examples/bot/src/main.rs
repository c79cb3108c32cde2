//! Runs the bot (see the library) against a chat-server, from the feed position in
//! `CHAT_BOT_AFTER` (default 0: every visitor message not yet answered by the bot).
//!
//! Run with (a running chat-server and an owner's bearer token from `POST /api/auth/login`):
//! `CHAT_URL=http://127.0.0.1:8080 CHAT_BOT_TOKEN=… cargo run -p bot`

use chat_client::RestClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("CHAT_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let token = std::env::var("CHAT_BOT_TOKEN")
        .map_err(|_| "set CHAT_BOT_TOKEN to an owner's bearer token")?;
    let after = std::env::var("CHAT_BOT_AFTER")
        .ok()
        .map(|after| after.parse())
        .transpose()?
        .unwrap_or(0);
    let agent = RestClient::agent_with_token(&url, &token)?;
    println!("bot reading the change feed of {url} after {after}");
    bot::run(&agent, after, |position| println!("done up to {position}")).await?;
    Ok(())
}
