//! A TCP proxy in front of a server, whose link can be cut: its connections drop and new
//! ones are refused until it is restored (a network fault on one client's path while the
//! others keep theirs).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running proxy.
pub struct Proxy {
    /// Where clients connect.
    pub address: SocketAddr,
    down: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Proxies to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let down = Arc::new(AtomicBool::new(false));
        let (cuts, _) = watch::channel(0);
        let task = tokio::spawn(accept(listener, target, down.clone(), cuts.clone()));
        Self {
            address,
            down,
            cuts,
            task,
        }
    }

    /// Drops every connection, and refuses new ones until [`restore`](Self::restore).
    pub fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.cuts.send_modify(|generation| *generation += 1);
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut();
    }
}

async fn accept(
    listener: TcpListener,
    target: SocketAddr,
    down: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
) {
    while let Ok((mut inbound, _)) = listener.accept().await {
        if down.load(Ordering::SeqCst) {
            continue;
        }
        let mut cut = cuts.subscribe();
        tokio::spawn(async move {
            let Ok(mut outbound) = TcpStream::connect(target).await else {
                return;
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                _ = cut.changed() => {}
            }
        });
    }
}
