//! A private `nats-server` process per test: on a free loopback port, restartable on the
//! same port (a broker restart cuts every client's link), killed with its value. `None`
//! where the `nats-server` binary is missing, so the test says SKIPPED.

use std::io::Write;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A running `nats-server`.
pub struct NatsServer {
    port: u16,
    config: tempfile::NamedTempFile,
    child: Mutex<Option<Child>>,
}

impl NatsServer {
    /// A server with the default message limit (1 MiB).
    pub fn start() -> Option<Self> {
        Self::with_config("")
    }

    /// A server that refuses messages over `bytes`.
    pub fn with_max_payload(bytes: usize) -> Option<Self> {
        Self::with_config(&format!("max_payload: {bytes}\n"))
    }

    fn with_config(extra: &str) -> Option<Self> {
        let installed = Command::new("nats-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status();
        if !installed.is_ok_and(|status| status.success()) {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let mut config = tempfile::NamedTempFile::new().expect("config file");
        write!(config, "listen: 127.0.0.1:{port}\n{extra}").expect("write config");
        let server = Self {
            port,
            config,
            child: Mutex::new(None),
        };
        server.run();
        Some(server)
    }

    /// Its client URL.
    pub fn url(&self) -> String {
        format!("nats://{}", self.address())
    }

    /// Where it listens.
    pub fn address(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    /// Kills the server (every client loses its link).
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().expect("lock").take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server and starts it again on the same port.
    pub fn restart(&self) {
        self.stop();
        self.run();
    }

    /// Starts the server (after [`stop`](Self::stop)) and waits until it listens.
    pub fn run(&self) {
        let child = Command::new("nats-server")
            .arg("-c")
            .arg(self.config.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nats-server");
        *self.child.lock().expect("lock") = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.answers() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether a NATS server answers on the port with its `INFO` line (a bare connect is
    /// not enough: to a port nobody listens on, a loopback connect can reach itself).
    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut greeting = [0; 4];
        std::io::Read::read_exact(&mut stream, &mut greeting).is_ok() && &greeting == b"INFO"
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}
