//! Requests leaving the desk: the hub moved one to a post this desk does not work for (a
//! `removed` entry in the change feed). The request goes with everything kept about it —
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

/// Removes the requests with these ids (unknown ids are skipped). Returns how many were
/// removed.
pub(crate) fn remove_in(tx: &Transaction<'_>, ids: &[String]) -> Result<usize> {
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
        tx.prepare_cached(
            "UPDATE outbox SET state = 'rejected', last_error = ?2 WHERE request_id = ?1 AND state IN ('pending', 'conflicted')",
        )?
        .execute(params![id, MOVED_AWAY])?;
        tx.prepare_cached("DELETE FROM local_bases WHERE request_id = ?1")?
            .execute([id])?;
        tx.prepare_cached("DELETE FROM claims WHERE request_id = ?1")?
            .execute([id])?;
        tx.prepare_cached("DELETE FROM alerted WHERE subject = ?1")?
            .execute([&subject])?;
        tx.prepare_cached("DELETE FROM alert_decisions WHERE subject = ?1")?
            .execute([&subject])?;
        tx.prepare_cached("DELETE FROM quarantine WHERE record_ref = ?1")?
            .execute(params![record_ref])?;
    }
    tx.prepare_cached("UPDATE store_meta SET value = 0 WHERE key = 'removing'")?
        .execute([])?;
    Ok(removed)
}

impl Store {
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
