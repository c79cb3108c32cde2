//! Crash test: a child process writes messages as fast as it can and prints every
//! acknowledged message; the parent kills it with SIGKILL at a random moment, reopens the
//! store (no repair step) and checks that every acknowledged message is there, with a
//! gap-free, duplicate-free log. Runs several times.
//!
//! This target has its own `main` (`harness = false`): the same binary is the child when
//! `CHAT_CRASH_CHILD_DIR` is set.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chat_core::engine::{NewVisitor, SendMessage, StartConversation};
use chat_core::ids::{ConversationId, FeedPosition, MessageId, Seq};
use chat_core::store::{ChangeFeedStore, ConversationStore, EventStore};
use chat_core::values::{ClientMessageId, Limits, MessageBody};
use chat_core::{ChatEngine, EngineConfig, LocalBroadcaster, Principal};
use chat_store_sled::SledStore;

const CHILD_ENV: &str = "CHAT_CRASH_CHILD_DIR";
const RUNS: usize = 5;
const CONVERSATIONS: usize = 4;
const WRITERS: usize = 16;

fn main() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        return child(&dir);
    }
    let name = "crash_acknowledged_writes_survive_sigkill";
    for run in 1..=RUNS {
        let acked = crash_once();
        println!(
            "{name}: run {run}/{RUNS}: {acked} acknowledged messages all present after SIGKILL"
        );
    }
    println!("test {name} ... ok");
    println!("1 passed, 0 failed");
}

/// One child run, killed at a random moment; returns how many acknowledged messages it
/// checked.
fn crash_once() -> usize {
    let dir = tempfile::Builder::new()
        .prefix("crash-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut acked = Vec::new();
    let kill_after = Duration::from_millis(50 + random() % 750);
    let started = std::time::Instant::now();
    let mut first_ack = None;
    for line in lines.by_ref() {
        let line = line.expect("child output");
        acked.extend(parse_ack(&line));
        if !acked.is_empty() && first_ack.is_none() {
            first_ack = Some(started.elapsed());
        }
        if first_ack.is_some_and(|first| started.elapsed() >= first + kill_after) {
            break;
        }
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    // Lines the child printed before it died are acknowledgements too.
    acked.extend(
        lines
            .map_while(Result::ok)
            .filter_map(|line| parse_ack(&line)),
    );
    assert!(
        !acked.is_empty(),
        "the child acknowledged nothing before it was killed"
    );
    verify(dir.path(), &acked);
    acked.len()
}

fn verify(dir: &std::path::Path, acked: &[(ConversationId, Seq, MessageId)]) {
    let store = SledStore::open(dir).expect("the store opens after SIGKILL without repair");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let conversations: HashSet<ConversationId> = acked.iter().map(|(c, _, _)| *c).collect();
        let mut stored: HashMap<(ConversationId, Seq), MessageId> = HashMap::new();
        for conv in conversations {
            let events = store
                .events_since(conv, Seq::ZERO, usize::MAX)
                .await
                .expect("events");
            let seqs: Vec<u64> = events.iter().map(|e| e.seq.get()).collect();
            assert_eq!(
                seqs,
                (1..=events.len() as u64).collect::<Vec<_>>(),
                "gap or duplicate in {conv}"
            );
            let row = store
                .get_conversation(conv)
                .await
                .expect("get")
                .expect("conversation exists");
            assert_eq!(
                row.last_seq.get(),
                events.len() as u64,
                "conversation row disagrees with its log"
            );
            let mut ids = HashSet::new();
            for event in &events {
                if let Some(message) = event.message() {
                    assert!(
                        ids.insert(message.id),
                        "message {} stored twice",
                        message.id
                    );
                    stored.insert((conv, event.seq), message.id);
                }
            }
        }
        for (conv, seq, id) in acked {
            assert_eq!(
                stored.get(&(*conv, *seq)),
                Some(id),
                "acknowledged message {id} (seq {seq}) was lost"
            );
        }
        verify_feed(&store, &stored).await;
    });
}

/// The change feed after the crash: positions 1..n with no gap, each stored event of the
/// checked conversations exactly once and in seq order, and new writes continue after it.
async fn verify_feed(store: &SledStore, stored: &HashMap<(ConversationId, Seq), MessageId>) {
    let feed = store
        .changes_after(FeedPosition::ZERO, usize::MAX)
        .await
        .expect("feed");
    let positions: Vec<u64> = feed.iter().map(|c| c.position.get()).collect();
    assert_eq!(
        positions,
        (1..=feed.len() as u64).collect::<Vec<_>>(),
        "the feed has a gap after SIGKILL"
    );
    let mut seen = HashSet::new();
    let mut last: HashMap<ConversationId, Seq> = HashMap::new();
    for change in &feed {
        let key = (change.event.conversation_id, change.event.seq);
        assert!(seen.insert(key), "{key:?} twice in the feed");
        let before = last.insert(key.0, key.1).unwrap_or(Seq::ZERO);
        assert!(key.1 > before, "{key:?} out of order in the feed");
    }
    for key in stored.keys() {
        assert!(
            seen.contains(key),
            "stored message {key:?} missing from the feed"
        );
    }
    assert_eq!(
        store.feed_head().await.expect("head"),
        FeedPosition(feed.len() as u64)
    );
}

fn parse_ack(line: &str) -> Option<(ConversationId, Seq, MessageId)> {
    let mut parts = line.strip_prefix("ack ")?.split(' ');
    let conv = parts.next()?.parse().ok()?;
    let seq = Seq(parts.next()?.parse().ok()?);
    let id = MessageId::from_uuid(parts.next()?.parse().ok()?);
    Some((conv, seq, id))
}

fn random() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    u64::from(nanos).wrapping_mul(6364136223846793005) >> 17
}

/// The child: many concurrent senders, printing each acknowledgement, until killed.
fn child(dir: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = Arc::new(SledStore::open(dir).expect("open"));
        let engine = ChatEngine::new(
            store,
            Arc::new(LocalBroadcaster::new()),
            EngineConfig::default(),
        );
        let customer = engine
            .create_visitor(&Principal::Anonymous, NewVisitor::default())
            .await
            .expect("visitor");
        let visitor = Principal::Visitor(customer.id);
        let mut conversations = Vec::new();
        for _ in 0..CONVERSATIONS {
            let started = engine
                .start_conversation(&visitor, StartConversation::default())
                .await
                .expect("start");
            conversations.push(started.id);
        }
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let (engine, conv) = (engine.clone(), conversations[writer % CONVERSATIONS]);
                tokio::spawn(async move {
                    for n in 0u64.. {
                        let body = MessageBody::parse(
                            format!("writer {writer} message {n}"),
                            &Limits::default(),
                        )
                        .expect("body");
                        let mut request = SendMessage::text(conv, body);
                        request.client_message_id =
                            Some(ClientMessageId::parse(&format!("{writer}-{n}")).expect("id"));
                        let sent = engine.send_message(&visitor, request).await.expect("send");
                        println!("ack {conv} {} {}", sent.message.seq, sent.message.id);
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await.expect("writer");
        }
    });
}
