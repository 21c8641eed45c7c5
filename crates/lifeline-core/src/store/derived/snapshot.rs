//! The in-memory map index's snapshot (`MapIndex::to_snapshot`), kept in the derived file
//! with the store position it reflects. Derived like everything here: a missing or unusable
//! snapshot only means the next start reads the requests again.

use super::catch_up::{derived_state, int_meta, set_derived_state, text_meta};
use super::*;

/// Created in every derived file (also in one made before snapshots existed), on a
/// connection to the file itself.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS map_snapshot (
    part    INTEGER PRIMARY KEY,
    bytes   BLOB NOT NULL
);";

/// A snapshot is written in parts of this size (one BLOB of 30 MB would be read whole).
const PART_BYTES: usize = 4 << 20;

/// The store position a snapshot reflects: every request up to `high_rowid`, every change up
/// to `last_seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) struct SnapshotAt {
    pub(in crate::store) high_rowid: i64,
    pub(in crate::store) last_seq: i64,
}

/// Where the store stands now (on a connection with the store as `main`).
pub(in crate::store) fn head(conn: &Connection) -> Result<SnapshotAt> {
    let h = store_head(conn)?;
    Ok(SnapshotAt {
        high_rowid: h.max_rowid,
        last_seq: h.last_seq,
    })
}

/// The oldest change the log still holds is the one after this.
pub(in crate::store) fn pruned_through(conn: &Connection) -> Result<i64> {
    int_meta(conn, "changes_pruned_through")
}

impl DerivedIndex {
    /// Replaces the snapshot with `bytes`, taken at `at`.
    pub(in crate::store) fn save_map_snapshot(&self, at: SnapshotAt, bytes: &[u8]) -> Result<()> {
        let conn = self.indexer.lock().map_err(|_| StoreError::Poisoned)?;
        let tx = conn.unchecked_transaction()?;
        let identity = text_meta(&tx, "identity")?;
        tx.execute("DELETE FROM ix.map_snapshot", [])?;
        {
            let mut insert =
                tx.prepare("INSERT INTO ix.map_snapshot (part, bytes) VALUES (?1, ?2)")?;
            for (i, part) in bytes.chunks(PART_BYTES).enumerate() {
                insert.execute(params![i as i64, part])?;
            }
        }
        set_derived_state(&tx, "snapshot_identity", identity)?;
        set_derived_state(&tx, "snapshot_high_rowid", at.high_rowid)?;
        set_derived_state(&tx, "snapshot_last_seq", at.last_seq)?;
        set_derived_state(&tx, "snapshot_bytes", bytes.len() as i64)?;
        tx.commit()?;
        // The snapshot's pages are never read by this connection again.
        conn.execute_batch("PRAGMA shrink_memory")?;
        Ok(())
    }

    /// The snapshot and where it was taken, when there is one of this store. Read on `conn`
    /// (the store as `main`, the derived file as `ix`).
    pub(in crate::store) fn load_map_snapshot(
        conn: &Connection,
    ) -> Result<Option<(SnapshotAt, Vec<u8>)>> {
        let state = |key: &str| derived_state(conn, key);
        use rusqlite::types::Value::{Integer, Text};
        let identity = text_meta(conn, "identity")?;
        let (
            Some(Text(of)),
            Some(Integer(high_rowid)),
            Some(Integer(last_seq)),
            Some(Integer(size)),
        ) = (
            state("snapshot_identity")?,
            state("snapshot_high_rowid")?,
            state("snapshot_last_seq")?,
            state("snapshot_bytes")?,
        )
        else {
            return Ok(None);
        };
        if of != identity {
            return Ok(None);
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let mut stmt = conn.prepare("SELECT bytes FROM ix.map_snapshot ORDER BY part")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            bytes.extend_from_slice(
                row.get_ref(0)?
                    .as_blob()
                    .map_err(|e| StoreError::corrupt("map snapshot part", e))?,
            );
        }
        Ok(Some((
            SnapshotAt {
                high_rowid,
                last_seq,
            },
            bytes,
        )))
    }
}
