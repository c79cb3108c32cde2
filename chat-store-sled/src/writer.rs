//! The single writer with pipelined group commit.
//!
//! Every write is a job run on one dedicated thread, so writes are serialized (a
//! conversation's seqs stay gap-free). That thread takes every job that queued while it was
//! busy, runs them against one [`Txn`] (each job sees the writes of the jobs before it; a
//! failed job leaves nothing) and applies the whole group as **one** sled batch. A second
//! thread flushes: it takes every group applied since its last flush, flushes **once**, and
//! only then publishes their rows to readers and completes their jobs. The writer plans the
//! next group while the flusher waits on the disk, and nobody is acknowledged before their
//! data is on disk.
//!
//! If applying or flushing ever fails, the store stops taking writes until it is reopened:
//! jobs still queued are refused without running, and the flusher never flushes again, so
//! nothing planned on top of a failed write is ever acknowledged. A group whose apply or
//! flush failed (and any applied behind it) may or may not be on disk: sled may have
//! applied part of a batch or written part of its log. Its jobs are answered
//! [`Error::Stopped`] saying so, never a plain failure, and the caller retries with its
//! idempotency key once the store is reopened.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;

use chat_core::{Error, Result};
use tokio::sync::oneshot;

use crate::rows::{RowChanges, SharedRows};
use crate::txn::Txn;
use crate::watermark::{self, GROUP_KEY, Watermark};

/// Makes everything applied so far durable (see [`crate::disk`]).
pub type Flush = Box<dyn FnMut() -> sled::Result<()> + Send>;

/// What a job hands back: called with the outcome of the apply-and-flush that covers it.
type Completion = Box<dyn FnOnce(Outcome) + Send>;
type Job = Box<dyn FnOnce(&mut Txn<'_>) -> Completion + Send>;

/// How a group ended, as its jobs learn it.
#[derive(Clone)]
enum Outcome {
    /// Applied (and, when every group is flushed, durable).
    Stored,
    /// Applying it failed (sled may have applied part of the batch), a flush covering it
    /// failed, or it was applied after one did: it may be on disk.
    Uncertain,
}

impl Outcome {
    fn into_result(self) -> Result<()> {
        match self {
            Self::Stored => Ok(()),
            Self::Uncertain => Err(Error::Stopped(
                "a write failed, so this write may or may not have been stored; retry it with the same key once the store is reopened",
            )),
        }
    }
}

/// Most jobs that share one batch, to bound the latency of the first one.
const MAX_GROUP: usize = 1024;

/// A group the writer applied, on its way to the flusher.
struct Applied {
    /// Its group number; `None` when no job in it wrote anything.
    group: Option<u64>,
    completions: Vec<Completion>,
    rows: RowChanges,
    /// The newest feed position it gave out.
    feed: u64,
    /// `Err` when applying it failed.
    outcome: Result<(), Arc<sled::Error>>,
}

/// Handle to the writer and flusher threads; dropping it finishes queued jobs, flushes and
/// joins both.
pub struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
    failed: Arc<AtomicBool>,
}

impl Writer {
    /// Starts the threads over `db`. `flush` makes applied groups durable: after every
    /// group when `every_group`, else only at close (sled flushes in the background).
    /// `watermark` knows the newest group number on disk.
    pub fn start(
        db: sled::Db,
        rows: Arc<SharedRows>,
        flush: Flush,
        every_group: bool,
        watermark: Watermark,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (applied, flushable) = mpsc::channel::<Applied>();
        let failed = Arc::new(AtomicBool::new(false));
        let first_group = watermark.next_group();
        let writer = {
            let (db, rows, failed) = (db.clone(), rows.clone(), failed.clone());
            std::thread::Builder::new()
                .name("chat-sled-writer".into())
                .spawn(move || apply_loop(&db, &rows, &queue, &applied, &failed, first_group))?
        };
        let flusher = {
            let failed = failed.clone();
            let flusher = Flusher {
                flush,
                every_group,
                watermark,
                healthy: true,
            };
            std::thread::Builder::new()
                .name("chat-sled-flusher".into())
                .spawn(move || flusher.run(&rows, &flushable, &failed))?
        };
        Ok(Self {
            jobs: Some(jobs),
            threads: vec![writer, flusher],
            failed,
        })
    }

    /// Runs `job` on the writer thread; returns its result once its writes are durable.
    /// If the job fails, none of its writes are kept.
    pub async fn run<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Txn<'_>) -> Result<T> + Send + 'static,
    {
        if self.failed.load(Ordering::Acquire) {
            return Err(refused());
        }
        let (done, outcome) = oneshot::channel();
        let job: Job = Box::new(move |txn| {
            let result = job(txn);
            match result {
                Ok(_) => txn.commit_job(),
                Err(_) => txn.abort_job(),
            }
            Box::new(move |stored: Outcome| {
                let result = result.and_then(|value| stored.into_result().map(|()| value));
                // The caller may have gone away (request cancelled); the write stands.
                let _ = done.send(result);
            })
        });
        let stopped = || Error::Stopped("it is closed");
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())?;
        // The writer drops a job it refuses, unrun.
        outcome.await.map_err(|_| refused())?
    }
}

/// Why a write is refused after a failed one.
fn refused() -> Error {
    Error::Stopped("a write failed, and it takes no more until it is reopened")
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!("a sled store thread panicked");
            }
        }
    }
}

fn apply_loop(
    db: &sled::Db,
    rows: &SharedRows,
    queue: &mpsc::Receiver<Job>,
    flusher: &mpsc::Sender<Applied>,
    failed: &AtomicBool,
    mut next_group: u64,
) {
    while let Ok(first) = queue.recv() {
        if failed.load(Ordering::Acquire) {
            continue; // refused: dropped unrun
        }
        let mut txn = Txn::new(db, rows);
        let mut completions = vec![first(&mut txn)];
        while completions.len() < MAX_GROUP && !failed.load(Ordering::Acquire) {
            match queue.try_recv() {
                Ok(job) => completions.push(job(&mut txn)),
                Err(_) => break,
            }
        }
        let group = (!txn.is_empty()).then(|| {
            next_group += 1;
            next_group - 1
        });
        if group.is_some() {
            metrics::histogram!("chat_store_batch_size", "store" => "sled")
                .record(completions.len() as f64);
        }
        let (outcome, changes, feed) = match group {
            Some(group) => apply(db, txn, group, failed),
            None => (Ok(()), RowChanges::new(), 0),
        };
        if let (Some(group), Ok(())) = (group, &outcome) {
            rows.stage(group, &changes, feed);
        }
        if flusher
            .send(Applied {
                group,
                completions,
                rows: changes,
                feed,
                outcome,
            })
            .is_err()
        {
            return;
        }
    }
}

/// Applies a group's writes, and its group number, as one batch.
fn apply(
    db: &sled::Db,
    mut txn: Txn<'_>,
    group: u64,
    failed: &AtomicBool,
) -> (Result<(), Arc<sled::Error>>, RowChanges, u64) {
    txn.insert(GROUP_KEY, group.to_be_bytes());
    txn.commit_job();
    let (batch, changes, feed) = txn.into_parts();
    let outcome = db.apply_batch(batch).map_err(Arc::new);
    if let Err(error) = &outcome {
        failed.store(true, Ordering::Release);
        tracing::error!(%error, "applying a write group failed; the store stops taking writes");
    }
    (outcome, changes, feed)
}

/// The flusher thread's state.
struct Flusher {
    flush: Flush,
    every_group: bool,
    watermark: Watermark,
    /// False once a flush failed: nothing is flushed or acknowledged after that.
    healthy: bool,
}

impl Flusher {
    fn run(mut self, rows: &SharedRows, applied: &mpsc::Receiver<Applied>, failed: &AtomicBool) {
        loop {
            let first = match applied.recv_timeout(watermark::EVERY) {
                Ok(group) => group,
                Err(RecvTimeoutError::Timeout) => {
                    self.watermark.record();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut groups = vec![first];
            groups.extend(applied.try_iter());
            // Groups that wrote nothing need no flush (they still wait for the ones before).
            if self.every_group && groups.iter().any(|g| g.group.is_some()) {
                let started = std::time::Instant::now();
                self.flush(failed);
                metrics::histogram!("chat_store_commit_seconds", "store" => "sled")
                    .record(started.elapsed());
            }
            for group in groups {
                self.finish(group, rows);
            }
            self.watermark.tick();
        }
        // Closing: everything applied is flushed, so the watermark may cover all of it.
        if self.healthy && self.flush(failed) {
            self.watermark.record();
        }
    }

    /// Flushes; on failure stops the store for good. Returns whether it succeeded.
    fn flush(&mut self, failed: &AtomicBool) -> bool {
        if !self.healthy {
            return false;
        }
        if let Err(error) = (self.flush)() {
            self.healthy = false;
            failed.store(true, Ordering::Release);
            tracing::error!(%error, "flush failed; its writes are answered as uncertain and the store stops taking writes");
        }
        self.healthy
    }

    /// Publishes a flushed group's rows and completes its jobs.
    fn finish(&mut self, group: Applied, rows: &SharedRows) {
        let outcome = match group.outcome {
            Err(_) => Outcome::Uncertain,
            Ok(()) if !self.healthy => Outcome::Uncertain,
            Ok(()) => {
                if let Some(number) = group.group {
                    rows.publish(number, group.rows, group.feed);
                    if self.every_group {
                        self.watermark.durable(number);
                    }
                }
                Outcome::Stored
            }
        };
        for complete in group.completions {
            complete(outcome.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc as std_mpsc;
    use std::time::Duration;

    use super::*;
    use crate::rows::RowIndex;

    async fn write(writer: Arc<Writer>, key: &'static str) -> Result<()> {
        writer
            .run(move |txn| {
                txn.insert(key.as_bytes(), b"value".as_slice());
                Ok(())
            })
            .await
    }

    fn is_uncertain(result: &Result<()>) -> bool {
        matches!(result, Err(Error::Stopped(why)) if why.contains("may or may not"))
    }

    /// The first flush fails (after the test queued more writes behind it); any later one
    /// would succeed. Nothing queued behind the failure may be acknowledged.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_a_failed_flush_nothing_behind_it_is_acknowledged() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sled::Config::new().path(dir.path()).open().expect("open");
        let rows = Arc::new(SharedRows::new(RowIndex::load(&db).expect("rows"), 0));
        let (entered, flushing) = std_mpsc::channel();
        let (release, released) = std_mpsc::channel::<()>();
        let mut calls = 0;
        let flush: Flush = Box::new(move || {
            calls += 1;
            if calls > 1 {
                return Ok(());
            }
            entered.send(()).expect("test waits");
            released.recv().expect("test releases");
            Err(sled::Error::Io(std::io::Error::other(
                "injected flush failure",
            )))
        });
        let watermark = Watermark::new(dir.path(), 0);
        let writer =
            Arc::new(Writer::start(db.clone(), rows, flush, true, watermark).expect("start"));

        let first = tokio::spawn(write(writer.clone(), "first"));
        tokio::task::spawn_blocking(move || flushing.recv().expect("flush starts"))
            .await
            .expect("join");
        let behind: Vec<_> = ["second", "third", "fourth"]
            .into_iter()
            .map(|key| tokio::spawn(write(writer.clone(), key)))
            .collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
        release.send(()).expect("flusher waits");

        let first = first.await.expect("join");
        assert!(is_uncertain(&first), "the failed flush's write: {first:?}");
        for (n, write) in behind.into_iter().enumerate() {
            let result = write.await.expect("join");
            assert!(
                matches!(result, Err(Error::Stopped(_))),
                "write {n} queued behind the failed flush was answered {result:?}"
            );
        }
        let after = write(writer.clone(), "after").await;
        assert!(
            matches!(&after, Err(Error::Stopped(why)) if !why.contains("may or may not")),
            "a write after the failure is refused outright: {after:?}"
        );
        assert_eq!(db.get(b"after").expect("read"), None, "a refused write ran");
    }
}
