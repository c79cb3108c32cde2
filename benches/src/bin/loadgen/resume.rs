//! The fault run: steady chat whose clients survive the server being killed (`kill -9` by
//! benches/run.sh) and restarted. Connections reconnect; agents rejoin with `since` = the
//! last seq they saw; unacknowledged sends are retried with the same client message id.
//! At the end every acknowledged message must be in the store once and have reached its
//! agent once, in order.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use tokio::time::{Instant, sleep, sleep_until};

use crate::Target;
use crate::conn::{Conn, OnEvent};
use crate::report::{Usage, Window};
use crate::rest::Rest;
use crate::steady::{BODY, Track, client_id, delivery_counter, lost};

/// Pause between reconnect attempts and send retries.
const RETRY: Duration = Duration::from_millis(200);

/// A connection that comes back: reopened on demand, and for agents rejoined with `since`.
struct Resilient {
    url: String,
    wire: crate::wire::Wire,
    token: String,
    on_event: OnEvent,
    /// The conversation an agent follows, and what it has seen.
    follows: Option<(String, Arc<Mutex<Track>>)>,
    conn: tokio::sync::Mutex<Option<Arc<Conn>>>,
}

impl Resilient {
    async fn current(&self) -> anyhow::Result<Arc<Conn>> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(conn.clone());
        }
        let conn =
            Arc::new(Conn::open(&self.url, self.wire, &self.token, self.on_event.clone()).await?);
        if let Some((id, track)) = &self.follows {
            let since = track.lock().expect("track").last;
            let on_event = self.on_event.clone();
            let conversation = id.clone();
            // The events missed while away count as deliveries, like live ones, and come
            // before any live event (the server acks a join before the room's live events).
            let catch_up = move |ack: &Value| {
                for event in ack["events"].as_array().into_iter().flatten() {
                    if event["type"] == "message" {
                        let payload = json!({"conversationId": conversation, "seq": event["seq"], "message": event["message"]});
                        on_event("message:new", &payload);
                    }
                }
            };
            conn.request_then(
                "conversation:join",
                &json!({"conversationId": id, "since": since}),
                catch_up,
            )
            .await?;
        }
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Keeps an agent connected until `until`.
    async fn stay_connected(self: Arc<Self>, until: Instant) {
        while Instant::now() < until {
            match self.current().await {
                Ok(conn) => {
                    while !conn.is_closed() && Instant::now() < until {
                        sleep(Duration::from_millis(50)).await;
                    }
                }
                Err(_) => sleep(RETRY).await,
            }
        }
    }

    /// Sends until acknowledged (same client message id every time) or `deadline`.
    async fn send_until_acked(&self, payload: &Value, deadline: Instant) -> Option<Value> {
        while Instant::now() < deadline {
            if let Ok(conn) = self.current().await
                && let Ok(ack) = conn.request("message:send", payload).await
            {
                return Some(ack);
            }
            sleep(RETRY).await;
        }
        None
    }
}

struct Pair {
    id: String,
    visitor: Arc<Resilient>,
    track: Arc<Mutex<Track>>,
    /// Acknowledged client message ids and their seqs.
    acked: Mutex<HashMap<String, u64>>,
}

pub async fn resume(
    target: &Target,
    conversations: usize,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<Value> {
    let rest = Rest::new(target.url(0));
    let agent = rest
        .login(&target.admin_email, &target.admin_password)
        .await?;
    let window: Arc<Mutex<Arc<Window>>> = Arc::default();
    let totals = Arc::new(Window::default());
    *window.lock().expect("window") = totals.clone();
    let epoch = Instant::now();
    let settle_by = epoch + duration + Duration::from_secs(60);
    let mut pairs = Vec::new();
    for _ in 0..conversations {
        let token = rest.visitor().await?;
        let id = rest.conversation(&token).await?;
        let track: Arc<Mutex<Track>> = Arc::default();
        let agent_conn = Arc::new(Resilient {
            url: target.url(0).to_owned(),
            wire: target.wire,
            token: agent.clone(),
            on_event: delivery_counter(
                id.clone(),
                track.clone(),
                window.clone(),
                epoch,
                "customer",
            ),
            follows: Some((id.clone(), track.clone())),
            conn: tokio::sync::Mutex::new(None),
        });
        agent_conn.current().await.context("agent")?;
        tokio::spawn(agent_conn.stay_connected(settle_by));
        let visitor = Arc::new(Resilient {
            url: target.url(0).to_owned(),
            wire: target.wire,
            token,
            on_event: Arc::new(|_, _| {}),
            follows: None,
            conn: tokio::sync::Mutex::new(None),
        });
        pairs.push(Arc::new(Pair {
            id,
            visitor,
            track,
            acked: Mutex::default(),
        }));
    }
    eprintln!(
        "resume: {conversations} conversations, {rate}/s for {duration:?}; kill the server meanwhile"
    );
    let before = Usage::of(&target.pids);
    let interval = Duration::from_secs_f64(conversations as f64 / rate);
    let start = Instant::now();
    let mut sends = Vec::new();
    for n in 0u64.. {
        let at = start + interval.mul_f64(n as f64 / conversations as f64);
        if at >= start + duration {
            break;
        }
        sleep_until(at).await;
        let index = usize::try_from(n).unwrap_or(0) % conversations;
        let pair = pairs[index].clone();
        let totals = totals.clone();
        let scheduled = u64::try_from((at - epoch).as_micros()).unwrap_or(0);
        sends.push(tokio::spawn(async move {
            let cid = client_id(index, n, scheduled);
            let payload =
                json!({"conversationId": pair.id, "message": BODY, "clientMessageId": cid});
            totals.sent.fetch_add(1, Ordering::Relaxed);
            match pair.visitor.send_until_acked(&payload, settle_by).await {
                Some(ack) => {
                    totals.record_ack(at.elapsed());
                    let seq = ack["seq"].as_u64().unwrap_or(0);
                    pair.track.lock().expect("track").acked.insert(seq);
                    pair.acked.lock().expect("acked").insert(cid, seq);
                }
                None => {
                    totals.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for send in sends {
        let _ = send.await;
    }
    while Instant::now() < settle_by
        && totals.delivered.load(Ordering::Relaxed) < totals.acked.load(Ordering::Relaxed)
    {
        sleep(Duration::from_millis(100)).await;
    }
    let usage = Usage::of(&target.pids).since(before);
    totals
        .lost
        .store(lost(pairs.iter().map(|p| &*p.track)), Ordering::Relaxed);
    let (missing_from_store, stored_twice) = check_store(&rest, &agent, &pairs).await?;
    let mut result = totals.to_json(duration, usage);
    result["missingFromStore"] = json!(missing_from_store);
    result["storedTwice"] = json!(stored_twice);
    Ok(result)
}

/// Every acknowledged message is in the store, once, at the seq its ack gave.
async fn check_store(
    rest: &Rest,
    agent: &str,
    pairs: &[Arc<Pair>],
) -> anyhow::Result<(usize, usize)> {
    let (mut missing, mut twice) = (0, 0);
    for pair in pairs {
        let mut stored: HashMap<String, Vec<u64>> = HashMap::new();
        let mut since = 0;
        loop {
            let page = rest
                .get(
                    &format!(
                        "/api/conversations/{}/events?since={since}&limit=500",
                        pair.id
                    ),
                    agent,
                )
                .await?;
            for event in page["events"].as_array().into_iter().flatten() {
                since = since.max(event["seq"].as_u64().unwrap_or(0));
                if let Some(cid) = event["message"]["clientMessageId"].as_str() {
                    stored
                        .entry(cid.to_owned())
                        .or_default()
                        .push(event["seq"].as_u64().unwrap_or(0));
                }
            }
            if page["hasMore"] != true {
                break;
            }
        }
        for (cid, seq) in pair.acked.lock().expect("acked").iter() {
            match stored.get(cid).map(Vec::as_slice) {
                Some([only]) if only == seq => {}
                Some([_]) | None => missing += 1,
                Some(_) => twice += 1,
            }
        }
    }
    Ok((missing, twice))
}
