//! Making applied writes durable: sled's flush, then an `fdatasync` of every file it wrote.
//!
//! On Linux sled's own flush writes the log with `pwrite` and `sync_file_range`, which
//! starts and waits for the page writes but flushes neither the file's metadata (its
//! growing size) nor the drive's write cache: a power cut can still lose what it
//! "flushed". Large log entries go to their own files under `blobs/`, which sled writes and
//! never syncs at all; a blob can hold a consolidated page of messages acknowledged long
//! ago. So after every flush the flusher `fdatasync`s every blob file that appeared since
//! the last flush and the `blobs/` directory that names them, then the log (through a
//! descriptor of its own: a sync covers the file, whoever wrote it).

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How old the blob directory's modification time must be to be trusted as "unchanged".
const SETTLED: Duration = Duration::from_secs(1);

/// Flushes a sled database and syncs the files it wrote.
pub struct DiskFlush {
    db: sled::Db,
    log: File,
    blobs: PathBuf,
    /// The blob directory's modification time when it was last read, if that read came
    /// well after it (file times are coarse: a file created in the same tick as an earlier
    /// read may leave the time unchanged, so a recent time is never trusted).
    blobs_settled_at: Option<SystemTime>,
    /// Blob files already synced.
    synced: HashSet<OsString>,
}

impl DiskFlush {
    /// Opens the log file of the database in `dir`.
    pub fn open(db: sled::Db, dir: &Path) -> std::io::Result<Self> {
        let log = File::open(dir.join("db"))?;
        Ok(Self {
            db,
            log,
            blobs: dir.join("blobs"),
            blobs_settled_at: None,
            synced: HashSet::new(),
        })
    }

    /// Everything applied so far is on disk when this returns `Ok`.
    pub fn flush(&mut self) -> sled::Result<()> {
        self.db.flush()?;
        // Blobs first: a synced log entry must never point at a blob a power cut can lose.
        self.sync_new_blobs()?;
        self.log.sync_data()?;
        Ok(())
    }

    /// Syncs the blob files that appeared since the last call, then their directory. The
    /// directory is read unless its modification time is old and unchanged.
    fn sync_new_blobs(&mut self) -> std::io::Result<()> {
        let changed_at = match std::fs::metadata(&self.blobs) {
            Ok(metadata) => metadata.modified()?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(error),
        };
        if self.blobs_settled_at == Some(changed_at) {
            return Ok(());
        }
        let read_at = SystemTime::now();
        let mut present = HashSet::new();
        for entry in std::fs::read_dir(&self.blobs)? {
            let name = entry?.file_name();
            if !self.synced.contains(&name) {
                match File::open(self.blobs.join(&name)) {
                    Ok(file) => file.sync_data()?,
                    // Removed meanwhile (sled drops blobs it no longer needs).
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(error),
                }
            }
            present.insert(name);
        }
        File::open(&self.blobs)?.sync_all()?;
        self.synced = present;
        let settled = read_at
            .duration_since(changed_at)
            .is_ok_and(|age| age >= SETTLED);
        self.blobs_settled_at = settled.then_some(changed_at);
        Ok(())
    }
}
