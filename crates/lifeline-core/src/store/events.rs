//! The case-event log: append-only, deduplicated by event id.

use rusqlite::{Connection, Transaction, params};

use super::{Result, StoreError, from_ms, ms};
use crate::model::{CaseEvent, CaseEventKind, Origin};

/// The id of the `n`-th event a desk action produces. The hub names the events of an action
/// the same way (from the action's idempotency key), so the desk's optimistic copy and the
/// hub's confirmed copy of one event are one row, not two.
pub fn local_event_id(idempotency_key: &str, n: usize) -> String {
    format!("{idempotency_key}.{n}")
}

const APPEND: &str = "INSERT INTO case_events (event_id, request_id, kind, detail, actor, at, origin) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (request_id, event_id) DO NOTHING";

/// Appends events within one transaction, with its statements prepared once.
pub(crate) struct Appender<'tx> {
    tx: &'tx Transaction<'tx>,
    append: rusqlite::CachedStatement<'tx>,
}

impl<'tx> Appender<'tx> {
    pub(crate) fn new(tx: &'tx Transaction<'tx>) -> Result<Appender<'tx>> {
        Ok(Appender {
            tx,
            append: tx.prepare_cached(APPEND)?,
        })
    }

    /// Appends an event unless one with its id is already logged for its request; returns
    /// whether it was new.
    pub(crate) fn append(&mut self, e: &CaseEvent) -> Result<bool> {
        let detail =
            serde_json::to_string(&e.kind).map_err(|err| StoreError::corrupt("case event", err))?;
        let n = self.append.execute(params![
            e.id,
            e.request_id,
            e.kind.name(),
            detail,
            e.actor,
            ms(e.at),
            e.origin.as_str()
        ])?;
        if n == 1 && matches!(e.kind, CaseEventKind::Note { .. }) {
            // Notes are in the text index: a new note is a change of its request.
            self.tx
                .prepare_cached(
                    "INSERT INTO request_changes (request_rowid) SELECT rowid FROM requests WHERE id = ?1",
                )?
                .execute([&e.request_id])?;
        }
        Ok(n == 1)
    }
}

/// Appends one event (see [`Appender::append`]).
pub(crate) fn insert_in<'tx>(tx: &'tx Transaction<'tx>, e: &CaseEvent) -> Result<bool> {
    Appender::new(tx)?.append(e)
}

pub(crate) fn for_request(conn: &Connection, request_id: &str) -> Result<Vec<CaseEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT event_id, request_id, detail, actor, at, origin FROM case_events WHERE request_id = ?1 ORDER BY at, seq",
    )?;
    let rows = stmt.query_map([request_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, request_id, detail, actor, at, origin) = row?;
        let kind: CaseEventKind = serde_json::from_str(&detail)
            .map_err(|e| StoreError::corrupt(format!("case event {id}"), e))?;
        let origin: Origin = origin
            .parse()
            .map_err(|e| StoreError::corrupt(format!("case event {id}"), e))?;
        out.push(CaseEvent {
            id,
            request_id,
            kind,
            actor,
            at: from_ms(at),
            origin,
        });
    }
    Ok(out)
}
