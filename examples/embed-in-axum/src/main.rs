//! Serves the shop with the chat merged in on 127.0.0.1:3000, with one staff member signed
//! in to the shop.
//!
//! Run with: `cargo run -p embed-in-axum`, then open the printed dashboard link, or
//! `curl -X POST localhost:3000/api/sessions/visitor -H 'content-type: application/json' -d '{}'`.

use std::net::SocketAddr;

use axum::serve::{Listener, ListenerExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (app, staff) = embed_in_axum::app(std::path::Path::new("./data/embed-example-blobs"))?;
    let token = staff.sign_in(embed_in_axum::StaffMember {
        id: "staff-1".into(),
        name: "Sam Staff".into(),
        email: "sam@shop.example".into(),
        manager: true,
    });
    // Where /staff/support sends a staff member signed in to the shop.
    let pass = staff.dashboard_pass(&token).expect("signed in");
    println!("staff dashboard: http://127.0.0.1:3000/admin#token={pass}");
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
