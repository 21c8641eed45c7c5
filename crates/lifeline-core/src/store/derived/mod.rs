//! The derived query index: a second SQLite file beside the store (`desk.index.sqlite` for
//! `desk.sqlite`) holding everything that can be rebuilt from the store's requests: the text
//! index (FTS5, with the CJK segmentation of `search.rs`), the spatial index (R*Tree) and
//! the filter keys with the B-tree indexes the queue's order and the filters use.
//!
//! Why a second file (measured 2026-12, 10^6 requests, docs/PERFORMANCE.md): written
//! inline, these indexes made one synced request cost ~17 times a bare row insert (the
//! R*Tree and FTS5 about 10 µs each, five secondary indexes ~8 µs). Here a sync page writes
//! the request rows, their id key and their case events, and this index catches up in its
//! own, larger transactions. A SQLite file has one writer: because this is another file,
//! catching up never holds the store's write lock, and runs on another core while sync
//! writes the next page.
//!
//! Invariants:
//! * It is derived. It can be deleted at any moment and is rebuilt from the store; nothing
//!   here exists only here.
//! * Every SQL query that reads it first catches it up (`Store::read_indexed`), so what a
//!   query finds is what the store holds at that moment: a request is searchable the
//!   moment its transaction commits, whether or not the background indexer got to it.
//! * New requests are found by rowid (requests are never deleted, so rowids are never
//!   reused: a trigger refuses deletes); changed ones through `request_changes`, which
//!   triggers fill in the same transaction as the change. Indexing a request always reads
//!   its whole current state (row and notes), so indexing it twice is harmless.
//! * It records the identity of the store it was built from and how far it got. An index of
//!   another store, one ahead of the store (a restored backup), or one behind the pruned
//!   part of the change log is rebuilt from scratch, never trusted.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError, StoreKey, open_connection, search};

mod catch_up;
mod indexer;
mod snapshot;

use catch_up::{catch_up_step, store_head, valid_position};
pub use indexer::IndexerHandle;
pub(super) use snapshot::{SnapshotAt, head as store_position, pruned_through};

/// Schema of the derived file. A file at another version is rebuilt (never migrated: it is
/// derived data).
const DERIVED_VERSION: i64 = 3;

/// Requests indexed per transaction when catching up. Large enough that FTS5 writes few
/// segments (each transaction flushes one), small enough that queries waiting for the
/// index see it move and the page cache holds the transaction's pages.
const CATCH_UP_ROWS: i64 = 5_000;

/// Page cache (KiB) of the indexer's connection for the derived file: the R*Tree and FTS5
/// pages a catch-up touches again and again.
const INDEXER_CACHE_KIB: i64 = 16 * 1024;

/// Page cache (KiB) of the derived file on each reader connection.
pub(super) const READER_CACHE_KIB: i64 = 2 * 1024;

/// Prune the change log once this many entries are indexed and not yet pruned.
const PRUNE_AFTER: i64 = 10_000;

/// The change log keeps the changes after the map index's snapshot (so a start can bring
/// the snapshot up to date) unless the snapshot is more than this many changes behind.
const SNAPSHOT_KEEP_MAX: i64 = 200_000;

/// The schema of the derived file, on a connection where it is attached as `ix`.
const SCHEMA: &str = "
CREATE TABLE derived_state (
    key     TEXT PRIMARY KEY,
    value   NOT NULL
);
-- One row per request: what the filters and the queue's order look at.
CREATE TABLE request_keys (
    rowid       INTEGER PRIMARY KEY,        -- the store's requests.rowid
    lon         REAL,
    lat         REAL,
    created_at  INTEGER NOT NULL,
    located_at  INTEGER,
    priority    INTEGER NOT NULL,
    status      TEXT NOT NULL,
    category    TEXT NOT NULL,
    emergency   INTEGER NOT NULL,
    is_open     INTEGER NOT NULL,
    triage_rank INTEGER NOT NULL,
    country     TEXT,
    post        TEXT,
    assignee    TEXT,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX keys_queue ON request_keys (triage_rank, created_at DESC);
CREATE INDEX keys_created ON request_keys (created_at);
CREATE INDEX keys_country ON request_keys (country, created_at);
CREATE INDEX keys_post ON request_keys (post, created_at);
CREATE INDEX keys_open_emergencies ON request_keys (created_at) WHERE emergency = 1 AND is_open = 1;
-- Retention: the closed requests not changed since a date, without reading every request.
CREATE INDEX keys_closed_updated ON request_keys (updated_at) WHERE is_open = 0;
-- One box per located request (min = max). 32-bit floats rounded outwards: queries
-- re-check the exact lon/lat of request_keys.
CREATE VIRTUAL TABLE requests_rtree USING rtree (id, min_lon, max_lon, min_lat, max_lat);
-- Contentless (the text lives in the store) with deletes enabled. Text is pre-segmented
-- (search.rs): CJK runs become bigrams, which unicode61 treats as words; `unigrams` holds
-- single CJK characters; `ref` the request's id, so an officer can type its number;
-- `place` the nearest city and its province in both languages (geo/cities.rs).
CREATE VIRTUAL TABLE requests_fts USING fts5 (
    description, name, address, notes, ref, place, unigrams,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
";

const DROP_SCHEMA: &str = "
DROP TABLE IF EXISTS derived_state;
DROP TABLE IF EXISTS request_keys;
DROP TABLE IF EXISTS requests_rtree;
DROP TABLE IF EXISTS requests_fts;
DROP TABLE IF EXISTS map_snapshot;
";

/// The columns of `requests` that indexing reads, in the order [`index_row`] expects.
const INDEXED_COLUMNS: &str = "rowid, id, description, citizen_name, address, lon, lat, created_at, located_at, \
     priority, status, category, emergency, is_open, triage_rank, country, post, assignee, updated_at";

/// Where the derived file of the store at `store_path` lives.
pub(super) fn derived_path(store_path: &Path) -> PathBuf {
    let stem = store_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".into());
    store_path.with_file_name(format!("{stem}.index.sqlite"))
}

/// Removes the derived file and its WAL (it is rebuilt from the store).
fn remove_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// Attaches the derived file to a connection of the store as `ix`, with the store's key.
pub(super) fn attach(
    conn: &Connection,
    derived: &Path,
    cache_kib: i64,
    key: Option<&StoreKey>,
) -> Result<()> {
    let path = derived.to_str().ok_or_else(|| StoreError::Io {
        path: derived.to_path_buf(),
        source: std::io::Error::other("the path is not valid UTF-8"),
    })?;
    match key {
        // SQLCipher reads a bound `x'…'` text as the raw key, like `PRAGMA key`.
        Some(k) => conn.execute(
            "ATTACH DATABASE ?1 AS ix KEY ?2",
            rusqlite::params![path, k.sql_literal()],
        )?,
        None => conn.execute("ATTACH DATABASE ?1 AS ix KEY ''", [path])?,
    };
    // WAL is the file's own setting (see `prepare_file`); synchronous is per connection.
    conn.execute_batch("PRAGMA ix.synchronous = NORMAL; PRAGMA ix.secure_delete = ON;")?;
    conn.execute_batch(&format!("PRAGMA ix.cache_size = -{cache_kib}"))?;
    Ok(())
}

/// How far the derived index is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexLag {
    /// Requests written to the store and not yet indexed.
    pub new_requests: u64,
    /// Changes (newer versions, edits, notes) not yet indexed.
    pub changes: u64,
}

impl IndexLag {
    pub fn is_caught_up(&self) -> bool {
        self.new_requests == 0 && self.changes == 0
    }
}

/// What one catch-up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CatchUp {
    pub indexed_new: u64,
    pub reindexed: u64,
    /// The index did not match the store and was rebuilt from scratch.
    pub rebuilt: bool,
}

/// Where the index stands, as recorded in the derived file.
#[derive(Debug, Clone, Copy)]
struct Position {
    high_rowid: i64,
    last_seq: i64,
}

/// Where the store stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StoreHead {
    max_rowid: i64,
    last_seq: i64,
}

pub(super) struct DerivedIndex {
    path: PathBuf,
    /// The indexer's connection: the store's file as `main` (only ever read) with the
    /// derived file attached as `ix` (written). One catch-up at a time.
    indexer: Mutex<Connection>,
    /// Wakes the background indexer after a write.
    wake: Arc<(Mutex<bool>, Condvar)>,
}

impl DerivedIndex {
    /// Opens the derived file of the store at `store_path` (creating it, or recreating it at
    /// this build's schema). The store's migrations have run.
    pub(super) fn open(store_path: &Path, key: Option<&StoreKey>) -> Result<DerivedIndex> {
        let path = derived_path(store_path);
        if let Err(e) = prepare_file(&path, key) {
            // The file is derived: one that this key does not open (left from before the
            // store was encrypted, or from another store) is rebuilt, never trusted.
            if !matches!(e, StoreError::WrongKey(_) | StoreError::Encrypted(_)) {
                return Err(e);
            }
            remove_files(&path);
            prepare_file(&path, key)?;
        }
        let conn = open_connection(store_path, 2 * 1024, key)?;
        attach(&conn, &path, INDEXER_CACHE_KIB, key)?;
        Ok(DerivedIndex {
            path,
            indexer: Mutex::new(conn),
            wake: Arc::new((Mutex::new(false), Condvar::new())),
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Tells the background indexer (if one runs) that the store changed.
    pub(super) fn notify_written(&self) {
        let (flag, cvar) = &*self.wake;
        if let Ok(mut pending) = flag.lock() {
            *pending = true;
            cvar.notify_one();
        }
    }

    /// Brings the index up to what the store holds now, in transactions of
    /// [`CATCH_UP_ROWS`]. Returns what it did, and the change-log entry through which the
    /// store may prune its change log (when that is worth it). `keep_from`: the change a
    /// map index snapshot was taken at, whose later changes stay in the log (unless the
    /// snapshot is more than [`SNAPSHOT_KEEP_MAX`] changes behind).
    pub(super) fn catch_up(&self, keep_from: Option<i64>) -> Result<(CatchUp, Option<i64>)> {
        let conn = self.indexer.lock().map_err(|_| StoreError::Poisoned)?;
        let mut total = CatchUp::default();
        // Most calls find nothing to do: find that out without writing anything.
        {
            let tx = conn.unchecked_transaction()?;
            let head = store_head(&tx)?;
            if let Some(pos) = valid_position(&tx)?
                && pos.high_rowid == head.max_rowid
                && pos.last_seq == head.last_seq
            {
                return Ok((total, None));
            }
        }
        loop {
            let step = catch_up_step(&conn, CATCH_UP_ROWS)?;
            total.indexed_new += step.done.indexed_new;
            total.reindexed += step.done.reindexed;
            total.rebuilt |= step.done.rebuilt;
            if step.finished {
                if total.indexed_new + total.reindexed > CATCH_UP_ROWS as u64 {
                    // A long catch-up filled the cache with pages the desk rarely reads
                    // again: give the memory back.
                    conn.execute_batch("PRAGMA shrink_memory")?;
                }
                let prune = step
                    .prunable
                    .map(|(through, pruned)| match keep_from {
                        Some(kept) if through - kept <= SNAPSHOT_KEEP_MAX => {
                            (through.min(kept), pruned)
                        }
                        _ => (through, pruned),
                    })
                    .filter(|&(through, pruned)| through - pruned >= PRUNE_AFTER)
                    .map(|(through, _)| through);
                return Ok((total, prune));
            }
        }
    }

    /// Empties the indexer's page cache, unless it is catching up (see
    /// `Store::release_memory`).
    pub(super) fn shrink_memory(&self) -> Result<()> {
        if let Ok(conn) = self.indexer.try_lock() {
            conn.execute_batch("PRAGMA shrink_memory")?;
        }
        Ok(())
    }

    /// How far the index is behind the store (without changing anything).
    pub(super) fn lag(&self) -> Result<IndexLag> {
        let conn = self.indexer.lock().map_err(|_| StoreError::Poisoned)?;
        let tx = conn.unchecked_transaction()?;
        let (high_rowid, last_seq) = match valid_position(&tx)? {
            Some(pos) => (pos.high_rowid, pos.last_seq),
            None => (0, i64::MAX),
        };
        Ok(IndexLag {
            new_requests: tx.query_row(
                "SELECT count(*) FROM main.requests WHERE rowid > ?1",
                [high_rowid],
                |r| r.get(0),
            )?,
            changes: tx.query_row(
                "SELECT count(*) FROM main.request_changes WHERE seq > ?1",
                [last_seq],
                |r| r.get(0),
            )?,
        })
    }

    /// `PRAGMA integrity_check` of the derived file.
    pub(super) fn integrity_check(&self) -> Result<Vec<String>> {
        let conn = self.indexer.lock().map_err(|_| StoreError::Poisoned)?;
        let mut stmt = conn.prepare("PRAGMA ix.integrity_check")?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(if rows == ["ok"] { Vec::new() } else { rows })
    }

    /// Rewrites the text index in one segment, without the terms of deleted rows.
    pub(super) fn optimize_text(&self) -> Result<()> {
        let conn = self.indexer.lock().map_err(|_| StoreError::Poisoned)?;
        conn.execute(
            "INSERT INTO ix.requests_fts (requests_fts) VALUES ('optimize')",
            [],
        )?;
        Ok(())
    }

    pub(super) fn checkpoint(&self) -> Result<()> {
        let conn = self.indexer.lock().map_err(|_| StoreError::Poisoned)?;
        conn.query_row("PRAGMA ix.wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// The wake-up signal the background indexer waits on.
    pub(super) fn wake_signal(&self) -> Arc<(Mutex<bool>, Condvar)> {
        Arc::clone(&self.wake)
    }
}

/// Creates the derived file at this build's schema, or recreates it (empty: the next
/// catch-up rebuilds it) when it has another. Checked and done under the file's write lock,
/// so a desk and a script opening the store at once do not both recreate it.
fn prepare_file(path: &Path, key: Option<&StoreKey>) -> Result<()> {
    let mut conn = open_connection(path, 1024, key)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version != DERIVED_VERSION {
        tx.execute_batch(DROP_SCHEMA)?;
        tx.execute_batch(SCHEMA)?;
        tx.execute_batch(&format!("PRAGMA user_version = {DERIVED_VERSION}"))?;
    }
    // Added after version 2 without a rebuild (a table of its own, empty is valid).
    tx.execute_batch(snapshot::SCHEMA)?;
    tx.commit()?;
    Ok(())
}
