//! The bot example (`examples/bot`, on chat-client's change-feed reader) against a real
//! `chat-server`: it answers each visitor message once, including a conversation started
//! while the server was down and restarted after a `kill -9`, and a second bot restarted
//! from an older position answers nothing twice.

mod common;

use std::time::Duration;

use chat_client::RestClient;
use common::process::{free_port, spawn_via};
use serde_json::Value;
use uuid::Uuid;

/// The texts of the messages in `conversation`, read as the visitor.
async fn messages(visitor: &RestClient, conversation: Uuid) -> Vec<String> {
    let page = visitor.events(conversation, 0).await.expect("events");
    page["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|event: &Value| event["message"]["content"].as_str().map(str::to_owned))
        .collect()
}

/// Waits until `conversation` holds `count` answers from the bot (panics after 30 s).
async fn answers(visitor: &RestClient, conversation: Uuid, count: usize) -> Vec<String> {
    for _ in 0..300 {
        let all = messages(visitor, conversation).await;
        if all.iter().filter(|m| *m == bot::ANSWER).count() >= count {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no {count} answers: {:?}",
        messages(visitor, conversation).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_answers_each_message_once_across_a_server_crash() {
    let bind = format!("127.0.0.1:{}", free_port());
    let options = ["--bind", bind.as_str()];
    let data = tempfile::tempdir().expect("data dir");
    let (mut server, address) = spawn_via(None, data.path(), None, &options);
    let base = format!("http://{address}");
    let agent = RestClient::login(&base, "owner@example.com", "a long password")
        .await
        .expect("login");
    let bot = {
        let agent = agent.clone();
        tokio::spawn(async move { bot::run(&agent, 0, |_| {}).await })
    };

    let visitor = RestClient::visitor(&base).await.expect("visitor");
    let conversation = visitor.start_conversation().await.expect("conversation");
    visitor
        .send_message(conversation, "hello?")
        .await
        .expect("send");
    answers(&visitor, conversation, 1).await;

    server.kill().expect("kill -9");
    server.wait().expect("reaped");
    let (mut server, _) = spawn_via(None, data.path(), None, &options);
    visitor
        .send_message(conversation, "anyone there?")
        .await
        .expect("send after the restart");
    let other = RestClient::visitor(&base).await.expect("another visitor");
    let second = other.start_conversation().await.expect("conversation");
    other.send_message(second, "me too").await.expect("send");
    answers(&visitor, conversation, 2).await;
    answers(&other, second, 1).await;

    // A second bot from the start of the feed: every answer exists already.
    let replay = {
        let agent = agent.clone();
        tokio::spawn(async move { bot::run(&agent, 0, |_| {}).await })
    };
    // Time for a wrong second answer to show up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        messages(&visitor, conversation).await,
        ["hello?", bot::ANSWER, "anyone there?", bot::ANSWER],
        "each visitor message answered once, in order"
    );
    assert_eq!(messages(&other, second).await, ["me too", bot::ANSWER]);
    replay.abort();
    bot.abort();
    server.kill().expect("stop");
    server.wait().expect("reaped");
}
