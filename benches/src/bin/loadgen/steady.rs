//! Steady chat and saturation: K conversations, each with a visitor and an agent connection
//! joined to it, plus one inbox-watching agent per 50 conversations. Visitors send at a fixed
//! open-loop rate (latency counts from the scheduled send time, so a slow server cannot hide
//! behind a slow client); agents check every delivery for loss, duplicates and order.

use std::collections::HashSet;
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

struct Conversation {
    id: String,
    visitor: Conn,
    _agent: Conn,
    track: Arc<Mutex<Track>>,
}

/// The connections of a run, and the window their callbacks count into.
pub struct Chat {
    conversations: Vec<Arc<Conversation>>,
    _watchers: Vec<Conn>,
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

impl Chat {
    /// Sets up `conversations` conversations with their connections.
    pub async fn connect(target: &Target, conversations: usize) -> anyhow::Result<Self> {
        let rest = Rest::new(&target.url);
        let agent = rest
            .login(&target.admin_email, &target.admin_password)
            .await?;
        let window: Arc<Mutex<Arc<Window>>> = Arc::default();
        let epoch = Instant::now();
        let made = stream::iter(0..conversations)
            .map(|index| Self::conversation(target, &rest, &agent, window.clone(), epoch, index))
            .buffered(32)
            .collect::<Vec<_>>()
            .await;
        let conversations = made
            .into_iter()
            .map(|made| made.map(Arc::new))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut watchers = Vec::new();
        for _ in 0..conversations.len().div_ceil(50) {
            let window = window.clone();
            let on_event: OnEvent = Arc::new(move |name, _| {
                if name == "inbox" {
                    window
                        .lock()
                        .expect("window")
                        .inbox
                        .fetch_add(1, Ordering::Relaxed);
                }
            });
            watchers.push(Conn::open(&target.url, target.wire, &agent, on_event).await?);
        }
        Ok(Self {
            conversations,
            _watchers: watchers,
            window,
            epoch,
        })
    }

    async fn conversation(
        target: &Target,
        rest: &Rest,
        agent: &str,
        window: Arc<Mutex<Arc<Window>>>,
        epoch: Instant,
        _index: usize,
    ) -> anyhow::Result<Conversation> {
        let visitor_token = rest.visitor().await?;
        let id = rest.conversation(&visitor_token).await?;
        let track: Arc<Mutex<Track>> = Arc::default();
        let on_delivery = delivery_counter(id.clone(), track.clone(), window, epoch);
        let agent_conn = Conn::open(&target.url, target.wire, agent, on_delivery).await?;
        let visitor = Conn::open(
            &target.url,
            target.wire,
            &visitor_token,
            Arc::new(|_, _| {}),
        )
        .await?;
        let join = json!({"conversationId": id, "since": 0});
        agent_conn
            .request("conversation:join", &join)
            .await
            .context("agent join")?;
        visitor
            .request("conversation:join", &join)
            .await
            .context("visitor join")?;
        Ok(Conversation {
            id,
            visitor,
            _agent: agent_conn,
            track,
        })
    }

    /// The number of live connections.
    pub fn connections(&self) -> usize {
        self.conversations.len() * 2 + self._watchers.len()
    }

    /// Sends at `rate` messages per second in total for `duration`, then waits up to
    /// `grace` for deliveries; returns the window.
    pub async fn run(&self, rate: f64, duration: Duration, grace: Duration) -> Arc<Window> {
        let window = Arc::new(Window::default());
        *self.window.lock().expect("window") = window.clone();
        let k = self.conversations.len();
        let interval = Duration::from_secs_f64(k as f64 / rate);
        let start = Instant::now();
        let end = start + duration;
        let senders = self
            .conversations
            .iter()
            .enumerate()
            .map(|(index, conversation)| {
                let window = window.clone();
                let offset = interval.mul_f64(index as f64 / k as f64);
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
                            conversation.clone(),
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
        // Every conversation's schedule runs concurrently in this task.
        futures_util::future::join_all(senders).await;
        let settle = Instant::now() + grace;
        while Instant::now() < settle
            && window.delivered.load(Ordering::Relaxed) < window.acked.load(Ordering::Relaxed)
        {
            sleep(Duration::from_millis(20)).await;
        }
        let lost = lost(self.conversations.iter().map(|c| &*c.track));
        window.lost.store(lost, Ordering::Relaxed);
        window
    }
}

/// Sends one message and records its ack.
async fn send(
    conversation: Arc<Conversation>,
    client_id: String,
    at: Instant,
    window: Arc<Window>,
) {
    window.sent.fetch_add(1, Ordering::Relaxed);
    let payload = json!({
        "conversationId": conversation.id,
        "message": BODY,
        "clientMessageId": client_id,
    });
    match conversation.visitor.request("message:send", &payload).await {
        Ok(ack) => {
            window.record_ack(at.elapsed());
            if let Some(seq) = ack["seq"].as_u64() {
                conversation.track.lock().expect("track").acked.insert(seq);
            }
        }
        Err(error) => {
            window.failed.fetch_add(1, Ordering::Relaxed);
            eprintln!("send failed: {error:#}");
        }
    }
}

/// The agent's callback: times each `message:new` and checks it against what came before.
pub fn delivery_counter(
    id: String,
    track: Arc<Mutex<Track>>,
    window: Arc<Mutex<Arc<Window>>>,
    epoch: Instant,
) -> OnEvent {
    Arc::new(move |name: &str, payload: &Value| {
        if name != "message:new" || payload["conversationId"] != id.as_str() {
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
    rate: f64,
    duration: Duration,
) -> anyhow::Result<Value> {
    let chat = Chat::connect(target, conversations).await?;
    eprintln!(
        "steady: {} connections, {rate}/s for {duration:?}",
        chat.connections()
    );
    let before = Usage::of(target.pid);
    let started = Instant::now();
    let window = chat.run(rate, duration, Duration::from_secs(5)).await;
    let usage = Usage::of(target.pid).since(before);
    let mut result = window.to_json(
        started.elapsed().min(duration + Duration::from_secs(5)),
        usage,
    );
    result["seconds"] = json!(duration.as_secs_f64());
    result["deliveredPerSecond"] =
        json!(window.delivered.load(Ordering::Relaxed) as f64 / duration.as_secs_f64());
    result["connections"] = json!(chat.connections());
    result["offeredRate"] = json!(rate);
    Ok(result)
}

/// Raises the offered rate by `factor` per step until p99 delivery passes `p99_limit_ms` or
/// anything is lost, duplicated, reordered or refused; reports the highest rate held.
pub async fn saturation(
    target: &Target,
    conversations: usize,
    start_rate: f64,
    factor: f64,
    step: Duration,
    p99_limit_ms: f64,
) -> anyhow::Result<Value> {
    let chat = Chat::connect(target, conversations).await?;
    let mut rate = start_rate;
    let mut held: Option<Value> = None;
    let mut steps = Vec::new();
    loop {
        let before = Usage::of(target.pid);
        let window = chat.run(rate, step, Duration::from_secs(3)).await;
        let usage = Usage::of(target.pid).since(before);
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
