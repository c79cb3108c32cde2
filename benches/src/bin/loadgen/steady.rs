//! Steady chat and saturation in two shapes: `stress` (K conversations, each with a visitor
//! and an agent connection of its own, plus an inbox watcher per 50) and `team` (K visitors,
//! a few agents' dashboards each joined to its share of the conversations and receiving the
//! inbox, agents answering). Senders write at a fixed open-loop rate (latency counts from
//! the scheduled send time, so a slow server cannot hide behind a slow client); receivers
//! check every delivery for loss, duplicates and order.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use tokio::time::{Instant, sleep, sleep_until};

use crate::Target;
use crate::conn::{Conn, OnEvent};
use crate::report::{Usage, Window};
use crate::rest::Rest;

/// A ~150-byte message body.
pub const BODY: &str = "Hello, I ordered a pair of running shoes last week and the tracking page still says \
                    the parcel is waiting at the depot. Could you check it for me?";

/// Acknowledged messages that never reached their agent, over all conversations.
pub fn lost<'a>(tracks: impl Iterator<Item = &'a Mutex<Track>>) -> u64 {
    tracks
        .map(|track| {
            let track = track.lock().expect("track");
            track.acked.difference(&track.seen).count() as u64
        })
        .sum()
}

/// What one conversation's agent has received, across windows.
#[derive(Default)]
pub struct Track {
    pub seen: HashSet<u64>,
    pub last: u64,
    pub acked: HashSet<u64>,
}

/// Who works the conversations.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// `stress`: every conversation has an agent connection of its own joined to it, plus
    /// one inbox-watching agent per 50 conversations; only visitors write.
    Stress,
    /// `team`: `agents` dashboard connections, each receiving the inbox and joined to an
    /// even share of the conversations; visitors write at the rate, agents answer at half
    /// of it.
    Team {
        /// Dashboard connections.
        agents: usize,
    },
}

/// One scheduled writer: a connection writing into one conversation.
struct Sender {
    conversation: String,
    conn: Arc<Conn>,
    sender_type: &'static str,
    /// Its share of the offered rate (the visitors' shares sum to 1).
    share: f64,
    /// Where in its interval it starts, in [0, 1): senders of a kind spread evenly.
    slot: f64,
    /// What the other side must receive.
    track: Arc<Mutex<Track>>,
}

/// The connections of a run, and the window their callbacks count into.
pub struct Chat {
    senders: Vec<Arc<Sender>>,
    tracks: Vec<Arc<Mutex<Track>>>,
    connections: usize,
    _conns: Vec<Arc<Conn>>,
    window: Arc<Mutex<Arc<Window>>>,
    epoch: Instant,
}

/// The `clientMessageId` carries the scheduled send time, so any receiver can time it.
pub fn client_id(conversation: usize, n: u64, scheduled_us: u64) -> String {
    format!("lg-{conversation}-{n}-{scheduled_us}")
}

fn scheduled_us(client_id: &str) -> Option<u64> {
    client_id.rsplit('-').next()?.parse().ok()
}

/// A visitor's conversation before any agent connects: what each side must receive.
struct Opened {
    id: String,
    visitor: Arc<Conn>,
    to_agent: Arc<Mutex<Track>>,
    to_visitor: Arc<Mutex<Track>>,
}

impl Chat {
    /// Sets up `conversations` conversations in `shape` with their connections.
    pub async fn connect(
        target: &Target,
        conversations: usize,
        shape: Shape,
    ) -> anyhow::Result<Self> {
        let rest = Rest::new(target.url(0));
        let agent = rest
            .login(&target.admin_email, &target.admin_password)
            .await?;
        let window: Arc<Mutex<Arc<Window>>> = Arc::default();
        let epoch = Instant::now();
        let opened = stream::iter(0..conversations)
            .map(|n| Self::open(target, n, &rest, window.clone(), epoch))
            .buffered(32)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<Vec<_>>>()?;
        let agents = match shape {
            Shape::Stress => Self::stress_agents(target, &agent, &opened, &window, epoch).await?,
            Shape::Team { agents } => {
                Self::team_agents(target, &agent, &opened, &window, epoch, agents).await?
            }
        };
        let share = 1.0 / conversations.max(1) as f64;
        let mut senders: Vec<Arc<Sender>> = opened
            .iter()
            .enumerate()
            .map(|(index, o)| {
                Arc::new(Sender {
                    conversation: o.id.clone(),
                    conn: o.visitor.clone(),
                    sender_type: "customer",
                    share,
                    slot: index as f64 * share,
                    track: o.to_agent.clone(),
                })
            })
            .collect();
        if let Shape::Team { agents: count } = shape {
            senders.extend(opened.iter().enumerate().map(|(index, o)| {
                Arc::new(Sender {
                    conversation: o.id.clone(),
                    conn: agents[index % count].clone(),
                    sender_type: "admin",
                    share: share / 2.0,
                    slot: index as f64 * share,
                    track: o.to_visitor.clone(),
                })
            }));
        }
        let tracks = opened
            .iter()
            .flat_map(|o| [o.to_agent.clone(), o.to_visitor.clone()])
            .collect();
        let mut conns: Vec<Arc<Conn>> = opened.iter().map(|o| o.visitor.clone()).collect();
        conns.extend(agents);
        Ok(Self {
            senders,
            tracks,
            connections: conns.len(),
            _conns: conns,
            window,
            epoch,
        })
    }

    /// The `n`th visitor with a conversation, connected (to node `n`, round robin) and
    /// joined; its connection counts the agents' answers.
    async fn open(
        target: &Target,
        n: usize,
        rest: &Rest,
        window: Arc<Mutex<Arc<Window>>>,
        epoch: Instant,
    ) -> anyhow::Result<Opened> {
        let token = rest.visitor().await?;
        let id = rest.conversation(&token).await?;
        let to_visitor: Arc<Mutex<Track>> = Arc::default();
        let counter = delivery_counter(id.clone(), to_visitor.clone(), window, epoch, "admin");
        let visitor = Conn::open(target.url(n), target.wire, &token, counter).await?;
        let join = json!({"conversationId": id, "since": 0});
        visitor
            .request("conversation:join", &join)
            .await
            .context("visitor join")?;
        Ok(Opened {
            id,
            visitor: Arc::new(visitor),
            to_agent: Arc::default(),
            to_visitor,
        })
    }

    /// One agent connection per conversation (on the node after its visitor's), plus an
    /// inbox watcher per 50.
    async fn stress_agents(
        target: &Target,
        agent: &str,
        opened: &[Opened],
        window: &Arc<Mutex<Arc<Window>>>,
        epoch: Instant,
    ) -> anyhow::Result<Vec<Arc<Conn>>> {
        let mut conns = Vec::new();
        for (n, o) in opened.iter().enumerate() {
            let counter = delivery_counter(
                o.id.clone(),
                o.to_agent.clone(),
                window.clone(),
                epoch,
                "customer",
            );
            let conn = Conn::open(target.url(n + 1), target.wire, agent, counter).await?;
            join(&conn, &o.id).await?;
            conns.push(Arc::new(conn));
        }
        for n in 0..opened.len().div_ceil(50) {
            let on_event = inbox_counter(window.clone(), HashMap::new());
            conns.push(Arc::new(
                Conn::open(target.url(n), target.wire, agent, on_event).await?,
            ));
        }
        Ok(conns)
    }

    /// `agents` dashboard connections: each receives the inbox and is joined to every
    /// `agents`-th conversation.
    async fn team_agents(
        target: &Target,
        agent: &str,
        opened: &[Opened],
        window: &Arc<Mutex<Arc<Window>>>,
        epoch: Instant,
        agents: usize,
    ) -> anyhow::Result<Vec<Arc<Conn>>> {
        let mut conns = Vec::new();
        for first in 0..agents {
            let mine: Vec<&Opened> = opened.iter().skip(first).step_by(agents).collect();
            let routes = mine
                .iter()
                .map(|o| {
                    let counter = delivery_counter(
                        o.id.clone(),
                        o.to_agent.clone(),
                        window.clone(),
                        epoch,
                        "customer",
                    );
                    (o.id.clone(), counter)
                })
                .collect();
            let on_event = inbox_counter(window.clone(), routes);
            // On the node after its first conversation's visitor: with two nodes every room
            // spans both.
            let conn = Conn::open(target.url(first + 1), target.wire, agent, on_event).await?;
            for o in mine {
                join(&conn, &o.id).await?;
            }
            conns.push(Arc::new(conn));
        }
        Ok(conns)
    }

    /// The number of live connections.
    pub fn connections(&self) -> usize {
        self.connections
    }

    /// Sends at `rate` visitor messages per second in total (plus the agents' answers in
    /// the team shape) for `duration`, then waits up to `grace` for deliveries; returns the
    /// window.
    pub async fn run(&self, rate: f64, duration: Duration, grace: Duration) -> Arc<Window> {
        let window = Arc::new(Window::default());
        *self.window.lock().expect("window") = window.clone();
        let start = Instant::now();
        let end = start + duration;
        let senders = self.senders.iter().enumerate().map(|(index, sender)| {
            let window = window.clone();
            let interval = Duration::from_secs_f64(1.0 / (rate * sender.share));
            let offset = interval.mul_f64(sender.slot);
            let epoch = self.epoch;
            async move {
                let mut sends = Vec::new();
                let mut n = 0u64;
                loop {
                    let at = start + offset + interval.mul_f64(n as f64);
                    if at >= end {
                        break;
                    }
                    sleep_until(at).await;
                    let scheduled = u64::try_from((at - epoch).as_micros()).unwrap_or(0);
                    // Its own task: the schedule never waits for an ack.
                    sends.push(tokio::spawn(send(
                        sender.clone(),
                        client_id(index, n, scheduled),
                        at,
                        window.clone(),
                    )));
                    n += 1;
                }
                for sent in sends {
                    let _ = sent.await;
                }
            }
        });
        // Every sender's schedule runs concurrently in this task.
        futures_util::future::join_all(senders).await;
        let settle = Instant::now() + grace;
        while Instant::now() < settle
            && window.delivered.load(Ordering::Relaxed) < window.acked.load(Ordering::Relaxed)
        {
            sleep(Duration::from_millis(20)).await;
        }
        window
            .lost
            .store(lost(self.tracks.iter().map(|t| &**t)), Ordering::Relaxed);
        window
    }
}

async fn join(conn: &Conn, id: &str) -> anyhow::Result<()> {
    let join = json!({"conversationId": id, "since": 0});
    conn.request("conversation:join", &join)
        .await
        .context("agent join")?;
    Ok(())
}

/// A dashboard's callback: counts inbox updates and hands message events to the counter
/// of their conversation.
fn inbox_counter(window: Arc<Mutex<Arc<Window>>>, routes: HashMap<String, OnEvent>) -> OnEvent {
    Arc::new(move |name, payload| {
        if name == "inbox" {
            window
                .lock()
                .expect("window")
                .inbox
                .fetch_add(1, Ordering::Relaxed);
        } else if let Some(counter) = payload["conversationId"]
            .as_str()
            .and_then(|id| routes.get(id))
        {
            counter(name, payload);
        }
    })
}

/// Sends one message and records its ack.
async fn send(sender: Arc<Sender>, client_id: String, at: Instant, window: Arc<Window>) {
    window.sent.fetch_add(1, Ordering::Relaxed);
    let payload = json!({
        "conversationId": sender.conversation,
        "senderType": sender.sender_type,
        "message": BODY,
        "clientMessageId": client_id,
    });
    match sender.conn.request("message:send", &payload).await {
        Ok(ack) => {
            window.record_ack(at.elapsed());
            if let Some(seq) = ack["seq"].as_u64() {
                sender.track.lock().expect("track").acked.insert(seq);
            }
        }
        Err(error) => {
            window.failed.fetch_add(1, Ordering::Relaxed);
            eprintln!("send failed: {error:#}");
        }
    }
}

/// A receiver's callback: times each `message:new` of conversation `id` sent by `from`
/// (`customer` or `admin`) and checks it against what came before.
pub fn delivery_counter(
    id: String,
    track: Arc<Mutex<Track>>,
    window: Arc<Mutex<Arc<Window>>>,
    epoch: Instant,
    from: &'static str,
) -> OnEvent {
    Arc::new(move |name: &str, payload: &Value| {
        if name != "message:new"
            || payload["conversationId"] != id.as_str()
            || payload["message"]["senderType"] != from
        {
            return;
        }
        let now_us = u64::try_from(epoch.elapsed().as_micros()).unwrap_or(0);
        let window = window.lock().expect("window").clone();
        let Some(seq) = payload["seq"].as_u64() else {
            return;
        };
        {
            let mut track = track.lock().expect("track");
            if !track.seen.insert(seq) {
                window.duplicated.fetch_add(1, Ordering::Relaxed);
                return;
            }
            if seq < track.last {
                window.reordered.fetch_add(1, Ordering::Relaxed);
            }
            track.last = track.last.max(seq);
        }
        let scheduled = payload["message"]["clientMessageId"]
            .as_str()
            .and_then(scheduled_us);
        let latency = Duration::from_micros(now_us.saturating_sub(scheduled.unwrap_or(now_us)));
        window.record_delivery(latency);
    })
}

/// One steady window at `rate`, reported with the server's usage over it.
pub async fn steady(
    target: &Target,
    conversations: usize,
    shape: Shape,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<Value> {
    let chat = Chat::connect(target, conversations, shape).await?;
    eprintln!(
        "steady: {} connections, {rate}/s for {duration:?}",
        chat.connections()
    );
    let before = Usage::of(&target.pids);
    let fanout_before = target.fanout.count().await?;
    let started = Instant::now();
    let window = chat.run(rate, duration, Duration::from_secs(5)).await;
    let usage = Usage::of(&target.pids).since(before);
    let fanout = target.fanout.count().await?;
    let mut result = window.to_json(
        started.elapsed().min(duration + Duration::from_secs(5)),
        usage,
    );
    result["seconds"] = json!(duration.as_secs_f64());
    result["deliveredPerSecond"] =
        json!(window.delivered.load(Ordering::Relaxed) as f64 / duration.as_secs_f64());
    result["connections"] = json!(chat.connections());
    result["offeredRate"] = json!(rate);
    result["fanout"] = fanout.since(fanout_before, window.sent.load(Ordering::Relaxed));
    Ok(result)
}

/// Raises the offered rate by `factor` per step until p99 delivery passes `p99_limit_ms` or
/// anything is lost, duplicated, reordered or refused; reports the highest rate held.
pub async fn saturation(
    target: &Target,
    conversations: usize,
    shape: Shape,
    start_rate: f64,
    factor: f64,
    step: Duration,
    p99_limit_ms: f64,
) -> anyhow::Result<Value> {
    let chat = Chat::connect(target, conversations, shape).await?;
    let mut rate = start_rate;
    let mut held: Option<Value> = None;
    let mut steps = Vec::new();
    loop {
        let before = Usage::of(&target.pids);
        let window = chat.run(rate, step, Duration::from_secs(3)).await;
        let usage = Usage::of(&target.pids).since(before);
        let mut result = window.to_json(step, usage);
        result["offeredRate"] = json!(rate);
        let p99 = window.delivery_p99_ms();
        let ok = p99 <= p99_limit_ms && window.faults() == 0;
        eprintln!(
            "saturation: {rate:.0}/s → p99 delivery {p99:.1} ms, faults {} ({})",
            window.faults(),
            if ok { "held" } else { "not held" }
        );
        steps.push(result.clone());
        if !ok {
            break;
        }
        held = Some(result);
        rate *= factor;
    }
    Ok(json!({
        "heldRate": held.as_ref().map_or(0.0, |h| h["offeredRate"].as_f64().unwrap_or(0.0)),
        "held": held,
        "steps": steps,
        "connections": chat.connections(),
    }))
}
