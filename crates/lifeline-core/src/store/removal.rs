//! Requests leaving the desk: the hub moved one to a post this desk does not work for (a
//! `removed` entry in the change feed), the hub ordered it erased (an `erased` entry), or
//! the desk's retention erased it. The request goes with everything kept about it —
//! its case events, the hub copy kept for replays, claims, alert ledger entries and
//! quarantined copies — and the query indexes follow (the in-memory index through the
//! update hook, the derived file through the change log). This desk's own unsent edits on
//! it stay in the outbox, marked rejected with the reason, so the officer sees they did not
//! reach the hub.
//!
//! Only this module deletes requests: it raises `removing` in `store_meta` for the length
//! of its transaction, and triggers refuse deletes at any other time (migration 0004).

use rusqlite::{Transaction, params};

use super::{Result, Store, sync_state};

/// Why an unsent edit on a removed request will never be sent.
pub const MOVED_AWAY: &str = "the request moved to a post this desk does not work for: the hub will not take this edit from here";

/// What happens to this desk's unsent edits on a request that leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unsent {
    /// Kept, rejected with the reason (a request moved to another post).
    Keep,
    /// Deleted with the rest (retention, erasure: nothing of the citizen may remain).
    Erase,
}

/// Removes the requests with these ids (unknown ids are skipped). Returns how many were
/// removed.
pub(crate) fn remove_in(tx: &Transaction<'_>, ids: &[String]) -> Result<usize> {
    leave_in(tx, ids, Unsent::Keep)
}

/// Erases the requests with these ids, unsent edits included (an erasure order from the
/// hub). The caller scrubs the indexes after the transaction ([`Store::scrub`]).
pub(crate) fn erase_in(tx: &Transaction<'_>, ids: &[String]) -> Result<usize> {
    leave_in(tx, ids, Unsent::Erase)
}

fn leave_in(tx: &Transaction<'_>, ids: &[String], unsent: Unsent) -> Result<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    tx.prepare_cached("UPDATE store_meta SET value = 1 WHERE key = 'removing'")?
        .execute([])?;
    let mut removed = 0;
    for id in ids {
        let subject = format!("request:{id}");
        let record_ref = format!("request {id}");
        removed += tx
            .prepare_cached("DELETE FROM requests WHERE id = ?1")?
            .execute([id])?;
        tx.prepare_cached("DELETE FROM case_events WHERE request_id = ?1")?
            .execute([id])?;
        match unsent {
            Unsent::Keep => tx
                .prepare_cached(
                    "UPDATE outbox SET state = 'rejected', last_error = ?2 WHERE request_id = ?1 AND state IN ('pending', 'conflicted')",
                )?
                .execute(params![id, MOVED_AWAY])?,
            Unsent::Erase => tx
                .prepare_cached("DELETE FROM outbox WHERE request_id = ?1")?
                .execute([id])?,
        };
        tx.prepare_cached("DELETE FROM local_bases WHERE request_id = ?1")?
            .execute([id])?;
        tx.prepare_cached("DELETE FROM claims WHERE request_id = ?1")?
            .execute([id])?;
        // The files of its thread, unless another thread here carries the same bytes.
        tx.prepare_cached(
            "DELETE FROM media_cache WHERE sha256 IN (SELECT media_sha FROM messages WHERE request_id = ?1) \
             AND sha256 NOT IN (SELECT media_sha FROM messages WHERE request_id != ?1 AND media_sha IS NOT NULL)",
        )?
        .execute([id])?;
        tx.prepare_cached("DELETE FROM messages WHERE request_id = ?1")?
            .execute([id])?;
        tx.prepare_cached(
            "DELETE FROM alerted WHERE subject = ?1 OR substr(subject, 1, length(?2)) = ?2",
        )?
        .execute(params![&subject, format!("reply:{id}:")])?;
        tx.prepare_cached(
            "DELETE FROM alert_decisions WHERE subject = ?1 OR substr(subject, 1, length(?2)) = ?2",
        )?
        .execute(params![&subject, format!("reply:{id}:")])?;
        tx.prepare_cached("DELETE FROM quarantine WHERE record_ref = ?1")?
            .execute(params![record_ref])?;
    }
    tx.prepare_cached("UPDATE store_meta SET value = 0 WHERE key = 'removing'")?
        .execute([])?;
    Ok(removed)
}

/// How long closed requests stay on a desk by default.
pub const DEFAULT_RETENTION_DAYS: i64 = 30;

/// Closed requests not changed since `?1` (ms): retention's candidates.
pub(crate) const PURGE_CANDIDATES: &str = "SELECT r.id FROM ix.request_keys k \
     JOIN main.requests r ON r.rowid = k.rowid \
     WHERE k.is_open = 0 AND k.updated_at < ?1 AND r.is_open = 0 AND r.updated_at < ?1";

impl Store {
    /// Erases requests from the desk — the row, its case events, its outbox items, the hub
    /// copy, claims, alert ledger entries, quarantined copies and index entries — and then
    /// scrubs the files ([`Store::scrub`]), so their bytes are gone, not only unreachable.
    pub fn erase(&self, ids: &[String]) -> Result<usize> {
        let mut erased = 0;
        for chunk in ids.chunks(500) {
            erased += self.write(|tx| leave_in(tx, chunk, Unsent::Erase))?;
        }
        self.scrub()?;
        Ok(erased)
    }

    /// Retention: erases requests closed (resolved, closed, duplicate) before `before`, as
    /// [`Store::erase`] does. Returns how many left.
    pub fn purge_closed(&self, before: chrono::DateTime<chrono::Utc>) -> Result<usize> {
        // Found through the query index's partial index of closed requests: a scan of the
        // requests read every one of them (at 10^6, seconds of a core as the desk starts),
        // and the store's own tables stay free of an index each write would maintain.
        // The store's row is checked too (the source of truth).
        let ids: Vec<String> = self.read_indexed(|c| {
            let mut stmt = c.prepare(PURGE_CANDIDATES)?;
            let rows = stmt.query_map([before.timestamp_millis()], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })?;
        if ids.is_empty() {
            return Ok(0);
        }
        self.erase(&ids)
    }

    /// Leaves no trace of deleted records in the files: the query index catches up (its
    /// entries go, zeroed), the text index is rewritten without them (a contentless FTS5
    /// index keeps a deleted row's terms in its segments until they are merged), and both
    /// WAL files are checkpointed into their databases and truncated. With secure_delete on
    /// every connection, what was freed is zeros.
    pub fn scrub(&self) -> Result<()> {
        self.catch_up_index()?;
        self.derived.optimize_text()?;
        self.checkpoint()
    }

    /// Whether the desk holds exercise data: requests of a drill (ids with the exercise
    /// prefix) or advisories whose CAP status is Exercise. The desk shows a band meanwhile.
    pub fn holds_exercise_data(&self) -> Result<bool> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT EXISTS (SELECT 1 FROM requests WHERE id >= ?1 AND id < ?2) \
                 OR EXISTS (SELECT 1 FROM advisories WHERE status = 'Exercise' AND state = 'active')",
                [crate::model::request::EXERCISE_ID_PREFIX, "EX."],
                |r| r.get(0),
            )?)
        })
    }

    /// Removes requests this desk may no longer hold, and moves the source's cursor past
    /// the change that said so, in one transaction.
    pub fn apply_removals(&self, ids: &[String], source: &str, cursor: &str) -> Result<usize> {
        self.write(|tx| {
            let n = remove_in(tx, ids)?;
            sync_state::set_cursor_in(tx, source, cursor)?;
            Ok(n)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Retention runs as the desk starts: its search for candidates must go through the
    /// partial index of closed requests, not read every request of the store.
    #[test]
    fn retention_finds_its_candidates_through_the_index_of_closed_requests() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("desk.sqlite")).expect("store");
        let plan: Vec<String> = store
            .read_indexed(|c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {PURGE_CANDIDATES}"))?;
                let rows = stmt.query_map([0i64], |r| r.get::<_, String>(3))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .expect("plan");
        assert!(
            plan.iter()
                .any(|step| step.contains("INDEX keys_closed_updated")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN")),
            "no step reads a whole table: {plan:?}"
        );
    }
}
