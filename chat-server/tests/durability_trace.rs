//! "Acknowledged means durable", checked where a crash test cannot see it: a SIGKILL keeps
//! the page cache, so only a trace of the system calls shows whether an acknowledgement
//! waited for the disk. chat-server runs under `strace` during a burst of sends over HTTP;
//! for every acknowledged message, every store file it was written to before the answer
//! (sled's log and blob files; on PostgreSQL, whose processes are traced too, the WAL) must
//! have been synced (`fsync`/`fdatasync` returning 0, not `sync_file_range`) by a call that
//! began after that write and ended before the `200` left through the socket, and the
//! message must have been written somewhere before it. Each message carries its marker
//! twice, so a WAL page boundary cannot hide it. A burst of small messages from several
//! clients is followed by messages of 15 KB one at a time (large enough for sled to move
//! pages into blob files).
//!
//! Each check also runs with durability deliberately off (`--sled-periodic-flush-ms`,
//! `--postgres-asynchronous-commit`, which sets `synchronous_commit = off`) and must then
//! find violations, so the test is shown to see a missing sync on every run. The scratch
//! database is configured `synchronous_commit = off` for both runs: the store's own
//! setting must win. On sled, every rename of the watermark file must be followed by an
//! fsync of the directory.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::process::{http, spawn_via, visitor_with_conversation};
use common::scratch::ScratchDatabase;
use common::syscalls::{Call, markers, parse};
use serde_json::json;

const BURST: Duration = Duration::from_secs(2);
const SENDERS: usize = 8;
const LARGE: u64 = 40;
const MARK: &str = "dq";
const SERVER_CALLS: &str = "trace=read,recvfrom,write,writev,sendto,sendmsg,pwrite64,pwritev,pwritev2,fsync,fdatasync,rename,renameat,renameat2";
const POSTGRES_CALLS: &str = "trace=write,writev,pwrite64,pwritev,pwritev2,fsync,fdatasync";

/// What one traced burst showed.
struct Verdict {
    acked: usize,
    violations: Vec<u64>,
}

fn strace(log: &Path, calls: &str) -> Command {
    let mut command = Command::new("strace");
    command
        .args([
            "-f", "-ttt", "-T", "-yy", "-s", "1048576", "-e", calls, "-o",
        ])
        .arg(log);
    command
}

/// A message body carrying marker `n` twice, padded to `size` bytes.
fn marked(n: u64, size: usize) -> String {
    let marker = format!("{MARK}{n}z");
    let padding = "-".repeat(size.saturating_sub(2 * marker.len() + 2).max(8));
    format!("{marker} {padding} {marker}")
}

/// Sends as fast as `SENDERS` clients can for `BURST`, then `LARGE` messages of 15 KB one at
/// a time; returns the numbers acknowledged.
async fn burst(address: SocketAddr) -> Vec<u64> {
    let (token, conversation) = visitor_with_conversation(address).await;
    let (token, conversation) = (Arc::new(token), Arc::new(conversation));
    let next = Arc::new(AtomicU64::new(1));
    let started = Instant::now();
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            let (token, conversation, next) = (token.clone(), conversation.clone(), next.clone());
            tokio::spawn(async move {
                let mut acked = Vec::new();
                while started.elapsed() < BURST {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let send = json!({"conversationId": *conversation, "senderType": "customer", "message": marked(n, 0), "clientMessageId": format!("c{n}")});
                    let (status, body) =
                        http(address, "POST", "/api/messages/send", Some(&token), &send).await;
                    assert_eq!(status, 200, "{body}");
                    acked.push(n);
                }
                acked
            })
        })
        .collect();
    let mut acked = Vec::new();
    for sender in senders {
        acked.extend(sender.await.expect("sender"));
    }
    for _ in 0..LARGE {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let send = json!({"conversationId": *conversation, "senderType": "customer", "message": marked(n, 15_000), "clientMessageId": format!("c{n}")});
        let (status, body) = http(address, "POST", "/api/messages/send", Some(&token), &send).await;
        assert_eq!(status, 200, "{body}");
        acked.push(n);
    }
    acked
}

/// The strace running the server. Stopping it (or dropping it, as a failing test does)
/// kills the server and lets strace finish its log.
struct TracedServer(Option<Child>);

impl TracedServer {
    fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let Some(mut strace) = self.0.take() else {
            return;
        };
        let pid = strace.id();
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        for child in children.split_whitespace() {
            let _ = Command::new("kill").args(["-9", child]).status();
        }
        let _ = strace.wait();
    }
}

impl Drop for TracedServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn local_port(target: &str) -> Option<u16> {
    let local = target.strip_prefix("TCP:[")?.split("->").next()?;
    local.rsplit_once(':')?.1.parse().ok()
}

/// Applies the rule in the module docs to the calls of one burst. Each request has its own
/// connection, so a `200` answers the marked request read on the same socket.
fn judge(calls: &[Call], acked: &[u64], port: u16, is_store: impl Fn(&str) -> bool) -> Verdict {
    let mut calls: Vec<&Call> = calls.iter().collect();
    calls.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut waiting: HashMap<&str, u64> = HashMap::new();
    let mut answered: HashMap<u64, f64> = HashMap::new();
    // Per message, per file: when each write holding it ended.
    let mut written: HashMap<u64, HashMap<&str, Vec<f64>>> = HashMap::new();
    let mut syncs: HashMap<&str, Vec<(f64, f64)>> = HashMap::new();
    for call in &calls {
        let name = call.name.as_str();
        let on_server_socket = local_port(&call.target) == Some(port);
        if on_server_socket && ["read", "recvfrom"].contains(&name) {
            for n in markers(&call.args, MARK) {
                waiting.insert(&call.target, n);
            }
        } else if on_server_socket && ["write", "writev", "sendto", "sendmsg"].contains(&name) {
            if call.args.contains("HTTP/1.1 200")
                && let Some(n) = waiting.remove(call.target.as_str())
            {
                answered.insert(n, call.start);
            }
        } else if is_store(&call.target) && name.contains("write") {
            for n in markers(&call.args, MARK) {
                let ends = written.entry(n).or_default();
                ends.entry(call.target.as_str()).or_default().push(call.end);
            }
        } else if is_store(&call.target)
            && (name == "fsync" || name == "fdatasync")
            && call.result == Some(0)
        {
            syncs
                .entry(call.target.as_str())
                .or_default()
                .push((call.start, call.end));
        }
    }
    let synced = |file: &str, after: f64, before: f64| {
        syncs.get(file).is_some_and(|s| {
            s.iter()
                .any(|&(start, end)| start >= after && end <= before)
        })
    };
    let violations = acked
        .iter()
        .copied()
        .filter(|n| {
            let answer = *answered
                .get(n)
                .unwrap_or_else(|| panic!("the trace shows no answer for message {n}"));
            let files: Vec<(&str, f64)> = written
                .get(n)
                .into_iter()
                .flatten()
                .filter_map(|(file, ends)| {
                    let first = ends
                        .iter()
                        .copied()
                        .filter(|&end| end <= answer)
                        .reduce(f64::min)?;
                    Some((*file, first))
                })
                .collect();
            files.is_empty() || files.iter().any(|&(file, at)| !synced(file, at, answer))
        })
        .collect();
    Verdict {
        acked: acked.len(),
        violations,
    }
}

fn assert_none_early(verdict: &Verdict, log: &str) {
    assert!(
        verdict.violations.is_empty(),
        "{} of {} messages were acknowledged before {log} was synced (first: {:?})",
        verdict.violations.len(),
        verdict.acked,
        &verdict.violations[..verdict.violations.len().min(5)]
    );
}

/// sled writes large pages (a consolidated page can hold messages acknowledged long ago)
/// to files under `blobs/`. Every blob written before a sync of the log began must itself
/// have been synced before the next answer: else that log sync made durable a pointer to a
/// blob a power cut can lose.
fn assert_blobs_synced(calls: &[Call], store: &str, port: u16) {
    let blobs = format!("{store}/blobs/");
    let log = format!("{store}/db");
    let synced =
        |call: &&Call| (call.name == "fsync" || call.name == "fdatasync") && call.result == Some(0);
    let log_syncs: Vec<f64> = calls
        .iter()
        .filter(|c| synced(c) && c.target == log)
        .map(|c| c.start)
        .collect();
    let blob_writes: Vec<&Call> = calls
        .iter()
        .filter(|c| c.name.contains("write") && c.target.starts_with(&blobs))
        .collect();
    assert!(!blob_writes.is_empty(), "the burst wrote no blob file");
    let answers = calls.iter().filter(|c| {
        local_port(&c.target) == Some(port)
            && c.name.contains("write")
            && c.args.contains("HTTP/1.1 200")
    });
    for answer in answers {
        let Some(log_synced_from) = log_syncs
            .iter()
            .copied()
            .filter(|&start| start < answer.start)
            .reduce(f64::max)
        else {
            continue;
        };
        for write in blob_writes.iter().filter(|w| w.end <= log_synced_from) {
            assert!(
                calls.iter().any(|c| synced(&c)
                    && c.target == write.target
                    && c.start >= write.end
                    && c.end <= answer.start),
                "{} was written before the log was synced but not synced before an answer",
                write.target
            );
        }
    }
}

/// Every rename of the watermark file is followed by an fsync of its directory.
fn assert_watermark_renames_synced(calls: &[Call], store: &str) {
    let renames: Vec<f64> = calls
        .iter()
        .filter(|call| call.name.starts_with("rename") && call.args.contains("WATERMARK\""))
        .map(|call| call.end)
        .collect();
    assert!(!renames.is_empty(), "the burst recorded no watermark");
    for renamed in renames {
        assert!(
            calls
                .iter()
                .any(|call| call.name == "fsync" && call.target == store && call.start >= renamed),
            "the watermark rename at {renamed} was not followed by a directory fsync"
        );
    }
}

async fn traced_sled_burst(extra: &[&str]) -> (Verdict, Vec<Call>, String, u16) {
    let data = tempfile::tempdir().expect("temp dir");
    let log = data.path().join("server.trace");
    let mut wrapper = strace(&log, SERVER_CALLS);
    wrapper.arg("--");
    let (server, address) = spawn_via(Some(wrapper), &data.path().join("data"), None, extra);
    let server = TracedServer(Some(server));
    let acked = burst(address).await;
    server.stop();
    let calls = parse(&std::fs::read_to_string(&log).expect("trace"));
    let store = std::fs::canonicalize(data.path().join("data/store")).expect("store dir");
    let store = store.display().to_string();
    let in_store = format!("{store}/");
    let verdict = judge(&calls, &acked, address.port(), |target| {
        target.starts_with(&in_store)
    });
    (verdict, calls, store, address.port())
}

async fn sled_acknowledges_only_after_fdatasync_and_the_check_catches_periodic_flushing() {
    let (flushed, calls, store, address_port) = traced_sled_burst(&[]).await;
    println!(
        "sled, default durability: {} acknowledged, {} before their fdatasync",
        flushed.acked,
        flushed.violations.len()
    );
    assert!(flushed.acked >= 20, "too few sends to mean anything");
    assert_none_early(&flushed, "the log");
    assert_watermark_renames_synced(&calls, &store);
    assert_blobs_synced(&calls, &store, address_port);

    let (periodic, _, _, _) = traced_sled_burst(&["--sled-periodic-flush-ms", "1000"]).await;
    println!(
        "sled, periodic flushing: {} acknowledged, {} before their fdatasync",
        periodic.acked,
        periodic.violations.len()
    );
    assert!(
        periodic.violations.len() * 2 >= periodic.acked,
        "the check did not see acknowledgements running ahead of the disk"
    );
}

/// Traces every running PostgreSQL process (and what they fork) until dropped.
struct PostgresTrace {
    strace: Child,
}

impl PostgresTrace {
    fn attach(log: &Path) -> Option<Self> {
        let pids = Command::new("pgrep")
            .args(["-x", "postgres"])
            .output()
            .ok()?;
        let pids: Vec<String> = String::from_utf8_lossy(&pids.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if pids.is_empty() {
            return None;
        }
        let mut command = strace(log, POSTGRES_CALLS);
        for pid in &pids {
            command.args(["-p", pid]);
        }
        let mut strace = command.stderr(Stdio::piped()).spawn().ok()?;
        let stderr = strace.stderr.take()?;
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
        let attached = lines
            .by_ref()
            .take(pids.len())
            .filter(|line| line.as_ref().is_ok_and(|l| l.contains("attached")))
            .count();
        std::thread::spawn(move || lines.for_each(drop));
        let trace = Self { strace };
        // A short-lived process (an autovacuum worker) may be gone before strace reaches it.
        (attached > 0).then_some(trace)
    }
}

impl Drop for PostgresTrace {
    fn drop(&mut self) {
        // SIGINT makes strace detach, leaving PostgreSQL running untouched.
        let _ = Command::new("kill")
            .args(["-INT", &self.strace.id().to_string()])
            .status();
        let _ = self.strace.wait();
    }
}

async fn traced_postgres_burst(url: &str, extra: &[&str]) -> Option<Verdict> {
    let data = tempfile::tempdir().expect("temp dir");
    let server_log = data.path().join("server.trace");
    let postgres_log = data.path().join("postgres.trace");
    let postgres = PostgresTrace::attach(&postgres_log)?;
    let mut wrapper = strace(&server_log, SERVER_CALLS);
    wrapper.arg("--");
    let (server, address) = spawn_via(Some(wrapper), &data.path().join("data"), Some(url), extra);
    let server = TracedServer(Some(server));
    let acked = burst(address).await;
    server.stop();
    drop(postgres);
    let mut calls = parse(&std::fs::read_to_string(&server_log).expect("trace"));
    calls.extend(parse(
        &std::fs::read_to_string(&postgres_log).expect("trace"),
    ));
    Some(judge(&calls, &acked, address.port(), |target| {
        target.contains("/pg_wal/")
    }))
}

async fn postgres_acknowledges_only_after_the_wal_is_synced_and_the_check_catches_async_commit() {
    let url = testkit::postgres().expect("testkit found PostgreSQL");
    let database = ScratchDatabase::create(&url, &format!("chat_trace_{}", std::process::id()));
    let off = format!(
        "ALTER DATABASE {} SET synchronous_commit = off",
        database.name
    );
    assert!(database.psql(&off), "configure the database");
    let synced = traced_postgres_burst(&database.url, &[])
        .await
        .expect("trace the PostgreSQL processes (testkit found root and strace)");
    println!(
        "postgres, synchronous_commit on: {} acknowledged, {} before their WAL fdatasync",
        synced.acked,
        synced.violations.len()
    );
    assert!(synced.acked >= 20, "too few sends to mean anything");
    assert_none_early(&synced, "the WAL");

    let unsynced = traced_postgres_burst(&database.url, &["--postgres-asynchronous-commit"])
        .await
        .expect("traced once already");
    println!(
        "postgres, synchronous_commit off: {} acknowledged, {} before their WAL fdatasync",
        unsynced.acked,
        unsynced.violations.len()
    );
    assert!(
        unsynced.violations.len() * 2 >= unsynced.acked,
        "the check did not see acknowledgements running ahead of the WAL"
    );
}

fn main() {
    testkit::Suite::new()
        .add("sled_acknowledges_only_after_fdatasync_and_the_check_catches_periodic_flushing", &[testkit::Needs::Strace], |_| sled_acknowledges_only_after_fdatasync_and_the_check_catches_periodic_flushing())
        .add("postgres_acknowledges_only_after_the_wal_is_synced_and_the_check_catches_async_commit", &[testkit::Needs::Postgres, testkit::Needs::Strace, testkit::Needs::Root], |_| postgres_acknowledges_only_after_the_wal_is_synced_and_the_check_catches_async_commit())
        .run();
}
