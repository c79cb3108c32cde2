//! Socket.IO at the frame level (engine.io v4 over a WebSocket), for what the stock client
//! cannot be made to hit on purpose: an event sent the moment the namespace connect is
//! answered must be handled and acknowledged, even while the server is still opening the
//! connection (subscribing, announcing presence), not dropped for want of a handler; and a
//! handshake while the database is out of reach is refused as `unavailable` (clients retry),
//! never as `authentication required` (clients sign out); and a closed connection leaves no
//! task (nor the connection and socket it holds) behind.

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

/// The namespace answer to a handshake with `token`: `40…` (connected) or `44…` (refused).
async fn handshake(address: std::net::SocketAddr, token: &str) -> String {
    open(address, token).await.1
}

/// A socket after its handshake with `token`, and the namespace's answer.
async fn open(address: std::net::SocketAddr, token: &str) -> (Socket, String) {
    let url = format!("ws://{address}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    let connect = format!("40{}", json!({ "token": token }));
    ws.send(Message::text(connect)).await.expect("send");
    let answer = tokio::time::timeout(HANG_GUARD, async {
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Text(text) = message
                && (text.starts_with("40") || text.starts_with("44"))
            {
                return text.to_string();
            }
        }
        panic!("closed before the namespace answered");
    });
    let answer = answer.await.expect("no namespace answer");
    (ws, answer)
}

async fn a_database_out_of_reach_is_unavailable_at_the_handshake_not_a_sign_out() {
    let url = testkit::postgres().expect("testkit found PostgreSQL");
    let database = common::scratch::ScratchDatabase::create(
        &url,
        &format!("chat_handshake_{}", std::process::id()),
    );
    let store = chat_store_postgres::PostgresStore::connect(&database.url)
        .await
        .expect("store");
    let pool = store.pool().clone();
    let engine = chat_core::ChatEngine::new(
        Arc::new(store),
        Arc::new(LocalBroadcaster::new()),
        TestApp::config().engine,
    );
    let app = TestApp::with_engine(engine);
    let (visitor, _) = app.visitor().await;
    let address = app.serve().await;
    assert!(handshake(address, &visitor).await.starts_with("40"));
    assert!(
        handshake(address, &"f".repeat(64))
            .await
            .contains("authentication required")
    );

    pool.close().await;
    let refused = handshake(address, &visitor).await;
    assert!(refused.starts_with("44"), "{refused}");
    let body: Value = serde_json::from_str(&refused[2..]).expect("refusal json");
    assert_eq!(body["message"], "unavailable", "{refused}");
}

async fn an_ack_that_does_not_fit_a_full_buffer_closes_the_socket_instead_of_vanishing() {
    let config = chat_http::ChatConfig {
        stall_limit: Duration::from_secs(60),
        ..TestApp::config()
    };
    let app = TestApp::with_config(config);
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let address = app.serve().await;
    let mut ws = connected_socket(address, &visitor).await;
    let join = json!(["conversation:join", {"conversationId": conversation, "since": 0}]);
    ws.send(Message::text(format!("421{join}")))
        .await
        .expect("send");
    // The client reads nothing while thousands of events fill the socket and its buffer.
    for n in 0..3000 {
        let body = format!("{n} {}", "y".repeat(3000));
        app.send_as_visitor(&visitor, &conversation, &body).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let read = json!(["read", {"conversationId": conversation, "seq": 3}]);
    ws.send(Message::text(format!("4277{read}")))
        .await
        .expect("send");
    let outcome = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(message) = ws.next().await {
            match message {
                Ok(Message::Text(text)) if text.starts_with("4377") => return "acknowledged",
                Ok(Message::Text(text)) if text == "2" => {
                    let _ = ws.send(Message::text("3")).await;
                }
                Ok(Message::Close(_)) | Err(_) => return "closed",
                Ok(_) => {}
            }
        }
        "closed"
    });
    let outcome = outcome
        .await
        .expect("the ack vanished: no ack and the socket stayed open");
    assert!(["acknowledged", "closed"].contains(&outcome));
}

async fn requests_sent_back_to_back_are_handled_and_acknowledged_in_order() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let address = app.serve().await;
    let mut ws = connected_socket(address, &visitor).await;
    let join = json!(["conversation:join", {"conversationId": conversation, "since": 0}]);
    let leave = json!(["conversation:leave", {"conversationId": conversation}]);
    // Join then leave, again and again, without waiting: the last word is "leave".
    let mut expected = Vec::new();
    for round in 0..20 {
        let (join_id, leave_id) = (100 + 2 * round, 101 + 2 * round);
        ws.send(Message::text(format!("42{join_id}{join}")))
            .await
            .expect("send");
        ws.send(Message::text(format!("42{leave_id}{leave}")))
            .await
            .expect("send");
        expected.extend([join_id, leave_id]);
    }
    let mut acks = Vec::new();
    let collect = async {
        while acks.len() < expected.len() {
            let text = match ws.next().await {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_)) | Err(_)) | None => panic!("closed before every ack"),
                Some(Ok(_)) => continue,
            };
            if let Some(rest) = text.strip_prefix("43") {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                acks.push(digits.parse::<i32>().expect("ack id"));
            }
        }
    };
    tokio::time::timeout(HANG_GUARD, collect)
        .await
        .expect("acks missing");
    assert_eq!(acks, expected, "acks out of order");
    app.send_as_visitor(&visitor, &conversation, "after the last leave")
        .await;
    let quiet = tokio::time::timeout(Duration::from_millis(800), async {
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Text(text) = message
                && text.starts_with("42[\"message:new\"")
            {
                return text.to_string();
            }
        }
        String::new()
    });
    if let Ok(event) = quiet.await {
        assert!(event.is_empty(), "a left room still forwards: {event}");
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A Socket.IO connection over the WebSocket transport whose namespace connect with
/// `token` was answered: requests may go out, as from a client.
async fn connected_socket(address: std::net::SocketAddr, token: &str) -> Socket {
    let url = format!("ws://{address}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    ws.send(Message::text(format!("40{}", json!({ "token": token }))))
        .await
        .expect("send");
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Text(text) = message
            && text.starts_with("40")
        {
            return ws;
        }
    }
    panic!("closed before the namespace connect was answered");
}

/// A closed Socket.IO connection leaves nothing running: socketioxide keeps a socket's
/// event handlers until the socket is dropped, and the connection holds the socket, so a
/// request task that waited on those handlers kept the task, the connection and the socket
/// alive forever (about 25 KiB per connection ever opened).
async fn a_closed_connection_leaves_no_task_behind() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    let address = app.serve().await;
    let open_and_close = || async {
        let (mut ws, answer) = open(address, &visitor).await;
        assert!(answer.starts_with("40"), "connected: {answer}");
        ws.close(None).await.expect("close");
    };
    let metrics = tokio::runtime::Handle::current().metrics();
    let settled = |at_most: usize| async move {
        let deadline = tokio::time::Instant::now() + HANG_GUARD;
        while metrics.num_alive_tasks() > at_most && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        metrics.num_alive_tasks()
    };
    // One first, so whatever starts lazily is in the baseline.
    open_and_close().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    for _ in 0..20 {
        open_and_close().await;
    }
    let alive = settled(baseline).await;
    assert!(
        alive <= baseline,
        "{alive} tasks alive after 20 closed connections, {baseline} before"
    );
}

/// Requests a client made before it disconnected still take effect: each of these sends
/// is followed at once by closing the socket, and every one must be stored.
async fn a_send_right_before_disconnecting_is_still_stored() {
    let app = TestApp::new();
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let address = app.serve().await;
    let before = app.last_seq(&visitor, &conversation).await;
    let sends = 10;
    for n in 0..sends {
        let (mut ws, answer) = open(address, &visitor).await;
        assert!(answer.starts_with("40"), "connected: {answer}");
        let send = format!(
            "421{}",
            json!(["message:send", {"conversationId": conversation, "message": format!("last words {n}")}])
        );
        ws.send(Message::text(send)).await.expect("send");
        ws.close(None).await.expect("close");
    }
    let stored = tokio::time::timeout(HANG_GUARD, async {
        loop {
            let last = app.last_seq(&visitor, &conversation).await;
            if last >= before + sends {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    assert!(
        stored.await.is_ok(),
        "every send made before disconnecting is stored"
    );
}

fn main() {
    testkit::Suite::new()
        .test(
            "an_event_sent_right_after_connecting_is_acknowledged",
            an_event_sent_right_after_connecting_is_acknowledged,
        )
        .add(
            "a_database_out_of_reach_is_unavailable_at_the_handshake_not_a_sign_out",
            &[testkit::Needs::Postgres],
            |_| a_database_out_of_reach_is_unavailable_at_the_handshake_not_a_sign_out(),
        )
        .test(
            "an_ack_that_does_not_fit_a_full_buffer_closes_the_socket_instead_of_vanishing",
            an_ack_that_does_not_fit_a_full_buffer_closes_the_socket_instead_of_vanishing,
        )
        .test(
            "requests_sent_back_to_back_are_handled_and_acknowledged_in_order",
            requests_sent_back_to_back_are_handled_and_acknowledged_in_order,
        )
        .test(
            "a_closed_connection_leaves_no_task_behind",
            a_closed_connection_leaves_no_task_behind,
        )
        .test(
            "a_send_right_before_disconnecting_is_still_stored",
            a_send_right_before_disconnecting_is_still_stored,
        )
        .run();
}
