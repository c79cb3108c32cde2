//! "Acknowledged means durable", checked where a crash test cannot see it: a SIGKILL keeps
//! the page cache, so only a trace of the system calls shows whether an acknowledgement
//! waited for the disk. chat-server runs under `strace` during a burst of sends over HTTP;
//! for every acknowledged message the trace must show a sync (`fsync`/`fdatasync`, not
//! `sync_file_range`) of the store's log file that began after the message was written to
//! it (or, if the write is not visible, after the request arrived) and ended before the
//! `200` left through the socket. On PostgreSQL the server processes are traced too, and
//! the log file is the WAL.
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

fn strace_works() -> bool {
    Command::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Sends as fast as `SENDERS` clients can for `BURST`; returns the numbers acknowledged.
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
                    let send = json!({"conversationId": *conversation, "senderType": "customer", "message": format!("{MARK}{n}z"), "clientMessageId": format!("c{n}")});
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
    acked
}

/// Kills the server strace started, then lets strace finish its log.
fn stop_traced_server(mut strace: Child) {
    let pid = strace.id();
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .expect("strace's children");
    for child in children.split_whitespace() {
        let _ = Command::new("kill").args(["-9", child]).status();
    }
    strace.wait().expect("strace exits with its tracee");
}

fn local_port(target: &str) -> Option<u16> {
    let local = target.strip_prefix("TCP:[")?.split("->").next()?;
    local.rsplit_once(':')?.1.parse().ok()
}

/// Applies the rule in the module docs to the calls of one burst. Each request has its own
/// connection, so a `200` answers the marked request read on the same socket.
fn judge(calls: &[Call], acked: &[u64], port: u16, is_log: impl Fn(&str) -> bool) -> Verdict {
    let mut calls: Vec<&Call> = calls.iter().collect();
    calls.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut waiting: HashMap<&str, u64> = HashMap::new();
    let mut answered: HashMap<u64, f64> = HashMap::new();
    let mut arrived: HashMap<u64, f64> = HashMap::new();
    let mut written: HashMap<u64, Vec<f64>> = HashMap::new();
    let mut syncs = Vec::new();
    for call in calls {
        let name = call.name.as_str();
        let on_server_socket = local_port(&call.target) == Some(port);
        if on_server_socket && ["read", "recvfrom"].contains(&name) {
            for n in markers(&call.args, MARK) {
                arrived.entry(n).or_insert(call.end);
                waiting.insert(&call.target, n);
            }
        } else if on_server_socket && ["write", "writev", "sendto", "sendmsg"].contains(&name) {
            if call.args.contains("HTTP/1.1 200")
                && let Some(n) = waiting.remove(call.target.as_str())
            {
                answered.insert(n, call.start);
            }
        } else if is_log(&call.target) && name.contains("write") {
            for n in markers(&call.args, MARK) {
                written.entry(n).or_default().push(call.end);
            }
        } else if is_log(&call.target) && (name == "fsync" || name == "fdatasync") {
            syncs.push((call.start, call.end));
        }
    }
    let violations = acked
        .iter()
        .copied()
        .filter(|n| {
            let answer = *answered
                .get(n)
                .unwrap_or_else(|| panic!("the trace shows no answer for message {n}"));
            let since = written
                .get(n)
                .and_then(|ends| {
                    ends.iter()
                        .copied()
                        .filter(|&end| end <= answer)
                        .reduce(f64::min)
                })
                .unwrap_or(arrived[n]);
            !syncs
                .iter()
                .any(|&(start, end)| start >= since && end <= answer)
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

async fn traced_sled_burst(extra: &[&str]) -> (Verdict, Vec<Call>, String) {
    let data = tempfile::tempdir().expect("temp dir");
    let log = data.path().join("server.trace");
    let mut wrapper = strace(&log, SERVER_CALLS);
    wrapper.arg("--");
    let (server, address) = spawn_via(Some(wrapper), &data.path().join("data"), None, extra);
    let acked = burst(address).await;
    stop_traced_server(server);
    let calls = parse(&std::fs::read_to_string(&log).expect("trace"));
    let store = std::fs::canonicalize(data.path().join("data/store")).expect("store dir");
    let store = store.display().to_string();
    let log_file = format!("{store}/db");
    let verdict = judge(&calls, &acked, address.port(), |target| target == log_file);
    (verdict, calls, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sled_acknowledges_only_after_fdatasync_and_the_check_catches_periodic_flushing() {
    if !strace_works() {
        println!("SKIPPED sled durability trace: strace is missing or may not trace here");
        return;
    }
    let (flushed, calls, store) = traced_sled_burst(&[]).await;
    println!(
        "sled, default durability: {} acknowledged, {} before their fdatasync",
        flushed.acked,
        flushed.violations.len()
    );
    assert!(flushed.acked >= 20, "too few sends to mean anything");
    assert_none_early(&flushed, "the log");
    assert_watermark_renames_synced(&calls, &store);

    let (periodic, _, _) = traced_sled_burst(&["--sled-periodic-flush-ms", "1000"]).await;
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
        (attached == pids.len()).then_some(trace)
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
    let acked = burst(address).await;
    stop_traced_server(server);
    drop(postgres);
    let mut calls = parse(&std::fs::read_to_string(&server_log).expect("trace"));
    calls.extend(parse(
        &std::fs::read_to_string(&postgres_log).expect("trace"),
    ));
    Some(judge(&calls, &acked, address.port(), |target| {
        target.contains("/pg_wal/")
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_acknowledges_only_after_the_wal_is_synced_and_the_check_catches_async_commit() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("SKIPPED postgres durability trace: DATABASE_URL is not set");
        return;
    };
    if !strace_works() {
        println!("SKIPPED postgres durability trace: strace is missing or may not trace here");
        return;
    }
    let database = ScratchDatabase::create(&url, &format!("chat_trace_{}", std::process::id()));
    let off = format!(
        "ALTER DATABASE {} SET synchronous_commit = off",
        database.name
    );
    assert!(database.psql(&off), "configure the database");
    let Some(synced) = traced_postgres_burst(&database.url, &[]).await else {
        println!("SKIPPED postgres durability trace: cannot trace the PostgreSQL processes");
        return;
    };
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
