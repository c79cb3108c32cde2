//! Serves the shop with the chat merged in on 127.0.0.1:3000.
//!
//! Run with: `cargo run -p embed-in-axum` (then `curl localhost:3000/` and
//! `curl -X POST localhost:3000/api/sessions/visitor -H 'content-type: application/json' -d '{}'`)

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = embed_in_axum::app(
        std::path::Path::new("./data/embed-example-blobs"),
        "change me",
    )?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
