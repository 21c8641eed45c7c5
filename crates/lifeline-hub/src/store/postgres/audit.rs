//! [`AuditLog`] on PostgreSQL. Entries are appended under the hub's write lock, so the
//! chain never forks with writers on several replicas. The anchor (the hash before the first
//! entry kept) is in `meta` under `audit_anchor`; rotation moves it forward.

use super::tx::Tx;
use chrono::{DateTime, Utc};

use super::{AUDIT_LOCK, PostgresHubStore};
use crate::store::audit::{GENESIS, chain_hash, check_chain, check_head};
use crate::store::{AuditEntry, AuditLog, AuditRecord, ChainCheck, HubError};

async fn meta(tx: &Tx<'_>, key: &str) -> Result<Option<String>, HubError> {
    Ok(tx
        .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?)
}

async fn set_meta(tx: &Tx<'_>, key: &str, value: &str) -> Result<(), HubError> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&key, &value],
    )
    .await?;
    Ok(())
}

async fn records(tx: &Tx<'_>, since_ms: i64) -> Result<Vec<AuditRecord>, HubError> {
    let rows = tx
        .query(
            "SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit WHERE at >= $1 ORDER BY seq",
            &[&since_ms],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(AuditRecord {
            seq: r.try_get(0)?,
            at: DateTime::from_timestamp_millis(r.try_get(1)?).unwrap_or_default(),
            actor: r.try_get(2)?,
            action: r.try_get(3)?,
            target: r.try_get(4)?,
            detail: r.try_get(5)?,
            prev_hash: r.try_get(6)?,
            hash: r.try_get(7)?,
        });
    }
    Ok(out)
}

/// Appends an entry inside the caller's transaction: the change and its record commit
/// together or not at all. The audit lock, held to the end of the transaction, keeps the
/// chain from forking. The head is kept in `meta` as well, so a trail cut short at its end
/// no longer matches it.
pub(super) async fn append_in(
    tx: &Tx<'_>,
    e: AuditEntry<'_>,
    now: DateTime<Utc>,
) -> Result<(), HubError> {
    // A statement of its own: a statement reads from a snapshot taken when it starts, so
    // the last entry must be read by a statement that starts once the lock is held.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK])
        .await?;
    let last = tx
        .query_opt("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &[])
        .await?;
    let (seq, prev): (i64, String) = match last {
        Some(r) => (r.try_get::<_, i64>(0)? + 1, r.try_get(1)?),
        None => {
            let next = meta(tx, "audit_next_seq")
                .await?
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            let anchor = meta(tx, "audit_anchor")
                .await?
                .unwrap_or_else(|| GENESIS.to_owned());
            (next, anchor)
        }
    };
    let at = now.timestamp_millis();
    let hash = chain_hash(&prev, seq, at, e.actor, e.action, e.target, e.detail);
    // The entry and the head kept beside it, in one statement.
    tx.execute(
        "WITH entry AS (INSERT INTO audit (seq, at, actor, action, target, detail, prev_hash, hash) \
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)) \
         INSERT INTO meta (key, value) VALUES ('audit_head', $9) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&seq, &at, &e.actor, &e.action, &e.target, &e.detail, &prev, &hash, &format!("{seq}:{hash}")],
    )
    .await?;
    Ok(())
}

impl AuditLog for PostgresHubStore {
    fn audit(&self, e: AuditEntry<'_>, now: DateTime<Utc>) -> Result<(), HubError> {
        self.with_plain_tx(async |tx| append_in(tx, e, now).await)
    }

    fn audit_since(&self, since: DateTime<Utc>) -> Result<Vec<AuditRecord>, HubError> {
        self.with_read(async |tx| records(tx, since.timestamp_millis()).await)
    }

    fn verify_audit(&self) -> Result<ChainCheck, HubError> {
        self.with_read(async |tx| {
            let anchor = meta(tx, "audit_anchor")
                .await?
                .unwrap_or_else(|| GENESIS.to_owned());
            let entries = records(tx, i64::MIN).await?;
            let head = meta(tx, "audit_head").await?;
            Ok(check_head(check_chain(&anchor, &entries), &entries, head))
        })
    }

    fn rotate_audit(&self, through_seq: i64) -> Result<usize, HubError> {
        self.with_tx(async |tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK])
                .await?;
            let Some(row) = tx
                .query_opt("SELECT hash FROM audit WHERE seq = $1", &[&through_seq])
                .await?
            else {
                return Err(HubError::NotFound(format!("no audit entry {through_seq}")));
            };
            let hash: String = row.try_get(0)?;
            // The trigger lets rotation delete while this is set, in this transaction only.
            tx.execute("SET LOCAL lifeline.audit_rotating = 'on'", &[])
                .await?;
            let n = tx
                .execute("DELETE FROM audit WHERE seq <= $1", &[&through_seq])
                .await?;
            tx.execute("SET LOCAL lifeline.audit_rotating = 'off'", &[])
                .await?;
            set_meta(tx, "audit_anchor", &hash).await?;
            set_meta(tx, "audit_next_seq", &(through_seq + 1).to_string()).await?;
            Ok(n as usize)
        })
    }
}
