//! `GET /metrics` in the Prometheus text format on its own listener (`--metrics-bind`), so
//! the scrape port can stay private while the chat port is public. It renders what
//! `chat_http::metrics` and the stores record through the `metrics` facade.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, in seconds.
const SECONDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Batch size buckets.
const SIZES: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0];

/// Installs the Prometheus recorder and serves it on `bind`; returns the address it
/// listens on.
pub async fn serve(bind: SocketAddr) -> Result<SocketAddr, Box<dyn std::error::Error>> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)?
        .set_buckets_for_metric(Matcher::Full("chat_store_batch_size".into()), &SIZES)?
        .install_recorder()?;
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let address = listener.local_addr()?;
    tokio::spawn(upkeep(handle.clone()));
    let app = Router::new().route("/metrics", get(move || render(handle.clone())));
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    Ok(address)
}

async fn render(handle: PrometheusHandle) -> String {
    handle.render()
}

/// Drains histogram buffers now and then, as the exporter asks of its embedder.
async fn upkeep(handle: PrometheusHandle) {
    let mut ticks = tokio::time::interval(Duration::from_secs(5));
    loop {
        ticks.tick().await;
        handle.run_upkeep();
    }
}
