//! Keeping the in-memory [`MapIndex`] in step with the database.
//!
//! SQLite's update hook on the writer connection records the rowid of every request row a
//! transaction writes; after the commit those rows are read back into the index. A rolled
//! back transaction's rowids are dropped. So every write path (sync, import, local edits,
//! outbox replays) keeps the index current without knowing it exists.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use rusqlite::hooks::Action;

use super::query::{POINT_COLUMNS, RequestQuery, point_from_row};
use super::requests::{REQUEST_COLUMNS, StoredRequest, request_from_row};
use super::{Result, Store, StoreError, WRITER_CACHE_KIB};
use crate::geo::BBox;
use crate::mapindex::{Cluster, MapIndex, RowidSet};

/// Page cache (KiB) of the writer while it scans the whole table to build the index.
const SCAN_CACHE_KIB: i64 = 2 * 1024;

/// Build the index from the derived query index's keys when it is at most this far behind
/// (catching up holds the writer meanwhile); further behind, from the request rows.
const KEYS_BUILD_MAX_LAG: u64 = 20_000;

#[derive(Default)]
pub(super) struct IndexState {
    index: Mutex<Option<MapIndex>>,
    touched: Arc<Mutex<Vec<i64>>>,
}

impl IndexState {
    /// Called by `Store::write` after each transaction, holding the writer.
    pub(super) fn after_transaction(&self, conn: &Connection, committed: bool) -> Result<()> {
        let rowids: Vec<i64> =
            std::mem::take(&mut *self.touched.lock().map_err(|_| StoreError::Poisoned)?);
        if !committed || rowids.is_empty() {
            return Ok(());
        }
        let mut guard = self.index.lock().map_err(|_| StoreError::Poisoned)?;
        let Some(index) = guard.as_mut() else {
            return Ok(());
        };
        let unique: HashSet<i64> = rowids.into_iter().collect();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {POINT_COLUMNS} FROM requests WHERE rowid = ?1"
        ))?;
        for rowid in unique {
            let mut rows = stmt.query([rowid])?;
            match rows.next()? {
                Some(row) => index.upsert(&point_from_row(row)?),
                None => index.remove(rowid),
            }
        }
        Ok(())
    }
}

impl Store {
    /// Builds the in-memory request index from the database and keeps it current from then
    /// on. The desk calls it on a background thread at start.
    ///
    /// When the derived query index is (nearly) caught up, the build reads its compact
    /// filter keys (~60 bytes a request) instead of the request rows (~400): at 10^5
    /// requests that is the difference between ~15 and ~100 ms, at a moment the desk's
    /// window is competing for the same two cores.
    pub fn enable_index(&self) -> Result<()> {
        let lag = self.derived.lag()?;
        let from_keys = lag.new_requests + lag.changes <= KEYS_BUILD_MAX_LAG;
        let conn = self.writer.lock().map_err(|_| StoreError::Poisoned)?;
        let mut index = MapIndex::new();
        if from_keys {
            // Holding the writer: nothing commits between the catch-up, the scan and the
            // hook, so the index misses no write. The scan reads through a reader (the
            // derived file is attached there).
            self.derived.catch_up()?;
            self.with_reader(|c| -> Result<()> {
                let mut stmt =
                    c.prepare(&format!("SELECT {POINT_COLUMNS} FROM ix.request_keys"))?;
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    index.upsert(&point_from_row(row)?);
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
                    index.upsert(&point_from_row(row)?);
                }
                Ok(())
            })();
            conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
            scanned?;
        }
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
        *self.index.index.lock().map_err(|_| StoreError::Poisoned)? = Some(index);
        Ok(())
    }

    pub fn index_enabled(&self) -> bool {
        self.index.index.lock().is_ok_and(|i| i.is_some())
    }

    pub(super) fn with_index<T>(&self, f: impl FnOnce(&MapIndex) -> T) -> Result<T> {
        let guard = self.index.index.lock().map_err(|_| StoreError::Poisoned)?;
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
        let guard = self.index.index.lock().map_err(|_| StoreError::Poisoned)?;
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
