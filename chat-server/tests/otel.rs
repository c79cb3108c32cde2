//! `--otlp-endpoint` (the `otel` feature): a real `chat-server` exports its spans over
//! OTLP/HTTP to a real HTTP receiver standing in for the collector; a request's span
//! arrives, protobuf-encoded, from service `chat-server`, named by its route (a query's
//! secret never leaves the server).
#![cfg(feature = "otel")]

mod common;

use std::process::Command;
use std::time::Duration;

use common::process::{http, spawn_via};
use common::receiver::Receiver;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_span_reaches_the_collector() {
    let collector = Receiver::start().await;
    let endpoint = format!("http://{}/v1/traces", collector.address);
    let data = tempfile::tempdir().expect("data dir");
    let mut wrapper = Command::new("env");
    // Batches every 200 ms instead of 5 s, so the test waits little.
    wrapper.arg("OTEL_BSP_SCHEDULE_DELAY=200");
    let (mut server, address) = spawn_via(
        Some(wrapper),
        data.path(),
        None,
        &["--otlp-endpoint", endpoint.as_str()],
    );
    let (status, _) = http(address, "POST", "/api/sessions/visitor", None, &json!({})).await;
    assert_eq!(status, 201);
    // A query may carry a secret: spans name the route, never the URI.
    let leak = format!(
        "/api/visitors/{}/unsubscribe?token=leakcheck4711",
        uuid::Uuid::new_v4()
    );
    http(address, "POST", &leak, None, &json!({})).await;

    let log = collector
        .wait_for(Duration::from_secs(30), |log| {
            log.iter()
                .any(|r| contains(&r.body, b"/api/sessions/visitor"))
        })
        .await;
    let export = log
        .iter()
        .find(|r| contains(&r.body, b"/api/sessions/visitor"))
        .expect("an export with the request's span");
    assert_eq!(export.headers["content-type"], "application/x-protobuf");
    assert!(contains(&export.body, b"chat-server"), "the service name");
    let everything = collector
        .wait_for(Duration::from_secs(30), |log| {
            log.iter()
                .any(|r| contains(&r.body, b"/api/visitors/{id}/unsubscribe"))
        })
        .await;
    assert!(
        everything
            .iter()
            .all(|r| !contains(&r.body, b"leakcheck4711")),
        "a token in a query string was exported"
    );
    server.kill().expect("stop");
    server.wait().expect("reaped");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
