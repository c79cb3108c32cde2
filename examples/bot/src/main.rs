//! Runs the bot (see the library) against a chat-server.
//!
//! Run with (a running chat-server and an agent's bearer token from `POST /api/auth/login`):
//! `CHAT_URL=http://127.0.0.1:8080 CHAT_BOT_TOKEN=… cargo run -p bot`

use chat_client::{Realtime, RestClient};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("CHAT_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let token = std::env::var("CHAT_BOT_TOKEN")
        .map_err(|_| "set CHAT_BOT_TOKEN to an agent's bearer token")?;
    let agent = RestClient::agent_with_token(&url, &token)?;
    let socket = Realtime::connect(&agent).await?;
    println!("bot connected to {url}");
    bot::run(socket).await?;
    println!("the session ended");
    Ok(())
}
