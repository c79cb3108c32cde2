//! Detects a log that lost acknowledged writes.
//!
//! sled treats damage in its log like a torn final write and silently drops what follows.
//! To turn that into an error, every write group stores an increasing group number in the
//! tree, and the flusher records the newest durable group number in a small file beside the
//! store: at most once a second while writes keep coming, within a second of the last one
//! when they stop, and at close. At open, a tree whose group number is behind the file
//! has lost writes that were acknowledged, and is refused.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The tree key holding the newest group number.
pub const GROUP_KEY: &[u8] = b"vgroup";
const FILE: &str = "WATERMARK";
/// How long a durable group may go unrecorded.
pub const EVERY: Duration = Duration::from_secs(1);

/// The writer's record of durable group numbers.
pub struct Watermark {
    file: PathBuf,
    group: u64,
    recorded: u64,
    recorded_at: Instant,
}

impl Watermark {
    /// Starts from the group number the tree holds.
    pub fn new(dir: &Path, group: u64) -> Self {
        Self {
            file: dir.join(FILE),
            group,
            recorded: group,
            recorded_at: Instant::now(),
        }
    }

    /// The number for the next group.
    pub fn next_group(&self) -> u64 {
        self.group + 1
    }

    /// The group `group` is durable (recorded by the next [`Self::tick`] or [`Self::record`]).
    pub fn durable(&mut self, group: u64) {
        self.group = group;
    }

    /// Records the newest durable group if the last record is older than [`EVERY`].
    pub fn tick(&mut self) {
        if self.recorded_at.elapsed() >= EVERY {
            self.record();
        }
    }

    /// Writes the newest durable group number to the file, if it is not recorded yet.
    pub fn record(&mut self) {
        if self.recorded == self.group {
            return;
        }
        match self.replace_file() {
            Ok(()) => (self.recorded, self.recorded_at) = (self.group, Instant::now()),
            Err(error) => tracing::warn!(%error, "could not record the write watermark"),
        }
    }

    /// Write a temporary file, fsync it, rename it over the file, fsync the directory (so
    /// the rename itself survives a power cut).
    fn replace_file(&self) -> std::io::Result<()> {
        let temporary = self.file.with_extension("tmp");
        let mut file = std::fs::File::create(&temporary)?;
        std::io::Write::write_all(&mut file, self.group.to_string().as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, &self.file)?;
        let dir = self.file.parent().unwrap_or(Path::new("."));
        std::fs::File::open(dir)?.sync_all()
    }
}

/// The recorded group number, if the file exists and is readable.
pub fn recorded(dir: &Path) -> Option<u64> {
    std::fs::read_to_string(dir.join(FILE))
        .ok()?
        .trim()
        .parse()
        .ok()
}
