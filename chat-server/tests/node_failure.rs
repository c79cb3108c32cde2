//! A node dies mid-conversation. Three `chat-server` processes share one PostgreSQL and fan
//! out through LISTEN/NOTIFY (then, in a second test, through NATS). Visitors and agents
//! are spread over the nodes with the resuming real-time client, each sending in turn and
//! reading everything of the rooms it joined; a third of the way through, one node is
//! SIGKILLed, the instant it acknowledged a visitor's last words (the last event of that
//! conversation: no later event can fill a gap there). Its clients reconnect to another
//! node and resume with `since`.
//!
//! Afterwards: every acknowledged message is stored once, in its sender's order; every
//! client handed out every event of its rooms once, in seq order, with no gap (the agents
//! on the surviving nodes the last words too, live); the
//! surviving nodes answered every probe and never dropped a client; and every surviving
//! node lists exactly the agents still connected, the dead node's word on its agents having
//! expired.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use chat_client::{Connection, Incoming, Realtime, RestClient};
use common::nats_server::NatsServer;
use common::process::{all_events, http, login, spawn_via, stored_messages};
use common::scratch::ScratchDatabase;
use serde_json::{Value, json};
use uuid::Uuid;

const NODES: usize = 3;
/// The node that dies.
const DOOMED: usize = 2;
const VISITORS: usize = 6;
/// Messages each client sends.
const SENDS: usize = 24;
/// Not a performance bound: turns a hang into a failure.
const HANG_GUARD: Duration = Duration::from_secs(120);
const PASSWORD: &str = "a long password";

/// The nodes: their processes (the doomed one taken when killed) and addresses.
struct Nodes {
    processes: Vec<std::sync::Mutex<Option<Child>>>,
    addresses: Vec<SocketAddr>,
    _data: Vec<tempfile::TempDir>,
}

impl Nodes {
    fn start(database_url: &str, nats_url: Option<&str>) -> Self {
        let mut extra = vec!["--rate-sessions", "0"];
        if let Some(url) = nats_url {
            extra.extend(["--nats-url", url]);
        }
        let mut nodes = Self {
            processes: Vec::new(),
            addresses: Vec::new(),
            _data: Vec::new(),
        };
        for _ in 0..NODES {
            let data = tempfile::tempdir().expect("data dir");
            let (child, address) = spawn_via(None, data.path(), Some(database_url), &extra);
            nodes.processes.push(std::sync::Mutex::new(Some(child)));
            nodes.addresses.push(address);
            nodes._data.push(data);
        }
        nodes
    }

    fn base(&self, node: usize) -> String {
        format!("http://{}", self.addresses[node])
    }

    /// Every node's WebSocket URL, starting with `first`'s.
    fn urls_from(&self, first: usize) -> Vec<String> {
        (0..NODES)
            .map(|n| format!("ws://{}/api/ws", self.addresses[(first + n) % NODES]))
            .collect()
    }

    fn kill(&self, node: usize) {
        if let Some(mut child) = self.processes[node].lock().expect("lock").take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
        }
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for node in 0..NODES {
            self.kill(node);
        }
    }
}

/// One client: where it started, what it sends to, and what it saw.
struct Client {
    name: String,
    started_on: usize,
    socket: Realtime,
    /// Conversations it sends to, in turn.
    targets: Vec<Uuid>,
    /// Per joined room, the seqs handed out.
    seen: BTreeMap<Uuid, Vec<u64>>,
    /// Its acknowledged sends: (conversation, client id, seq).
    acked: Vec<(Uuid, String, u64)>,
    reconnects: usize,
}

impl Client {
    async fn new(
        name: String,
        nodes: &Nodes,
        started_on: usize,
        token: &str,
        rooms: &[Uuid],
        targets: Vec<Uuid>,
    ) -> Self {
        let mut socket = Realtime::connect_to_any(&nodes.urls_from(started_on), token)
            .await
            .expect("connect");
        for room in rooms {
            socket.join(*room, 0).await.expect("join");
        }
        let mut client = Self {
            name,
            started_on,
            socket,
            targets,
            seen: rooms.iter().map(|room| (*room, Vec::new())).collect(),
            acked: Vec::new(),
            reconnects: 0,
        };
        for room in rooms {
            client.read_until(*room, 1).await;
        }
        client
    }

    /// Sends its messages in turn, each once acknowledged and handed back in its room.
    async fn exchange(mut self, acked: Arc<AtomicUsize>) -> Self {
        for n in 0..SENDS {
            let conversation = self.targets[n % self.targets.len()];
            let client_id = format!("{}-{n}", self.name);
            let text = format!("{} says {n}", self.name);
            let ack = self
                .socket
                .send_with_id(conversation, &text, &client_id)
                .await
                .expect("a send is acknowledged in the end");
            self.acked.push((conversation, client_id, ack.seq));
            acked.fetch_add(1, Ordering::Relaxed);
            self.read_until(conversation, ack.seq).await;
        }
        self
    }

    /// Reads until the room's seq `seq` was handed out.
    async fn read_until(&mut self, room: Uuid, seq: u64) {
        let read = async {
            while self.seen[&room].last().copied().unwrap_or(0) < seq {
                match self.socket.next().await {
                    Ok(Some(Incoming::Log(event))) => {
                        if let Some(seen) = self.seen.get_mut(&event.conversation_id) {
                            seen.push(event.seq);
                        }
                    }
                    Ok(Some(Incoming::Reconnected)) => self.reconnects += 1,
                    Ok(Some(Incoming::Event { .. })) => {}
                    Ok(None) => panic!("{}: the client stopped", self.name),
                    Err(error) => panic!("{}: {error}", self.name),
                }
            }
        };
        tokio::time::timeout(HANG_GUARD, read)
            .await
            .unwrap_or_else(|_| panic!("{}: seq {seq} of {room} never came", self.name));
    }
}

async fn create_agent(address: SocketAddr, owner: &str, email: &str) -> String {
    let body = json!({"email": email, "name": email, "password": PASSWORD});
    let (status, reply) = http(address, "POST", "/api/admins", Some(owner), &body).await;
    assert_eq!(status, 201, "{reply}");
    reply["admin"]["id"].as_str().expect("id").to_owned()
}

/// The agents a node lists online, sorted.
async fn online(address: SocketAddr, owner: &str) -> Vec<String> {
    let (status, reply) = http(address, "GET", "/api/presence", Some(owner), &Value::Null).await;
    assert_eq!(status, 200, "{reply}");
    let mut ids: Vec<String> = reply["online"]
        .as_array()
        .expect("online")
        .iter()
        .map(|id| id.as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    ids
}

/// Probes the surviving nodes' readiness every 25 ms until `done`; the failures.
async fn probe(addresses: Vec<SocketAddr>, done: Arc<AtomicBool>) -> Vec<String> {
    let mut failures = Vec::new();
    while !done.load(Ordering::Relaxed) {
        for address in &addresses {
            let (status, reply) = http(*address, "GET", "/readyz", None, &Value::Null).await;
            if status != 200 {
                failures.push(format!("{address}: {status} {reply}"));
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    failures
}

async fn node_failure(database_url: &str, nats_url: Option<&str>) {
    let nodes = Nodes::start(database_url, nats_url);
    let owner = login(nodes.addresses[0]).await;

    let mut conversations = Vec::new();
    let mut visitors = Vec::new();
    for v in 0..VISITORS {
        let node = v % NODES;
        let rest = RestClient::visitor(&nodes.base(node))
            .await
            .expect("visitor");
        let conversation = rest.start_conversation().await.expect("conversation");
        conversations.push(conversation);
        visitors.push((node, rest, conversation));
    }
    // Started on the doomed node; its one message is acknowledged just before the kill.
    let last_words_rest = RestClient::visitor(&nodes.base(DOOMED))
        .await
        .expect("visitor");
    let last_words = last_words_rest
        .start_conversation()
        .await
        .expect("conversation");
    let mut agent_rooms = conversations.clone();
    agent_rooms.push(last_words);
    let mut clients = Vec::new();
    let mut agent_ids = Vec::new();
    for node in 0..NODES {
        let email = format!("agent{node}@example.com");
        agent_ids.push(create_agent(nodes.addresses[0], &owner, &email).await);
        let rest = RestClient::login(&nodes.base(node), &email, PASSWORD)
            .await
            .expect("agent login");
        let name = format!("agent{node}");
        let client = Client::new(
            name,
            &nodes,
            node,
            rest.token(),
            &agent_rooms,
            conversations.clone(),
        );
        clients.push(client.await);
    }
    for (v, (node, rest, conversation)) in visitors.iter().enumerate() {
        let name = format!("visitor{v}");
        let rooms = [*conversation];
        let client = Client::new(name, &nodes, *node, rest.token(), &rooms, rooms.to_vec());
        clients.push(client.await);
    }
    // An agent connected only to the doomed node, by a socket that never reconnects.
    let stranded_email = "stranded@example.com";
    let stranded_id = create_agent(nodes.addresses[0], &owner, stranded_email).await;
    let stranded = RestClient::login(&nodes.base(DOOMED), stranded_email, PASSWORD)
        .await
        .expect("login");
    let stranded_socket = Connection::connect(&nodes.urls_from(DOOMED)[0], stranded.token())
        .await
        .expect("connect");
    let mut everyone = agent_ids.clone();
    everyone.push(stranded_id.clone());
    everyone.sort();
    for node in 0..NODES {
        let listed = eventually(|| online(nodes.addresses[node], &owner), &everyone).await;
        assert_eq!(listed, everyone, "node {node} before the failure");
    }

    let survivors: Vec<SocketAddr> = (0..NODES)
        .filter(|n| *n != DOOMED)
        .map(|n| nodes.addresses[n])
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let prober = tokio::spawn(probe(survivors.clone(), done.clone()));
    let acked = Arc::new(AtomicUsize::new(0));
    let total = clients.len() * SENDS;
    let running: Vec<_> = clients
        .into_iter()
        .map(|client| tokio::spawn(client.exchange(acked.clone())))
        .collect();
    let kill = async {
        while acked.load(Ordering::Relaxed) < total / 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let said = last_words_rest
            .send_with_id(last_words, "last words", "last-words")
            .await
            .expect("the last words are acknowledged");
        nodes.kill(DOOMED);
        said.seq
    };
    let last_words_seq = tokio::time::timeout(HANG_GUARD, kill)
        .await
        .expect("the exchange stalled before the failure");
    let mut clients = Vec::new();
    for client in running {
        clients.push(client.await.expect("client"));
    }
    drop(stranded_socket);

    // Every acknowledged message is stored once, in its sender's order.
    let events = all_events(survivors[0], &owner, &last_words.to_string()).await;
    assert_eq!(
        stored_messages(&events),
        [(last_words_seq, "last-words".to_owned())]
    );
    let mut last_seqs = BTreeMap::from([(last_words, events.len() as u64)]);
    for conversation in &conversations {
        let events = all_events(survivors[0], &owner, &conversation.to_string()).await;
        let stored: BTreeMap<String, u64> = stored_messages(&events)
            .into_iter()
            .map(|(seq, client_id)| (client_id, seq))
            .collect();
        for client in &clients {
            let mine: Vec<&(Uuid, String, u64)> = client
                .acked
                .iter()
                .filter(|(to, _, _)| to == conversation)
                .collect();
            for (_, client_id, seq) in &mine {
                assert_eq!(
                    stored.get(client_id),
                    Some(seq),
                    "{client_id} was acknowledged at {seq}"
                );
            }
            let seqs: Vec<u64> = mine.iter().map(|(_, _, seq)| *seq).collect();
            assert!(
                seqs.is_sorted(),
                "{}'s messages reordered: {seqs:?}",
                client.name
            );
        }
        last_seqs.insert(*conversation, events.len() as u64);
    }

    // Every client hands out every event of its rooms once, in order, with no gap.
    for client in &mut clients {
        for (room, last) in &last_seqs {
            if client.seen.contains_key(room) {
                client.read_until(*room, *last).await;
                let expected: Vec<u64> = (1..=*last).collect();
                assert_eq!(client.seen[room], expected, "{} in {room}", client.name);
            }
        }
        if client.started_on == DOOMED {
            assert!(client.reconnects > 0, "{} never moved", client.name);
            assert_ne!(client.socket.url(), nodes.urls_from(DOOMED)[0]);
        } else {
            assert_eq!(client.reconnects, 0, "{} lost its node", client.name);
        }
    }
    done.store(true, Ordering::Relaxed);
    let failures = prober.await.expect("prober");
    assert!(
        failures.is_empty(),
        "the survivors failed probes: {failures:?}"
    );

    // Every survivor lists the connected agents (the moved one too), and not the stranded
    // one once the dead node's word on it expired.
    let mut connected = agent_ids.clone();
    connected.sort();
    for address in survivors {
        let listed = eventually(|| online(address, &owner), &connected).await;
        assert_eq!(listed, connected, "{address} after the failure");
    }
}

/// Polls `read` until it returns `wanted`, for up to the presence expiry and a heartbeat
/// (and some); the last answer.
async fn eventually<F, Fut>(read: F, wanted: &[String]) -> Vec<String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let got = read().await;
        if got == wanted || tokio::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn database(name: &str) -> ScratchDatabase {
    let url = testkit::postgres().expect("testkit found PostgreSQL");
    let scratch = format!("chat_{name}_{}", std::process::id());
    ScratchDatabase::create(&url, &scratch)
}

async fn a_node_dies_and_its_clients_resume_elsewhere_over_listen_notify() {
    let database = database("node_failure_pg");
    node_failure(&database.url, None).await;
}

async fn a_node_dies_and_its_clients_resume_elsewhere_over_nats() {
    let database = database("node_failure_nats");
    let nats = NatsServer::start().expect("testkit found nats-server");
    node_failure(&database.url, Some(&nats.url())).await;
}

fn main() {
    testkit::Suite::new()
        .add(
            "a_node_dies_and_its_clients_resume_elsewhere_over_listen_notify",
            &[testkit::Needs::Postgres],
            |_| a_node_dies_and_its_clients_resume_elsewhere_over_listen_notify(),
        )
        .add(
            "a_node_dies_and_its_clients_resume_elsewhere_over_nats",
            &[testkit::Needs::Postgres, testkit::Needs::NatsServer],
            |_| a_node_dies_and_its_clients_resume_elsewhere_over_nats(),
        )
        .run();
}
