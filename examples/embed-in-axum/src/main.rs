//! Serves the shop with the chat merged in on 127.0.0.1:3000.
//!
//! Run with: `cargo run -p embed-in-axum` (then `curl localhost:3000/` and
//! `curl -X POST localhost:3000/api/sessions/visitor -H 'content-type: application/json' -d '{}'`)

use std::net::SocketAddr;

use axum::serve::{Listener, ListenerExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = embed_in_axum::app(
        std::path::Path::new("./data/embed-example-blobs"),
        "change me",
    )?;
    // Chat pushes small frames as they happen: Nagle's algorithm off (TCP_NODELAY), or a
    // push written while the previous one is unacknowledged waits ~40 ms for the ACK.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000")
        .await?
        .tap_io(|tcp| drop(tcp.set_nodelay(true)));
    println!("listening on {}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
