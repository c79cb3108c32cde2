//! The single writer with group commit.
//!
//! Every write is a job run on one dedicated thread, so writes are serialized (a
//! conversation's seqs stay gap-free). The thread takes every job that queued while it was
//! busy, runs them against one [`Txn`] (each job sees the writes of the jobs before it, and
//! a failed job leaves nothing), applies the whole group as **one** sled batch, flushes
//! **once**, and only then completes them: concurrent writers share one batch and one
//! fsync, and nobody is acknowledged before their data is on disk.

use std::sync::mpsc;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use chat_core::{Error, Result};
use tokio::sync::oneshot;

use crate::config::Durability;
use crate::rows::RowIndex;
use crate::txn::Txn;
use crate::watermark::{GROUP_KEY, Watermark};

/// What a job hands back: called with the outcome of the apply-and-flush that covers it.
type Completion = Box<dyn FnOnce(Result<(), Arc<sled::Error>>) + Send>;
type Job = Box<dyn FnOnce(&mut Txn<'_>) -> Completion + Send>;

/// Most jobs that share one batch, to bound the latency of the first one.
const MAX_GROUP: usize = 1024;

/// Handle to the writer thread; dropping it finishes queued jobs and joins the thread.
pub struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread over `db`, publishing durable rows to `index`.
    pub fn start(
        db: sled::Db,
        index: Arc<RwLock<RowIndex>>,
        durability: Durability,
        watermark: Watermark,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("chat-sled-writer".into())
            .spawn(move || write_loop(&db, &index, &queue, durability, watermark))?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `job` on the writer thread; returns its result once its writes are durable.
    /// If the job fails, none of its writes are kept.
    pub async fn run<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Txn<'_>) -> Result<T> + Send + 'static,
    {
        let (done, outcome) = oneshot::channel();
        let job: Job = Box::new(move |txn| {
            let result = job(txn);
            match result {
                Ok(_) => txn.commit_job(),
                Err(_) => txn.abort_job(),
            }
            Box::new(move |stored| {
                let result =
                    result.and_then(|value| stored.map(|()| value).map_err(Error::backend));
                // The caller may have gone away (request cancelled); the write stands.
                let _ = done.send(result);
            })
        });
        let stopped = || Error::NotSupported("the store is closed");
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
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the sled writer thread panicked");
        }
    }
}

fn write_loop(
    db: &sled::Db,
    index: &RwLock<RowIndex>,
    queue: &mpsc::Receiver<Job>,
    durability: Durability,
    mut watermark: Watermark,
) {
    while let Ok(first) = queue.recv() {
        let mut txn = Txn::new(db, index);
        let mut completions = vec![first(&mut txn)];
        while completions.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => completions.push(job(&mut txn)),
                Err(_) => break,
            }
        }
        let stored = store(db, index, txn, durability, &mut watermark);
        if let Err(error) = &stored {
            tracing::error!(%error, jobs = completions.len(), "write group failed; nothing in it is acknowledged");
        }
        for complete in completions {
            complete(stored.clone());
        }
    }
    // Closing: everything applied is flushed, so the watermark may cover all of it.
    match db.flush() {
        Ok(_) => watermark.record(),
        Err(error) => tracing::error!(%error, "final flush failed"),
    }
}

/// Applies a group's writes (and its group number) atomically, flushes them with
/// [`Durability::Flush`], then publishes its rows.
fn store(
    db: &sled::Db,
    index: &RwLock<RowIndex>,
    mut txn: Txn<'_>,
    durability: Durability,
    watermark: &mut Watermark,
) -> Result<(), Arc<sled::Error>> {
    if txn.is_empty() {
        return Ok(());
    }
    let group = watermark.next_group();
    txn.insert(GROUP_KEY, group.to_be_bytes());
    txn.commit_job();
    let (batch, rows) = txn.into_parts();
    db.apply_batch(batch).map_err(Arc::new)?;
    if durability == Durability::Flush {
        db.flush().map_err(Arc::new)?;
        watermark.durable(group);
    }
    index
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .apply(rows);
    Ok(())
}
