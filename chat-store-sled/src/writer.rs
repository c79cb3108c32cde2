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
//! If applying or flushing ever fails, the store stops taking writes (reopen it): what is
//! on disk is then uncertain, and planning more writes on top of it could acknowledge
//! something inconsistent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use chat_core::{Error, Result};
use tokio::sync::oneshot;

use crate::config::Durability;
use crate::error::flush_failed;
use crate::rows::SharedRows;
use crate::txn::{RowChanges, Txn};
use crate::watermark::{GROUP_KEY, Watermark};

/// What a job hands back: called with the outcome of the apply-and-flush that covers it.
type Completion = Box<dyn FnOnce(Result<(), Arc<sled::Error>>) + Send>;
type Job = Box<dyn FnOnce(&mut Txn<'_>) -> Completion + Send>;

/// Most jobs that share one batch, to bound the latency of the first one.
const MAX_GROUP: usize = 1024;

/// A group the writer applied, on its way to the flusher.
struct Applied {
    /// Its group number; `None` when no job in it wrote anything.
    group: Option<u64>,
    completions: Vec<Completion>,
    rows: RowChanges,
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
    /// Starts the threads over `db`; `watermark` knows the newest group number on disk.
    pub fn start(
        db: sled::Db,
        rows: Arc<SharedRows>,
        durability: Durability,
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
            std::thread::Builder::new()
                .name("chat-sled-flusher".into())
                .spawn(move || flush_loop(&db, &rows, &flushable, durability, watermark, &failed))?
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
            return Err(Error::Stopped("it failed to write and must be reopened"));
        }
        let (done, outcome) = oneshot::channel();
        let job: Job = Box::new(move |txn| {
            let result = job(txn);
            match result {
                Ok(_) => txn.commit_job(),
                Err(_) => txn.abort_job(),
            }
            Box::new(move |stored| {
                let result = result.and_then(|value| stored.map(|()| value).map_err(flush_failed));
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
        outcome.await.map_err(|_| stopped())?
    }
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
        let mut txn = Txn::new(db, rows);
        let mut completions = vec![first(&mut txn)];
        while completions.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => completions.push(job(&mut txn)),
                Err(_) => break,
            }
        }
        let group = (!txn.is_empty()).then(|| {
            next_group += 1;
            next_group - 1
        });
        let (outcome, changes) = match group {
            Some(group) => apply(db, txn, group, failed),
            None => (Ok(()), RowChanges::new()),
        };
        if let (Some(group), Ok(())) = (group, &outcome) {
            rows.stage(group, &changes);
        }
        if flusher
            .send(Applied {
                group,
                completions,
                rows: changes,
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
) -> (Result<(), Arc<sled::Error>>, RowChanges) {
    txn.insert(GROUP_KEY, group.to_be_bytes());
    txn.commit_job();
    let (batch, changes) = txn.into_parts();
    let outcome = db.apply_batch(batch).map_err(Arc::new);
    if let Err(error) = &outcome {
        failed.store(true, Ordering::Release);
        tracing::error!(%error, "applying a write group failed; the store stops taking writes");
    }
    (outcome, changes)
}

fn flush_loop(
    db: &sled::Db,
    rows: &SharedRows,
    applied: &mpsc::Receiver<Applied>,
    durability: Durability,
    mut watermark: Watermark,
    failed: &AtomicBool,
) {
    while let Ok(first) = applied.recv() {
        let mut groups = vec![first];
        groups.extend(applied.try_iter());
        let flushed = match durability {
            Durability::Flush => db.flush().map(drop).map_err(Arc::new),
            Durability::Periodic(_) => Ok(()),
        };
        if let Err(error) = &flushed {
            failed.store(true, Ordering::Release);
            tracing::error!(%error, "flush failed; nothing in it is acknowledged and the store stops taking writes");
        }
        for group in groups {
            let outcome = group.outcome.and(flushed.clone());
            if let (Some(number), Ok(())) = (group.group, &outcome) {
                rows.publish(number, group.rows);
                if durability == Durability::Flush {
                    watermark.durable(number);
                }
            }
            for complete in group.completions {
                complete(outcome.clone());
            }
        }
    }
    // Closing: everything applied is flushed, so the watermark may cover all of it.
    match db.flush() {
        Ok(_) if !failed.load(Ordering::Acquire) => watermark.record(),
        Ok(_) => {}
        Err(error) => tracing::error!(%error, "final flush failed"),
    }
}
