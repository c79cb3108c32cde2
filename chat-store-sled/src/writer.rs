//! The single writer with group commit.
//!
//! Every write is a job run on one dedicated thread, so writes to a conversation are
//! serialized (its seqs stay gap-free) and each job's `apply_batch` is atomic. The thread
//! drains every job that queued while it was busy, runs them, then flushes **once** and only
//! then completes them all: concurrent writers share one fsync, and nobody is acknowledged
//! before their data is on disk.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use chat_core::{Error, Result};
use tokio::sync::oneshot;

use crate::config::Durability;

/// What a job hands back: called with the outcome of the flush that covers it.
type Completion = Box<dyn FnOnce(Result<(), Arc<sled::Error>>) + Send>;
type Job = Box<dyn FnOnce(&sled::Db) -> Completion + Send>;

/// Most jobs that share one flush, to bound the latency of the first one.
const MAX_GROUP: usize = 1024;

/// Handle to the writer thread; dropping it finishes queued jobs and joins the thread.
pub struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread over `db`.
    pub fn start(db: sled::Db, durability: Durability) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("chat-sled-writer".into())
            .spawn(move || write_loop(&db, &queue, durability))?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `job` on the writer thread and returns its result once it is durable.
    pub async fn run<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&sled::Db) -> Result<T> + Send + 'static,
    {
        let (done, outcome) = oneshot::channel();
        let job: Job = Box::new(move |db| {
            let result = job(db);
            Box::new(move |flushed| {
                let result =
                    result.and_then(|value| flushed.map(|()| value).map_err(Error::backend));
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

fn write_loop(db: &sled::Db, queue: &mpsc::Receiver<Job>, durability: Durability) {
    while let Ok(first) = queue.recv() {
        let mut completions = vec![first(db)];
        while completions.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => completions.push(job(db)),
                Err(_) => break,
            }
        }
        let flushed = match durability {
            Durability::Flush => db.flush().map(drop).map_err(Arc::new),
            Durability::Periodic(_) => Ok(()),
        };
        if let Err(error) = &flushed {
            tracing::error!(%error, jobs = completions.len(), "flush failed; the writes are not acknowledged");
        }
        for complete in completions {
            complete(flushed.clone());
        }
    }
}
