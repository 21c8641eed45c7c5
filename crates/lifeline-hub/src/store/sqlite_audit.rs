//! [`AuditLog`] on the hub's SQLite file. The anchor of the chain (the hash before the first
//! entry kept) is in `meta` under `audit_anchor`; rotation moves it forward.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::audit::{GENESIS, chain_hash, check_chain, check_head};
use super::{AuditEntry, AuditLog, AuditRecord, ChainCheck, HubError, SqliteHubStore};

fn anchor(conn: &Connection) -> Result<String, HubError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'audit_anchor'")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| GENESIS.to_owned()))
}

fn records(conn: &Connection, since_ms: i64) -> Result<Vec<AuditRecord>, HubError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit WHERE at >= ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([since_ms], |r| {
        Ok(AuditRecord {
            seq: r.get(0)?,
            at: DateTime::from_timestamp_millis(r.get(1)?).unwrap_or_default(),
            actor: r.get(2)?,
            action: r.get(3)?,
            target: r.get(4)?,
            detail: r.get(5)?,
            prev_hash: r.get(6)?,
            hash: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Appends an entry inside the caller's transaction: the change and its record commit
/// together or not at all. The head (last seq and hash) is kept in `meta` as well, so a
/// trail cut short at its end no longer matches it.
pub(super) fn append_in(
    tx: &Transaction<'_>,
    e: AuditEntry<'_>,
    now: DateTime<Utc>,
) -> Result<(), HubError> {
    let last: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => {
            // After a rotation that left nothing, numbering goes on past the anchor.
            let next: i64 = tx
                .prepare_cached("SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'audit_next_seq'), 1)")?
                .query_row([], |r| r.get(0))?;
            (next, anchor(tx)?)
        }
    };
    let at = now.timestamp_millis();
    let hash = chain_hash(&prev, seq, at, e.actor, e.action, e.target, e.detail);
    tx.prepare_cached(
        "INSERT INTO audit (seq, at, actor, action, target, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![seq, at, e.actor, e.action, e.target, e.detail, prev, hash])?;
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('audit_head', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([format!("{seq}:{hash}")])?;
    Ok(())
}

impl AuditLog for SqliteHubStore {
    fn audit(&self, e: AuditEntry<'_>, now: DateTime<Utc>) -> Result<(), HubError> {
        self.with_tx(|tx| append_in(tx, e, now))
    }

    fn audit_since(&self, since: DateTime<Utc>) -> Result<Vec<AuditRecord>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        records(&conn, since.timestamp_millis())
    }

    fn verify_audit(&self) -> Result<ChainCheck, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        let anchor = anchor(&conn)?;
        let entries = records(&conn, i64::MIN)?;
        let head: Option<String> = conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'audit_head'")?
            .query_row([], |r| r.get(0))
            .optional()?;
        Ok(check_head(check_chain(&anchor, &entries), &entries, head))
    }

    fn rotate_audit(&self, through_seq: i64) -> Result<usize, HubError> {
        self.with_tx(|tx| {
            let last: Option<String> = tx
                .prepare_cached("SELECT hash FROM audit WHERE seq = ?1")?
                .query_row([through_seq], |r| r.get(0))
                .optional()?;
            let Some(hash) = last else {
                return Err(HubError::NotFound(format!("no audit entry {through_seq}")));
            };
            // Deleting is what rotation is for: the trigger allows it while `audit_rotating`
            // is set, inside this transaction only.
            tx.prepare_cached(
                "INSERT INTO meta (key, value) VALUES ('audit_rotating', '1') ON CONFLICT (key) DO UPDATE SET value = '1'",
            )?
            .execute([])?;
            let n = tx
                .prepare_cached("DELETE FROM audit WHERE seq <= ?1")?
                .execute([through_seq])?;
            tx.prepare_cached("UPDATE meta SET value = '0' WHERE key = 'audit_rotating'")?
                .execute([])?;
            tx.prepare_cached(
                "INSERT INTO meta (key, value) VALUES ('audit_anchor', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute([&hash])?;
            tx.prepare_cached(
                "INSERT INTO meta (key, value) VALUES ('audit_next_seq', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute([(through_seq + 1).to_string()])?;
            Ok(n)
        })
    }
}
