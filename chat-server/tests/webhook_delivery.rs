//! Webhook delivery from a real `chat-server` process to a real HTTP receiver, on sled and
//! on PostgreSQL:
//!
//! - `kill -9` of the server while deliveries are in flight loses no event: after a
//!   restart (and the dead process's claim on the endpoint expiring, three attempt timeouts)
//!   the receiver has seen every event's `webhook-id` at least once (so it can dedupe),
//!   first seen in feed order.
//! - A receiver that is down for a while gets everything once it comes back, in order.
//!
//! Every request's signature is checked with the `standardwebhooks` crate.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::process::{http, login, spawn_via, visitor_with_conversation};
use common::receiver::{Received, Receiver, delivered_ids};
use common::scratch::ScratchDatabase;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);
/// Fast retries, so a test waits seconds, not hours.
const OPTIONS: [&str; 5] = [
    "--webhook-allow-private",
    "--webhook-timeout",
    "1",
    "--webhook-retry-schedule",
    "0.1,0.2,0.3,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5",
];

/// Registers `url` for every event; returns its secret.
async fn register(address: SocketAddr, owner: &str, url: &str) -> String {
    let (status, reply) = http(
        address,
        "POST",
        "/api/webhooks",
        Some(owner),
        &json!({"url": url}),
    )
    .await;
    assert_eq!(status, 201, "{reply}");
    reply["webhook"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned()
}

async fn send_messages(address: SocketAddr, count: usize) {
    let (token, conversation) = visitor_with_conversation(address).await;
    for n in 0..count {
        let body = json!({"conversationId": conversation, "senderType": "customer",
            "message": format!("m{n}"), "timestamp": "2026-01-01T00:00:00Z"});
        let (status, reply) =
            http(address, "POST", "/api/messages/send", Some(&token), &body).await;
        assert_eq!(status, 200, "{reply}");
    }
}

/// The `webhook-id` of every change in the feed, in feed order.
async fn feed_ids(address: SocketAddr, owner: &str) -> Vec<String> {
    let (status, page) = http(
        address,
        "GET",
        "/api/changes?after=0&limit=1000",
        Some(owner),
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|change| {
            let event = &change["event"];
            let conversation = event["conversationId"]
                .as_str()
                .expect("id")
                .replace('-', "");
            format!("evt_{conversation}_{}", event["seq"])
        })
        .collect()
}

fn verify_all(log: &[Received], secret: &str) {
    let verifier = standardwebhooks::Webhook::new(secret).expect("secret");
    for request in log {
        verifier
            .verify(&request.body, &request.headers)
            .expect("every request is signed");
    }
}

async fn kill_during_delivery(database_url: Option<&str>) {
    let data = tempfile::tempdir().expect("temp dir");
    let receiver = Receiver::start().await;
    receiver.delay(Duration::from_millis(40));
    let (mut server, address) = spawn_via(None, data.path(), database_url, &OPTIONS);
    let owner = login(address).await;
    let secret = register(address, &owner, &receiver.url()).await;
    send_messages(address, 40).await;
    receiver.wait_for(WAIT, |log| log.len() >= 10).await;
    server.kill().expect("kill -9");
    server.wait().expect("reaped");
    let at_kill = receiver.log().len();

    let (mut server, address) = spawn_via(None, data.path(), database_url, &OPTIONS);
    let expected = feed_ids(address, &owner).await;
    assert!(expected.len() > 40, "the feed has every event");
    let log = receiver
        .wait_for(WAIT, |log| delivered_ids(log).len() >= expected.len())
        .await;
    server.kill().expect("stop");
    server.wait().expect("reaped");
    verify_all(&log, &secret);
    assert_eq!(
        delivered_ids(&log),
        expected,
        "every event seen at least once, first in feed order"
    );
    eprintln!(
        "kill -9 after {at_kill} requests: {} requests for {} events ({} sent again)",
        log.len(),
        expected.len(),
        log.len() - expected.len()
    );
}

async fn receiver_down_for_a_while(database_url: Option<&str>) {
    let data = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    let target = port.local_addr().expect("address");
    drop(port);
    let (mut server, address) = spawn_via(None, data.path(), database_url, &OPTIONS);
    let owner = login(address).await;
    let url = format!("http://{target}/hook");
    let secret = register(address, &owner, &url).await;
    send_messages(address, 10).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, list) = http(address, "GET", "/api/webhooks", Some(&owner), &Value::Null).await;
    let webhook = &list["webhooks"][0];
    assert!(
        webhook["attempts"].as_u64().expect("attempts") > 0,
        "retrying: {webhook}"
    );

    let receiver = Receiver::start_on(target).await;
    let expected = feed_ids(address, &owner).await;
    let log = receiver
        .wait_for(WAIT, |log| delivered_ids(log).len() >= expected.len())
        .await;
    server.kill().expect("stop");
    server.wait().expect("reaped");
    verify_all(&log, &secret);
    let ids: Vec<String> = log.iter().map(Received::id).collect();
    assert_eq!(
        ids, expected,
        "everything, in order, once the receiver is back"
    );
}

fn postgres(test: &str) -> ScratchDatabase {
    let url = testkit::postgres().expect("testkit found PostgreSQL");
    ScratchDatabase::create(&url, &format!("chat_{test}_{}", std::process::id()))
}

async fn webhooks_survive_kill_9_on_sled() {
    kill_during_delivery(None).await;
}

async fn webhooks_survive_kill_9_on_postgres() {
    let database = postgres("webhook_kill");
    kill_during_delivery(Some(&database.url)).await;
}

async fn a_receiver_that_was_down_gets_everything_in_order_on_sled() {
    receiver_down_for_a_while(None).await;
}

async fn a_receiver_that_was_down_gets_everything_in_order_on_postgres() {
    let database = postgres("webhook_down");
    receiver_down_for_a_while(Some(&database.url)).await;
}

fn main() {
    testkit::Suite::new()
        .test(
            "webhooks_survive_kill_9_on_sled",
            webhooks_survive_kill_9_on_sled,
        )
        .add(
            "webhooks_survive_kill_9_on_postgres",
            &[testkit::Needs::Postgres],
            |_| webhooks_survive_kill_9_on_postgres(),
        )
        .test(
            "a_receiver_that_was_down_gets_everything_in_order_on_sled",
            a_receiver_that_was_down_gets_everything_in_order_on_sled,
        )
        .add(
            "a_receiver_that_was_down_gets_everything_in_order_on_postgres",
            &[testkit::Needs::Postgres],
            |_| a_receiver_that_was_down_gets_everything_in_order_on_postgres(),
        )
        .run();
}
