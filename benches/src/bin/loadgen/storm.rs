//! Connect storm: as many visitors as possible, each making a session, starting a
//! conversation, connecting and joining, `concurrency` at a time.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, stream};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::Target;
use crate::conn::Conn;
use crate::report::Usage;
use crate::rest::Rest;

async fn arrive(target: &Target, rest: &Rest, n: usize) -> anyhow::Result<(Conn, Duration)> {
    let started = Instant::now();
    let token = rest.visitor().await?;
    let id = rest.conversation(&token).await?;
    let conn = Conn::open(target.url(n), target.wire, &token, Arc::new(|_, _| {})).await?;
    conn.request(
        "conversation:join",
        &json!({"conversationId": id, "since": 0}),
    )
    .await?;
    Ok((conn, started.elapsed()))
}

pub async fn storm(target: &Target, visitors: usize, concurrency: usize) -> anyhow::Result<Value> {
    let rest = Rest::new(target.url(0));
    let before = Usage::of(&target.pids);
    let started = Instant::now();
    let arrivals = stream::iter(0..visitors)
        .map(|n| arrive(target, &rest, n))
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let elapsed = started.elapsed();
    let usage = Usage::of(&target.pids).since(before);
    let mut latency = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let mut failed = 0;
    let mut conns = Vec::new();
    for arrival in arrivals {
        match arrival {
            Ok((conn, took)) => {
                latency.record(u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1))?;
                conns.push(conn);
            }
            Err(error) => {
                failed += 1;
                eprintln!("arrival failed: {error:#}");
            }
        }
    }
    for conn in conns {
        conn.close();
    }
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    Ok(json!({
        "visitors": visitors,
        "failed": failed,
        "seconds": elapsed.as_secs_f64(),
        "arrivalsPerSecond": (visitors - failed) as f64 / elapsed.as_secs_f64(),
        "arrivalMs": {"p50": ms(0.5), "p99": ms(0.99), "max": ms(1.0)},
        "serverCpuSeconds": usage.cpu_seconds,
        "serverRssBytes": usage.rss_bytes,
    }))
}
