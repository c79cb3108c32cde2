//! The TCP listener: every accepted connection has Nagle's algorithm off (`TCP_NODELAY`).
//! Chat traffic is small frames pushed as they happen; with Nagle on, a frame written
//! while the previous one is unacknowledged waits for the peer's delayed ACK (about 40 ms
//! on Linux), which put a 40–50 ms floor under p99 delivery whenever a socket received
//! frames back to back (an agent's dashboard: messages and inbox updates).

use axum::serve::{ListenerExt, TapIo};
use tokio::net::{TcpListener, TcpStream};

/// The listener [`bind`] returns.
pub type NoDelayListener = TapIo<TcpListener, fn(&mut TcpStream)>;

/// Binds `addr`; accepted connections have `TCP_NODELAY` set.
pub async fn bind(addr: std::net::SocketAddr) -> std::io::Result<NoDelayListener> {
    let listener = TcpListener::bind(addr).await?;
    Ok(listener.tap_io(no_delay as fn(&mut TcpStream)))
}

fn no_delay(stream: &mut TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::warn!(%error, "could not set TCP_NODELAY on a connection");
    }
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener;

    use super::*;

    #[tokio::test]
    async fn accepted_connections_do_not_wait_to_coalesce_small_writes() {
        let mut listener = bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let _client = TcpStream::connect(addr).await.expect("connect");
        let (accepted, _) = listener.accept().await;
        assert!(accepted.nodelay().expect("nodelay"), "TCP_NODELAY is set");
    }
}
