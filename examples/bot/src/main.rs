//! An agent bot: it watches the inbox, joins every conversation that gets a visitor message
//! and answers it once (its reply's client id is derived from the visitor's message id, so a
//! reconnect never answers twice). Speaks only the WebSocket protocol (`/api/ws`).
//!
//! Run with (a running chat-server, and an agent token from `POST /api/auth/login`):
//! `CHAT_WS_URL=ws://127.0.0.1:8080/api/ws CHAT_BOT_TOKEN=… cargo run -p bot`

use std::collections::HashSet;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Error = Box<dyn std::error::Error>;
type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const ANSWER: &str = "Thanks for writing! An agent will be with you shortly.";

#[tokio::main]
async fn main() -> Result<(), Error> {
    let url = std::env::var("CHAT_WS_URL").unwrap_or_else(|_| "ws://127.0.0.1:8080/api/ws".into());
    let token = std::env::var("CHAT_BOT_TOKEN")
        .map_err(|_| "set CHAT_BOT_TOKEN to an agent's bearer token")?;
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str()).await?;
    let mut bot = Bot {
        next_id: 1,
        joined: HashSet::new(),
    };
    bot.send(&mut socket, json!({"type": "auth", "token": token}))
        .await?;
    println!("bot connected to {url}");
    while let Some(frame) = socket.next().await {
        let Message::Text(text) = frame? else {
            continue;
        };
        let event: Value = serde_json::from_str(&text)?;
        bot.handle(&mut socket, &event).await?;
    }
    println!("the server closed the connection");
    Ok(())
}

struct Bot {
    next_id: u64,
    joined: HashSet<String>,
}

impl Bot {
    /// Reacts to one server frame: joins on inbox news, answers visitor messages, whether
    /// they come in a join's ack (the first page of what it missed), after it (the rest of a
    /// long catch-up, as `message:new`, in order) or live.
    async fn handle(&mut self, socket: &mut Socket, event: &Value) -> Result<(), Error> {
        match event["type"].as_str() {
            Some("inbox") if event["kind"] == "message" || event["kind"] == "created" => {
                let conversation = event["conversationId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                // From just before the news, so the message that caused it is answered.
                let since = event["seq"].as_u64().unwrap_or(1).saturating_sub(1);
                if !conversation.is_empty() && self.joined.insert(conversation.clone()) {
                    self.send(socket, json!({"type": "conversation:join", "conversationId": conversation, "since": since})).await?;
                }
            }
            Some("message:new") => {
                self.answer(socket, &event["conversationId"], &event["message"])
                    .await?
            }
            Some("ack") if event.get("error").is_some() => println!("refused: {}", event["error"]),
            Some("ack") => {
                for logged in event["events"].as_array().into_iter().flatten() {
                    if logged["type"] == "message" {
                        let message = &logged["message"];
                        self.answer(socket, &message["conversationId"], message)
                            .await?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Answers a visitor's message once: the reply's client id is derived from the message's
    /// id, so seeing it again (a reconnect, a rejoin) stores no second answer.
    async fn answer(
        &mut self,
        socket: &mut Socket,
        conversation: &Value,
        message: &Value,
    ) -> Result<(), Error> {
        if message["senderType"] != "customer" {
            return Ok(());
        }
        let reply = json!({
            "type": "message:send",
            "conversationId": conversation,
            "message": ANSWER,
            "clientMessageId": format!("bot-reply-{}", message["id"].as_str().unwrap_or_default()),
        });
        self.send(socket, reply).await?;
        println!("answered in {conversation}");
        Ok(())
    }

    /// Sends a frame with a fresh id (acks arrive later as `{"type": "ack", "id": …}`).
    async fn send(&mut self, socket: &mut Socket, mut frame: Value) -> Result<(), Error> {
        frame["id"] = self.next_id.into();
        self.next_id += 1;
        socket.send(Message::text(frame.to_string())).await?;
        Ok(())
    }
}
