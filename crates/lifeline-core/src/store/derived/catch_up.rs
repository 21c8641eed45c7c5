//! Catching the derived index up with the store: where it stands (its position, checked
//! against the store it was built from), and one transaction of new and changed requests.

use super::*;

pub(super) struct Step {
    pub(super) done: CatchUp,
    pub(super) finished: bool,
    /// `(indexed through seq, pruned through seq)` once caught up.
    pub(super) prunable: Option<(i64, i64)>,
}

pub(super) fn store_head(conn: &Connection) -> Result<StoreHead> {
    Ok(StoreHead {
        max_rowid: conn.query_row(
            "SELECT coalesce(max(rowid), 0) FROM main.requests",
            [],
            |r| r.get(0),
        )?,
        last_seq: conn
            .query_row(
                "SELECT seq FROM main.sqlite_sequence WHERE name = 'request_changes'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0),
    })
}

pub(super) fn meta(conn: &Connection, key: &str) -> Result<Option<rusqlite::types::Value>> {
    Ok(conn
        .query_row(
            "SELECT value FROM main.store_meta WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?)
}

pub(super) fn text_meta(conn: &Connection, key: &str) -> Result<String> {
    match meta(conn, key)? {
        Some(rusqlite::types::Value::Text(s)) => Ok(s),
        other => Err(StoreError::corrupt(
            format!("store_meta {key}"),
            format!("{other:?}"),
        )),
    }
}

pub(super) fn int_meta(conn: &Connection, key: &str) -> Result<i64> {
    match meta(conn, key)? {
        Some(rusqlite::types::Value::Integer(n)) => Ok(n),
        other => Err(StoreError::corrupt(
            format!("store_meta {key}"),
            format!("{other:?}"),
        )),
    }
}

/// A value the derived file keeps about itself (`derived_state`), if set.
pub(super) fn derived_state(
    conn: &Connection,
    key: &str,
) -> Result<Option<rusqlite::types::Value>> {
    Ok(conn
        .query_row(
            "SELECT value FROM ix.derived_state WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?)
}

/// The index's position, `None` when it was never built (or belongs to another store).
pub(super) fn position(conn: &Connection) -> Result<Option<Position>> {
    let state = |key: &str| derived_state(conn, key);
    let identity = text_meta(conn, "identity")?;
    match (state("identity")?, state("high_rowid")?, state("last_seq")?) {
        (
            Some(rusqlite::types::Value::Text(built_from)),
            Some(rusqlite::types::Value::Integer(high_rowid)),
            Some(rusqlite::types::Value::Integer(last_seq)),
        ) if built_from == identity => Ok(Some(Position {
            high_rowid,
            last_seq,
        })),
        _ => Ok(None),
    }
}

/// The index's position if it can be trusted: built from this store, not ahead of it, and
/// not behind the part of the change log that was pruned.
pub(super) fn valid_position(conn: &Connection) -> Result<Option<Position>> {
    let head = store_head(conn)?;
    let pruned_through = int_meta(conn, "changes_pruned_through")?;
    Ok(position(conn)?.filter(|p| {
        p.high_rowid <= head.max_rowid
            && p.last_seq <= head.last_seq
            && p.last_seq >= pruned_through
    }))
}

/// Sets a value the derived file keeps about itself (`derived_state`).
pub(super) fn set_derived_state(
    conn: &Connection,
    key: &str,
    value: impl rusqlite::ToSql,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO ix.derived_state (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

pub(super) fn set_position(conn: &Connection, identity: &str, pos: Position) -> Result<()> {
    set_derived_state(conn, "identity", identity)?;
    set_derived_state(conn, "high_rowid", pos.high_rowid)?;
    set_derived_state(conn, "last_seq", pos.last_seq)
}

/// One transaction of catching up: up to `limit` new requests, then up to `limit` changes.
pub(super) fn catch_up_step(conn: &Connection, limit: i64) -> Result<Step> {
    // DEFERRED, not IMMEDIATE: IMMEDIATE would take the write lock of every attached file,
    // the store's included. The first statement writes the derived file, so its lock is
    // taken (waiting out another process's catch-up) before anything is read.
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "INSERT INTO ix.derived_state (key, value) VALUES ('touched', 1) \
         ON CONFLICT (key) DO UPDATE SET value = value",
        [],
    )?;
    let identity = text_meta(&tx, "identity")?;
    let pruned_through = int_meta(&tx, "changes_pruned_through")?;
    let head = store_head(&tx)?;
    let mut done = CatchUp::default();
    let mut pos = match valid_position(&tx)? {
        Some(p) => p,
        None => {
            // Never built, built from another store, ahead of this one, or missing changes
            // that were pruned: start over. Every change up to now is covered by reading
            // every request from rowid 0.
            // The map index's snapshot goes too: the store it was taken of may not be this
            // one's history (a store restored from a backup).
            tx.execute_batch(
                "DELETE FROM ix.request_keys; DELETE FROM ix.requests_rtree; \
                 INSERT INTO ix.requests_fts (requests_fts) VALUES ('delete-all'); \
                 DELETE FROM ix.map_snapshot; \
                 DELETE FROM ix.derived_state WHERE key LIKE 'snapshot\\_%' ESCAPE '\\';",
            )?;
            done.rebuilt = true;
            Position {
                high_rowid: 0,
                last_seq: head.last_seq,
            }
        }
    };

    // Changes to requests already indexed. Those to requests beyond `high_rowid` are
    // consumed without work: the request is read whole when its rowid is reached.
    let mut last_seq = pos.last_seq;
    let mut changed: Vec<i64> = Vec::new();
    {
        let mut changes = tx.prepare_cached(
            "SELECT seq, request_rowid FROM main.request_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let mut rows = changes.query(params![pos.last_seq, limit])?;
        while let Some(row) = rows.next()? {
            last_seq = row.get(0)?;
            let rowid: i64 = row.get(1)?;
            if rowid <= pos.high_rowid {
                changed.push(rowid);
            }
        }
    }
    changed.sort_unstable();
    changed.dedup();
    // All removals first, then all inserts. Why: FTS5 writes out its pending terms at every
    // statement savepoint, and statements that can delete open one; interleaved with the
    // inserts they made every request its own index segment (~40% of the time, measured).
    for &rowid in &changed {
        unindex_row(&tx, rowid)?;
    }
    {
        let mut read = tx.prepare_cached(&format!(
            "SELECT {INDEXED_COLUMNS} FROM main.requests WHERE rowid = ?1"
        ))?;
        for &rowid in &changed {
            let mut rows = read.query([rowid])?;
            if let Some(row) = rows.next()? {
                index_row(&tx, row)?;
                done.reindexed += 1;
            }
        }
    }
    // New requests, in rowid order.
    let mut new_high = pos.high_rowid;
    {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {INDEXED_COLUMNS} FROM main.requests WHERE rowid > ?1 ORDER BY rowid LIMIT ?2"
        ))?;
        let mut rows = stmt.query(params![pos.high_rowid, limit])?;
        while let Some(row) = rows.next()? {
            new_high = index_row(&tx, row)?;
            done.indexed_new += 1;
        }
    }
    pos.high_rowid = new_high;
    let more_new = new_high < head.max_rowid;
    pos.last_seq = last_seq;
    let more_changes = last_seq < head.last_seq;
    set_position(&tx, &identity, pos)?;
    tx.commit()?;
    let finished = !more_new && !more_changes;
    Ok(Step {
        done,
        finished,
        prunable: finished.then_some((pos.last_seq, pruned_through)),
    })
}

/// Removes what the index holds for a request.
pub(super) fn unindex_row(tx: &Connection, rowid: i64) -> Result<()> {
    tx.prepare_cached("DELETE FROM ix.request_keys WHERE rowid = ?1")?
        .execute([rowid])?;
    tx.prepare_cached("DELETE FROM ix.requests_rtree WHERE id = ?1")?
        .execute([rowid])?;
    tx.prepare_cached("DELETE FROM ix.requests_fts WHERE rowid = ?1")?
        .execute([rowid])?;
    Ok(())
}

/// Writes the keys, box and text of the request in `row` (read with [`INDEXED_COLUMNS`];
/// not indexed at the moment). Returns its rowid.
pub(super) fn index_row(tx: &Connection, row: &rusqlite::Row<'_>) -> Result<i64> {
    let rowid: i64 = row.get(0)?;
    let id: String = row.get(1)?;
    let description: String = row.get(2)?;
    let name: String = row.get(3)?;
    let address: Option<String> = row.get(4)?;
    let lon: Option<f64> = row.get(5)?;
    let lat: Option<f64> = row.get(6)?;
    tx.prepare_cached(
        "INSERT INTO ix.request_keys (rowid, lon, lat, created_at, located_at, priority, status, category, \
         emergency, is_open, triage_rank, country, post, assignee, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        rowid,
        lon,
        lat,
        row.get::<_, i64>(7)?,
        row.get::<_, Option<i64>>(8)?,
        row.get::<_, i64>(9)?,
        row.get::<_, String>(10)?,
        row.get::<_, String>(11)?,
        row.get::<_, bool>(12)?,
        row.get::<_, bool>(13)?,
        row.get::<_, i64>(14)?,
        row.get::<_, Option<String>>(15)?,
        row.get::<_, Option<String>>(16)?,
        row.get::<_, Option<String>>(17)?,
        row.get::<_, i64>(18)?,
    ])?;
    if let (Some(lon), Some(lat)) = (lon, lat) {
        tx.prepare_cached(
            "INSERT INTO ix.requests_rtree (id, min_lon, max_lon, min_lat, max_lat) VALUES (?1, ?2, ?2, ?3, ?3)",
        )?
        .execute(params![rowid, lon, lat])?;
    }
    let mut notes = String::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT json_extract(detail, '$.text') FROM main.case_events \
             WHERE request_id = ?1 AND kind = 'note' ORDER BY seq",
        )?;
        let mut rows = stmt.query([&id])?;
        while let Some(row) = rows.next()? {
            if let Some(text) = row.get::<_, Option<String>>(0)? {
                notes.push_str(&text);
                notes.push('\n');
            }
        }
    }
    let mut unigrams = String::new();
    let mut segment = |text: &str| {
        let (segmented, uni) = search::segment_for_index(text);
        unigrams.push_str(&uni);
        segmented
    };
    let place = match (lat, lon) {
        (Some(lat), Some(lon)) => place_words(lat, lon),
        _ => String::new(),
    };
    let (description, name, address, notes) = (
        segment(&description),
        segment(&name),
        segment(address.as_deref().unwrap_or("")),
        segment(&notes),
    );
    // Not in `unigrams`: a one-character search is most often a surname (周, 黄), which
    // must not find every request near 周口 or 黄石.
    let (place, _) = search::segment_for_index(&place);
    tx.prepare_cached(
        "INSERT INTO ix.requests_fts (rowid, description, name, address, notes, ref, place, unigrams) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        rowid,
        description,
        name,
        address,
        notes,
        id,
        place,
        unigrams
    ])?;
    Ok(rowid)
}

/// The names, in both languages, of the city nearest to a position, of its province and
/// of the region that province lies in: what makes a search for `清迈`, `Chiang Mai` or
/// `Castilla y León` find the requests made there, whatever their address says.
fn place_words(lat: f64, lon: f64) -> String {
    use crate::geo::{cities, subdivisions};
    let Some(near) = cities::near(lat, lon) else {
        return String::new();
    };
    let mut words = vec![near.city.name];
    words.extend(near.city.name_zh);
    for code in near
        .city
        .subdivision
        .into_iter()
        .flat_map(subdivisions::lineage)
    {
        if let Some(s) = subdivisions::by_code(code) {
            words.push(s.name);
            words.extend(s.name_zh);
        }
    }
    words.join("\n")
}
