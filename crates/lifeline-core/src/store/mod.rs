//! The desk's local SQLite store.
//!
//! Owns the database file: its schema (numbered migrations), the one writer connection and
//! a small pool of readers. Invariants:
//!
//! * every write goes through [`Store::write`], which runs one transaction on the single
//!   writer; a batch and the sync cursor it advances commit together or not at all;
//! * a request never moves backwards: an incoming record with a version not newer than
//!   the stored one changes nothing;
//! * the case-event log is append-only (enforced by triggers, not just by this code);
//! * a local edit stays in the outbox until the hub confirms, conflicts or rejects it;
//! * the indexes queries use (text, spatial, filters) live in the derived query index, a
//!   second file rebuilt from this one (`derived.rs`); every SQL query that reads them
//!   catches them up first ([`Store::read_indexed`]).

mod advisories;
mod advisory_areas;
mod alerts;
mod claims;
mod derived;
mod duplicates;
mod error;
mod events;
mod index;
mod key;
mod media;
mod messages;
mod migrations;
mod outbox;
mod quarantine;
pub mod query;
mod removal;
mod requests;
pub mod search;
mod sync_state;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, Transaction};

pub use advisories::{AdvisoryChange, AdvisoryRow, UpsertOutcome};
pub use advisory_areas::{StoredArea, area_contains};
pub use alerts::{AlertRecord, DecisionRecord};
pub use claims::Claim;
pub use derived::{CatchUp, IndexLag, IndexerHandle};
pub use duplicates::Likeness;
pub use error::StoreError;
pub use events::local_event_id;
pub use index::IndexBuild;
pub use key::{Encrypted, StoreKey, encrypt_in_place, is_plaintext};
pub use media::{CachedMedia, DEFAULT_MEDIA_QUOTA_BYTES, NewMedia};
pub use messages::{ReminderArea, ThreadState};
pub use outbox::{OutboxCounts, OutboxItem, OutboxState, WITHDRAWN_NOTE, Withdrawal};
pub use quarantine::{QuarantinedRecord, Rejection};
pub use query::{AssigneeFilter, Counts, RequestOrder, RequestQuery, TimeBucket};
pub use removal::DEFAULT_RETENTION_DAYS;
pub use requests::{IncomingRequest, LocalState, StoredRequest, SyncPage, UpsertReport};
pub use sync_state::{Connection as SourceConnection, SourceKind, SourceState};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How long a connection waits for a lock before reporting the database busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Readers kept open for reuse.
const MAX_IDLE_READERS: usize = 4;
/// Page cache of the writer (KiB): batch upserts touch the id key and the case-event key
/// of every request again and again, and a large cache keeps them from being re-read.
const WRITER_CACHE_KIB: i64 = 32 * 1024;
/// Page cache of each reader (KiB). Readers answer one query at a time (the desk's hot
/// paths use the in-memory index), so a small cache each keeps the desk's memory down: at
/// the writer's size, four idle readers could hold 128 MiB of pages the OS caches anyway.
const READER_CACHE_KIB: i64 = 4 * 1024;

/// The local database. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// The in-memory request index, once enabled (the desk enables it; the CLI does not).
    index: index::IndexState,
    /// The derived query index (text, spatial and filter indexes) in its own file.
    derived: derived::DerivedIndex,
    /// The key every connection is opened with (an encrypted desk store), or none.
    key: Option<StoreKey>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the plaintext database at `path` and brings its schema up
    /// to date (the command line, imports, tests; a desk's store is encrypted).
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(path, None)
    }

    /// Opens (creating if needed) the database at `path` encrypted with `key`: the store, its
    /// derived query index and their WAL files. A wrong key fails here and changes nothing.
    pub fn open_encrypted(path: impl AsRef<Path>, key: &StoreKey) -> Result<Store> {
        Store::open_with(path, Some(key.clone()))
    }

    fn open_with(path: impl AsRef<Path>, key: Option<StoreKey>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Io {
                path: parent.to_path_buf(),
                source: e,
            })?;
        }
        let mut writer = open_connection(&path, WRITER_CACHE_KIB, key.as_ref())?;
        migrations::run(&mut writer)?;
        advisory_areas::refresh_geocoded_boxes(&mut writer)?;
        let derived = derived::DerivedIndex::open(&path, key.as_ref())?;
        Ok(Store {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            index: index::IndexState::default(),
            derived,
            key,
        })
    }

    /// The derived query index's file (beside the database; rebuilt when deleted).
    pub fn derived_index_path(&self) -> &Path {
        self.derived.path()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` inside one write transaction; commits when it returns `Ok`.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().map_err(|_| StoreError::Poisoned)?;
        let result = (|| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })();
        // Committed or rolled back, the index learns which requests it must re-read.
        self.index.after_transaction(&conn, result.is_ok())?;
        drop(conn);
        if result.is_ok() {
            self.derived.notify_written();
        }
        result
    }

    /// Brings the derived query index up to what the store holds now (the background
    /// indexer does this after every write; queries do it before they read).
    pub fn catch_up_index(&self) -> Result<CatchUp> {
        let (done, prune_through) = self.derived.catch_up(self.index.snapshot_seq())?;
        if let Some(through) = prune_through {
            // Changes the index has absorbed are no longer needed. Recorded with the
            // deletion, so an index file older than this horizon is rebuilt, not trusted.
            self.write(|tx| {
                tx.execute("DELETE FROM request_changes WHERE seq <= ?1", [through])?;
                tx.execute(
                    "UPDATE store_meta SET value = ?1 WHERE key = 'changes_pruned_through' AND value < ?1",
                    [through],
                )?;
                Ok(())
            })?;
        }
        Ok(done)
    }

    /// How far the derived query index is behind the store.
    pub fn index_lag(&self) -> Result<IndexLag> {
        self.derived.lag()
    }

    /// Keeps the derived query index caught up on a thread of its own until the handle is
    /// dropped (the desk runs one; the command line catches up when it queries).
    pub fn spawn_indexer(self: &std::sync::Arc<Store>) -> IndexerHandle {
        IndexerHandle::spawn(std::sync::Arc::clone(self))
    }

    /// [`Store::read`] for queries over the derived query index (`ix.*` tables): catches it
    /// up first, so the query sees every committed write.
    pub fn read_indexed<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.catch_up_index()?;
        self.read(f)
    }

    /// Runs `f` on a reader connection (a consistent snapshot for the duration of `f` when
    /// `f` uses one statement, or wraps itself in a read transaction).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.with_reader(f)
    }

    /// [`Store::read`] for callers whose own error type wraps the store's (streaming exports
    /// that also write to a file).
    pub fn with_reader<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let conn = {
            let mut idle = self.readers.lock().map_err(|_| StoreError::Poisoned)?;
            idle.pop()
        };
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = open_connection(&self.path, READER_CACHE_KIB, self.key.as_ref())?;
                derived::attach(
                    &c,
                    self.derived.path(),
                    derived::READER_CACHE_KIB,
                    self.key.as_ref(),
                )?;
                c
            }
        };
        let out = f(&conn);
        if let Ok(mut idle) = self.readers.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(conn);
        }
        out
    }

    /// Gives back what the connections' page caches hold: the writer's, the query index
    /// catching up, and the idle readers' (all but one closed). A desk calls it every ten
    /// seconds: the caches are sized for bursts (an initial sync, a catch-up of thousands),
    /// and on a store of 10^6 requests a steady drill filled them with ~80 MiB of pages read
    /// once (docs/PERFORMANCE.md). What is needed again is read back from the OS's file cache. A
    /// connection busy with a long write is skipped until the next call.
    pub fn release_memory(&self) -> Result<()> {
        let idle: Vec<Connection> = {
            let mut readers = self.readers.lock().map_err(|_| StoreError::Poisoned)?;
            let keep = readers.len().min(1);
            readers.drain(keep..).collect()
        };
        drop(idle);
        if let Ok(readers) = self.readers.try_lock() {
            for c in readers.iter() {
                c.execute_batch("PRAGMA shrink_memory")?;
            }
        }
        if let Ok(writer) = self.writer.try_lock() {
            writer.execute_batch("PRAGMA shrink_memory")?;
        }
        self.derived.shrink_memory()
    }

    /// `PRAGMA integrity_check` of the database and of the derived query index: empty, or
    /// the problems SQLite reports.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let mut problems = self.read(|c| {
            let mut stmt = c.prepare("PRAGMA main.integrity_check")?;
            let rows: Vec<String> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(if rows == ["ok"] { Vec::new() } else { rows })
        })?;
        problems.extend(
            self.derived
                .integrity_check()?
                .into_iter()
                .map(|p| format!("query index: {p}")),
        );
        Ok(problems)
    }

    /// Copies the write-ahead log into the database file and truncates it (after a bulk
    /// load, or before measuring the file's size).
    pub fn checkpoint(&self) -> Result<()> {
        let conn = self.writer.lock().map_err(|_| StoreError::Poisoned)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        drop(conn);
        self.derived.checkpoint()
    }

    /// The schema version this database is at.
    pub fn schema_version(&self) -> Result<i64> {
        self.read(|c| Ok(c.query_row("PRAGMA main.user_version", [], |r| r.get(0))?))
    }
}

pub(super) fn open_connection(
    path: &Path,
    cache_kib: i64,
    key: Option<&StoreKey>,
) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| StoreError::Open {
        path: path.to_path_buf(),
        source: e,
    })?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The key first: nothing may read the file before it.
    key::apply(&conn, key, path)?;
    // WAL: readers never block the writer and a crash never leaves a half-written page.
    // synchronous=NORMAL is durable across application crashes in WAL mode; only an OS
    // crash or power loss can lose the last transactions, never corrupt the file.
    set_wal(&conn).map_err(|e| StoreError::Open {
        path: path.to_path_buf(),
        source: e,
    })?;
    // secure_delete: a deleted or overwritten record's bytes are zeroed, not left in free
    // space for anyone with the file (purged and erased requests leave no trace).
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA secure_delete = ON;",
    )
    .map_err(|e| StoreError::Open {
        path: path.to_path_buf(),
        source: e,
    })?;
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Switches the file to WAL. Switching a new file needs it to itself for a moment, and SQLite
/// answers "database is locked" at once (without waiting out the busy timeout) while another
/// process is opening the same new file: a desk and a script started together did fail so.
/// So the switch is retried for as long as the busy timeout.
fn set_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())) {
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
