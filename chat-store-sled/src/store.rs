//! `SledStore`: opening (directory checks, schema version) and the handle itself.

use std::any::Any;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLockReadGuard};

use crate::config::{Durability, SledConfig};
use crate::disk::DiskFlush;
use crate::error::OpenError;
use crate::keys::{SCHEMA, SCHEMA_VERSION};
use crate::migrate;
use crate::rows::{RowIndex, SharedRows};
use crate::watermark::{self, GROUP_KEY, Watermark};
use crate::writer::Writer;

/// Marker file that says "this directory is a chat store", so a foreign directory is
/// refused instead of written into.
const MARKER: &str = "CHAT_STORE";

/// The durable embedded backend. Cheap to share behind an `Arc`; dropping the last handle
/// finishes queued writes, flushes and releases the directory.
pub struct SledStore {
    // Field order is drop order: the writer finishes and joins before the last db handle goes.
    pub(crate) writer: Writer,
    db: sled::Db,
    rows: Arc<SharedRows>,
    path: PathBuf,
    /// The assignment lease: one process opens a store, so a lock in it is deployment-wide.
    pub(crate) assignment: Arc<tokio::sync::Mutex<()>>,
}

impl fmt::Debug for SledStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SledStore {
    /// Opens (or creates) the store in `path` with the defaults: flush on every write.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with(SledConfig::new(path.as_ref()))
    }

    /// Opens (or creates) a store.
    ///
    /// Refuses a non-empty directory that is not a chat store, a directory another process
    /// has open, a store of another schema version, and a damaged one, each with its own
    /// [`OpenError`].
    pub fn open_with(config: SledConfig) -> Result<Self, OpenError> {
        let path = config.path.clone();
        claim_directory(&path)?;
        let flush_every_ms = match config.durability {
            Durability::Flush => None,
            Durability::Periodic(every) => {
                Some(every.as_millis().clamp(1, u128::from(u64::MAX)) as u64)
            }
        };
        let sled_config = sled::Config::new()
            .path(&path)
            .cache_capacity(config.cache_capacity)
            .flush_every_ms(flush_every_ms);
        // sled panics on some kinds of damage while recovering its log; that is an error here.
        let db = std::panic::catch_unwind(AssertUnwindSafe(|| sled_config.open()))
            .map_err(|panic| OpenError::Corrupted {
                path: path.clone(),
                detail: panic_message(&*panic),
            })?
            .map_err(|error| OpenError::from_sled(path.clone(), error))?;
        // The watermark first: a log that lost acknowledged writes is refused before anything
        // (an upgrade) rewrites it.
        let group = check_watermark(&db, &path)?;
        check_schema(&db, &path)?;
        let rows = RowIndex::load(&db).map_err(|error| OpenError::Corrupted {
            path: path.clone(),
            detail: error.to_string(),
        })?;
        let feed =
            crate::integrations::feed_head_on_disk(&db).map_err(|error| OpenError::Corrupted {
                path: path.clone(),
                detail: error.to_string(),
            })?;
        let rows = Arc::new(SharedRows::new(rows, feed));
        let io = |source| OpenError::Io {
            path: path.clone(),
            source,
        };
        let watermark = Watermark::new(&path, group);
        let mut disk = DiskFlush::open(db.clone(), &path).map_err(io)?;
        let every_group = config.durability == Durability::Flush;
        let flush = Box::new(move || disk.flush());
        let writer =
            Writer::start(db.clone(), rows.clone(), flush, every_group, watermark).map_err(io)?;
        Ok(Self {
            writer,
            db,
            rows,
            path,
            assignment: Arc::default(),
        })
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The rows with the feed's durable head.
    pub(crate) fn rows_shared(&self) -> &SharedRows {
        &self.rows
    }

    /// The tree, for reads outside the writer.
    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.db
    }

    /// The durable conversation rows.
    pub(crate) fn rows(&self) -> RwLockReadGuard<'_, RowIndex> {
        self.rows.durable()
    }
}

/// Creates the directory with its marker, or checks that an existing one is ours.
fn claim_directory(path: &Path) -> Result<(), OpenError> {
    let io = |source| OpenError::Io {
        path: path.to_owned(),
        source,
    };
    let marker = path.join(MARKER);
    if marker.exists() {
        return Ok(());
    }
    if path.exists() && std::fs::read_dir(path).map_err(io)?.next().is_some() {
        return Err(OpenError::Foreign {
            path: path.to_owned(),
        });
    }
    std::fs::create_dir_all(path).map_err(io)?;
    std::fs::write(
        &marker,
        format!("chat-store-sled schema {SCHEMA_VERSION}\n"),
    )
    .map_err(io)
}

/// Writes the schema version into a new store, or checks an existing store's.
fn check_schema(db: &sled::Db, path: &Path) -> Result<(), OpenError> {
    let sled_error = |error| OpenError::from_sled(path.to_owned(), error);
    match db.get(SCHEMA).map_err(sled_error)? {
        Some(found) => {
            let found = <[u8; 4]>::try_from(found.as_ref())
                .map(u32::from_be_bytes)
                .unwrap_or(u32::MAX);
            if found == SCHEMA_VERSION {
                Ok(())
            } else if (migrate::OLDEST..SCHEMA_VERSION).contains(&found) {
                migrate::upgrade(db, path, found).map_err(|error| OpenError::Corrupted {
                    path: path.to_owned(),
                    detail: format!("upgrading from schema {found}: {error}"),
                })
            } else {
                Err(OpenError::IncompatibleSchema {
                    path: path.to_owned(),
                    found,
                    expected: SCHEMA_VERSION,
                })
            }
        }
        None if db.is_empty() => {
            db.insert(SCHEMA, &SCHEMA_VERSION.to_be_bytes())
                .map_err(sled_error)?;
            db.flush().map_err(sled_error)?;
            Ok(())
        }
        None => Err(OpenError::Corrupted {
            path: path.to_owned(),
            detail: "the schema version is missing".into(),
        }),
    }
}

/// Refuses a tree that is behind its recorded watermark; returns its group number.
fn check_watermark(db: &sled::Db, path: &Path) -> Result<u64, OpenError> {
    let group = match db.get(GROUP_KEY) {
        Ok(value) => value
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map_or(0, u64::from_be_bytes),
        Err(error) => return Err(OpenError::from_sled(path.to_owned(), error)),
    };
    match watermark::recorded(path) {
        Some(recorded) if group < recorded => Err(OpenError::Corrupted {
            path: path.to_owned(),
            detail: format!(
                "the log ends at write group {group} but group {recorded} was acknowledged: damaged data was dropped"
            ),
        }),
        _ => Ok(group),
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    format!(
        "sled failed while recovering: {}",
        text.unwrap_or("unknown panic")
    )
}
