//! Idle connections: N authenticated connections that only exchange heartbeats; reports the
//! server's resident memory per connection.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use tokio::time::sleep;

use crate::Target;
use crate::conn::Conn;
use crate::report::Usage;
use crate::rest::Rest;

pub async fn idle(target: &Target, connections: usize, hold: Duration) -> anyhow::Result<Value> {
    let rest = Rest::new(target.url(0));
    let token = rest.visitor().await?;
    // One connection first, so the baseline includes everything that is not per connection.
    let first = Conn::open(target.url(0), target.wire, &token, Arc::new(|_, _| {})).await?;
    sleep(Duration::from_secs(2)).await;
    let before = Usage::of(&target.pids);
    let opened = stream::iter(1..connections)
        .map(|n| Conn::open(target.url(n), target.wire, &token, Arc::new(|_, _| {})))
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    let open: Vec<Conn> = opened.into_iter().collect::<anyhow::Result<_>>()?;
    eprintln!(
        "idle: {} connections open, holding {hold:?}",
        open.len() + 1
    );
    sleep(hold).await;
    let after = Usage::of(&target.pids);
    let added = open.len().max(1) as f64;
    let per_connection = after.rss_bytes.saturating_sub(before.rss_bytes) as f64 / added;
    for conn in open {
        conn.close();
    }
    first.close();
    Ok(json!({
        "connections": connections,
        "serverRssBeforeBytes": before.rss_bytes,
        "serverRssAfterBytes": after.rss_bytes,
        "rssPerConnectionBytes": per_connection.round(),
        "serverCpuSecondsWhileIdle": after.since(before).cpu_seconds,
        "holdSeconds": hold.as_secs_f64(),
    }))
}
