//! Making applied writes durable: sled's flush, then an `fdatasync` of its log file.
//!
//! On Linux sled's own flush writes the log with `pwrite` and `sync_file_range`, which
//! starts and waits for the page writes but flushes neither the file's metadata (its
//! growing size) nor the drive's write cache: a power cut can still lose what it
//! "flushed". An `fdatasync` on any descriptor of the same file covers both, so the flusher
//! keeps one open and calls it after every flush.

use std::fs::File;
use std::path::Path;

/// Flushes a sled database and syncs its log file.
pub struct DiskFlush {
    db: sled::Db,
    log: File,
}

impl DiskFlush {
    /// Opens the log file of the database in `dir`.
    pub fn open(db: sled::Db, dir: &Path) -> std::io::Result<Self> {
        let log = File::open(dir.join("db"))?;
        Ok(Self { db, log })
    }

    /// Everything applied so far is on disk when this returns `Ok`.
    pub fn flush(&mut self) -> sled::Result<()> {
        self.db.flush()?;
        self.log.sync_data()?;
        Ok(())
    }
}
