//! A real webhook receiver: an HTTP server on a loopback port that records every request
//! (headers and body) and answers with what the test tells it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    /// What the receiver answered (0: the sender went away before the answer).
    pub status: u16,
}

impl Received {
    /// The `webhook-id` header.
    pub fn id(&self) -> String {
        self.headers["webhook-id"]
            .to_str()
            .expect("webhook-id")
            .to_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// How the receiver answers a request: status and an optional `Retry-After`.
pub type Answer = Box<dyn FnMut(&HeaderMap, &Bytes) -> (u16, Option<String>) + Send>;

struct Shared {
    log: Mutex<Vec<Received>>,
    answer: Mutex<Answer>,
    delay: Mutex<Duration>,
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    pub address: SocketAddr,
    shared: Arc<Shared>,
}

impl Receiver {
    /// Starts a receiver answering 204 on a free port.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("address")).await
    }

    /// Starts a receiver on `address` (a port chosen earlier, for a receiver that comes up
    /// late).
    pub async fn start_on(address: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .expect("bind receiver");
        let address = listener.local_addr().expect("address");
        let shared = Arc::new(Shared {
            log: Mutex::default(),
            answer: Mutex::new(Box::new(|_, _| (204, None))),
            delay: Mutex::new(Duration::ZERO),
        });
        let app = Router::new().fallback(receive).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve receiver") });
        Self { address, shared }
    }

    /// The URL to register.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    /// Answers from now on with `answer`.
    pub fn answer(&self, answer: Answer) {
        *self.shared.answer.lock().expect("lock") = answer;
    }

    /// Waits `delay` before answering each request.
    pub fn delay(&self, delay: Duration) {
        *self.shared.delay.lock().expect("lock") = delay;
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Received> {
        self.shared.log.lock().expect("lock").clone()
    }

    /// Waits until `done` holds for the log (or panics after `within`).
    pub async fn wait_for(
        &self,
        within: Duration,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let log = self.log();
            if done(&log) {
                return log;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the receiver did not get what was expected within {within:?}; it got {} requests",
                log.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    // Logged on arrival (status 0): a sender that dies before the answer still shows here.
    let index = {
        let mut log = shared.log.lock().expect("lock");
        log.push(Received {
            headers: headers.clone(),
            body: body.clone(),
            status: 0,
        });
        log.len() - 1
    };
    let delay = *shared.delay.lock().expect("lock");
    tokio::time::sleep(delay).await;
    let (status, retry_after) = (shared.answer.lock().expect("lock"))(&headers, &body);
    shared.log.lock().expect("lock")[index].status = status;
    let status = StatusCode::from_u16(status).expect("status");
    match retry_after {
        Some(value) => (status, [("retry-after", value)]).into_response(),
        None => status.into_response(),
    }
}

/// The `webhook-id`s of the 2xx-answered requests, in the order they were answered, each
/// once (the first time).
pub fn delivered_ids(log: &[Received]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    log.iter()
        .filter(|r| (200..300).contains(&r.status))
        .map(Received::id)
        .filter(|id| seen.insert(id.clone()))
        .collect()
}
