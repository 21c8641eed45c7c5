//! How a request is kept in the hub's SQLite rows: loading and saving records, routing a
//! new request to its post, case events, the change numbers, and applying a triage action
//! to the stored record. `sqlite.rs` uses these inside its transactions.

use chrono::{DateTime, Utc};
use lifeline_core::model::{CaseEvent, HelpRequest, TriageAction};
use lifeline_core::protocol::{WireEvent, WireRequest};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::rules::{self, Plan, post_of};
use super::{ActionCall, ActionOutcome, HubError};

/// The latest change number handed out: a request's latest change, an erasure (whose
/// request row is gone, so `requests` alone could hand its number out again) or a message.
pub(super) const HEAD_SQL: &str = "SELECT max(coalesce((SELECT max(change_seq) FROM requests), 0), \
     coalesce((SELECT max(change_seq) FROM erasures), 0), coalesce((SELECT max(change_seq) FROM messages), 0))";

pub(super) fn next_seq(tx: &Transaction<'_>) -> Result<u64, HubError> {
    Ok(tx.query_row(HEAD_SQL, [], |r| r.get::<_, u64>(0))? + 1)
}

pub(super) fn load(conn: &Connection, id: &str) -> Result<Option<WireRequest>, HubError> {
    let record: Option<String> = conn
        .prepare_cached("SELECT record FROM requests WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let Some(record) = record else {
        return Ok(None);
    };
    let mut wire: WireRequest = serde_json::from_str(&record)
        .map_err(|e| HubError::Corrupt(format!("request {id}: {e}")))?;
    let mut stmt =
        conn.prepare_cached("SELECT body FROM events WHERE request_id = ?1 ORDER BY seq")?;
    let bodies = stmt.query_map([id], |r| r.get::<_, String>(0))?;
    for body in bodies {
        wire.events.push(
            serde_json::from_str(&body?)
                .map_err(|e| HubError::Corrupt(format!("event of {id}: {e}")))?,
        );
    }
    Ok(Some(wire))
}

pub(super) fn save(
    tx: &Transaction<'_>,
    r: &HelpRequest,
    seq: u64,
    insert: bool,
) -> Result<(), HubError> {
    let record = serde_json::to_string(&WireRequest::from_domain(r, &[]))
        .map_err(|e| HubError::Corrupt(e.to_string()))?;
    if insert {
        tx.prepare_cached("INSERT INTO requests (id, version, change_seq, record, created_at, post) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
            .execute(params![r.id, r.version, seq, record, r.created_at.timestamp_millis(), r.post])?;
    } else {
        tx.prepare_cached(
            "UPDATE requests SET version = ?2, change_seq = ?3, record = ?4, post = ?5 WHERE id = ?1",
        )?
        .execute(params![r.id, r.version, seq, record, r.post])?;
    }
    Ok(())
}

/// The post a new request goes to: the one it names (by id, or by its name in either
/// language), else the first post whose countries include the request's. With no posts
/// configured (a drill, a laptop), the named post is kept as given.
pub(super) fn route(
    tx: &Transaction<'_>,
    named: Option<&str>,
    country: Option<&str>,
) -> Result<Option<String>, HubError> {
    let any_posts: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM posts)")?
        .query_row([], |r| r.get(0))?;
    if !any_posts {
        return Ok(named.map(str::to_owned));
    }
    if let Some(named) = named {
        let found: Option<String> = tx
            .prepare_cached(
                "SELECT id FROM posts WHERE id = ?1 OR name_en = ?1 OR name_zh = ?1 ORDER BY id = ?1 DESC LIMIT 1",
            )?
            .query_row([named], |r| r.get(0))
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    let Some(country) = country else {
        return Ok(None);
    };
    // Whole-country posts first: a sub-regional consulate is chosen only by name.
    Ok(tx
        .prepare_cached(
            "SELECT id FROM posts WHERE instr(',' || countries || ',', ',' || ?1 || ',') > 0 \
             ORDER BY subregions != '', id LIMIT 1",
        )?
        .query_row([country], |r| r.get(0))
        .optional()?)
}

pub(super) fn post_exists(tx: &Transaction<'_>, id: &str) -> Result<bool, HubError> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM posts WHERE id = ?1)")?
        .query_row([id], |r| r.get(0))?)
}

pub(super) fn event_count(conn: &Connection, id: &str) -> Result<usize, HubError> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM events WHERE request_id = ?1")?
        .query_row([id], |r| r.get(0))?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

pub(super) fn append_events(tx: &Transaction<'_>, events: &[CaseEvent]) -> Result<(), HubError> {
    for e in events {
        let body = serde_json::to_string(&WireEvent {
            id: e.id.clone(),
            kind: e.kind.clone(),
            actor: e.actor.clone(),
            at: e.at,
        })
        .map_err(|err| HubError::Corrupt(err.to_string()))?;
        tx.prepare_cached("INSERT INTO events (event_id, request_id, body) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")?
            .execute(params![e.id, e.request_id, body])?;
    }
    Ok(())
}

/// Decides an action against the current record (see [`rules::plan`]) and applies it when it
/// is to be applied.
pub(super) fn decide(
    tx: &Transaction<'_>,
    current: WireRequest,
    call: ActionCall<'_>,
    case_event_cap: usize,
    now: DateTime<Utc>,
) -> Result<ActionOutcome, HubError> {
    let original_visible = match call.action {
        TriageAction::MarkDuplicate { of } => load(tx, of)?
            .filter(|r| call.scope.admits(post_of(r)))
            .is_some(),
        _ => true,
    };
    let events_kept = event_count(tx, &current.id)?;
    match rules::plan(
        current,
        call,
        case_event_cap,
        events_kept,
        original_visible,
        now,
    )? {
        Plan::Answer(outcome) => Ok(outcome),
        Plan::Send(current) => super::sqlite_messages::send(tx, current, call, now),
        Plan::Apply { next, events } => {
            let seq = next_seq(tx)?;
            save(tx, &next, seq, false)?;
            append_events(tx, &events)?;
            let record =
                load(tx, &next.id)?.ok_or_else(|| HubError::Corrupt("request vanished".into()))?;
            Ok(ActionOutcome::Applied { record })
        }
    }
}
