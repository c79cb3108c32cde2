//! Socket.IO at the frame level (engine.io v4 over a WebSocket), for timing the stock client
//! cannot be made to hit on purpose: an event sent the moment the namespace connect is
//! answered must be handled and acknowledged, even while the server is still opening the
//! connection (subscribing, announcing presence), not dropped for want of a handler.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chat_core::LocalBroadcaster;
use chat_core::broadcast::{Broadcaster, Signal, Subscription, Topic};
use common::TestApp;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// Not a performance bound: turns a hang into a failure.
const HANG_GUARD: Duration = Duration::from_secs(30);

/// A broadcaster whose subscriptions take a while, as they do over a busy network.
#[derive(Debug, Default)]
struct SlowSubscriptions(LocalBroadcaster);

#[async_trait::async_trait]
impl Broadcaster for SlowSubscriptions {
    async fn publish(&self, topic: Topic, signal: Signal) -> chat_core::Result<()> {
        self.0.publish(topic, signal).await
    }

    async fn subscribe(&self, topic: Topic) -> chat_core::Result<Subscription> {
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.0.subscribe(topic).await
    }
}

#[tokio::test]
async fn an_event_sent_right_after_connecting_is_acknowledged() {
    let app = TestApp::with_broadcaster(TestApp::config(), Arc::new(SlowSubscriptions::default()));
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let address = app.serve().await;
    for attempt in 0..5 {
        let url = format!("ws://{address}/socket.io/?EIO=4&transport=websocket");
        let (mut ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        let connect = format!("40{}", json!({ "token": visitor }));
        let join = format!(
            "421{}",
            json!(["conversation:join", {"conversationId": conversation, "since": 0}])
        );
        ws.send(Message::text(connect)).await.expect("send");
        // The join goes out as soon as the namespace connect is answered.
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Text(text) = message
                && text.starts_with("40")
            {
                break;
            }
        }
        ws.send(Message::text(join)).await.expect("send");
        let ack = tokio::time::timeout(HANG_GUARD, async {
            while let Some(Ok(message)) = ws.next().await {
                if let Message::Text(text) = message
                    && let Some(body) = text.strip_prefix("431")
                {
                    return serde_json::from_str::<Value>(body).expect("ack json");
                }
            }
            panic!("closed before the ack");
        })
        .await
        .unwrap_or_else(|_| panic!("attempt {attempt}: the join was never acknowledged"));
        assert!(ack[0]["lastSeq"].as_u64().is_some(), "{ack}");
        ws.close(None).await.expect("close");
    }
}
