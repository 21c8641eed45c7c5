//! Keeping the in-memory [`MapIndex`] in step with the database.
//!
//! SQLite's update hook on the writer connection records the rowid of every request row a
//! transaction writes; after the commit those rows are read back into the index. A rolled
//! back transaction's rowids are dropped. So every write path (sync, import, local edits,
//! outbox replays) keeps the index current without knowing it exists.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use rusqlite::hooks::Action;

use super::derived::{self, DerivedIndex, SnapshotAt};
use super::query::{POINT_COLUMNS, RequestQuery, point_from_row};
use super::requests::{REQUEST_COLUMNS, StoredRequest, request_from_row};
use super::{Result, Store, StoreError, WRITER_CACHE_KIB};
use crate::geo::BBox;
use crate::mapindex::{Cluster, MapIndex, PointSource, RowidSet};

/// Page cache (KiB) of the writer while it scans the whole table to build the index.
const SCAN_CACHE_KIB: i64 = 2 * 1024;

/// Build the index from the derived query index's keys when it is at most this far behind
/// (catching up holds the writer meanwhile); further behind, from the request rows.
const KEYS_BUILD_MAX_LAG: u64 = 20_000;

/// Start from the snapshot when at most this many requests changed since it was taken
/// (each is read again); with more, reading every request is as quick.
const SNAPSHOT_MAX_CHANGED: i64 = 50_000;

#[derive(Default)]
pub(super) struct IndexState {
    /// Read by every query of the desk at once; written by each committed transaction.
    index: RwLock<Option<MapIndex>>,
    touched: Arc<Mutex<Vec<i64>>>,
    /// Where the last snapshot saved or started from was taken.
    snapshot_at: Mutex<Option<SnapshotAt>>,
    /// The store position the index has read everything up to. Its own writes reach it at
    /// once (the update hook); another process's (the command line's) only when a snapshot
    /// is saved, which first re-reads what changed since this.
    seen: Mutex<Option<SnapshotAt>>,
    /// One snapshot saved at a time (the desk's timer and its exit).
    saving: Mutex<()>,
}

/// How [`Store::enable_index`] built the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexBuild {
    /// From the snapshot saved earlier, with the requests changed since read again.
    FromSnapshot { changed: u64 },
    /// From every request: there was no usable snapshot (`refused`: one was there but did
    /// not read back, and why).
    Full { refused: Option<String> },
}

fn rowid_range(e: crate::mapindex::RowidOutOfRange) -> StoreError {
    StoreError::corrupt("request rowid", e)
}

impl IndexState {
    /// Called by `Store::write` after each transaction, holding the writer.
    pub(super) fn after_transaction(&self, conn: &Connection, committed: bool) -> Result<()> {
        let rowids: Vec<i64> =
            std::mem::take(&mut *self.touched.lock().map_err(|_| StoreError::Poisoned)?);
        if !committed || rowids.is_empty() {
            return Ok(());
        }
        let unique: Vec<i64> = rowids
            .into_iter()
            .collect::<HashSet<i64>>()
            .into_iter()
            .collect();
        // The rows are read before the index is locked for writing: the desk's queries go
        // on reading it meanwhile.
        let read = read_points(conn, &unique)?;
        let mut guard = self.index.write().map_err(|_| StoreError::Poisoned)?;
        match guard.as_mut() {
            Some(index) => apply(index, read),
            None => Ok(()),
        }
    }

    /// The change the last snapshot was taken at (the change log keeps what follows it).
    pub(super) fn snapshot_seq(&self) -> Option<i64> {
        self.snapshot_at
            .lock()
            .ok()
            .and_then(|s| s.map(|at| at.last_seq))
    }
}

/// A [`PointSource`] that owns its text, read before the index is locked.
struct OwnedPoint {
    rowid: i64,
    position: Option<(f64, f64)>,
    created_at: DateTime<Utc>,
    located_at: Option<DateTime<Utc>>,
    priority: crate::model::Priority,
    status: crate::model::Status,
    category: crate::model::Category,
    emergency: bool,
    country: Option<String>,
    post: Option<String>,
    assignee: Option<String>,
}

impl From<&PointSource<'_>> for OwnedPoint {
    fn from(p: &PointSource<'_>) -> OwnedPoint {
        OwnedPoint {
            rowid: p.rowid,
            position: p.position,
            created_at: p.created_at,
            located_at: p.located_at,
            priority: p.priority,
            status: p.status,
            category: p.category,
            emergency: p.emergency,
            country: p.country.map(str::to_owned),
            post: p.post.map(str::to_owned),
            assignee: p.assignee.map(str::to_owned),
        }
    }
}

impl OwnedPoint {
    fn source(&self) -> PointSource<'_> {
        PointSource {
            rowid: self.rowid,
            position: self.position,
            created_at: self.created_at,
            located_at: self.located_at,
            priority: self.priority,
            status: self.status,
            category: self.category,
            emergency: self.emergency,
            country: self.country.as_deref(),
            post: self.post.as_deref(),
            assignee: self.assignee.as_deref(),
        }
    }
}

/// The current rows of `rowids` (`Err(rowid)`: no such row), read for the index.
fn read_points(conn: &Connection, rowids: &[i64]) -> Result<Vec<Result<OwnedPoint, i64>>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {POINT_COLUMNS} FROM requests WHERE rowid = ?1"
    ))?;
    let mut out = Vec::with_capacity(rowids.len());
    for rowid in rowids {
        let mut rows = stmt.query([rowid])?;
        out.push(match rows.next()? {
            Some(row) => Ok(OwnedPoint::from(&point_from_row(row)?)),
            None => Err(*rowid),
        });
    }
    Ok(out)
}

/// Puts rows read by [`read_points`] into the index.
fn apply(index: &mut MapIndex, read: Vec<Result<OwnedPoint, i64>>) -> Result<()> {
    for point in read {
        match point {
            Ok(p) => index.upsert(&p.source()).map_err(rowid_range)?,
            Err(rowid) => index.remove(rowid),
        }
    }
    Ok(())
}

/// The requests written or changed after `at`: up to `limit`, `None` past it.
fn changed_since(conn: &Connection, at: SnapshotAt, limit: i64) -> Result<Option<Vec<i64>>> {
    let changed: Vec<i64> = conn
        .prepare_cached(
            "SELECT rowid FROM requests WHERE rowid > ?1 \
             UNION SELECT request_rowid FROM request_changes WHERE seq > ?2 \
             LIMIT ?3",
        )?
        .query_map(
            rusqlite::params![at.high_rowid, at.last_seq, limit.saturating_add(1)],
            |r| r.get(0),
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok((changed.len() as i64 <= limit).then_some(changed))
}

impl Store {
    /// Builds the in-memory request index and keeps it current from then on. The desk calls
    /// it on a background thread at start.
    ///
    /// A later start reads the snapshot saved earlier ([`Store::save_index_snapshot`]) and
    /// reads again only the requests written since (~0.2 s at 10^6 requests, where reading
    /// every request took ~1.6 s of the two cores the desk's window starts on). Without a
    /// usable snapshot the build reads the derived query index's compact filter keys (~60
    /// bytes a request) when it is (nearly) caught up, else the request rows (~400).
    pub fn enable_index(&self) -> Result<IndexBuild> {
        let conn = self.writer.lock().map_err(|_| StoreError::Poisoned)?;
        // Holding the writer: nothing of this process commits between the reads below and
        // the hook, so the index misses none of its writes. Another process's after this
        // position are read again when a snapshot is saved.
        let seen = derived::store_position(&conn)?;
        let (mut index, build) = match self.index_from_snapshot(&conn) {
            Ok(Some((index, changed))) => (index, IndexBuild::FromSnapshot { changed }),
            Ok(None) => (
                self.index_from_requests(&conn)?,
                IndexBuild::Full { refused: None },
            ),
            Err(e) => (
                self.index_from_requests(&conn)?,
                IndexBuild::Full {
                    refused: Some(e.to_string()),
                },
            ),
        };
        index.shrink_to_fit();
        let touched = Arc::clone(&self.index.touched);
        conn.update_hook(Some(
            move |action: Action, _db: &str, table: &str, rowid: i64| {
                let row_change = matches!(
                    action,
                    Action::SQLITE_INSERT | Action::SQLITE_UPDATE | Action::SQLITE_DELETE
                );
                if table == "requests"
                    && row_change
                    && let Ok(mut t) = touched.lock()
                {
                    t.push(rowid);
                }
            },
        ));
        *self.index.index.write().map_err(|_| StoreError::Poisoned)? = Some(index);
        *self.index.seen.lock().map_err(|_| StoreError::Poisoned)? = Some(seen);
        Ok(build)
    }

    /// The saved snapshot brought up to the store's head, with how many requests were read
    /// again; `None` when there is none of this store or too much changed since.
    fn index_from_snapshot(&self, conn: &Connection) -> Result<Option<(MapIndex, u64)>> {
        let Some((at, bytes)) = self.with_reader(DerivedIndex::load_map_snapshot)? else {
            return Ok(None);
        };
        // One read transaction: another process pruning the change log between the check
        // and the read could not hide a change.
        let tx = conn.unchecked_transaction()?;
        let head = derived::store_position(&tx)?;
        // Taken ahead of this store (a restored backup), or before changes the log no
        // longer holds: which requests changed since cannot be known.
        if at.high_rowid > head.high_rowid
            || at.last_seq > head.last_seq
            || at.last_seq < derived::pruned_through(&tx)?
        {
            return Ok(None);
        }
        let Some(changed) = changed_since(&tx, at, SNAPSHOT_MAX_CHANGED)? else {
            return Ok(None);
        };
        let mut index = MapIndex::from_snapshot(&bytes, at.high_rowid)
            .map_err(|e| StoreError::corrupt("map index snapshot", e))?;
        drop(bytes);
        apply(&mut index, read_points(&tx, &changed)?)?;
        tx.commit()?;
        *self
            .index
            .snapshot_at
            .lock()
            .map_err(|_| StoreError::Poisoned)? = Some(at);
        Ok(Some((index, changed.len() as u64)))
    }

    /// Every request read into a new index.
    fn index_from_requests(&self, conn: &Connection) -> Result<MapIndex> {
        let lag = self.derived.lag()?;
        let from_keys = lag.new_requests + lag.changes <= KEYS_BUILD_MAX_LAG;
        let mut index = MapIndex::new();
        if from_keys {
            // The scan reads through a reader (the derived file is attached there).
            self.derived.catch_up(self.index.snapshot_seq())?;
            self.with_reader(|c| -> Result<()> {
                let mut stmt =
                    c.prepare(&format!("SELECT {POINT_COLUMNS} FROM ix.request_keys"))?;
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    index.upsert(&point_from_row(row)?).map_err(rowid_range)?;
                }
                Ok(())
            })?;
        } else {
            // The scan reads every request page once. On the writer's large cache those
            // pages would stay resident for the life of the desk (~20 MiB at 10^5 requests)
            // while the writer rarely needs them again: scan with a small cache, then give
            // it back.
            conn.pragma_update(None, "cache_size", -SCAN_CACHE_KIB)?;
            let scanned = (|| -> Result<()> {
                let mut stmt = conn.prepare(&format!("SELECT {POINT_COLUMNS} FROM requests"))?;
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    index.upsert(&point_from_row(row)?).map_err(rowid_range)?;
                }
                Ok(())
            })();
            conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
            scanned?;
        }
        Ok(index)
    }

    /// How many requests the next start would read again past the last snapshot saved or
    /// started from: those written since (new rowids), and those changed since (the change
    /// log); `None` when the index has no snapshot yet.
    pub fn changes_since_index_snapshot(&self) -> Result<Option<i64>> {
        let Some(at) = *self
            .index
            .snapshot_at
            .lock()
            .map_err(|_| StoreError::Poisoned)?
        else {
            return Ok(None);
        };
        let head = self.read(derived::store_position)?;
        Ok(Some(
            (head.high_rowid - at.high_rowid).max(0) + (head.last_seq - at.last_seq).max(0),
        ))
    }

    /// Saves the in-memory index with the store position it reflects, for the next start
    /// ([`Store::enable_index`]). Does nothing (false) when the index is not enabled or the
    /// store has not changed since the last snapshot. The desk calls it after a full build
    /// and when enough changed since; the index is read under the writer (~30 ms at 10^6
    /// requests) and written to the derived file without it.
    pub fn save_index_snapshot(&self) -> Result<bool> {
        let _one_at_a_time = self.index.saving.lock().map_err(|_| StoreError::Poisoned)?;
        let (at, bytes) = {
            let conn = self.writer.lock().map_err(|_| StoreError::Poisoned)?;
            let tx = conn.unchecked_transaction()?;
            let at = derived::store_position(&tx)?;
            if *self
                .index
                .snapshot_at
                .lock()
                .map_err(|_| StoreError::Poisoned)?
                == Some(at)
            {
                return Ok(false);
            }
            let Some(seen) = *self.index.seen.lock().map_err(|_| StoreError::Poisoned)? else {
                return Ok(false); // not enabled
            };
            if seen != at {
                // What another process wrote since the index last looked (this process's
                // own writes are read again too, harmlessly). Past the pruned log it
                // cannot be known: no snapshot rather than a wrong one.
                if seen.last_seq < derived::pruned_through(&tx)? {
                    return Ok(false);
                }
                let changed = changed_since(&tx, seen, i64::MAX)?.unwrap_or_default();
                let read = read_points(&tx, &changed)?;
                let mut guard = self.index.index.write().map_err(|_| StoreError::Poisoned)?;
                if let Some(index) = guard.as_mut() {
                    apply(index, read)?;
                }
                *self.index.seen.lock().map_err(|_| StoreError::Poisoned)? = Some(at);
            }
            let guard = self.index.index.read().map_err(|_| StoreError::Poisoned)?;
            let Some(index) = guard.as_ref() else {
                return Ok(false);
            };
            (at, index.to_snapshot())
        };
        self.derived.save_map_snapshot(at, &bytes)?;
        *self
            .index
            .snapshot_at
            .lock()
            .map_err(|_| StoreError::Poisoned)? = Some(at);
        Ok(true)
    }

    pub fn index_enabled(&self) -> bool {
        self.index.index.read().is_ok_and(|i| i.is_some())
    }

    pub(super) fn with_index<T>(&self, f: impl FnOnce(&MapIndex) -> T) -> Result<T> {
        let guard = self.index.index.read().map_err(|_| StoreError::Poisoned)?;
        let index = guard.as_ref().ok_or(StoreError::IndexNotEnabled)?;
        Ok(f(index))
    }

    /// Rowids matching the query's text, `None` when it has no text.
    fn text_rowids(&self, q: &RequestQuery) -> Result<Option<RowidSet>> {
        match q.text.as_deref().filter(|t| !t.trim().is_empty()) {
            None => Ok(None),
            Some(text) => Ok(Some(self.text_match_rowids(text)?)),
        }
    }

    /// Clusters for a map viewport: the query's filters, the given box and zoom.
    pub fn viewport_clusters(
        &self,
        bbox: &BBox,
        zoom: f64,
        radius_px: f64,
        q: &RequestQuery,
        stale_before: DateTime<Utc>,
    ) -> Result<Vec<Cluster>> {
        let text = self.text_rowids(q)?;
        self.with_index(|index| {
            let filter = index.filter(q, text);
            index.clusters(bbox, zoom, radius_px, &filter, stale_before)
        })
    }

    /// The ids of the requests in the cluster drawn nearest `at` (lon, lat), as
    /// [`Store::viewport_clusters`] draws them with the same arguments: how many it holds
    /// and the first `cap` in `q.order` (a pick for a bulk action). None when no cluster
    /// is drawn there.
    pub fn viewport_cluster_members(
        &self,
        bbox: &BBox,
        zoom: f64,
        radius_px: f64,
        q: &RequestQuery,
        at: (f64, f64),
        cap: usize,
    ) -> Result<Option<(usize, Vec<String>)>> {
        let text = self.text_rowids(q)?;
        let Some((total, rowids)) = self.with_index(|index| {
            let filter = index.filter(q, text);
            index.cluster_members(bbox, zoom, radius_px, &filter, at, q.order, cap)
        })?
        else {
            return Ok(None);
        };
        let mut ids = Vec::with_capacity(rowids.len());
        for rowid in rowids {
            ids.extend(self.request_id_for_rowid(rowid)?);
        }
        Ok(Some((total, ids)))
    }

    /// One page of requests in queue order (within `q.bbox` when set) and how many match in
    /// all: what the queue shows while it scrolls. Uses `q.limit` (default 100) and `q.offset`.
    pub fn indexed_page(&self, q: &RequestQuery) -> Result<(u64, Vec<StoredRequest>)> {
        let text = self.text_rowids(q)?;
        let (total, rowids) = self.with_index(|index| {
            let filter = index.filter(q, text);
            index.page(
                q.bbox.as_ref(),
                &filter,
                q.order,
                q.limit.unwrap_or(100) as usize,
                q.offset as usize,
            )
        })?;
        let rows = self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS} FROM requests r WHERE r.rowid = ?1"
            ))?;
            let mut out = Vec::with_capacity(rowids.len());
            for rowid in &rowids {
                let mut rows = stmt.query([rowid])?;
                if let Some(row) = rows.next()? {
                    out.push(request_from_row(row)?);
                }
            }
            Ok(out)
        })?;
        Ok((total as u64, rows))
    }

    /// [`Store::counts`] from the in-memory index: what the desk's panels show on every
    /// change, in microseconds rather than a scan of the store.
    pub fn indexed_counts(&self, q: &RequestQuery) -> Result<super::Counts> {
        let text = self.text_rowids(q)?;
        self.with_index(|index| index.counts(q.bbox.as_ref(), &index.filter(q, text)))
    }

    /// [`Store::time_buckets`] from the in-memory index.
    pub fn indexed_time_buckets(
        &self,
        q: &RequestQuery,
        bucket: chrono::Duration,
    ) -> Result<Vec<super::TimeBucket>> {
        let text = self.text_rowids(q)?;
        let buckets = self.with_index(|index| {
            index.time_buckets(
                q.bbox.as_ref(),
                &index.filter(q, text),
                bucket.num_milliseconds(),
            )
        })?;
        Ok(buckets
            .into_iter()
            .map(|(start, count, emergencies)| super::TimeBucket {
                start: super::from_ms(start),
                count,
                emergencies,
            })
            .collect())
    }

    /// Open emergencies from the in-memory index, `None` when it is not enabled.
    pub(super) fn indexed_open_emergencies(&self) -> Result<Option<u64>> {
        let guard = self.index.index.read().map_err(|_| StoreError::Poisoned)?;
        Ok(guard.as_ref().map(MapIndex::open_emergencies))
    }

    /// Rowids matching a text search (for filtering the map by what was typed): the text
    /// index, and for what looks like a phone number, the citizens' phones by their digits
    /// (whole or partial, with or without the country code).
    pub fn text_match_rowids(&self, text: &str) -> Result<RowidSet> {
        let mut rowids: HashSet<i64> = match super::search::match_expression(text) {
            Some(expr) => self.read_indexed(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT rowid FROM ix.requests_fts WHERE requests_fts MATCH ?1",
                )?;
                let ids = stmt.query_map([expr], |r| r.get(0))?;
                Ok(ids.collect::<rusqlite::Result<_>>()?)
            })?,
            None => HashSet::new(),
        };
        if let Some(patterns) = super::search::phone_patterns(text) {
            rowids.extend(self.read(|c| {
                // The stored number's digits only: `+86 138-0013-8000` → `8613800138000`.
                let mut stmt = c.prepare_cached(
                    "SELECT rowid FROM requests WHERE citizen_phone IS NOT NULL AND \
                     replace(replace(replace(replace(replace(replace(citizen_phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', '') \
                     LIKE ?1",
                )?;
                let mut found = Vec::new();
                for digits in &patterns {
                    let ids = stmt.query_map([format!("%{digits}%")], |r| r.get::<_, i64>(0))?;
                    found.extend(ids.collect::<rusqlite::Result<Vec<_>>>()?);
                }
                Ok(found)
            })?);
        }
        Ok(rowids.into_iter().collect())
    }

    /// The hub id of the request stored under `rowid` (map markers carry rowids).
    pub fn request_id_for_rowid(&self, rowid: i64) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT id FROM requests WHERE rowid = ?1")?
                    .query_row([rowid], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    /// How many requests the index holds (all of them, located or not).
    pub fn indexed_count(&self) -> Result<usize> {
        self.with_index(MapIndex::len)
    }
}
